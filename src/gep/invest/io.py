"""Input and output for the InVEST-compatible models.

* Tables: InVEST column names (case-insensitive, stripped), one row per LULC code (``lucode``).
* Rasters: the target grid is computed as pygeoprocessing's ``align_and_resize_raster_stack`` does
  it (bounding-box intersection of the rasters and vectors, lower-left corner snapped to the grid of
  one raster); inputs are read in row stripes and resampled to that grid by nearest neighbour
  (a pure index gather, so aligned inputs are plain window reads).
* Outputs: GeoTIFFs with InVEST's creation options (tiled 256x256, LZW, BIGTIFF) written in row
  stripes by a background thread per file; vectors as ESRI Shapefile (pyogrio), CSV tables.
* Nodata: InVEST (pygeoprocessing) treats a float pixel as nodata when ``numpy.isclose(value, nodata)``
  (relative 1e-5, absolute 1e-8); :func:`nodata_tolerance` gives the numbers the kernels use.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import rasterio
from affine import Affine
from rasterio.windows import Window

from gep.i18n import Text
from gep.inputs.tables import check_columns, check_numeric, read_table
from gep.problems import GepInputError, Problem, error

GTIFF_OPTIONS: dict[str, Any] = {
    "driver": "GTiff",
    "tiled": True,
    "blockxsize": 256,
    "blockysize": 256,
    "compress": "lzw",
    "bigtiff": "YES",
    "num_threads": "ALL_CPUS",
}
"""pygeoprocessing's DEFAULT_GTIFF_CREATION_TUPLE_OPTIONS (plus multi-threaded compression)."""

COMPRESSIONS = ("lzw", "zstd", "deflate", "none")


@contextmanager
def output_compression(name: str) -> Iterator[None]:
    """Within the block, write GeoTIFF outputs with ``name`` compression (``lzw``, InVEST's, is the
    default; ``zstd`` is several times faster to write and smaller; ``none`` is fastest)."""
    if name not in COMPRESSIONS:
        raise ValueError(f"unknown compression {name!r}; expected one of {', '.join(COMPRESSIONS)}")
    old = dict(GTIFF_OPTIONS)
    GTIFF_OPTIONS.pop("compress", None)
    if name != "none":
        GTIFF_OPTIONS["compress"] = name
    try:
        yield
    finally:
        GTIFF_OPTIONS.clear()
        GTIFF_OPTIONS.update(old)


STRIPE_ROWS = 512
"""Rows per processing stripe (a multiple of the 256-row output tiles)."""

RTOL, ATOL = 1e-5, 1e-8
"""numpy.isclose tolerances that pygeoprocessing uses to match nodata."""

_RASTER = Text("栅格（GeoTIFF）", "raster (GeoTIFF)")
_VECTOR = Text("矢量（多边形）", "vector (polygons)")


def suffixed(name: str, suffix: str) -> str:
    """``c_storage_bas.tif`` + ``"x"`` -> ``c_storage_bas_x.tif`` (InVEST's results_suffix rule)."""
    if not suffix:
        return name
    if not suffix.startswith("_"):
        suffix = "_" + suffix
    stem, dot, ext = name.rpartition(".")
    return f"{stem}{suffix}.{ext}" if dot else name + suffix


# ----------------------------------------------------------------------------------------- arguments


def require_arg(args: dict, key: str, source: str) -> Any:
    """``args[key]``, or a :class:`GepInputError` naming the missing argument."""
    value = args.get(key)
    if value is None or value == "":
        raise GepInputError([error("invest_arg_missing", source, key)])
    return value


def number_arg(args: dict, key: str, source: str) -> float:
    value = require_arg(args, key, source)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise GepInputError([error("invest_arg_invalid", source, key, value=value, expected="a number")]) from None


def optional_path(args: dict, key: str) -> Path | None:
    value = args.get(key)
    return Path(value) if isinstance(value, str) and value else None


# -------------------------------------------------------------------------------------------- tables


def read_lulc_table(
    path: Path | str, columns: Sequence[str], source_name: str, index_col: str = "lucode"
) -> pd.DataFrame:
    """Read an InVEST LULC table: column names lower-cased and stripped, indexed by ``index_col``
    (int), ``columns`` converted to float. Raises :class:`GepInputError` listing every problem."""
    path = Path(path)
    frame, problems = read_table(path)
    if frame is None:
        raise GepInputError(problems)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    frame = frame.dropna(how="all").dropna(axis=1, how="all")
    source = str(path)
    required = (index_col, *columns)
    problems = check_columns(frame, required, source) + check_numeric(frame, tuple(required), source)
    if problems:
        raise GepInputError(problems)
    for column in required:
        values = pd.to_numeric(frame[column])
        empty = values.isna()
        if empty.any():
            row = int(np.flatnonzero(empty.to_numpy())[0]) + 2
            problems.append(error("invest_value_empty", source, column, row=row, table=source_name))
        frame[column] = values
    if problems:
        raise GepInputError(problems)
    codes = frame[index_col]
    if not np.allclose(codes, np.round(codes)):
        raise GepInputError([error("invest_code_not_integer", source, index_col, table=source_name)])
    frame[index_col] = codes.round().astype(np.int64)
    duplicated = frame[index_col][frame[index_col].duplicated()]
    if len(duplicated):
        raise GepInputError(
            [error("invest_code_duplicate", source, index_col, value=int(duplicated.iloc[0]), table=source_name)]
        )
    return frame.set_index(index_col)


@dataclass(frozen=True)
class CodeLookup:
    """Dense lookup from integer LULC codes to per-class values, for numba kernels.

    ``values[code - offset, k]`` is column ``k`` for ``code``; ``known[code - offset]`` says whether the
    table has the code.
    """

    offset: int
    values: np.ndarray
    known: np.ndarray


def code_lookup(table: pd.DataFrame, columns: Sequence[np.ndarray] | None, lo: int, hi: int) -> CodeLookup:
    """Lookup over codes ``lo..hi`` (inclusive) with one column per array in ``columns``, each aligned
    with ``table.index`` (float32 arrays, as InVEST's reclassified rasters)."""
    size = hi - lo + 1
    cols = list(columns or [])
    values = np.zeros((size, max(1, len(cols))), dtype=np.float32)
    known = np.zeros(size, dtype=np.bool_)
    for i, code in enumerate(table.index.to_numpy()):
        if lo <= code <= hi:
            known[code - lo] = True
            for k, col in enumerate(cols):
                values[code - lo, k] = col[i]
    return CodeLookup(lo, values, known)


def code_range(dtype: np.dtype, table: pd.DataFrame) -> tuple[int, int]:
    """Codes a lookup must cover: the whole range of 8/16-bit integer rasters, else the table's codes
    (raster codes outside it are then unknown)."""
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer) and dtype.itemsize <= 2:
        return int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)
    codes = table.index.to_numpy()
    return (int(codes.min()), int(codes.max())) if len(codes) else (0, 0)


def distinct_codes(block: np.ndarray, nodata: float | None) -> set[int]:
    """Distinct values of an integer array, without ``nodata``."""
    if block.dtype.itemsize <= 2:
        base = int(np.iinfo(block.dtype).min)
        found = np.flatnonzero(np.bincount((block.astype(np.int64) - base).ravel())) + base
    else:
        found = np.unique(block)
    seen = {int(v) for v in found}
    if nodata is not None and float(nodata).is_integer():
        seen.discard(int(nodata))
    return seen


def check_codes_in_table(
    codes: set[int], table: pd.DataFrame, raster: Path, table_path: Path, table_name: str
) -> list[Problem]:
    """Problem if some raster codes are missing from ``table`` (InVEST's reclassification error)."""
    missing = sorted(set(codes) - set(table.index.tolist()))
    if not missing:
        return []
    shown = ", ".join(str(v) for v in missing[:20]) + (" ..." if len(missing) > 20 else "")
    return [
        error("invest_codes_missing", str(table_path), "lucode", values=shown, raster=str(raster), table=table_name)
    ]


# ------------------------------------------------------------------------------------------- rasters


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid: ``transform`` of the top-left corner, ``width`` x ``height`` pixels."""

    crs: Any
    transform: Affine
    width: int
    height: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    @property
    def pixel_area(self) -> float:
        """|pixel width x pixel height|, in CRS units squared (m²)."""
        return abs(self.transform.a * self.transform.e)

    def stripe_transform(self, row0: int) -> Affine:
        t = self.transform
        return Affine(t.a, t.b, t.c + t.b * row0, t.d, t.e, t.f + t.e * row0)


@dataclass(frozen=True)
class RasterInfo:
    path: Path
    grid: Grid
    nodata: float | None
    dtype: np.dtype

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        t, w, h = self.grid.transform, self.grid.width, self.grid.height
        xs = (t.c, t.c + t.a * w)
        ys = (t.f, t.f + t.e * h)
        return (min(xs), min(ys), max(xs), max(ys))


def raster_info(path: Path | str, what: str = "raster") -> RasterInfo:
    """Open ``path`` and describe its first band; a clear error if it is not a readable raster."""
    path = Path(path)
    if not path.is_file():
        raise GepInputError([error("file_not_found", str(path), what, what=_RASTER)])
    try:
        with rasterio.open(path) as src:
            grid = Grid(src.crs, src.transform, src.width, src.height)
            return RasterInfo(path, grid, src.nodata, np.dtype(src.dtypes[0]))
    except rasterio.errors.RasterioIOError as exc:
        raise GepInputError([error("file_unreadable", str(path), what, what=_RASTER, reason=str(exc))]) from None


def vector_bounds(path: Path) -> tuple[float, float, float, float]:
    import pyogrio

    if not Path(path).exists():
        raise GepInputError([error("file_not_found", str(path), what=_VECTOR)])
    info = pyogrio.read_info(path, force_total_bounds=True)
    return tuple(float(v) for v in info["total_bounds"])  # type: ignore[return-value]


def aligned_grid(
    rasters: Sequence[RasterInfo], vector_bounds_list: Sequence[tuple[float, float, float, float]], align_index: int
) -> Grid:
    """The target grid of pygeoprocessing ``align_and_resize_raster_stack(..., 'intersection',
    raster_align_index=align_index)`` with the pixel size of ``rasters[align_index]``."""
    boxes = [r.bounds for r in rasters] + list(vector_bounds_list)
    minx = max(b[0] for b in boxes)
    miny = max(b[1] for b in boxes)
    maxx = min(b[2] for b in boxes)
    maxy = min(b[3] for b in boxes)
    if minx > maxx or miny > maxy:
        raise GepInputError([error("invest_no_overlap", str(rasters[align_index].path))])
    ref = rasters[align_index]
    px, py = ref.grid.transform.a, ref.grid.transform.e
    abox = ref.bounds
    # snap the lower-left corner as pygeoprocessing does: int() truncates toward zero
    minx = int((minx - abox[0]) / px) * px + abox[0]
    miny = int((miny - abox[1]) / py) * py + abox[1]
    width = int(abs((maxx - minx) / px))
    if not math.isclose(abs(width * px) - (maxx - minx), 0.0, rel_tol=0.0, abs_tol=1e-8):
        width += 1
    height = int(abs((maxy - miny) / py))
    if not math.isclose(abs(height * py) - (maxy - miny), 0.0, rel_tol=0.0, abs_tol=1e-8):
        height += 1
    width, height = max(1, width), max(1, height)
    top = miny + abs(py) * height
    return Grid(ref.grid.crs, Affine(abs(px), 0.0, minx, 0.0, -abs(py), top), width, height)


def same_grid(a: Grid, b: Grid) -> bool:
    return a.width == b.width and a.height == b.height and a.transform.almost_equals(b.transform, precision=1e-9)


def check_same_crs(infos: Sequence[RasterInfo], source: str) -> None:
    crs0 = infos[0].grid.crs
    for info in infos[1:]:
        if info.grid.crs != crs0:
            raise GepInputError(
                [
                    error(
                        "invest_crs_mismatch",
                        str(info.path),
                        other=str(infos[0].path),
                        crs=str(info.grid.crs),
                        expected=str(crs0),
                    )
                ]
            )


def stripes(grid: Grid, rows: int = STRIPE_ROWS) -> list[tuple[int, int]]:
    """(first row, number of rows) of each processing stripe of ``grid``."""
    return [(r, min(rows, grid.height - r)) for r in range(0, grid.height, rows)]


class GridReader:
    """Reads one band of ``info`` resampled (nearest neighbour) onto ``grid``, one stripe at a time.

    The source pixel of a target pixel is the one containing the target pixel's centre (as GDAL's
    nearest-neighbour warp); target pixels outside the source get the source nodata (0 if none).
    Both grids must be in the same CRS and north-up.
    """

    def __init__(self, info: RasterInfo, grid: Grid):
        self.info = info
        self.grid = grid
        st, tt = info.grid.transform, grid.transform
        cols = np.arange(grid.width)
        x = tt.c + (cols + 0.5) * tt.a
        self.src_cols = np.floor((x - st.c) / st.a + 1e-10).astype(np.int64)
        rows = np.arange(grid.height)
        y = tt.f + (rows + 0.5) * tt.e
        self.src_rows = np.floor((y - st.f) / st.e + 1e-10).astype(np.int64)
        self.fill = info.nodata if info.nodata is not None else 0
        self.identity_cols = bool(np.all(np.diff(self.src_cols) == 1)) if grid.width > 1 else True
        # one thread per reader: the file is opened once, in that thread, and reads of different inputs
        # run in parallel (GDAL releases the GIL while decompressing)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"read-{info.path.name}")
        self._ds = None

    def _dataset(self):
        if self._ds is None:
            self._ds = rasterio.open(self.info.path)
        return self._ds

    def submit(self, row0: int, nrows: int) -> Future:
        """:meth:`read` in the reader's own thread; returns a future of the array."""
        return self._pool.submit(self.read, row0, nrows)

    def read(self, row0: int, nrows: int) -> np.ndarray:
        """Rows ``row0 .. row0+nrows-1`` of the target grid, in the source dtype."""
        src_rows = self.src_rows[row0 : row0 + nrows]
        height, width = self.info.grid.height, self.info.grid.width
        if (
            self.identity_cols
            and self.src_cols[0] >= 0
            and self.src_cols[-1] < width
            and src_rows[0] >= 0
            and src_rows[-1] < height
            and (nrows == 1 or bool(np.all(np.diff(src_rows) == 1)))
        ):  # the stripe is a window of the source: read it directly
            window = Window(int(self.src_cols[0]), int(src_rows[0]), self.grid.width, nrows)
            return self._dataset().read(1, window=window)
        out = np.full((nrows, self.grid.width), self.fill, dtype=self.info.dtype)
        row_ok = (src_rows >= 0) & (src_rows < height)
        col_ok = (self.src_cols >= 0) & (self.src_cols < width)
        if not row_ok.any() or not col_ok.any():
            return out
        r_lo, r_hi = int(src_rows[row_ok].min()), int(src_rows[row_ok].max())
        c_lo, c_hi = int(self.src_cols[col_ok].min()), int(self.src_cols[col_ok].max())
        block = self._dataset().read(1, window=Window(c_lo, r_lo, c_hi - c_lo + 1, r_hi - r_lo + 1))
        rr = np.flatnonzero(row_ok)
        cc = np.flatnonzero(col_ok)
        contiguous_rows = bool(np.all(np.diff(src_rows[rr]) == 1)) if len(rr) > 1 else True
        if contiguous_rows and self.identity_cols and len(cc) == block.shape[1] and len(rr) == block.shape[0]:
            out[rr[0] : rr[-1] + 1, cc[0] : cc[-1] + 1] = block
        else:
            out[np.ix_(rr, cc)] = block[np.ix_(src_rows[rr] - r_lo, self.src_cols[cc] - c_lo)]
        return out

    def close(self) -> None:
        def _close() -> None:
            if self._ds is not None:
                self._ds.close()
                self._ds = None

        self._pool.submit(_close).result()
        self._pool.shutdown()


class StripeWriter:
    """A single-band GeoTIFF on ``grid`` written stripe by stripe from a background thread.

    All GDAL calls for the file happen in that one thread, so computing the next stripe overlaps with
    compressing and writing this one. Call :meth:`close` (or use as a context manager) to finish.
    """

    def __init__(self, path: Path, grid: Grid, dtype: str, nodata: float | int | None):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"write-{path.name}")
        self._pending: list[Future] = []
        profile = dict(GTIFF_OPTIONS)
        profile.update(
            crs=grid.crs,
            transform=grid.transform,
            width=grid.width,
            height=grid.height,
            count=1,
            dtype=dtype,
            nodata=nodata,
        )
        self._dtype = dtype
        self._ds = None
        self._pending.append(self._pool.submit(self._open, profile))

    def _open(self, profile: dict) -> None:
        self._ds = rasterio.open(self.path, "w", **profile)

    def _write(self, array: np.ndarray, row0: int) -> None:
        rows, cols = array.shape
        self._ds.write(array.astype(self._dtype, copy=False), 1, window=Window(0, row0, cols, rows))

    def write(self, array: np.ndarray, row0: int) -> None:
        """Queue ``array`` (rows x width) for rows ``row0...``; the array must not be modified afterwards.

        At most two stripes wait in the queue: beyond that the caller waits (bounded memory)."""
        while len(self._pending) > 2:
            self._pending.pop(0).result()
        self._pending.append(self._pool.submit(self._write, array, row0))

    def close(self) -> None:
        def _close() -> None:
            if self._ds is not None:
                self._ds.close()

        self._pending.append(self._pool.submit(_close))
        for f in self._pending:
            f.result()
        self._pool.shutdown()

    def discard(self) -> None:
        """Close and delete the file (used when a run stops on an input error)."""
        self.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> StripeWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ------------------------------------------------------------------------------------------- vectors


@dataclass
class ZoneLayer:
    """Polygons of a vector and their rasterization, one index layer per set of disjoint polygons."""

    path: Path
    frame: Any  # geopandas.GeoDataFrame, in the vector's own CRS and feature order (FID order)
    sets: list[np.ndarray]  # per disjoint set, the positions (into frame) of its polygons

    @property
    def n(self) -> int:
        return len(self.frame)


def read_zones(path: Path, id_field: str, grid_crs: Any) -> ZoneLayer:
    """Read a polygon vector with field ``id_field`` and split it into sets of non-overlapping polygons
    (polygons sharing only edges are disjoint)."""
    import geopandas as gpd
    from shapely import STRtree

    if not Path(path).exists():
        raise GepInputError([error("file_not_found", str(path), what=_VECTOR)])
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several kinds for unreadable files
        raise GepInputError([error("file_unreadable", str(path), what=_VECTOR, reason=str(exc))]) from None
    lower = {c.lower(): c for c in frame.columns}
    if id_field not in lower:
        raise GepInputError([error("invest_field_missing", str(path), id_field, expected=id_field)])
    geoms = frame.geometry.to_crs(grid_crs) if frame.crs is not None and grid_crs is not None else frame.geometry
    geoms = geoms.values
    valid = np.array([g is not None and not g.is_empty for g in geoms])
    tree = STRtree(geoms[valid])
    index = np.flatnonzero(valid)
    left, right = tree.query(geoms[valid], predicate="intersects")
    neighbours: dict[int, list[int]] = {}
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        if a < b and geoms[index[a]].intersection(geoms[index[b]]).area > 0:
            neighbours.setdefault(a, []).append(b)
            neighbours.setdefault(b, []).append(a)
    colour = np.full(len(index), -1)
    for i in range(len(index)):  # greedy colouring, in feature order
        used = {colour[j] for j in neighbours.get(i, []) if colour[j] >= 0}
        c = 0
        while c in used:
            c += 1
        colour[i] = c
    sets = [index[colour == c] for c in range(int(colour.max()) + 1)] if len(index) else []
    out = frame.copy()
    out["__geom_grid__"] = geoms
    return ZoneLayer(Path(path), out, sets)


def rasterize_zones(layers: Sequence[ZoneLayer], grid: Grid, row0: int, nrows: int) -> np.ndarray:
    """int32 array (n_sets_total, nrows, width): for each disjoint set of each layer, the global zone
    number of the polygon whose interior holds the pixel centre, -1 elsewhere. Zones are numbered
    layer after layer: layer 0 features 0..n0-1, layer 1 features n0..n0+n1-1, ..."""
    from rasterio.features import rasterize

    n_sets = sum(len(layer.sets) for layer in layers)
    planes = np.full((max(1, n_sets), nrows, grid.width), -1, dtype=np.int32)
    transform = grid.stripe_transform(row0)
    offset = 0
    k = 0
    for layer in layers:
        geoms = layer.frame["__geom_grid__"].values
        for members in layer.sets:
            shapes = [(geoms[i], int(offset + i)) for i in members]
            if shapes:
                rasterize(shapes, out=planes[k], transform=transform)
            k += 1
        offset += layer.n
    return planes


def write_results_vector(layer: ZoneLayer, fields: dict[str, np.ndarray], shp_path: Path, csv_path: Path) -> None:
    """Copy ``layer``'s features to an ESRI Shapefile with ``fields`` appended (NaN -> NULL), and write
    all attribute fields (no geometry) to ``csv_path``, as InVEST's AWY does."""
    import geopandas as gpd
    import pyogrio

    frame = layer.frame.drop(columns="__geom_grid__")
    attrs = pd.DataFrame({c: frame[c] for c in frame.columns if c != frame.geometry.name})
    for name, values in fields.items():
        attrs[name] = pd.array(np.where(np.isnan(values), np.nan, values), dtype="Float64")
        attrs.loc[np.isnan(values), name] = pd.NA
    shp_path.parent.mkdir(parents=True, exist_ok=True)
    out = gpd.GeoDataFrame(attrs, geometry=frame.geometry.values, crs=frame.crs)
    pyogrio.write_dataframe(out, shp_path, driver="ESRI Shapefile")
    attrs.to_csv(csv_path, index=False, float_format="%.11f")
