"""Shared input/output for the routed InVEST-compatible models (SDR, NDR): InVEST's grid alignment, watershed
masks, biophysical tables, GeoTIFF output and per-watershed sums.

Alignment follows pygeoprocessing's ``align_and_resize_raster_stack`` as InVEST calls it: the target
extent is the intersection of the raster and watershed bounding boxes, its lower-left corner snapped down
onto the DEM's grid, its size rounded up to whole pixels; every raster is resampled onto it with GDAL (via
rasterio) unless it already lies on it (then it is read through a window, without resampling).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import rasterio
import rasterio.features
import rasterio.warp
import rasterio.windows
from affine import Affine
from numba import njit, prange
from rasterio.enums import Resampling

from gep.grid import AccountGrid
from gep.problems import GepInputError, error

FLOAT_NODATA = -1.0
"""Nodata of InVEST's float outputs (``_TARGET_NODATA``)."""

RESAMPLING = {
    "near": Resampling.nearest,
    "bilinear": Resampling.bilinear,
    "mode": Resampling.mode,
}


@dataclass(frozen=True)
class RasterInfo:
    """Header of a single-band raster."""

    path: Path
    transform: Affine
    width: int
    height: int
    crs: Any
    nodata: float | None
    dtype: str

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        t = self.transform
        xs = (t.c, t.c + t.a * self.width)
        ys = (t.f, t.f + t.e * self.height)
        return (min(xs), min(ys), max(xs), max(ys))


def raster_info(path: str | Path, arg: str) -> RasterInfo:
    """Read a raster header; a missing or unreadable file is a :class:`GepInputError` naming ``arg``."""
    p = Path(path)
    if not p.exists():
        raise GepInputError([error("routed_file_missing", str(p), arg)])
    try:
        with rasterio.open(p) as src:
            return RasterInfo(p, src.transform, src.width, src.height, src.crs, src.nodata, src.dtypes[0])
    except rasterio.errors.RasterioIOError as exc:
        raise GepInputError([error("routed_file_unreadable", str(p), arg, reason=str(exc))]) from exc


def vector_bounds(path: str | Path, arg: str) -> tuple[float, float, float, float]:
    """Total bounds of a vector layer (minx, miny, maxx, maxy)."""
    import pyogrio

    p = Path(path)
    if not p.exists():
        raise GepInputError([error("routed_file_missing", str(p), arg)])
    info = pyogrio.read_info(p)
    bounds = info.get("total_bounds")
    if bounds is None or not np.all(np.isfinite(bounds)):
        gdf = pyogrio.read_dataframe(p)
        bounds = gdf.total_bounds
    return tuple(float(b) for b in bounds)  # type: ignore[return-value]


def target_grid(
    rasters: list[RasterInfo], vectors: list[tuple[float, float, float, float]], pixel_size: float
) -> AccountGrid:
    """InVEST's aligned grid: bbox intersection, lower-left corner snapped onto ``rasters[0]`` (the DEM)."""
    boxes = [r.bounds for r in rasters] + list(vectors)
    minx = max(b[0] for b in boxes)
    miny = max(b[1] for b in boxes)
    maxx = min(b[2] for b in boxes)
    maxy = min(b[3] for b in boxes)
    if minx >= maxx or miny >= maxy:
        raise GepInputError([error("routed_no_overlap", str(rasters[0].path), "dem_path")])
    dem = rasters[0]
    ax, ay = dem.bounds[0], dem.bounds[1]
    psx, psy = dem.transform.a, dem.transform.e
    minx = int((minx - ax) / psx) * psx + ax
    miny = int((miny - ay) / psy) * psy + ay
    width = int(abs((maxx - minx) / pixel_size))
    if not math.isclose(width * pixel_size - (maxx - minx), 0.0, abs_tol=1e-8):
        width += 1
    height = int(abs((maxy - miny) / pixel_size))
    if not math.isclose(height * pixel_size - (maxy - miny), 0.0, abs_tol=1e-8):
        height += 1
    width, height = max(width, 1), max(height, 1)
    top = miny + height * pixel_size
    crs = dem.crs.to_wkt() if dem.crs is not None else ""
    return AccountGrid(crs, Affine(pixel_size, 0.0, minx, 0.0, -pixel_size, top), width, height)


def read_aligned(info: RasterInfo, grid: AccountGrid, method: str) -> tuple[np.ndarray, np.ndarray]:
    """The raster on ``grid`` (resampled with ``method`` if its grid differs) and its valid mask.

    Returns:
        (values in the raster's own dtype, bool mask True where the value is data).
    """
    t, g = info.transform, grid.transform
    same_size = math.isclose(t.a, g.a, rel_tol=1e-9) and math.isclose(t.e, g.e, rel_tol=1e-9)
    col_off = (g.c - t.c) / t.a
    row_off = (g.f - t.f) / t.e
    on_grid = (
        same_size
        and t.b == 0
        and t.d == 0
        and math.isclose(col_off, round(col_off), abs_tol=1e-6)
        and math.isclose(row_off, round(row_off), abs_tol=1e-6)
    )
    nodata = info.nodata
    with rasterio.open(info.path) as src:
        if on_grid:
            window = rasterio.windows.Window(round(col_off), round(row_off), grid.width, grid.height)
            inside = (
                window.col_off >= 0
                and window.row_off >= 0
                and window.col_off + window.width <= src.width
                and window.row_off + window.height <= src.height
            )
            if inside:
                arr = src.read(1, window=window)
            else:
                fill = nodata if nodata is not None else 0
                arr = src.read(1, window=window, boundless=True, fill_value=fill)
                if nodata is None:
                    nodata = _fill_for(arr.dtype)
                    arr = src.read(1, window=window, boundless=True, fill_value=nodata)
        else:
            dst_nodata = nodata if nodata is not None else _fill_for(np.dtype(info.dtype))
            arr = np.full((grid.height, grid.width), dst_nodata, dtype=info.dtype)
            rasterio.warp.reproject(
                source=rasterio.band(src, 1),
                destination=arr,
                src_transform=src.transform,
                src_crs=src.crs,
                src_nodata=nodata,
                dst_transform=grid.transform,
                dst_crs=src.crs if not grid.crs else grid.crs,
                dst_nodata=dst_nodata,
                resampling=RESAMPLING[method],
            )
            nodata = dst_nodata
    if nodata is not None:
        valid = _equals_nodata(arr, nodata)
        np.logical_not(valid, out=valid)
    else:
        valid = np.ones(arr.shape, dtype=bool)
    if np.issubdtype(arr.dtype, np.floating):
        valid &= np.isfinite(arr)
    return arr, valid


def _fill_for(dtype: np.dtype) -> float | int:
    if np.issubdtype(dtype, np.floating):
        return float(np.finfo(dtype).min)
    return int(np.iinfo(dtype).min) if np.issubdtype(dtype, np.signedinteger) else int(np.iinfo(dtype).max)


def _equals_nodata(arr: np.ndarray, nodata: float) -> np.ndarray:
    """Nodata test of pygeoprocessing (``numpy.isclose(value, nodata)``, rtol 1e-5, atol 1e-8, NaN = NaN)."""
    if np.issubdtype(arr.dtype, np.floating):
        return _close_to(arr, float(nodata))
    return arr == nodata


@njit(cache=True, nogil=True, parallel=True)
def _close_to(arr, nodata):
    rows, cols = arr.shape
    out = np.empty((rows, cols), dtype=np.bool_)
    tol = 1e-8 + 1e-5 * abs(nodata)
    for r in prange(rows):
        for c in range(cols):
            v = np.float64(arr[r, c])
            out[r, c] = v != v or abs(v - nodata) <= tol  # NaN is never data
    return out


@njit(cache=True, nogil=True)
def _present(codes, ok):
    """Sorted distinct values of integer ``codes`` where ``ok`` (int64), without copying the grid."""
    lo = np.int64(0)
    hi = np.int64(-1)
    first = True
    for r in range(codes.shape[0]):
        for c in range(codes.shape[1]):
            if ok[r, c]:
                v = np.int64(codes[r, c])
                if first:
                    lo = v
                    hi = v
                    first = False
                elif v < lo:
                    lo = v
                elif v > hi:
                    hi = v
    if first:
        return np.zeros(0, dtype=np.int64)
    if hi - lo > 50_000_000:  # sparse huge codes: fall back to sorting
        vals = np.empty(codes.size, dtype=np.int64)
        n = 0
        for r in range(codes.shape[0]):
            for c in range(codes.shape[1]):
                if ok[r, c]:
                    vals[n] = codes[r, c]
                    n += 1
        return np.unique(vals[:n])
    seen = np.zeros(hi - lo + 1, dtype=np.bool_)
    for r in range(codes.shape[0]):
        for c in range(codes.shape[1]):
            if ok[r, c]:
                seen[np.int64(codes[r, c]) - lo] = True
    return np.nonzero(seen)[0].astype(np.int64) + lo


def present_codes(codes: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Sorted distinct LULC codes at the valid pixels (int64)."""
    if np.issubdtype(codes.dtype, np.floating):
        return np.unique(codes[ok]).astype(np.int64)
    return _present(codes, ok)


@njit(cache=True, nogil=True)
def _stripe_sum(stripe, row0, lo, hi, rs, cs, inside):
    """Sum over grid rows lo..hi-1 of ``stripe`` (whose first row is grid row ``row0``) at the True cells
    of ``inside`` (a mask whose first cell is grid cell (rs, cs)); NaN skipped."""
    total = 0.0
    for r in range(lo, hi):
        for c in range(inside.shape[1]):
            if inside[r - rs, c]:
                v = np.float64(stripe[r - row0, cs + c])
                if v == v:
                    total += v
    return total


@njit(cache=True, nogil=True)
def _window_sum(arr, r0, c0, inside):
    """Sum of ``arr[r0:, c0:]`` over the True cells of ``inside`` (its shape), NaN skipped."""
    total = 0.0
    for r in range(inside.shape[0]):
        for c in range(inside.shape[1]):
            if inside[r, c]:
                v = np.float64(arr[r0 + r, c0 + c])
                if v == v:
                    total += v
    return total


def watershed_mask(vector_path: str | Path, grid: AccountGrid) -> np.ndarray:
    """True at pixels whose centre lies inside any watershed polygon (GDAL rasterize, ALL_TOUCHED=FALSE)."""
    import pyogrio

    gdf = pyogrio.read_dataframe(vector_path)
    shapes = [(geom, 1) for geom in gdf.geometry if geom is not None and not geom.is_empty]
    if not shapes:
        return np.zeros(grid.shape, dtype=bool)
    burned = rasterio.features.rasterize(
        shapes, out_shape=grid.shape, transform=grid.transform, fill=0, dtype="uint8", all_touched=False
    )
    return burned.astype(bool)


def read_table(path: str | Path, arg: str, required: list[str]) -> pd.DataFrame:
    """A biophysical table indexed by ``lucode`` with lower-case column names (as InVEST reads it).

    Raises:
        GepInputError: missing file, missing columns, duplicate or non-integer lucodes, non-numeric values.
    """
    p = Path(path)
    if not p.exists():
        raise GepInputError([error("routed_file_missing", str(p), arg)])
    df = pd.read_csv(p, encoding="utf-8-sig")
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in ["lucode", *required] if c not in df.columns]
    if missing:
        raise GepInputError(
            [error("routed_table_columns", str(p), ", ".join(missing), expected=", ".join(["lucode", *required]))]
        )
    df = df.dropna(how="all")
    codes = pd.to_numeric(df["lucode"], errors="coerce")
    if codes.isna().any() or (codes != codes.round()).any():
        bad = df["lucode"][codes.isna() | (codes != codes.round())].iloc[0]
        raise GepInputError([error("routed_table_lucode", str(p), "lucode", value=bad)])
    df["lucode"] = codes.astype(np.int64)
    if df["lucode"].duplicated().any():
        dup = int(df["lucode"][df["lucode"].duplicated()].iloc[0])
        raise GepInputError([error("routed_table_duplicate", str(p), "lucode", value=dup)])
    df = df.set_index("lucode")
    for col in required:
        if col.startswith("load_type"):
            df[col] = df[col].astype(str).str.strip().str.lower()
            continue
        values = pd.to_numeric(df[col], errors="coerce")
        if values.isna().any():
            code = int(values.index[values.isna()][0])
            raise GepInputError([error("routed_table_value", str(p), col, lucode=code, value=df.at[code, col])])
        df[col] = values.astype(np.float64)
    return df


def lookup(
    lulc: np.ndarray, valid: np.ndarray, table: pd.Series, table_path: str | Path, raster_path: str | Path
) -> np.ndarray:
    """Map LULC codes to ``table`` values (float32 as InVEST's reclassified rasters, NaN where invalid).

    Raises:
        GepInputError: LULC codes in the landscape that are not in the table (listed).
    """
    present = present_codes(lulc, valid)
    keys = np.asarray(table.index, dtype=np.int64)
    missing = np.setdiff1d(present, keys)
    if missing.size:
        raise GepInputError(
            [
                error(
                    "routed_lulc_missing",
                    str(table_path),
                    "lucode",
                    codes=", ".join(str(int(m)) for m in missing[:20]),
                    raster=str(raster_path),
                )
            ]
        )
    order = np.argsort(keys)
    skeys = keys[order]
    svals = np.asarray(table.values, dtype=np.float32)[order]
    out = np.full(lulc.shape, np.nan, dtype=np.float32)
    out[valid] = svals[np.searchsorted(skeys, lulc[valid].astype(np.int64))]
    return out


def write_raster(
    path: Path,
    array: np.ndarray,
    grid: AccountGrid,
    *,
    dtype: str = "float32",
    nodata: float | int = FLOAT_NODATA,
    owned: bool = False,
) -> None:
    """Write a GeoTIFF with the InVEST-compatible creation options of :mod:`gep.invest.io` (tiled 256 x 256,
    LZW unless :func:`gep.invest.io.output_compression` says otherwise); NaN (float input) becomes ``nodata``.

    The array is written in stripes of 512 rows, so the NaN replacement and type conversion copy one stripe at
    a time; with ``owned`` the replacement is made in ``array`` itself.
    """
    from rasterio.windows import Window

    from gep.invest.io import GTIFF_OPTIONS

    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.asarray(array)
    profile = dict(GTIFF_OPTIONS)
    profile.update(
        width=grid.width,
        height=grid.height,
        count=1,
        dtype=dtype,
        nodata=nodata,
        transform=grid.transform,
        crs=grid.crs or None,
    )
    floating = np.issubdtype(arr.dtype, np.floating)
    with rasterio.open(path, "w", **profile) as dst:
        for row0 in range(0, grid.height, 512):
            block = arr[row0 : row0 + 512]
            if floating:
                bad = np.isnan(block)
                if bad.any():
                    if owned:
                        block[bad] = nodata
                    else:
                        block = np.where(bad, nodata, block)
            dst.write(block.astype(dtype, copy=False), 1, window=Window(0, row0, grid.width, block.shape[0]))


class BackgroundWriter:
    """Writes rasters from one background thread, so that compression overlaps the next computation.

    Use as a context manager; leaving it waits for every write and re-raises the first error.
    """

    def __init__(self, max_pending: int = 8) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gep-write")
        self._pending: list[Any] = []
        self._max = max(1, max_pending)

    def write(self, path: Path, array: np.ndarray, grid: AccountGrid, **kw: Any) -> None:
        """Queue :func:`write_raster` (``array`` must not be modified afterwards); waits while
        ``max_pending`` writes are queued, which bounds the memory held."""
        while len([f for f in self._pending if not f.done()]) >= self._max:
            next(f for f in self._pending if not f.done()).result()
        self._pending.append(self._pool.submit(write_raster, path, array, grid, **kw))

    def __enter__(self) -> BackgroundWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            for fut in self._pending:
                fut.result()
        finally:
            self._pool.shutdown()


class WatershedIndex:
    """Pixels of each watershed polygon, found once and reused for every per-watershed sum.

    A pixel belongs to a polygon when its centre is inside (pygeoprocessing ``zonal_statistics``); a polygon
    that covers no pixel centre uses the pixels it touches. Overlapping polygons each keep their own pixels.

    Attributes:
        gdf: the watersheds (GeoDataFrame, file order).
    """

    def __init__(self, vector_path: str | Path, grid: AccountGrid) -> None:
        import pyogrio

        self.gdf = pyogrio.read_dataframe(vector_path)
        self._parts: list[tuple[slice, slice, np.ndarray] | None] = []
        inv = ~grid.transform
        for geom in self.gdf.geometry:
            if geom is None or geom.is_empty:
                self._parts.append(None)
                continue
            minx, miny, maxx, maxy = geom.bounds
            c0, r0 = inv @ (minx, maxy)
            c1, r1 = inv @ (maxx, miny)
            col0 = max(int(math.floor(min(c0, c1))) - 1, 0)
            row0 = max(int(math.floor(min(r0, r1))) - 1, 0)
            col1 = min(int(math.ceil(max(c0, c1))) + 1, grid.width)
            row1 = min(int(math.ceil(max(r0, r1))) + 1, grid.height)
            if col1 <= col0 or row1 <= row0:
                self._parts.append(None)
                continue
            wt = grid.transform @ Affine.translation(col0, row0)
            shape = (row1 - row0, col1 - col0)
            inside = rasterio.features.geometry_mask([geom], shape, wt, invert=True, all_touched=False)
            if not inside.any():
                inside = rasterio.features.geometry_mask([geom], shape, wt, invert=True, all_touched=True)
            self._parts.append((slice(row0, row1), slice(col0, col1), inside))

    def stripe_sums(self, stripe: np.ndarray, row0: int) -> np.ndarray:
        """Per-polygon sums (float64, NaN skipped) of the rows ``row0 .. row0 + len(stripe) - 1``."""
        out = np.zeros(len(self._parts))
        for i, part in enumerate(self._parts):
            if part is None:
                continue
            rows, cols, inside = part
            lo = max(rows.start, row0)
            hi = min(rows.stop, row0 + stripe.shape[0])
            if hi > lo:
                out[i] = _stripe_sum(stripe, row0, lo, hi, rows.start, cols.start, inside)
        return out

    def sums(self, array: np.ndarray, scale: float = 1.0) -> list[float]:
        """Sum of ``array`` (NaN = nodata, skipped) over each polygon, times ``scale``."""
        out = []
        for part in self._parts:
            if part is None:
                out.append(0.0)
                continue
            rows, cols, inside = part
            out.append(_window_sum(array, rows.start, cols.start, inside) * scale)
        return out


def write_watershed_results(gdf: Any, fields: dict[str, list[float]], path: Path, driver: str) -> None:
    """Copy the watersheds with the result fields added (float), as ESRI Shapefile or GeoPackage."""
    import pyogrio

    out = gdf.copy()
    for name, values in fields.items():
        out[name] = np.asarray(values, dtype=np.float64)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        if driver == "ESRI Shapefile":
            for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                path.with_suffix(ext).unlink(missing_ok=True)
        else:
            path.unlink()
    pyogrio.write_dataframe(out, path, driver=driver)


def as_bool(value: Any) -> bool:
    """InVEST booleans: True/False, "true"/"false", 1/0."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def number(args: dict[str, Any], key: str, source: str, *, required: bool = True) -> float | None:
    """A numeric argument, or a :class:`GepInputError` naming the key."""
    value = args.get(key)
    if value is None or value == "":
        if required:
            raise GepInputError([error("routed_arg_missing", source, key)])
        return None
    try:
        out = float(value)
    except (TypeError, ValueError) as exc:
        raise GepInputError([error("routed_arg_number", source, key, value=value)]) from exc
    if not math.isfinite(out):
        raise GepInputError([error("routed_arg_number", source, key, value=value)])
    return out


def flow_algorithm(args: dict[str, Any], source: str) -> str:
    """``"mfd"`` (default) or ``"d8"`` from ``args["flow_dir_algorithm"]``."""
    value = str(args.get("flow_dir_algorithm") or "MFD").strip().lower()
    if value not in ("mfd", "d8"):
        raise GepInputError([error("routed_arg_choice", source, "flow_dir_algorithm", value=value, expected="MFD, D8")])
    return value
