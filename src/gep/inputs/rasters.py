"""Read raster layers and align them onto the account grid.

Alignment uses GDAL's warper through rasterio: nearest neighbour for categorical layers (class
codes), averaging for continuous fields. A layer already on the grid is read as it is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError
from rasterio.warp import reproject, transform_bounds

from gep.grid import AccountGrid
from gep.i18n import Text
from gep.problems import Problem, error, warning

CATEGORICAL_NODATA = -1
DECODE_THREADS = "ALL_CPUS"
"""GDAL_NUM_THREADS while reading a layer: multi-threaded GeoTIFF decoding (and warping)."""


@dataclass(frozen=True)
class AlignedLayer:
    """A layer on the account grid: float64 with NaN for nodata, or int32 with -1 for categorical."""

    name: str
    data: np.ndarray
    source: Path
    resampled: bool
    tags: dict[str, str]


def read_aligned(
    name: str, path: Path, grid: AccountGrid, *, categorical: bool, band: int = 1
) -> tuple[AlignedLayer | None, list[Problem]]:
    """Read band ``band`` of ``path`` onto ``grid``. Returns (layer or None, problems).

    GeoTIFF tiles are decoded by GDAL's thread pool (``GDAL_NUM_THREADS``, set for this read only;
    thread-local when called from a worker thread): several times less CPU than decoding through the
    block cache, and the same values."""
    if not path.is_file():
        return None, [error("file_not_found", str(path), name, what=Text("栅格（GeoTIFF）", "raster (GeoTIFF)"))]
    with rasterio.Env(GDAL_NUM_THREADS=DECODE_THREADS):
        return _read_aligned(name, path, grid, categorical=categorical, band=band)


def _read_aligned(
    name: str, path: Path, grid: AccountGrid, *, categorical: bool, band: int
) -> tuple[AlignedLayer | None, list[Problem]]:
    problems: list[Problem] = []
    try:
        src = rasterio.open(path)
    except RasterioIOError as exc:
        return None, [error("file_unreadable", str(path), name, what=Text("栅格", "raster"), reason=str(exc))]
    with src:
        if band > src.count:
            return None, [error("raster_band_missing", str(path), name, value=band, expected=src.count)]
        if src.crs is None:
            return None, [error("raster_no_crs", str(path), name)]
        target = CRS.from_user_input(grid.crs)
        overlap = _overlap_share(src, grid)
        if overlap == 0.0:
            return None, [error("raster_no_overlap", str(path), name, crs=src.crs.to_string())]
        same_grid = (
            src.crs == target
            and src.width == grid.width
            and src.height == grid.height
            and src.transform.almost_equals(grid.transform)
        )
        src_nodata = src.nodatavals[band - 1]
        if same_grid and _widens_exactly(src.dtypes[band - 1], src_nodata, categorical):
            # GDAL converts while decoding: no intermediate array, and no nodata value to mask
            data = src.read(band, out_dtype=np.float64)
        elif same_grid:
            raw = src.read(band)
            data = _to_memory(raw, src_nodata, categorical)
        else:
            problems.append(
                warning(
                    "raster_aligned",
                    str(path),
                    name,
                    crs=src.crs.to_string(),
                    res=f"{abs(src.transform.a):g}",
                    grid_crs=grid.crs,
                    grid_res=f"{grid.resolution:g}",
                    method="nearest" if categorical else "average",
                )
            )
            data = _reproject(src, band, grid, categorical, src_nodata)
        tags = {k.upper(): v for k, v in src.tags().items()}
    return AlignedLayer(name, data, path, not same_grid, tags), problems


_EXACT_IN_FLOAT64 = frozenset({"float32", "float64", "int8", "uint8", "int16", "uint16", "int32", "uint32"})
"""Band types every value of which float64 holds exactly (so GDAL's conversion equals numpy's)."""


def _widens_exactly(dtype: str, nodata: float | None, categorical: bool) -> bool:
    """Whether a continuous band can be read straight into float64 with the same result as
    :func:`_to_memory`: a type float64 holds exactly and no nodata value to replace by NaN."""
    return not categorical and dtype in _EXACT_IN_FLOAT64 and (nodata is None or np.isnan(nodata))


def _to_memory(raw: np.ndarray, nodata: float | None, categorical: bool) -> np.ndarray:
    if categorical:
        out = raw.astype(np.int32)
        if nodata is not None:
            out[raw == nodata] = CATEGORICAL_NODATA
        return out
    out = raw.astype(np.float64)
    if nodata is not None and not np.isnan(nodata):
        out[raw == nodata] = np.nan
    return out


def _reproject(src, band: int, grid: AccountGrid, categorical: bool, src_nodata) -> np.ndarray:
    if categorical:
        dst_nodata = CATEGORICAL_NODATA
        destination = np.full(grid.shape, dst_nodata, dtype=np.int32)
        raw = src.read(band)
        source = raw.astype(np.int32)
        if src_nodata is not None:
            source[raw == src_nodata] = dst_nodata
        resampling = Resampling.nearest
    else:
        dst_nodata = np.nan
        destination = np.full(grid.shape, np.nan, dtype=np.float64)
        raw = src.read(band)
        source = raw.astype(np.float64)
        if src_nodata is not None and not np.isnan(src_nodata):
            source[raw == src_nodata] = np.nan
        resampling = Resampling.average
    reproject(
        source=source,
        destination=destination,
        src_transform=src.transform,
        src_crs=src.crs,
        src_nodata=dst_nodata,
        dst_transform=grid.transform,
        dst_crs=grid.crs,
        dst_nodata=dst_nodata,
        resampling=resampling,
        num_threads=os.cpu_count() or 1,  # the warper's chunks are independent: same result, less wall time
    )
    return destination


def _overlap_share(src, grid: AccountGrid) -> float:
    """Share of the grid's bounding box covered by the raster's bounding box (0..1)."""
    left, bottom, right, top = transform_bounds(src.crs, grid.crs, *src.bounds, densify_pts=21)
    gl, gb, gr, gt = grid.bounds
    width = max(0.0, min(right, gr) - max(left, gl))
    height = max(0.0, min(top, gt) - max(bottom, gb))
    return (width * height) / ((gr - gl) * (gt - gb))
