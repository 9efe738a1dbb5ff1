"""Numba kernels for hydrological routing and terrain (no Python loops over pixels).

These functions are deliberately dumb: they take C-contiguous 2-D numpy arrays, scalars and an explicit
boolean ``valid`` mask (True = data), check nothing and allocate their outputs. Dtype conversion, nodata
handling and argument checking live in :mod:`gep.routing.terrain`; call that module, not this one.

Neighbour numbering (shared by D8 codes and MFD proportions; the same order as pygeoprocessing's
routing, counter-clockwise from east, rows grow southward)::

    3 2 1        code: 0    1    2    3    4    5    6    7
    4 x 0        drow: 0   -1   -1   -1    0   +1   +1   +1
    5 6 7        dcol: +1  +1    0   -1   -1   -1    0   +1
                       E   NE    N   NW    W   SW    S   SE

Odd codes are diagonal (distance sqrt(2) cell sizes). D8 extra codes: ``-1`` = invalid pixel,
``8`` = sink (no outflow; only possible on a DEM that was not depression-filled).

All kernels run in O(n) or O(n log n) memory-bounded loops; topological traversals use explicit
queues, never recursion.
"""

from __future__ import annotations

import numpy as np
from numba import njit

DROW = np.array([0, -1, -1, -1, 0, 1, 1, 1], dtype=np.int64)
DCOL = np.array([1, 1, 0, -1, -1, -1, 0, 1], dtype=np.int64)
SQRT2 = 1.4142135623730951
SQRT2_INV = 1.0 / SQRT2
D8_NODATA = -1
D8_SINK = 8

# plateau classification used by the flow-direction kernels
KIND_DOWNHILL = 0  # has a strictly lower valid neighbour (or is invalid)
KIND_FLAT = 1  # on a flat that has a downhill drain (or an edge outlet): routed by distance to the drain
KIND_OUTLET = 2  # on a flat with no downhill drain, touching the grid edge or an invalid pixel
KIND_SINK = 3  # on a flat with no drain at all (closed depression): no outflow


# --------------------------------------------------------------------------- binary heap
@njit(cache=True, inline="always")
def _heap_less(keys, seqs, i, j):
    return keys[i] < keys[j] or (keys[i] == keys[j] and seqs[i] < seqs[j])


@njit(cache=True)
def _heap_push(keys, seqs, items, size, key, seq, item):
    """Push (key, seq, item) on a min-heap stored in three arrays; returns the new size."""
    i = size
    keys[i] = key
    seqs[i] = seq
    items[i] = item
    while i > 0:
        parent = (i - 1) >> 1
        if _heap_less(keys, seqs, i, parent):
            keys[i], keys[parent] = keys[parent], keys[i]
            seqs[i], seqs[parent] = seqs[parent], seqs[i]
            items[i], items[parent] = items[parent], items[i]
            i = parent
        else:
            break
    return size + 1


@njit(cache=True)
def _heap_pop(keys, seqs, items, size):
    """Pop the smallest (key, seq) item of a heap of ``size`` > 0; returns (item, new size)."""
    top = items[0]
    size -= 1
    keys[0] = keys[size]
    seqs[0] = seqs[size]
    items[0] = items[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        child = left
        right = left + 1
        if right < size and _heap_less(keys, seqs, right, left):
            child = right
        if _heap_less(keys, seqs, child, i):
            keys[i], keys[child] = keys[child], keys[i]
            seqs[i], seqs[child] = seqs[child], seqs[i]
            items[i], items[child] = items[child], items[i]
            i = child
        else:
            break
    return top, size


# --------------------------------------------------------------------------- depression filling
@njit(cache=True)
def priority_flood_fill(dem, valid, epsilon):
    """Fill depressions by Priority-Flood (Barnes, Lehman & Mulla 2014, Computers & Geosciences 62:117,
    Algorithm 2 "Priority-Flood + pit queue"; with ``epsilon`` their Algorithm 3 "Priority-Flood+ε").

    Seeds are the valid pixels on the grid edge or next to an invalid pixel (they can drain out). Pixels
    are then visited from the lowest open pixel inward; a neighbour lower than (or, with epsilon, not
    above the next float after) the current water level is raised to it and queued in a FIFO pit queue.

    Args:
        dem: float64 (rows, cols) elevations (m); values at invalid pixels are ignored.
        valid: bool (rows, cols), True where ``dem`` holds data.
        epsilon: if True, raise filled pixels by one ulp per step (``np.nextafter``) so that filled
            depressions slope gently toward their outlet; if False, filled depressions are exactly flat.

    Returns:
        float64 (rows, cols) filled elevations (m), NaN at invalid pixels. Unfilled pixels keep their value.
    """
    rows, cols = dem.shape
    n = rows * cols
    filled = np.full((rows, cols), np.nan)
    closed = np.zeros((rows, cols), dtype=np.bool_)
    keys = np.empty(n, dtype=np.float64)
    seqs = np.empty(n, dtype=np.int64)
    items = np.empty(n, dtype=np.int64)
    pit = np.empty(n, dtype=np.int64)
    hsize = 0
    seq = 0
    for r in range(rows):
        for c in range(cols):
            if not valid[r, c]:
                continue
            edge = r == 0 or c == 0 or r == rows - 1 or c == cols - 1
            if not edge:
                for k in range(8):
                    if not valid[r + DROW[k], c + DCOL[k]]:
                        edge = True
                        break
            if edge:
                closed[r, c] = True
                filled[r, c] = dem[r, c]
                hsize = _heap_push(keys, seqs, items, hsize, dem[r, c], seq, r * cols + c)
                seq += 1
    phead = 0
    ptail = 0
    while hsize > 0 or phead < ptail:
        if phead < ptail:
            idx = pit[phead]
            phead += 1
            if phead == ptail:  # pit queue empty: rewind it
                phead = 0
                ptail = 0
        else:
            idx, hsize = _heap_pop(keys, seqs, items, hsize)
        r = idx // cols
        c = idx - r * cols
        level = filled[r, c]
        raised = np.nextafter(level, np.inf) if epsilon else level
        for k in range(8):
            rn = r + DROW[k]
            cn = c + DCOL[k]
            if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
                continue
            if closed[rn, cn] or not valid[rn, cn]:
                continue
            closed[rn, cn] = True
            z = dem[rn, cn]
            if z <= raised:
                filled[rn, cn] = raised
                pit[ptail] = rn * cols + cn
                ptail += 1
            else:
                filled[rn, cn] = z
                hsize = _heap_push(keys, seqs, items, hsize, z, seq, rn * cols + cn)
                seq += 1
    return filled


# --------------------------------------------------------------------------- slope (Horn 1981)
@njit(cache=True)
def horn_gradient(dem, valid, cell_size):
    """Surface gradient by Horn's (1981, Proc. IEEE 69(1):14) 3x3 weighted finite differences.

    At an interior pixel with the window ``a b c / d e f / g h i`` (north at the top)::

        dz/dx (east)  = ((c + 2f + i) - (a + 2d + g)) / (8 D)
        dz/dy (north) = ((a + 2b + c) - (g + 2h + i)) / (8 D)

    i.e. the 1-2-1 weighted mean of the three row (column) central differences. Where a row lacks a
    valid left or right neighbour, the one-sided difference with that row's centre pixel is used
    ((right - centre)/D or (centre - left)/D) and rows with no usable pair are left out of the weighted
    mean, so grid edges and nodata holes never turn a valid pixel into NaN. A valid pixel with no valid
    neighbour in a direction gets a zero gradient in it. (pygeoprocessing.calculate_slope uses the same
    one-sided rule at grid edges; it differs only where a row has nothing but a diagonal neighbour.)

    Args:
        dem: float64 (rows, cols) elevations (m).
        valid: bool (rows, cols).
        cell_size: pixel side D (m), square pixels.

    Returns:
        (dzdx, dzdy): float64 (rows, cols) dimensionless gradients toward east and north, NaN at invalid.
    """
    rows, cols = dem.shape
    dzdx = np.full((rows, cols), np.nan)
    dzdy = np.full((rows, cols), np.nan)
    for r in range(rows):
        for c in range(cols):
            if not valid[r, c]:
                continue
            # x derivative: rows r-1, r, r+1 with weights 1, 2, 1
            acc = 0.0
            wsum = 0.0
            for dr in range(-1, 2):
                rr = r + dr
                if rr < 0 or rr >= rows:
                    continue
                w = 2.0 if dr == 0 else 1.0
                lv = c > 0 and valid[rr, c - 1]
                rv = c < cols - 1 and valid[rr, c + 1]
                cv = valid[rr, c]
                if lv and rv:
                    acc += w * (dem[rr, c + 1] - dem[rr, c - 1]) / (2.0 * cell_size)
                    wsum += w
                elif cv and rv:
                    acc += w * (dem[rr, c + 1] - dem[rr, c]) / cell_size
                    wsum += w
                elif cv and lv:
                    acc += w * (dem[rr, c] - dem[rr, c - 1]) / cell_size
                    wsum += w
            dzdx[r, c] = acc / wsum if wsum > 0.0 else 0.0
            # y derivative (north positive = toward row r-1): columns c-1, c, c+1 with weights 1, 2, 1
            acc = 0.0
            wsum = 0.0
            for dc in range(-1, 2):
                cc = c + dc
                if cc < 0 or cc >= cols:
                    continue
                w = 2.0 if dc == 0 else 1.0
                nv = r > 0 and valid[r - 1, cc]
                sv = r < rows - 1 and valid[r + 1, cc]
                cv = valid[r, cc]
                if nv and sv:
                    acc += w * (dem[r - 1, cc] - dem[r + 1, cc]) / (2.0 * cell_size)
                    wsum += w
                elif cv and nv:
                    acc += w * (dem[r - 1, cc] - dem[r, cc]) / cell_size
                    wsum += w
                elif cv and sv:
                    acc += w * (dem[r, cc] - dem[r + 1, cc]) / cell_size
                    wsum += w
            dzdy[r, c] = acc / wsum if wsum > 0.0 else 0.0
    return dzdx, dzdy


# --------------------------------------------------------------------------- flats / plateaus
@njit(cache=True)
def plateau_distances(dem, valid):
    """Classify pixels for flow routing and measure distances across flats.

    A *plateau* is an 8-connected set of valid pixels of exactly equal elevation that contains at least
    one pixel with no strictly lower valid neighbour. Its *drains* are its pixels that do have a lower
    valid neighbour; if it has none, its pixels touching the grid edge or an invalid pixel are its
    outlets (used only then, as in pygeoprocessing.routing.flow_dir_d8/mfd). Distances from the drains
    (outlets) are geodesic within the plateau, in cell sizes (1 per cardinal, sqrt(2) per diagonal
    step), found by a label-correcting FIFO search.

    Args:
        dem: float64 (rows, cols) elevations (m), normally depression-filled.
        valid: bool (rows, cols).

    Returns:
        (kind, dist): int8 kind per pixel (KIND_DOWNHILL, KIND_FLAT, KIND_OUTLET, KIND_SINK; invalid
        pixels are KIND_DOWNHILL) and float64 distance to the drain (0 at drains/outlets, inf off flats).
    """
    rows, cols = dem.shape
    n = rows * cols
    kind = np.zeros((rows, cols), dtype=np.int8)
    dist = np.full((rows, cols), np.inf)
    has_down = np.zeros((rows, cols), dtype=np.bool_)
    for r in range(rows):
        for c in range(cols):
            if not valid[r, c]:
                continue
            z = dem[r, c]
            for k in range(8):
                rn = r + DROW[k]
                cn = c + DCOL[k]
                if rn < 0 or rn >= rows or cn < 0 or cn >= cols or not valid[rn, cn]:
                    continue
                if dem[rn, cn] < z:
                    has_down[r, c] = True
                    break
    seen = np.zeros((rows, cols), dtype=np.bool_)
    region = np.empty(n, dtype=np.int64)
    queue = np.empty(n + 1, dtype=np.int64)
    inq = np.zeros((rows, cols), dtype=np.bool_)
    for r0 in range(rows):
        for c0 in range(cols):
            if not valid[r0, c0] or has_down[r0, c0] or seen[r0, c0]:
                continue
            z = dem[r0, c0]
            # collect the equal-height component by breadth-first search
            nreg = 1
            region[0] = r0 * cols + c0
            seen[r0, c0] = True
            head = 0
            while head < nreg:
                idx = region[head]
                head += 1
                r = idx // cols
                c = idx - r * cols
                for k in range(8):
                    rn = r + DROW[k]
                    cn = c + DCOL[k]
                    if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
                        continue
                    if valid[rn, cn] and not seen[rn, cn] and dem[rn, cn] == z:
                        seen[rn, cn] = True
                        region[nreg] = rn * cols + cn
                        nreg += 1
            # drains: downhill pixels of the component; else edge/nodata outlets
            qsize = 0
            for j in range(nreg):
                idx = region[j]
                r = idx // cols
                c = idx - r * cols
                if has_down[r, c]:
                    dist[r, c] = 0.0
                    queue[qsize] = idx
                    qsize += 1
            if qsize == 0:
                for j in range(nreg):
                    idx = region[j]
                    r = idx // cols
                    c = idx - r * cols
                    touches = False
                    for k in range(8):
                        rn = r + DROW[k]
                        cn = c + DCOL[k]
                        if rn < 0 or rn >= rows or cn < 0 or cn >= cols or not valid[rn, cn]:
                            touches = True
                            break
                    if touches:
                        dist[r, c] = 0.0
                        kind[r, c] = KIND_OUTLET
                        queue[qsize] = idx
                        qsize += 1
            if qsize == 0:
                for j in range(nreg):
                    idx = region[j]
                    r = idx // cols
                    kind[r, idx - r * cols] = KIND_SINK
                continue
            for j in range(nreg):
                idx = region[j]
                r = idx // cols
                c = idx - r * cols
                if not has_down[r, c] and kind[r, c] != KIND_OUTLET:
                    kind[r, c] = KIND_FLAT
            # label-correcting shortest distances inside the component (circular FIFO of capacity n+1)
            cap = n + 1
            for j in range(qsize):
                idx = queue[j]
                r = idx // cols
                inq[r, idx - r * cols] = True
            qhead = 0
            qtail = qsize
            while qhead != qtail:
                idx = queue[qhead]
                qhead = (qhead + 1) % cap
                r = idx // cols
                c = idx - r * cols
                inq[r, c] = False
                d0 = dist[r, c]
                for k in range(8):
                    rn = r + DROW[k]
                    cn = c + DCOL[k]
                    if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
                        continue
                    if not valid[rn, cn] or dem[rn, cn] != z:
                        continue
                    nd = d0 + (SQRT2 if k & 1 else 1.0)
                    if nd < dist[rn, cn]:
                        dist[rn, cn] = nd
                        if not inq[rn, cn]:
                            inq[rn, cn] = True
                            queue[qtail] = rn * cols + cn
                            qtail = (qtail + 1) % cap
    return kind, dist


# --------------------------------------------------------------------------- flow directions
@njit(cache=True)
def d8_directions(dem, valid, kind, dist):
    """Single flow direction (O'Callaghan & Mark 1984) with flats resolved by distance to the drain.

    * Pixel with a lower valid neighbour: the neighbour of steepest descent, drop / distance with
      distance 1 (cardinal) or sqrt(2) (diagonal); ties go to the lowest code (pygeoprocessing rule).
    * KIND_FLAT: the neighbour on the same flat minimising (its distance to the drain + step length),
      i.e. one step along a shortest path to the drain.
    * KIND_OUTLET: off the grid or into nodata, the first such cardinal neighbour, else the first
      diagonal one.
    * KIND_SINK: code 8. Invalid pixels: -1.

    Args:
        dem: float64 (rows, cols); valid: bool (rows, cols); kind, dist: from :func:`plateau_distances`.

    Returns:
        int8 (rows, cols) codes, see the module docstring.
    """
    rows, cols = dem.shape
    out = np.full((rows, cols), D8_NODATA, dtype=np.int8)
    for r in range(rows):
        for c in range(cols):
            if not valid[r, c]:
                continue
            z = dem[r, c]
            kd = kind[r, c]
            best = -1
            if kd == KIND_DOWNHILL:
                best_slope = 0.0
                for k in range(8):
                    rn = r + DROW[k]
                    cn = c + DCOL[k]
                    if rn < 0 or rn >= rows or cn < 0 or cn >= cols or not valid[rn, cn]:
                        continue
                    s = z - dem[rn, cn]
                    if k & 1:
                        s *= SQRT2_INV
                    if s > best_slope:
                        best_slope = s
                        best = k
            elif kd == KIND_FLAT:
                best_d = np.inf
                for k in range(8):
                    rn = r + DROW[k]
                    cn = c + DCOL[k]
                    if rn < 0 or rn >= rows or cn < 0 or cn >= cols or not valid[rn, cn]:
                        continue
                    if dem[rn, cn] != z:
                        continue
                    d = dist[rn, cn] + (SQRT2 if k & 1 else 1.0)
                    if d < best_d:
                        best_d = d
                        best = k
            elif kd == KIND_OUTLET:
                for k in (0, 2, 4, 6, 1, 3, 5, 7):
                    rn = r + DROW[k]
                    cn = c + DCOL[k]
                    if rn < 0 or rn >= rows or cn < 0 or cn >= cols or not valid[rn, cn]:
                        best = k
                        break
            out[r, c] = best if best >= 0 else D8_SINK
    return out


@njit(cache=True)
def mfd_proportions(dem, valid, kind, dist, quantize):
    """Multiple flow direction proportions as in pygeoprocessing.routing.flow_dir_mfd (used by InVEST).

    * Pixel with lower valid neighbours: flow to each lower neighbour k in proportion to its downhill
      slope, w_k = (z - z_k) / L_k with L_k = 1 (cardinal) or sqrt(2) (diagonal) cell sizes, i.e. the
      Freeman (1991) / Quinn et al. (1991) slope-weighted MFD with exponent 1 and no contour-length
      factor; p_k = w_k / sum(w).
    * KIND_FLAT: flow to each neighbour on the same flat that is nearer the drain, w_k = 1 / L_k.
    * KIND_OUTLET: flow off the grid / into nodata, w_k = 1 / L_k over those neighbours.
    * KIND_SINK and invalid pixels: all proportions 0.

    Proportions toward neighbours off the grid or invalid are kept: they are the share leaving the area.

    Args:
        dem: float64 (rows, cols); valid: bool; kind, dist: from :func:`plateau_distances`.
        quantize: if True, round each proportion to the 4-bit integer InVEST/pygeoprocessing stores,
            q_k = floor(0.5 + 15 p_k), and renormalise p_k = q_k / sum(q) as their accumulation does.

    Returns:
        float32 (8, rows, cols) proportions; each valid non-sink pixel's eight values sum to 1.
    """
    rows, cols = dem.shape
    out = np.zeros((8, rows, cols), dtype=np.float32)
    w = np.zeros(8, dtype=np.float64)
    for r in range(rows):
        for c in range(cols):
            if not valid[r, c]:
                continue
            z = dem[r, c]
            kd = kind[r, c]
            total = 0.0
            for k in range(8):
                w[k] = 0.0
                rn = r + DROW[k]
                cn = c + DCOL[k]
                inside = 0 <= rn < rows and 0 <= cn < cols and valid[rn, cn]
                inv_len = SQRT2_INV if k & 1 else 1.0
                if kd == KIND_DOWNHILL:
                    if inside and dem[rn, cn] < z:
                        w[k] = (z - dem[rn, cn]) * inv_len
                elif kd == KIND_FLAT:
                    if inside and dem[rn, cn] == z and dist[rn, cn] < dist[r, c]:
                        w[k] = inv_len
                elif kd == KIND_OUTLET and not inside:
                    w[k] = inv_len
                total += w[k]
            if total <= 0.0:
                continue
            if quantize:
                qtotal = 0.0
                for k in range(8):
                    w[k] = np.floor(0.5 + w[k] / total * 15.0)
                    qtotal += w[k]
                total = qtotal
            for k in range(8):
                out[k, r, c] = w[k] / total
    return out


# --------------------------------------------------------------------------- flow accumulation
@njit(cache=True)
def accumulate_d8(codes, valid, weight):
    """D8 flow accumulation in topological order (Kahn's algorithm: in-degrees, FIFO queue).

    acc(i) = weight(i) + sum of acc(j) over the pixels j whose code points to i. Flow pointing off the
    grid, into an invalid pixel, or from a sink (code 8) leaves the network.

    Args:
        codes: int8 (rows, cols) D8 codes; valid: bool (rows, cols); weight: float64 (rows, cols).

    Returns:
        (acc, n_done): float64 accumulation (NaN at invalid) and the number of valid pixels processed;
        fewer than the valid count means the directions contain a cycle (those pixels stay NaN).
    """
    rows, cols = codes.shape
    n = rows * cols
    indeg = np.zeros((rows, cols), dtype=np.int32)
    acc = np.full((rows, cols), np.nan)
    for r in range(rows):
        for c in range(cols):
            if not valid[r, c]:
                continue
            k = codes[r, c]
            if k < 0 or k > 7:
                continue
            rn = r + DROW[k]
            cn = c + DCOL[k]
            if 0 <= rn < rows and 0 <= cn < cols and valid[rn, cn]:
                indeg[rn, cn] += 1
    queue = np.empty(n, dtype=np.int64)
    tail = 0
    for r in range(rows):
        for c in range(cols):
            if valid[r, c]:
                acc[r, c] = weight[r, c]
                if indeg[r, c] == 0:
                    queue[tail] = r * cols + c
                    tail += 1
    head = 0
    while head < tail:
        idx = queue[head]
        head += 1
        r = idx // cols
        c = idx - r * cols
        k = codes[r, c]
        if k < 0 or k > 7:
            continue
        rn = r + DROW[k]
        cn = c + DCOL[k]
        if 0 <= rn < rows and 0 <= cn < cols and valid[rn, cn]:
            acc[rn, cn] += acc[r, c]
            indeg[rn, cn] -= 1
            if indeg[rn, cn] == 0:
                queue[tail] = rn * cols + cn
                tail += 1
    if head < n:  # pixels left in a cycle: mark unresolved
        for r in range(rows):
            for c in range(cols):
                if valid[r, c] and indeg[r, c] > 0:
                    acc[r, c] = np.nan
    return acc, head


@njit(cache=True)
def accumulate_mfd(props, valid, weight):
    """MFD flow accumulation in topological order (Kahn's algorithm: in-degrees, FIFO queue).

    acc(i) = weight(i) + sum over neighbours j of p_j->i * acc(j), with p the (8, rows, cols)
    proportions (used as given, not renormalised). Shares toward off-grid or invalid pixels leave.

    Args:
        props: float32 (8, rows, cols); valid: bool (rows, cols); weight: float64 (rows, cols).

    Returns:
        (acc, n_done) as for :func:`accumulate_d8`.
    """
    rows, cols = valid.shape
    n = rows * cols
    indeg = np.zeros((rows, cols), dtype=np.int32)
    acc = np.full((rows, cols), np.nan)
    for r in range(rows):
        for c in range(cols):
            if not valid[r, c]:
                continue
            for k in range(8):
                if props[k, r, c] <= 0.0:
                    continue
                rn = r + DROW[k]
                cn = c + DCOL[k]
                if 0 <= rn < rows and 0 <= cn < cols and valid[rn, cn]:
                    indeg[rn, cn] += 1
    queue = np.empty(n, dtype=np.int64)
    tail = 0
    for r in range(rows):
        for c in range(cols):
            if valid[r, c]:
                acc[r, c] = weight[r, c]
                if indeg[r, c] == 0:
                    queue[tail] = r * cols + c
                    tail += 1
    head = 0
    while head < tail:
        idx = queue[head]
        head += 1
        r = idx // cols
        c = idx - r * cols
        a = acc[r, c]
        for k in range(8):
            p = props[k, r, c]
            if p <= 0.0:
                continue
            rn = r + DROW[k]
            cn = c + DCOL[k]
            if 0 <= rn < rows and 0 <= cn < cols and valid[rn, cn]:
                acc[rn, cn] += p * a
                indeg[rn, cn] -= 1
                if indeg[rn, cn] == 0:
                    queue[tail] = rn * cols + cn
                    tail += 1
    if head < n:
        for r in range(rows):
            for c in range(cols):
                if valid[r, c] and indeg[r, c] > 0:
                    acc[r, c] = np.nan
    return acc, head


# --------------------------------------------------------------------------- RUSLE LS
@njit(cache=True, inline="always")
def _m_exponent(pct):
    """RUSLE slope-length exponent m from percent slope (InVEST SDR ``_calculate_ls_factor`` table,
    after Oliveira et al. 2013): 0.2 (<=1 %), 0.3 (<=3.5 %), 0.4 (<=5 %), 0.5 (<=9 %), else
    beta/(1+beta) with beta = (sin θ / 0.0896) / (3 sin(θ)^0.8 + 0.56) (McCool et al. 1989)."""
    if pct <= 1.0:
        return 0.2
    if pct <= 3.5:
        return 0.3
    if pct <= 5.0:
        return 0.4
    if pct <= 9.0:
        return 0.5
    s = np.sin(np.arctan(pct / 100.0))
    beta = (s / 0.0896) / (3.0 * s**0.8 + 0.56)
    return beta / (1.0 + beta)


@njit(cache=True, inline="always")
def _s_factor(pct):
    """RUSLE slope steepness factor S (McCool et al. 1987, Trans. ASAE 30(5):1387):
    10.8 sin θ + 0.03 for slope < 9 %, 16.8 sin θ - 0.50 otherwise (θ = atan(pct/100))."""
    s = np.sin(np.arctan(pct / 100.0))
    if pct < 9.0:
        return 10.8 * s + 0.03
    return 16.8 * s - 0.5


@njit(cache=True)
def m_exponent_array(pct, valid):
    """Elementwise :func:`_m_exponent` (NaN at invalid). pct: float64 percent slope."""
    out = np.full(pct.shape, np.nan)
    for i in range(pct.size):
        if valid.flat[i]:
            out.flat[i] = _m_exponent(pct.flat[i])
    return out


@njit(cache=True)
def s_factor_array(pct, valid):
    """Elementwise :func:`_s_factor` (NaN at invalid). pct: float64 percent slope."""
    out = np.full(pct.shape, np.nan)
    for i in range(pct.size):
        if valid.flat[i]:
            out.flat[i] = _s_factor(pct.flat[i])
    return out


@njit(cache=True)
def ls_kernel(pct, acc, xfac, valid, cell_size, l_max, sqrt_area):
    """RUSLE LS per pixel, Desmet & Govers (1996, J. Soil Water Conserv. 51(5):427) eq. 3 for L::

        L = ((A + D^2)^(m+1) - A^(m+1)) / (D^(m+2) * x^m * 22.13^m),   L <= l_max
        LS = L * S

    with D the cell size (m), m from :func:`_m_exponent`, S from :func:`_s_factor`, and the upstream
    contributing area from the accumulated pixel count F (which includes the pixel itself):
    A = sqrt((F - 1) D^2) when ``sqrt_area`` (InVEST >= 3.14 SDR, ADR-0001, SAGA's "square root of
    catchment area"), else A = (F - 1) D^2 (m^2, Desmet & Govers' A_in).

    Args:
        pct: float64 percent slope; acc: float64 flow accumulation (pixels, incl. itself);
        xfac: float64 shape factor x (>= 1); valid: bool; cell_size: D (m); l_max: cap on L;
        sqrt_area: bool, see above. All arrays (rows, cols).

    Returns:
        float64 (rows, cols) dimensionless LS, NaN at invalid pixels or where acc is NaN.
    """
    out = np.full(pct.shape, np.nan)
    cell_area = cell_size * cell_size
    for i in range(pct.size):
        if not valid.flat[i]:
            continue
        f = acc.flat[i]
        if not np.isfinite(f):
            continue
        p = pct.flat[i]
        m = _m_exponent(p)
        up = f - 1.0
        if up < 0.0:
            up = 0.0
        a = np.sqrt(up * cell_area) if sqrt_area else up * cell_area
        x = xfac.flat[i]
        num = (a + cell_area) ** (m + 1.0) - a ** (m + 1.0)
        den = cell_size ** (m + 2.0) * x**m * 22.13**m
        lf = num / den
        if lf > l_max:
            lf = l_max
        out.flat[i] = lf * _s_factor(p)
    return out
