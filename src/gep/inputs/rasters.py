"""Read raster layers and align them onto the account grid.

Alignment uses GDAL's warper through rasterio: nearest neighbour for categorical layers (class
codes), averaging for continuous fields. A layer already on the grid is read as it is.
"""

from __future__ import annotations

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
    """Read band ``band`` of ``path`` onto ``grid``. Returns (layer or None, problems)."""
    problems: list[Problem] = []
    if not path.is_file():
        return None, [error("file_not_found", str(path), name, what=Text("栅格（GeoTIFF）", "raster (GeoTIFF)"))]
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
        if same_grid:
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
        source = src.read(band).astype(np.int32)
        if src_nodata is not None:
            source[src.read(band) == src_nodata] = dst_nodata
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
    )
    return destination


def _overlap_share(src, grid: AccountGrid) -> float:
    """Share of the grid's bounding box covered by the raster's bounding box (0..1)."""
    left, bottom, right, top = transform_bounds(src.crs, grid.crs, *src.bounds, densify_pts=21)
    gl, gb, gr, gt = grid.bounds
    width = max(0.0, min(right, gr) - max(left, gl))
    height = max(0.0, min(top, gt) - max(bottom, gb))
    return (width * height) / ((gr - gl) * (gt - gb))
