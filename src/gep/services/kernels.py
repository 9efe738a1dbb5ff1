"""One-pass pixel kernels shared by the services (numba, ``nogil``: they run in parallel threads).

Every function here takes 2-D (or any-shaped) arrays on the account grid and walks them once, without
full-grid temporaries. They replace patterns that cost several passes each (``np.isin`` over the grid,
``np.unique`` of class codes, one boolean mask per region, ``np.stack`` + ``np.nansum``).

Conventions:

- class codes (``landcover``) may be integers (the engine's int32, any negative = nodata) or floats
  (NaN or negative = nodata; a float code is truncated to an integer, as ``astype(np.int64)`` does);
- ``units`` is ``ServiceContext.unit_index`` (index into ``unit_codes``, negative = no region);
- per-unit totals carry one extra slot at index ``n_units`` for the pixels of no unit (index < 0 or
  >= ``n_units``), so their sums are not lost.

Per-unit sums are compensated (Neumaier), so a region total built from them may differ from a masked
``numpy`` sum (pairwise) only in the last bits (≈1e-15 relative).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

MAX_LUT_CODE = 1 << 22
"""Largest class code a lookup table is built for (4 M entries); larger codes fall back to numpy."""


def _flat(array: np.ndarray) -> np.ndarray:
    """``array`` as a 1-D C-contiguous view (a copy only when it is not contiguous)."""
    return np.ascontiguousarray(array).reshape(-1)


def _is_integer(array: np.ndarray) -> bool:
    return array.dtype.kind in "iu"


# --------------------------------------------------------------------------------------------------
# Class lookups
# --------------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _gather(codes, lut, nodata, out):  # pragma: no cover - compiled
    n = lut.size
    for i in range(codes.size):
        c = codes[i]
        if c >= 0 and c < n:
            v = lut[np.int64(c)]
            out[i] = nodata if np.isnan(v) else v
        else:
            out[i] = nodata


def gather_classes(codes: np.ndarray, lut: np.ndarray, nodata: float = np.nan) -> np.ndarray:
    """``lut[code]`` (float64) per pixel; ``nodata`` where the code is negative, NaN, beyond the table, or
    its table value is NaN. ``lut`` is indexed by class code (float64)."""
    codes = np.asarray(codes)
    out = np.empty(codes.shape, dtype=np.float64)
    if codes.dtype == bool:
        codes = codes.astype(np.int8)
    _gather(_flat(codes), np.ascontiguousarray(lut, dtype=np.float64), float(nodata), out.reshape(-1))
    return out


@njit(cache=True, nogil=True)
def _member(codes, lut, out):  # pragma: no cover - compiled
    n = lut.size
    for i in range(codes.size):
        c = codes[i]
        if c >= 0 and c < n:
            out[i] = lut[np.int64(c)]
        else:
            out[i] = False


def class_member(codes: np.ndarray, members: np.ndarray) -> np.ndarray:
    """``np.isin(codes, members)`` for class codes: one lookup-table pass for integer codes and
    non-negative ``members``; ``np.isin`` itself otherwise (float codes keep its exact semantics)."""
    codes = np.asarray(codes)
    members = np.asarray(members).reshape(-1)
    if (
        not _is_integer(codes)
        or (members.size and (members.dtype.kind not in "iu" or members.min() < 0 or members.max() > MAX_LUT_CODE))
    ):
        return np.isin(codes, members)
    lut = np.zeros(int(members.max()) + 1 if members.size else 1, dtype=np.bool_)
    lut[members.astype(np.int64)] = True
    out = np.empty(codes.shape, dtype=np.bool_)
    _member(_flat(codes), lut, out.reshape(-1))
    return out


@njit(cache=True, nogil=True)
def _max_class(codes, inside):  # pragma: no cover - compiled
    top = -1
    for i in range(codes.size):
        if inside[i] and codes[i] > top:
            top = np.int64(codes[i])
    return top


@njit(cache=True, nogil=True)
def _count_classes(codes, inside, counts):  # pragma: no cover - compiled
    # four interleaved tallies: runs of one class do not wait on a single counter
    tally = np.zeros((4, counts.size), dtype=np.int64)
    for i in range(codes.size):
        c = codes[i]
        if inside[i] and c >= 0:
            tally[i & 3, c] += 1
    for k in range(counts.size):
        counts[k] = tally[0, k] + tally[1, k] + tally[2, k] + tally[3, k]


def class_counts(codes: np.ndarray, inside: np.ndarray) -> dict[int, int]:
    """Class code -> number of pixels where ``inside`` is True and the integer ``codes`` are >= 0."""
    codes = np.asarray(codes)
    if not _is_integer(codes):
        raise TypeError("class_counts needs integer class codes")
    flat_codes, flat_inside = _flat(codes), _flat(np.asarray(inside, dtype=np.bool_))
    top = _max_class(flat_codes, flat_inside)
    if top > MAX_LUT_CODE:
        values, found = np.unique(flat_codes[flat_inside & (flat_codes >= 0)], return_counts=True)
        return {int(v): int(c) for v, c in zip(values, found, strict=True)}
    counts = np.zeros(max(top, 0) + 1, dtype=np.int64)
    _count_classes(flat_codes, flat_inside, counts)
    present = np.flatnonzero(counts)
    return {int(c): int(counts[c]) for c in present}


# --------------------------------------------------------------------------------------------------
# Regions
# --------------------------------------------------------------------------------------------------


def unit_lookup(n_units: int, units: object, dtype: type = np.bool_, fill: object = True) -> np.ndarray:
    """A table of ``n_units + 1`` entries (the last for "no unit"), ``fill`` at ``units`` else 0."""
    table = np.zeros(n_units + 1, dtype=dtype)
    chosen = np.asarray(list(units) if not isinstance(units, np.ndarray) else units, dtype=np.int64)
    table[chosen] = fill
    return table


@njit(cache=True, nogil=True)
def _unit_member(units, lut, out):  # pragma: no cover - compiled
    n = lut.size - 1
    for i in range(units.size):
        u = units[i]
        if u >= 0 and u < n:
            out[i] = lut[u]
        else:
            out[i] = False


def unit_member(units: np.ndarray, chosen: object, n_units: int) -> np.ndarray:
    """Boolean mask of the pixels whose unit index is one of ``chosen`` (``np.isin(units, chosen)``)."""
    units = np.asarray(units)
    chosen = np.asarray(list(chosen) if not isinstance(chosen, np.ndarray) else chosen, dtype=np.int64)
    if chosen.size and chosen.min() < 0:
        return np.isin(units, chosen)
    lut = unit_lookup(max(n_units, int(chosen.max()) + 1 if chosen.size else 0), chosen)
    out = np.empty(units.shape, dtype=np.bool_)
    _unit_member(_flat(units), lut, out.reshape(-1))
    return out


class UnitSums(NamedTuple):
    """Per-unit totals over the pixels inside the account; index ``n_units`` holds the pixels of no unit.

    Attributes:
        total: sum of the finite values.
        valid: number of pixels with a finite value.
        inside: number of pixels inside the account (any value).
    """

    total: np.ndarray
    valid: np.ndarray
    inside: np.ndarray

    @property
    def nonfinite(self) -> int:
        """Pixels inside the account whose value is NaN or infinite."""
        return int(self.inside.sum() - self.valid.sum())


@njit(cache=True, nogil=True)
def _unit_sums(units, inside, values, total, valid, count):  # pragma: no cover - compiled
    # Neumaier's compensated sum: as accurate as numpy's pairwise sum (or better), whatever the count
    n = total.size - 1
    comp = np.zeros(total.size)
    for i in range(units.size):
        if not inside[i]:
            continue
        u = units[i]
        k = u if u >= 0 and u < n else n
        count[k] += 1
        v = values[i]
        if np.isfinite(v):
            t = total[k] + v
            if abs(total[k]) >= abs(v):
                comp[k] += (total[k] - t) + v
            else:
                comp[k] += (v - t) + total[k]
            total[k] = t
            valid[k] += 1
    for k in range(total.size):
        total[k] += comp[k]


def unit_sums(units: np.ndarray, inside: np.ndarray, values: np.ndarray, n_units: int) -> UnitSums:
    """Sums of the finite ``values`` and pixel counts per unit, over the pixels ``inside``, in one pass."""
    total = np.zeros(n_units + 1, dtype=np.float64)
    valid = np.zeros(n_units + 1, dtype=np.int64)
    count = np.zeros(n_units + 1, dtype=np.int64)
    _unit_sums(
        _flat(np.asarray(units)),
        _flat(np.asarray(inside, dtype=np.bool_)),
        _flat(np.asarray(values, dtype=np.float64)),
        total,
        valid,
        count,
    )
    return UnitSums(total, valid, count)


# per-unit modes of the fill kernels
NAN = -1
"""The pixel gets NaN (no figure for its unit)."""
KEEP = -2
"""The pixel keeps its value (``fill_capped``: no load known for its region)."""
ZERO = 0
"""The pixel gets 0."""
SCALED = 1
"""``amount × value / denominator`` (``fill_shares``) or ``value × factor`` (``fill_capped``)."""
EVEN = 2
"""``amount / denominator``: an even share (``fill_capped``: the factor itself)."""


@njit(cache=True, nogil=True)
def _fill_shares(units, inside, weights, mode, amount, denom, out):  # pragma: no cover - compiled
    n = mode.size - 1
    for i in range(units.size):
        w = weights[i]
        if not inside[i] or not np.isfinite(w):
            out[i] = np.nan
            continue
        u = units[i]
        k = u if u >= 0 and u < n else n
        m = mode[k]
        if m == 1:
            out[i] = amount[k] * w / denom[k]
        elif m == 2:
            out[i] = amount[k] / denom[k]
        elif m == 0:
            out[i] = 0.0
        else:
            out[i] = np.nan


def fill_shares(
    units: np.ndarray, inside: np.ndarray, weights: np.ndarray, mode: np.ndarray, amount: np.ndarray, denom: np.ndarray
) -> np.ndarray:
    """Per pixel, by the mode of its unit: ``amount[u] × w / denom[u]`` (SCALED), ``amount[u] / denom[u]``
    (EVEN), 0 (ZERO) or NaN (NAN); NaN outside ``inside`` and where the weight ``w`` is not finite.
    ``mode``, ``amount`` and ``denom`` have ``n_units + 1`` entries (the last for pixels of no unit)."""
    weights = np.asarray(weights, dtype=np.float64)
    out = np.empty(weights.shape, dtype=np.float64)
    _fill_shares(
        _flat(np.asarray(units)),
        _flat(np.asarray(inside, dtype=np.bool_)),
        _flat(weights),
        np.ascontiguousarray(mode, dtype=np.int8),
        np.ascontiguousarray(amount, dtype=np.float64),
        np.ascontiguousarray(denom, dtype=np.float64),
        out.reshape(-1),
    )
    return out


@njit(cache=True, nogil=True)
def _fill_capped(units, inside, values, mode, factor, out):  # pragma: no cover - compiled
    n = mode.size - 1
    for i in range(units.size):
        v = values[i]
        if not inside[i] or not np.isfinite(v):
            out[i] = np.nan
            continue
        u = units[i]
        k = u if u >= 0 and u < n else n
        m = mode[k]
        if m == 1:
            out[i] = v * factor[k]
        elif m == 2:
            out[i] = factor[k]
        elif m == 0:
            out[i] = 0.0
        elif m == -2:
            out[i] = v
        else:
            out[i] = np.nan


def fill_capped(
    units: np.ndarray, inside: np.ndarray, values: np.ndarray, mode: np.ndarray, factor: np.ndarray
) -> np.ndarray:
    """Per pixel, by the mode of its unit: ``v × factor[u]`` (SCALED), ``factor[u]`` (EVEN), 0 (ZERO),
    ``v`` (KEEP) or NaN (NAN); NaN outside ``inside`` and where ``v`` is not finite. ``mode`` and
    ``factor`` have ``n_units + 1`` entries (the last for pixels of no unit)."""
    values = np.asarray(values, dtype=np.float64)
    out = np.empty(values.shape, dtype=np.float64)
    _fill_capped(
        _flat(np.asarray(units)),
        _flat(np.asarray(inside, dtype=np.bool_)),
        _flat(values),
        np.ascontiguousarray(mode, dtype=np.int8),
        np.ascontiguousarray(factor, dtype=np.float64),
        out.reshape(-1),
    )
    return out


@njit(cache=True, nogil=True)
def _fill_additive(units, inside, weights, start, regions, mode, amount, denom, out):  # pragma: no cover
    n = start.size - 1
    for i in range(units.size):
        w = weights[i]
        if not inside[i] or not np.isfinite(w):
            out[i] = np.nan
            continue
        u = units[i]
        v = 0.0
        if u >= 0 and u < n:
            for j in range(start[u], start[u + 1]):
                r = regions[j]
                if mode[r] == 1:
                    v += amount[r] * w / denom[r]
                elif mode[r] == 2:
                    v += amount[r] / denom[r]
        out[i] = v


def fill_additive(
    units: np.ndarray,
    inside: np.ndarray,
    weights: np.ndarray,
    unit_regions: list[list[int]],
    mode: np.ndarray,
    amount: np.ndarray,
    denom: np.ndarray,
) -> np.ndarray:
    """Per pixel ``0 + Σ_r share_r`` over the regions ``r`` of its unit (``unit_regions[u]``, in order):
    ``amount[r] × w / denom[r]`` (SCALED) or ``amount[r] / denom[r]`` (EVEN), other modes add nothing;
    NaN outside ``inside`` and where the weight ``w`` is not finite."""
    weights = np.asarray(weights, dtype=np.float64)
    start = np.zeros(len(unit_regions) + 1, dtype=np.int64)
    start[1:] = np.cumsum([len(r) for r in unit_regions])
    flat_regions = np.asarray([r for rs in unit_regions for r in rs], dtype=np.int64)
    out = np.empty(weights.shape, dtype=np.float64)
    _fill_additive(
        _flat(np.asarray(units)),
        _flat(np.asarray(inside, dtype=np.bool_)),
        _flat(weights),
        start,
        flat_regions,
        np.ascontiguousarray(mode, dtype=np.int8),
        np.ascontiguousarray(amount, dtype=np.float64),
        np.ascontiguousarray(denom, dtype=np.float64),
        out.reshape(-1),
    )
    return out


# --------------------------------------------------------------------------------------------------
# Sums
# --------------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _nan_sum(arrays, out):  # pragma: no cover - compiled
    for i in range(out.size):
        total = 0.0
        seen = False
        for array in arrays:
            v = array[i]
            if not np.isnan(v):
                total += v
                seen = True
        out[i] = total if seen else np.nan


def nan_sum(arrays: list[np.ndarray] | tuple[np.ndarray, ...]) -> np.ndarray:
    """Pixel-wise sum of ``arrays`` (same shape) ignoring NaN, added in order; NaN only where every array
    is NaN. Same numbers as ``np.nansum(np.stack(arrays), axis=0)``, in one pass without the stacked copy."""
    shape = np.shape(arrays[0])
    flat = []
    for array in arrays:
        array = np.asarray(array, dtype=np.float64)
        if array.shape != shape:
            raise ValueError(f"arrays differ in shape: {array.shape} and {shape}")
        flat.append(_flat(array))
    out = np.empty(shape, dtype=np.float64)
    _nan_sum(tuple(flat), out.reshape(-1))
    return out
