"""Sums of an item's per-pixel arrays over regions, zones and ecosystem types, one pass per array.

Every pixel inside the account gets a *key*: its unit (the deepest region containing it, see
:class:`gep.zonal.RegionIndex`) combined with its ecosystem type (from the land-cover class table).
One pass over an array adds each pixel's value to its key's total (NaN counts as no value), which
gives at once the unit × ecosystem table that the account table (regions: sum over ecosystems,
then up the region tree) and the SEEA supply tables (ecosystems: sum over units) are read from.
Zones may overlap anything, so each zone is summed over its own pixel positions.

Totals are accumulated sequentially in pixel order within each key (like ``np.bincount``), so the
same array gives the same bytes whatever the thread or backend that produced it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numba import njit

from gep.zonal import RegionIndex


@njit(cache=True, nogil=True)
def _keyed_sums(values: np.ndarray, keys: np.ndarray, n_keys: int) -> np.ndarray:
    # a run of pixels with the same key adds into a register, then the total goes back to the table:
    # the same additions in the same order as ``out[key] += value`` per pixel, without a round trip
    # through memory per pixel
    out = np.zeros(n_keys, dtype=np.float64)
    current = -1
    total = 0.0
    for i in range(values.size):
        key = keys[i]
        if key != current:
            if current >= 0:
                out[current] = total
            current = key
            if key >= 0:
                total = out[key]
        if key >= 0:
            value = values[i]
            if not np.isnan(value):
                total += value
    if current >= 0:
        out[current] = total
    return out


@njit(cache=True, nogil=True)
def _position_sum(values: np.ndarray, positions: np.ndarray) -> float:
    total = 0.0
    for i in range(positions.size):
        value = values[positions[i]]
        if not np.isnan(value):
            total += value
    return total


@dataclass(frozen=True)
class ArraySums:
    """The sums of one per-pixel array.

    Attributes:
        by_unit_ecosystem: float64 (units, ecosystems + 1): total per unit and ecosystem type; the
            last column holds the pixels without a land-cover class.
        zones: zone code -> total over the zone's pixels.
    """

    by_unit_ecosystem: np.ndarray
    zones: Mapping[str, float]

    def regions(self, index: RegionIndex) -> dict[str, float]:
        """Total per region, including its descendants."""
        return index.totals_from_units(self.by_unit_ecosystem.sum(axis=1))

    def ecosystems(self) -> np.ndarray:
        """Total per ecosystem type over the pixels with a class (float64, one per type)."""
        return self.by_unit_ecosystem[:, :-1].sum(axis=0)


class Tally:
    """Sums arrays on the account grid by unit × ecosystem and by zone.

    Args:
        index: the region tree on the grid.
        ecosystems: int array of the grid's shape, per pixel the index of its ecosystem type in a
            list of ``n_ecosystems`` types, negative where the pixel has no class.
        n_ecosystems: number of ecosystem types.
    """

    def __init__(self, index: RegionIndex, ecosystems: np.ndarray, n_ecosystems: int):
        self.index = index
        self.n_units = len(index.codes)
        self.n_columns = n_ecosystems + 1
        units = index.unit_index.ravel()
        eco = np.asarray(ecosystems).ravel()
        column = np.where(eco >= 0, eco, n_ecosystems).astype(np.int64)
        self._keys = np.where(units >= 0, units.astype(np.int64) * self.n_columns + column, -1).astype(np.int32)
        self._zones = {code: np.flatnonzero(mask.ravel()) for code, mask in index.zone_masks.items()}

    def sums(self, values: np.ndarray) -> ArraySums:
        """The sums of ``values`` (an array of the grid's shape; NaN = no value)."""
        flat = np.asarray(values, dtype=np.float64).ravel()
        if flat.size != self._keys.size:
            raise ValueError(f"array of {flat.size} pixels, expected {self._keys.size} (the account grid)")
        table = _keyed_sums(flat, self._keys, self.n_units * self.n_columns).reshape(self.n_units, self.n_columns)
        zones = {code: float(_position_sum(flat, positions)) for code, positions in self._zones.items()}
        return ArraySums(table, zones)

