"""Flow-path recursions of InVEST SDR (sediment deposition) and NDR (effective retention) on packed directions.

Both run once over a topological order (:func:`gep.routing.packed.topological_order`): deposition from
upstream to downstream, retention from downstream to upstream. Directions are pygeoprocessing's 4-bit
weights q (D8 = one weight), see :mod:`gep.routing.packed`. NaN marks nodata everywhere.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from gep.routing.packed import DCOL, DROW, SQRT2, grow


@njit(cache=True, nogil=True)
def sediment_deposition(fd, order, e_prime, sdr):
    """InVEST 3.20 sediment deposition t_i and flux f_i (sdr ``sediment_deposition.h``)::

        F_i  = sum over upstream j of f_j · p(j, i)           (p = q_ji / sum q_j)
        S_i  = sum over downstream k in the grid of SDR_k · q_ik / sum q_ik   (SDR_k = 0 counts as 1;
               nodata SDR_k adds nothing but its q stays in the denominator), at least SDR_i
        dt_i = 1 if SDR_i == 1 else (S_i - SDR_i) / (1 - SDR_i)
        t_i  = dt_i · F_i          f_i = (1 - dt_i) · F_i + E'_i      (negative values clamped to 0)

    Args:
        fd: int32 packed directions; order: topological order; e_prime: E' = USLE·(1 - SDR), 0 on streams
        (t/(ha·a)); sdr: sediment delivery ratio (1 on streams). 2-D float, NaN = nodata.

    Returns:
        (deposition t, flux f): float64 t/(ha·a), NaN where SDR or E' is nodata.
    """
    rows, cols = fd.shape
    dep = np.full((rows, cols), np.nan)  # holds the inflow F_i until pixel i is processed
    flux = np.full((rows, cols), np.nan)
    for r in range(rows):
        for c in range(cols):
            if fd[r, c] != 0 and sdr[r, c] == sdr[r, c] and e_prime[r, c] == e_prime[r, c]:
                dep[r, c] = 0.0
    for t in range(order.shape[0]):
        idx = order[t]
        r = idx // cols
        c = idx - r * cols
        f_in = dep[r, c]
        if f_in != f_in:
            continue
        sdr_i = np.float64(sdr[r, c])
        e_i = np.float64(e_prime[r, c])
        v = fd[r, c]
        s_down = 0.0
        qtot = 0
        qall = 0
        for k in range(8):
            q = (v >> (4 * k)) & 0xF
            if q == 0:
                continue
            qall += q
            rn = r + DROW[k]
            cn = c + DCOL[k]
            if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
                continue
            qtot += q
            sk = np.float64(sdr[rn, cn])
            if sk != sk:
                continue
            if sk == 0.0:
                sk = 1.0
            s_down += sk * q
        if qtot > 0:
            s_down /= qtot
        if s_down < sdr_i:
            s_down = sdr_i
        dr = 1.0 if sdr_i == 1.0 else (s_down - sdr_i) / (1.0 - sdr_i)
        t_i = dr * f_in
        f_i = (1.0 - dr) * f_in + e_i
        if t_i < 0.0:
            t_i = 0.0
        if f_i < 0.0:
            f_i = 0.0
        dep[r, c] = t_i
        flux[r, c] = f_i
        # pass the flux downslope: p(i, j) = q_ij / sum q_i, in float32 as InVEST
        for k in range(8):
            q = (v >> (4 * k)) & 0xF
            if q == 0:
                continue
            rn = r + DROW[k]
            cn = c + DCOL[k]
            if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
                continue
            if dep[rn, cn] == dep[rn, cn]:
                dep[rn, cn] += np.float64(np.float32(q) / np.float32(qall)) * f_i
    return dep, flux


@njit(cache=True, nogil=True)
def effective_retention(fd, stream, cls, eff_tab, crit_tab, cell_size, block):
    """InVEST 3.20 NDR effective retention (ndr ``retention.h``), from the streams upslope.

    0 on streams. Elsewhere, for each downstream neighbour j (step length l = cell size, or cell size·sqrt 2
    on a diagonal; s = exp(-5 l / crit_len_i), 0 if crit_len_i <= 0)::

        r_ij = eff_i (1 - s)                 if R_j == 0
             = R_j s + eff_i (1 - s)         if eff_i > R_j
             = R_j                           otherwise
        R_i  = sum_j r_ij q_ij / sum_j q_ij

    The denominator includes flow leaving the grid and flow into neighbours whose R is not (yet) defined;
    those add nothing to the numerator. Pixels of nodata class are nodata.

    The traversal order is InVEST's, because it changes results next to nodata and the grid edge: tiles of
    ``block`` x ``block`` are scanned row by row; in a tile, every pixel with flow leaving the grid or going
    to a neighbour with no outflow left to process (nodata, or a pixel already seeded in this tile) becomes
    a seed with those directions dropped; then the seeds are processed last-in first-out, and a pixel upslope
    is pushed once all its remaining outflow directions are processed. R is held in float32 as in InVEST.

    Args:
        fd: packed directions; stream: uint8 (1 = stream); cls: integer class of each pixel (row of the
        tables; negative = nodata); eff_tab: retention efficiency per class (0-1); crit_tab: critical length
        per class (m); cell_size: pixel side (m); block: scan tile size (256 in InVEST). Classes instead of
        per-pixel grids keep the memory at one small integer per pixel.

    Returns:
        float32 effective retention (0-1), NaN where undefined.
    """
    rows, cols = fd.shape
    ret = np.full((rows, cols), np.nan, dtype=np.float32)
    todo = np.zeros((rows, cols), dtype=np.uint8)
    for r in range(rows):
        for c in range(cols):
            v = fd[r, c]
            if v == 0:
                continue
            bits = 0
            for k in range(8):
                if (v >> (4 * k)) & 0xF:
                    bits |= 1 << k
            todo[r, c] = bits
    stack = np.empty(1024, dtype=np.int64)
    top = 0
    for yb in range(0, rows, block):
        for xb in range(0, cols, block):
            for r in range(yb, min(yb + block, rows)):
                for c in range(xb, min(xb + block, cols)):
                    out = np.int64(todo[r, c])
                    seed = False
                    for k in range(8):
                        bit = 1 << k
                        if out & bit:
                            rn = r + DROW[k]
                            cn = c + DCOL[k]
                            if rn < 0 or rn >= rows or cn < 0 or cn >= cols or todo[rn, cn] == 0:
                                seed = True
                                out &= ~bit
                    if seed:
                        todo[r, c] = out
                        stack = grow(stack, top)
                        stack[top] = r * cols + c
                        top += 1
            while top > 0:
                top -= 1
                idx = stack[top]
                r = idx // cols
                c = idx - r * cols
                v = fd[r, c]
                ci = cls[r, c]
                if stream[r, c] == 1:
                    ret[r, c] = 0.0
                elif ci >= 0 and v != 0:
                    e_i = np.float64(eff_tab[ci])
                    cl = np.float64(crit_tab[ci])
                    total = 0.0
                    qtot = 0
                    for k in range(8):
                        q = (v >> (4 * k)) & 0xF
                        if q == 0:
                            continue
                        qtot += q
                        rn = r + DROW[k]
                        cn = c + DCOL[k]
                        if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
                            continue
                        rj = np.float64(ret[rn, cn])
                        if rj != rj:
                            continue
                        step = cell_size * SQRT2 if k & 1 else cell_size
                        sf = np.exp(-5.0 * step / cl) if cl > 0.0 else 0.0
                        if rj == 0.0:
                            inter = e_i * (1.0 - sf)
                        elif e_i > rj:
                            inter = rj * sf + e_i * (1.0 - sf)
                        else:
                            inter = rj
                        total += inter * q
                    if qtot > 0:
                        ret[r, c] = total / qtot
                # upslope neighbours: clear the direction toward this pixel, push when none is left
                for k in range(8):
                    rn = r + DROW[k]
                    cn = c + DCOL[k]
                    if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
                        continue
                    vn = fd[rn, cn]
                    back = (k + 4) % 8
                    if vn == 0 or ((vn >> (4 * back)) & 0xF) == 0:
                        continue
                    left = np.int64(todo[rn, cn])
                    if left == 0 or not (left & (1 << back)):
                        continue
                    left &= ~(1 << back)
                    todo[rn, cn] = left
                    if left == 0:
                        stack = grow(stack, top)
                        stack[top] = rn * cols + cn
                        top += 1
    return ret
