"""The account grid: one CRS, one pixel size, one extent that every input is aligned onto."""

from __future__ import annotations

import math
from dataclasses import dataclass

from affine import Affine

DEFAULT_CRS = "EPSG:4549"
"""CGCS2000 / 3-degree Gauss-Kruger CM 120E: metres, the usual projected CRS for Zhejiang."""


@dataclass(frozen=True)
class AccountGrid:
    """A north-up raster grid.

    Attributes:
        crs: CRS as a string understood by pyproj/rasterio (e.g. ``EPSG:4549``); must be projected in metres.
        transform: affine transform of the top-left pixel corner.
        width, height: number of columns and rows.
    """

    crs: str
    transform: Affine
    width: int
    height: int

    @classmethod
    def from_bounds(
        cls, bounds: tuple[float, float, float, float], resolution: float, crs: str = DEFAULT_CRS
    ) -> AccountGrid:
        """Grid covering ``bounds`` (minx, miny, maxx, maxy in ``crs`` units) with square pixels of
        ``resolution`` metres, its corners snapped outward to multiples of the resolution so that grids
        of the same resolution over the same area line up."""
        if resolution <= 0:
            raise ValueError(f"resolution must be positive, got {resolution}")
        minx, miny, maxx, maxy = bounds
        left = math.floor(minx / resolution) * resolution
        top = math.ceil(maxy / resolution) * resolution
        right = math.ceil(maxx / resolution) * resolution
        bottom = math.floor(miny / resolution) * resolution
        width = max(1, round((right - left) / resolution))
        height = max(1, round((top - bottom) / resolution))
        return cls(crs, Affine(resolution, 0.0, left, 0.0, -resolution, top), width, height)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return (self.height, self.width)

    @property
    def resolution(self) -> float:
        """Pixel size in metres (square pixels)."""
        return float(self.transform.a)

    @property
    def pixel_area_m2(self) -> float:
        return float(abs(self.transform.a * self.transform.e))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        left, top = self.transform.c, self.transform.f
        return (left, top + self.transform.e * self.height, left + self.transform.a * self.width, top)

    def profile(self, dtype: str = "float32", nodata: float | int | None = None) -> dict:
        """A rasterio profile for a single-band GeoTIFF on this grid."""
        return {
            "driver": "GTiff",
            "crs": self.crs,
            "transform": self.transform,
            "width": self.width,
            "height": self.height,
            "count": 1,
            "dtype": dtype,
            "nodata": nodata,
        }
