"""Write arrays on the account grid as Cloud-Optimized GeoTIFFs."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import rasterio
from rasterio.shutil import copy as raster_copy

from gep.grid import AccountGrid


def write_cog(path: Path, array: np.ndarray, grid: AccountGrid, tags: Mapping[str, str] | None = None) -> None:
    """Write ``array`` (float, NaN = nodata) to ``path`` as a float32 COG with DEFLATE compression.

    The bytes depend only on the data, grid and tags, so the same account gives the same files.
    """
    data = np.asarray(array, dtype=np.float32)
    profile = grid.profile(dtype="float32", nodata=float("nan"))
    profile.update(tiled=True, blockxsize=256, blockysize=256, compress="deflate")
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        staging = Path(tmp) / "staging.tif"
        with rasterio.open(staging, "w", **profile) as dst:
            dst.write(data, 1)
            if tags:
                dst.update_tags(**{k: str(v) for k, v in tags.items()})
        raster_copy(
            staging, path, driver="COG", compress="DEFLATE", predictor="2", blocksize=256,
            overview_resampling="average",
        )
