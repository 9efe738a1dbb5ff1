"""Downslope distance to a channel (InVEST's d_dn and NDR's distance to stream) on packed directions.

Directions are packed 4-bit weights (see :mod:`gep.routing.packed`); D8 is the single-weight case. The
recursion runs over the topological order backwards, so every pixel is computed after its downstream
neighbours, in O(n) without recursion or extra per-pixel state.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from gep.routing.packed import DCOL, DROW, SQRT2


@njit(cache=True, nogil=True)
def distance_to_channel(fd, order, channel, weight, use_weight, weight_at_self):
    """Flow-weighted distance from each pixel down to the nearest channel pixel.

    ``d = 0`` on channel pixels (``channel == 1``). Elsewhere::

        d_i = sum_j q_ij (l_ij + d_j) / sum_j q_ij

    over the downstream neighbours j inside the grid whose d_j is defined (pygeoprocessing's
    ``distance_to_channel_mfd``; with a single direction it is ``distance_to_channel_d8``). q_ij are the
    4-bit flow weights. The step l_ij is the distance in cells (1 edge, sqrt 2 corner) without weights; with
    weights it is ``weight`` at the downstream pixel j (MFD) or at the pixel i itself
    (``weight_at_self``, as pygeoprocessing's D8 version). NaN weights count 0. Pixels none of whose flow
    reaches a channel get NaN.

    Args:
        fd: int32 packed directions; order: topological order (upstream first); channel: uint8 (1 = channel);
        weight: 2-D float (ignored unless ``use_weight``); use_weight, weight_at_self: bool.

    Returns:
        float32 distance (cells, or the unit of ``weight``; sums are formed in float64), NaN where undefined.
    """
    rows, cols = fd.shape
    d = np.full((rows, cols), np.nan, dtype=np.float32)
    for t in range(order.shape[0] - 1, -1, -1):
        idx = order[t]
        r = idx // cols
        c = idx - r * cols
        if channel[r, c] == 1:
            d[r, c] = 0.0
            continue
        v = fd[r, c]
        sw = 0.0
        swd = 0.0
        wself = 0.0
        if use_weight and weight_at_self:
            wself = np.float64(weight[r, c])
            if wself != wself:
                wself = 0.0
        for k in range(8):
            q = (v >> (4 * k)) & 0xF
            if q == 0:
                continue
            rn = r + DROW[k]
            cn = c + DCOL[k]
            if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
                continue
            dj = np.float64(d[rn, cn])
            if dj != dj:
                continue
            if use_weight:
                if weight_at_self:
                    step = wself
                else:
                    step = np.float64(weight[rn, cn])
                    if step != step:
                        step = 0.0
            else:
                step = SQRT2 if k & 1 else 1.0
            sw += q
            swd += q * (step + dj)
        if sw > 0.0:
            d[r, c] = swd / sw
    # channel pixels outside the valid directions (cannot happen with InVEST inputs) stay 0 as well
    for r in range(rows):
        for c in range(cols):
            if channel[r, c] == 1:
                d[r, c] = 0.0
    return d
