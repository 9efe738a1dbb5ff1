"""Sums of an item's per-pixel arrays over regions, zones and ecosystem types, one pass per array.

Every pixel inside the account gets a *key*: its unit (the deepest region containing it, see
:class:`gep.zonal.RegionIndex`) combined with its ecosystem type (from the land-cover class table).
One pass over an array adds each pixel's value to its key's total (NaN counts as no value), which
gives at once the unit × ecosystem table that the account table (regions: sum over ecosystems,
then up the region tree) and the SEEA supply tables (ecosystems: sum over units) are read from.
Zones may overlap anything, so each zone is summed over its own pixel positions.

Totals are accumulated sequentially in pixel order within each key (like ``np.bincount``), so the
same array gives the same bytes whatever the thread or backend that produced it. An item computed in
row blocks is summed block by block (:meth:`Tally.block`, on the thread or worker that computed the
block) and the blocks' totals are added in row order (:meth:`ArraySums.combine`): the same bytes for
the same blocks, locally or on a cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

from gep.zonal import RegionIndex


@njit(cache=True, nogil=True)
def _keyed_sums(values: np.ndarray, keys: np.ndarray, n_keys: int, rounded: np.ndarray) -> np.ndarray:
    # a run of pixels with the same key adds into a register, then the total goes back to the table:
    # the same additions in the same order as ``out[key] += value`` per pixel, without a round trip
    # through memory per pixel; ``rounded`` (float32, one per pixel, or empty) gets each value too,
    # NaN outside the account (key -1)
    out = np.zeros(n_keys, dtype=np.float64)
    rounding = rounded.size > 0
    current = -1
    total = 0.0
    for i in range(values.size):
        value = values[i]
        key = keys[i]
        if rounding:
            rounded[i] = value if key >= 0 else np.nan
        if key != current:
            if current >= 0:
                out[current] = total
            current = key
            if key >= 0:
                total = out[key]
        if key >= 0 and not np.isnan(value):
            total += value
    if current >= 0:
        out[current] = total
    return out


_NOT_ROUNDED = np.empty(0, dtype=np.float32)


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

    @staticmethod
    def combine(parts: Sequence[ArraySums]) -> ArraySums:
        """The sums of an array from the sums of its row blocks (in row order), added in that order."""
        table = parts[0].by_unit_ecosystem.copy()
        zones = dict(parts[0].zones)
        for part in parts[1:]:
            table += part.by_unit_ecosystem
            for code, total in part.zones.items():
                zones[code] += total
        return ArraySums(table, zones)


@dataclass(frozen=True)
class BlockTally:
    """The keys and zone positions of a block of rows of the account grid (or of the whole grid):
    sums the block's arrays on whatever thread or worker computed them (small and picklable: it holds
    no reference to the region tree).

    Attributes:
        shape: the block's (rows, columns).
        keys: int32, one per pixel of the block in row-major order: unit × (ecosystems + 1) + column,
            -1 outside every region.
        n_units, n_columns: the table's shape (columns: ecosystem types + 1 for "no class").
        zones: zone code -> int64 positions of the zone's pixels inside the account in the block
            (row-major).

    Pixels outside the account (key -1) count in no sum, so arrays need not be masked first.
    """

    shape: tuple[int, int]
    keys: np.ndarray
    n_units: int
    n_columns: int
    zones: Mapping[str, np.ndarray]

    def _flat(self, values: np.ndarray) -> np.ndarray:
        flat = np.asarray(values, dtype=np.float64).ravel()
        if flat.size != self.keys.size:
            raise ValueError(f"array of {flat.size} pixels, expected {self.keys.size} (the account grid)")
        return flat

    def _zone_sums(self, flat: np.ndarray) -> dict[str, float]:
        return {code: float(_position_sum(flat, positions)) for code, positions in self.zones.items()}

    def sums(self, values: np.ndarray) -> ArraySums:
        """The sums of ``values`` (an array of the block's shape; NaN = no value)."""
        flat = self._flat(values)
        table = _keyed_sums(flat, self.keys, self.n_units * self.n_columns, _NOT_ROUNDED)
        return ArraySums(table.reshape(self.n_units, self.n_columns), self._zone_sums(flat))

    def sums_and_float32(self, values: np.ndarray) -> tuple[ArraySums, np.ndarray]:
        """:meth:`sums` of ``values`` and, from the same pass over the pixels, ``values`` rounded to
        float32 with NaN outside the account (as the maps store them; the sums are of the float64
        values)."""
        flat = self._flat(values)
        rounded = np.empty(flat.size, dtype=np.float32)
        table = _keyed_sums(flat, self.keys, self.n_units * self.n_columns, rounded)
        sums = ArraySums(table.reshape(self.n_units, self.n_columns), self._zone_sums(flat))
        return sums, rounded.reshape(self.shape)


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
        self.shape = tuple(index.unit_index.shape)
        units = index.unit_index.ravel()
        eco = np.asarray(ecosystems).ravel()
        column = np.where(eco >= 0, eco, n_ecosystems).astype(np.int64)
        keys = np.where(units >= 0, units.astype(np.int64) * self.n_columns + column, -1).astype(np.int32)
        zones = {code: np.flatnonzero(mask.ravel() & (keys >= 0)) for code, mask in index.zone_masks.items()}
        self.whole = BlockTally(self.shape, keys, self.n_units, self.n_columns, zones)
        """The tally of the whole grid."""

    def sums(self, values: np.ndarray) -> ArraySums:
        """The sums of ``values`` (an array of the grid's shape; NaN = no value)."""
        return self.whole.sums(values)

    def block(self, rows: slice) -> BlockTally:
        """The tally of the grid's rows ``rows`` (a slice with step 1)."""
        start, stop, _ = rows.indices(self.shape[0])
        if (start, stop) == (0, self.shape[0]):
            return self.whole
        columns = self.shape[1]
        first, last = start * columns, stop * columns
        zones = {}
        for code, positions in self.whole.zones.items():
            lo, hi = np.searchsorted(positions, (first, last))
            zones[code] = positions[lo:hi] - first
        return BlockTally((stop - start, columns), self.whole.keys[first:last], self.n_units, self.n_columns, zones)
