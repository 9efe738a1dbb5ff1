"""RUSLE slope-length and steepness factor (LS) kernels (numba), one implementation for InVEST SDR
(:mod:`gep.invest.sdr`) and the array API (:func:`gep.routing.terrain.ls_from_slope_and_accumulation`).

Per pixel, Desmet & Govers (1996, J. Soil Water Conserv. 51(5):427-433) eq. 3 for the slope-length factor of
a grid cell, capped at ``l_max``, times McCool et al. (1987, Trans. ASAE 30(5):1387) S::

    L = ((A + D²)^(m+1) - A^(m+1)) / (D^(m+2) · x^m · 22.13^m),   L = min(L, l_max)
    LS = L · S

D = cell size (m); 22.13 m = the USLE unit plot length; m from InVEST SDR's table (``_calculate_ls_factor``,
after Oliveira et al. 2013): 0.2 for slope <= 1 %, 0.3 for <= 3.5 %, 0.4 for <= 5 %, 0.5 for <= 9 %, and
above 9 % m = β/(1+β) with β = (sin θ / 0.0896) / (3 (sin θ)^0.8 + 0.56) (McCool et al. 1989, Trans. ASAE
32(5):1571); S = 10.8 sin θ + 0.03 for slope < 9 %, 16.8 sin θ - 0.50 otherwise; θ = atan(slope % / 100),
evaluated without trigonometric calls: with p = pct/100, sin θ = p/sqrt(1 + p²), cos θ = 1/sqrt(1 + p²).

The upstream area A comes from the flow accumulation F (pixels, including the pixel itself): A =
sqrt((F - 1)·D²) as InVEST >= 3.14 (ADR-0001, SAGA's "square root of catchment area"), or A = (F - 1)·D²
(m², Desmet & Govers' A_in). x is |sin θ| + |cos θ| of the slope angle (what InVEST computes) or a given
per-pixel aspect factor |sin α| + |cos α|.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

NO_ASPECT = np.empty((0, 0), dtype=np.float64)
"""Pass as ``xfac`` to :func:`ls_into` for InVEST's x = |sin θ| + |cos θ| of the slope angle."""


@njit(cache=True, nogil=True, inline="always")
def _m_exponent(pct, sin_t):
    """m from percent slope ``pct`` and sin θ (see the module docstring)."""
    if pct <= 1.0:
        return 0.2
    if pct <= 3.5:
        return 0.3
    if pct <= 5.0:
        return 0.4
    if pct <= 9.0:
        return 0.5
    beta = (sin_t / 0.0896) / (3.0 * sin_t**0.8 + 0.56)
    return beta / (1.0 + beta)


@njit(cache=True, nogil=True, inline="always")
def _s_factor(pct, sin_t):
    """S from percent slope ``pct`` and sin θ (McCool et al. 1987)."""
    return 10.8 * sin_t + 0.03 if pct < 9.0 else 16.8 * sin_t - 0.5


@njit(cache=True, nogil=True)
def m_and_s(pct):
    """m exponent and S factor of a 1-D float64 array of percent slopes; NaN stays NaN. Returns (m, S)."""
    m = np.full(pct.shape[0], np.nan)
    s = np.full(pct.shape[0], np.nan)
    for i in range(pct.shape[0]):
        p = pct[i]
        if p == p:
            sin_t = (p / 100.0) / np.sqrt(1.0 + (p / 100.0) ** 2)
            m[i] = _m_exponent(p, sin_t)
            s[i] = _s_factor(p, sin_t)
    return m, s


@njit(cache=True, nogil=True, parallel=True)
def ls_into(out, slope_pct, acc, xfac, cell_size, l_max, sqrt_area):
    """Write LS into ``out`` (2-D, float32 or float64; NaN where the slope, accumulation or x is NaN).

    Args:
        out: output array, shape of ``slope_pct``.
        slope_pct: percent slope; acc: flow accumulation F (pixels, incl. itself); 2-D floats.
        xfac: per-pixel x (2-D float64), or :data:`NO_ASPECT` for x = |sin θ| + |cos θ| of the slope angle.
        cell_size: D (m); l_max: cap on L; sqrt_area: A = sqrt((F - 1)·D²) if True, else (F - 1)·D².
    """
    rows, cols = slope_pct.shape
    area = cell_size * cell_size
    use_x = xfac.shape[0] > 0
    for r in prange(rows):
        for c in range(cols):
            pct = np.float64(slope_pct[r, c])
            f = np.float64(acc[r, c])
            x = np.float64(xfac[r, c]) if use_x else 0.0
            if pct != pct or f != f or x != x:
                out[r, c] = np.nan
                continue
            p = pct / 100.0
            h = np.sqrt(1.0 + p * p)
            sin_t = p / h
            if not use_x:
                x = (abs(p) + 1.0) / h
            m = _m_exponent(pct, sin_t)
            up = max(f - 1.0, 0.0)
            a = np.sqrt(up * area) if sqrt_area else up * area
            lf = ((a + area) ** (m + 1.0) - a ** (m + 1.0)) / (cell_size ** (m + 2.0) * x**m * 22.13**m)
            if lf > l_max:
                lf = l_max
            out[r, c] = lf * _s_factor(pct, sin_t)


def ls_factor_invest(slope_pct: np.ndarray, acc: np.ndarray, cell_size: float, l_max: float) -> np.ndarray:
    """RUSLE LS exactly as InVEST 3.20 SDR ``_calculate_ls_factor``: A = sqrt((F - 1)·D²), x of the slope
    angle, float32 result (NaN where either input is NaN), in one parallel pass.

    Args:
        slope_pct: percent slope; acc: flow accumulation (pixels, incl. itself); cell_size: D (m);
        l_max: cap on L.
    """
    out = np.empty(np.shape(slope_pct), dtype=np.float32)
    ls_into(out, slope_pct, acc, NO_ASPECT, float(cell_size), float(l_max), True)
    return out
