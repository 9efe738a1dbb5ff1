"""Regions and zones on the account grid, and sums over them.

The region tree is rasterized once into a "unit" raster: each pixel gets the index of the deepest
region whose polygon contains the pixel centre (parents are burned first, children over them). A
parent's total is the sum over its own remainder pixels plus its children's totals, so for every
region the sum over its children equals the parent wherever the children tile it, to floating-point
rounding. Zones (a national park, a project site) may overlap anything and get one mask each.
Sums are one ``np.bincount`` per layer, not a loop over polygons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from rasterio.features import rasterize

from gep.grid import AccountGrid


@dataclass(frozen=True)
class RegionIndex:
    """The region tree on the grid.

    Attributes:
        unit_index: int32 array, index into ``codes`` of the deepest region at each pixel, -1 outside.
        codes: region codes in burn order (parents before children).
        parents: parent code of each region (None for roots), aligned with ``codes``.
        region_units: code -> indices of the region and all its descendants.
        zone_masks: zone code -> boolean mask of the zone's pixels.
    """

    unit_index: np.ndarray
    codes: tuple[str, ...]
    parents: tuple[str | None, ...]
    region_units: Mapping[str, tuple[int, ...]]
    zone_masks: Mapping[str, np.ndarray]

    @property
    def inside(self) -> np.ndarray:
        return self.unit_index >= 0

    def pixel_counts(self) -> dict[str, int]:
        """Number of pixels per region (with descendants)."""
        return {code: int(v) for code, v in self.region_sums(np.ones(self.unit_index.shape)).items()}

    def region_sums(self, values: np.ndarray) -> dict[str, float]:
        """Sum of ``values`` (NaN counted as 0) over each region including its descendants."""
        return self.totals_from_units(self.unit_sums(values))

    def totals_from_units(self, unit_totals: np.ndarray) -> dict[str, float]:
        """Per region the total including its descendants, from per-unit totals (one per code, the
        unit's own pixels only)."""
        totals = dict(zip(self.codes, np.asarray(unit_totals, dtype=np.float64).tolist(), strict=True))
        # children come after parents in ``codes``: walking backwards, a region's total is complete
        # (its descendants were added) before it is added to its parent
        for code, parent in zip(reversed(self.codes), reversed(self.parents), strict=True):
            if parent is not None and parent in totals:
                totals[parent] += totals[code]
        return totals

    @cached_property
    def _flat_inside(self) -> tuple[np.ndarray, np.ndarray]:
        """(flat positions of the pixels inside some region, their unit indices), computed once."""
        flat = self.unit_index.ravel()
        positions = np.flatnonzero(flat >= 0)
        return positions, flat[positions]

    def unit_sums(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` over each unit's own pixels (excluding descendants), float64."""
        positions, units = self._flat_inside
        weights = np.asarray(values, dtype=np.float64).ravel()[positions]
        weights = np.where(np.isnan(weights), 0.0, weights)
        return np.bincount(units, weights=weights, minlength=len(self.codes))

    def zone_sums(self, values: np.ndarray) -> dict[str, float]:
        clean = np.where(np.isnan(values), 0.0, values)
        return {code: float(clean[mask].sum(dtype=np.float64)) for code, mask in self.zone_masks.items()}


def rasterize_regions(regions, grid: AccountGrid) -> RegionIndex:
    """Rasterize a :class:`gep.regions.RegionSet` (any CRS) onto ``grid``."""
    projected = regions.to_crs(grid.crs)
    codes = tuple(r.code for r in projected.regions)
    parents = tuple(r.parent for r in projected.regions)
    shapes = [(r.geometry, i) for i, r in enumerate(projected.regions) if not r.geometry.is_empty]
    if shapes:
        unit_index = rasterize(shapes, out_shape=grid.shape, transform=grid.transform, fill=-1, dtype="int32")
    else:
        unit_index = np.full(grid.shape, -1, dtype=np.int32)
    index_of = {code: i for i, code in enumerate(codes)}
    members: dict[str, list[int]] = {code: [index_of[code]] for code in codes}
    for code, parent in zip(reversed(codes), reversed(parents), strict=True):
        if parent is not None and parent in members:
            members[parent].extend(members[code])
    region_units = {code: tuple(sorted(v)) for code, v in members.items()}
    zone_masks = {
        zone.code: rasterize(
            [(zone.geometry, 1)], out_shape=grid.shape, transform=grid.transform, fill=0, dtype="uint8"
        ).astype(bool)
        for zone in projected.zones
        if not zone.geometry.is_empty
    }
    return RegionIndex(unit_index, codes, parents, region_units, zone_masks)


def grid_for_regions(regions, resolution: float, crs: str) -> AccountGrid:
    """The account grid covering all regions, in ``crs`` at ``resolution`` metres."""
    projected = regions.to_crs(crs)
    bounds = projected.to_geodataframe().total_bounds
    return AccountGrid.from_bounds(tuple(float(b) for b in bounds), resolution, crs)
