"""Flow routing on packed flow directions, compatible with pygeoprocessing 2.4 (used by InVEST 3.20).

This module holds the one implementation of each routing job in :mod:`gep.routing`: InVEST SDR/NDR
(:mod:`gep.invest`) call it directly, and the array API of :mod:`gep.routing.terrain` (used by the account
engine for the LS factor) is a thin layer over it.

Flow directions are one ``int32`` per pixel, as pygeoprocessing's ``flow_dir_mfd`` writes them: eight 4-bit
weights ``q_k = (fd >> 4k) & 0xF`` toward the neighbours k = 0..7; the share of flow toward k is
``q_k / sum(q)``. ``0`` means no outflow (nodata, or a sink of a DEM that was not depression-filled). D8
directions are stored the same way with a single weight (code k -> ``1 << 4k``), so every kernel below
serves both MFD and D8. Neighbour numbering (pygeoprocessing's order, counter-clockwise from east, rows grow
southward; odd codes are diagonal, sqrt 2 cell sizes away)::

    3 2 1        code: 0    1    2    3    4    5    6    7
    4 x 0        drow: 0   -1   -1   -1    0   +1   +1   +1
    5 6 7        dcol: +1  +1    0   -1   -1   -1    0   +1
                       E   NE    N   NW    W   SW    S   SE

InVEST-compatible results need pygeoprocessing's exact slope stencil, its 4-bit MFD weights, its D8 flat
tie-breaking and its stream tracing, and Lishui-size rasters (~20 Mpx) need kernels whose working memory is
a few bytes per pixel (one int32 direction grid, one topological order reused by every accumulation and
every downstream-to-upstream recursion, growable heaps and queues).

Algorithms (all written from their published descriptions and pygeoprocessing's documented behaviour):

* :func:`fill_pits` - Priority-Flood with a pit queue (Barnes, Lehman & Mulla 2014, Computers &
  Geosciences 62:117, Algorithm 2, optionally their Algorithm 3 "+epsilon"): depressions are raised flat to
  their spill elevation; pixels on the grid edge or next to nodata drain.
* :func:`slope_percent` / :func:`horn_gradient` - Horn (1981) 3x3 stencil with pygeoprocessing's fallbacks
  at edges and nodata.
* :func:`flow_dir_mfd` - slope-weighted multiple flow direction (Quinn et al. 1991 with exponent 1),
  weights quantised to 4 bits; flats drain along shortest paths to their lower edge, or to nodata/the
  grid edge when they have none.
* :func:`flow_dir_d8` - steepest descent with pygeoprocessing's flat resolution and tie-breaking.
* :func:`topological_order` - Kahn's algorithm, upstream pixels first.
* :func:`accumulate` / :func:`propagate` - weighted flow accumulation along that order.
* :func:`extract_streams_mfd` / :func:`extract_streams_d8` - threshold streams, MFD with upstream
  tracing from outlets (pygeoprocessing ``extract_streams_mfd``).

The RUSLE LS factor is in :mod:`gep.routing.rusle`; the flow-path recursions of SDR and NDR in
:mod:`gep.routing.distance` and :mod:`gep.routing.recursions`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

DROW = np.array([0, -1, -1, -1, 0, 1, 1, 1], dtype=np.int64)
DCOL = np.array([1, 1, 0, -1, -1, -1, 0, 1], dtype=np.int64)
SQRT2 = 1.4142135623730951
SQRT2_INV = 1.0 / SQRT2
MARK = -(1 << 24)
"""Temporary direction value of flat pixels being routed: MARK + index in the flat (top byte 0xFF)."""
MAX_FLAT = (1 << 24) - 1
SINK = MARK - 1
"""Temporary direction value of flat pixels with no way out (top byte 0xFE, which needs weights summing to at
least 29: free), so that the scan does not route their flat again; 0 in the result."""
BLOCK = 256
"""pygeoprocessing's tile size; its stream tracing visits pixels tile by tile."""


# --------------------------------------------------------------------------- growable buffers
@njit(cache=True, nogil=True)
def grow(arr, size):
    """Double the 1-D ``arr`` when ``size`` reached its length (contents kept); returns the (possibly new)
    array. Call before writing item ``size``."""
    if size < arr.shape[0]:
        return arr
    out = np.empty(max(16, 2 * arr.shape[0]), dtype=arr.dtype)
    out[: arr.shape[0]] = arr
    return out


@njit(cache=True, nogil=True)
def _ensure(arr, size):
    """The 1-D ``arr`` with room for at least ``size`` items, contents kept."""
    if size <= arr.shape[0]:
        return arr
    out = np.empty(max(size, 2 * arr.shape[0]), dtype=arr.dtype)
    out[: arr.shape[0]] = arr
    return out


@njit(cache=True, nogil=True)
def _ring_grow(q, head):
    """Double a full ring buffer ``q`` whose oldest item is at ``head``; the items start at 0 afterwards."""
    cap = q.shape[0]
    out = np.empty(2 * cap, dtype=np.int64)
    out[: cap - head] = q[head:]
    out[cap - head : cap] = q[:head]
    return out


# --------------------------------------------------------------------------- min-heap (key, item)
# A 4-ary heap stored as (key, item) pairs in one float64 array (item as float64: exact below 2**53):
# a node's four children share a cache line and the tree is half as deep as a binary heap's, which
# matters once the heap outgrows the caches (2.4 million entries while filling the 30 m demo DEM).
@njit(cache=True, nogil=True, inline="always")
def _hpush(heap, size, key, item):
    """Push (key, item) on a min-heap of ``size`` entries; the caller guarantees room for one more
    (``heap`` holds ``heap.shape[0] // 2`` entries)."""
    i = size
    fitem = np.float64(item)
    while i > 0:
        parent = (i - 1) >> 2
        pk = heap[2 * parent]
        if pk < key or (pk == key and heap[2 * parent + 1] < fitem):
            break
        heap[2 * i] = pk
        heap[2 * i + 1] = heap[2 * parent + 1]
        i = parent
    heap[2 * i] = key
    heap[2 * i + 1] = fitem


@njit(cache=True, nogil=True, inline="always")
def _hpop(heap, size):
    """Pop the smallest (key, item); returns (item, new size). Ties: smaller item first."""
    top = np.int64(heap[1])
    size -= 1
    key = heap[2 * size]
    item = heap[2 * size + 1]
    i = 0
    while True:
        first = 4 * i + 1
        if first >= size:
            break
        best = first
        best_key = heap[2 * first]
        best_item = heap[2 * first + 1]
        for child in range(first + 1, min(first + 4, size)):
            child_key = heap[2 * child]
            child_item = heap[2 * child + 1]
            if child_key < best_key or (child_key == best_key and child_item < best_item):
                best = child
                best_key = child_key
                best_item = child_item
        if best_key < key or (best_key == key and best_item < item):
            heap[2 * i] = best_key
            heap[2 * i + 1] = best_item
            i = best
        else:
            break
    if size > 0:
        heap[2 * i] = key
        heap[2 * i + 1] = item
    return top, size


# --------------------------------------------------------------------------- filling
@njit(cache=True, nogil=True)
def fill_pits(dem, valid, epsilon=False):
    """Fill depressions to their spill elevation.

    Priority-Flood with a pit queue (Barnes, Lehman & Mulla 2014, Computers & Geosciences 62:117,
    Algorithm 2) with slope tracing in the spirit of Zhou, Sun & Fu (2016, Computers & Geosciences 90:87):
    a neighbour higher than the pixel it is reached from drains through it, so its filled value is its own
    elevation; it is closed at once and its own higher neighbours are traced breadth-first. Only pixels left
    with an unvisited neighbour that is not higher go on the priority queue. Seeds are the valid pixels on
    the grid edge or next to an invalid pixel. Without ``epsilon`` the result is the unique lowest surface
    >= ``dem`` on which every pixel has a non-ascending path out, as pygeoprocessing's ``fill_pits``.

    Args:
        dem: 2-D float32 or float64 elevations (m); values at invalid pixels are ignored.
        valid: 2-D bool, True where ``dem`` holds data.
        epsilon: False (default, as pygeoprocessing) fills depressions exactly flat; True raises each
            filled pixel one float64 ulp above the pixel it is reached from (Priority-Flood+epsilon, their
            Algorithm 3), so every pixel has a strictly descending path out. Needs a float64 ``dem``.

    Returns:
        filled elevations, same dtype as ``dem``; invalid pixels keep their input value.
    """
    rows, cols = dem.shape
    # a padded copy (one ring of nodata around the grid) indexed by flat position: neighbours are fixed
    # offsets and need no bounds checks; the copy becomes the filled surface (a pixel's value changes
    # only once it is closed, and an open pixel still holds its own elevation)
    width = cols + 2
    z, state = _padded(dem, valid)
    offsets = np.array([1, 1 - width, -width, -1 - width, -1, width - 1, width, width + 1], dtype=np.int64)
    heap = np.empty(2 * max(64, 4 * (rows + cols)), dtype=np.float64)
    hsize = 0
    pit = np.empty(1024, dtype=np.int64)
    psize = 0
    trace = np.empty(1024, dtype=np.int64)
    for r in range(1, rows + 1):
        for i in range(r * width + 1, r * width + cols + 1):
            if state[i] != _OPEN:
                continue
            edge = False
            for k in range(8):
                if state[i + offsets[k]] == _NODATA:
                    edge = True
                    break
            if edge:
                state[i] = _CLOSED
                if 2 * hsize == heap.shape[0]:
                    heap = grow(heap, 2 * hsize)
                _hpush(heap, hsize, z[i], i)
                hsize += 1
    while hsize > 0 or psize > 0:
        if psize > 0:
            psize -= 1
            i = pit[psize]
        else:
            i, hsize = _hpop(heap, hsize)
        level = z[i]
        raised = np.nextafter(level, np.inf) if epsilon else level
        for k in range(8):
            n = i + offsets[k]
            if state[n] != _OPEN:
                continue
            state[n] = _CLOSED
            if z[n] <= raised:
                z[n] = raised
                if psize == pit.shape[0]:
                    pit = grow(pit, psize)
                pit[psize] = n
                psize += 1
                continue
            # trace the slope upward from n, breadth-first: higher neighbours keep their elevation
            tsize = 1
            thead = 0
            trace[0] = n
            while thead < tsize:
                t = trace[thead]
                thead += 1
                zt = z[t]
                lower_open = False
                for kk in range(8):
                    m = t + offsets[kk]
                    if state[m] != _OPEN:
                        continue
                    if z[m] > zt:
                        state[m] = _CLOSED
                        if tsize == trace.shape[0]:
                            if thead > 0:  # compact the FIFO
                                trace[: tsize - thead] = trace[thead:tsize]
                                tsize -= thead
                                thead = 0
                            else:
                                trace = grow(trace, tsize)
                        trace[tsize] = m
                        tsize += 1
                    else:
                        lower_open = True
                if lower_open:
                    if 2 * hsize == heap.shape[0]:
                        heap = grow(heap, 2 * hsize)
                    _hpush(heap, hsize, zt, t)
                    hsize += 1
    filled = dem.copy()
    for r in range(rows):
        base = (r + 1) * width + 1
        for c in range(cols):
            if valid[r, c]:
                filled[r, c] = z[base + c]
    return filled


_OPEN, _CLOSED, _NODATA = 0, 1, 2
"""States of a pixel of :func:`fill_pits`'s padded grid."""


@njit(cache=True, nogil=True)
def _padded(dem, valid):
    """``dem`` as float64 with one ring of nodata around it, flat, and the pixels' states (open where
    valid, nodata elsewhere and on the ring)."""
    rows, cols = dem.shape
    width = cols + 2
    z = np.empty((rows + 2) * width, dtype=np.float64)
    state = np.full((rows + 2) * width, _NODATA, dtype=np.uint8)
    z[:width] = 0.0
    z[(rows + 1) * width :] = 0.0
    for r in range(rows):
        base = (r + 1) * width
        z[base] = 0.0
        z[base + width - 1] = 0.0
        for c in range(cols):
            valid_here = valid[r, c]
            z[base + 1 + c] = np.float64(dem[r, c]) if valid_here else 0.0
            if valid_here:
                state[base + 1 + c] = _OPEN
    return z, state


# --------------------------------------------------------------------------- slope
@njit(cache=True, nogil=True, inline="always")
def _pair(v0, ok0, v1, ok1, v2, ok2, vc, weight):
    """One of Horn's three weighted differences along a line of neighbours (v0 - v2 direction), with
    pygeoprocessing's fallbacks. Returns (difference, denominator weight)."""
    if ok0 and ok2:
        return weight * (v0 - v2), 2 * weight
    if weight == 2:  # centre line: fall back to the centre pixel
        if ok0:
            return 2.0 * (v0 - vc), 2
        if ok2:
            return 2.0 * (vc - v2), 2
        return 0.0, 0
    if ok0 and ok1:
        return v0 - v1, 1
    if ok1 and ok2:
        return v1 - v2, 1
    if ok0:
        return (v0 - vc) * SQRT2, 1
    if ok2:
        return (vc - v2) * SQRT2, 1
    return 0.0, 0


@njit(cache=True, nogil=True, inline="always")
def _horn(dem, valid, r, c, v, ok, cell_size):
    """Horn's (1981) gradient at valid pixel (r, c) with pygeoprocessing's ``calculate_slope`` fallbacks:
    where a row (column) of the 3x3 stencil lacks one end, the difference with its middle pixel is used
    (one cell apart), or with the centre pixel times sqrt(2) when only a corner is left; missing rows drop
    out of the weights. ``v`` (float64) and ``ok`` (bool) are 9-element scratch arrays.

    Returns:
        (dz/dx toward east, dz/dy toward north), dimensionless (m/m).
    """
    rows, cols = dem.shape
    # a b c / d e f / g h i  -> indices 0..8
    for dr in range(3):
        for dc in range(3):
            rr = r + dr - 1
            cc = c + dc - 1
            j = dr * 3 + dc
            if 0 <= rr < rows and 0 <= cc < cols and valid[rr, cc]:
                ok[j] = True
                v[j] = dem[rr, cc]
            else:
                ok[j] = False
                v[j] = 0.0
    e = v[4]
    x1, n1 = _pair(v[0], ok[0], v[1], ok[1], v[2], ok[2], e, 1)
    x2, n2 = _pair(v[3], ok[3], e, True, v[5], ok[5], e, 2)
    x3, n3 = _pair(v[6], ok[6], v[7], ok[7], v[8], ok[8], e, 1)
    y1, m1 = _pair(v[0], ok[0], v[3], ok[3], v[6], ok[6], e, 1)
    y2, m2 = _pair(v[1], ok[1], e, True, v[7], ok[7], e, 2)
    y3, m3 = _pair(v[2], ok[2], v[5], ok[5], v[8], ok[8], e, 1)
    nx = n1 + n2 + n3
    ny = m1 + m2 + m3
    dzdx_west = (x1 + x2 + x3) / (nx * cell_size) if nx > 0 else 0.0
    dzdy = (y1 + y2 + y3) / (ny * cell_size) if ny > 0 else 0.0
    return -dzdx_west, dzdy


@njit(cache=True, nogil=True, parallel=True)
def slope_percent(dem, valid, cell_size):
    """Percent slope 100·sqrt((dz/dx)² + (dz/dy)²) by Horn's (1981) 3x3 stencil, as pygeoprocessing's
    ``calculate_slope`` (see :func:`_horn`). Rows are processed in parallel.

    Args:
        dem: 2-D float elevations (m); valid: 2-D bool; cell_size: pixel side (m).

    Returns:
        float32 percent slope, NaN at invalid pixels.
    """
    rows, cols = dem.shape
    out = np.full((rows, cols), np.nan, dtype=np.float32)
    for r in prange(rows):
        v = np.zeros(9, dtype=np.float64)
        ok = np.zeros(9, dtype=np.bool_)
        for c in range(cols):
            if valid[r, c]:
                dzdx, dzdy = _horn(dem, valid, r, c, v, ok, cell_size)
                out[r, c] = 100.0 * np.sqrt(dzdx * dzdx + dzdy * dzdy)
    return out


@njit(cache=True, nogil=True, parallel=True)
def horn_gradient(dem, valid, cell_size):
    """Horn's (1981) gradient as in :func:`slope_percent`, both components in float64.

    Args:
        dem: 2-D float elevations (m); valid: 2-D bool; cell_size: pixel side (m).

    Returns:
        (dzdx, dzdy): float64 dimensionless gradients toward east and north, NaN at invalid pixels.
    """
    rows, cols = dem.shape
    dzdx = np.full((rows, cols), np.nan)
    dzdy = np.full((rows, cols), np.nan)
    for r in prange(rows):
        v = np.zeros(9, dtype=np.float64)
        ok = np.zeros(9, dtype=np.bool_)
        for c in range(cols):
            if valid[r, c]:
                gx, gy = _horn(dem, valid, r, c, v, ok, cell_size)
                dzdx[r, c] = gx
                dzdy[r, c] = gy
    return dzdx, dzdy


# --------------------------------------------------------------------------- flow direction
@njit(cache=True, nogil=True, inline="always")
def _pack(w, total):
    """Quantise weights to 4 bits as pygeoprocessing: q_k = int(0.5 + 15 w_k / total), packed."""
    out = 0
    for k in range(8):
        q = int(0.5 + w[k] / total * 15.0)
        out |= q << (4 * k)
    return out


@njit(cache=True, nogil=True)
def _clear_sinks(fd):
    """Replace the :data:`SINK` marks (only on DEMs that were not filled) by 0, in place; returns ``fd``."""
    rows, cols = fd.shape
    for r in range(rows):
        for c in range(cols):
            if fd[r, c] == SINK:
                fd[r, c] = 0
    return fd


@njit(cache=True, nogil=True)
def _flat_member(fd, r, c, k):
    """Index j of neighbour k of (r, c) in the flat being routed (marked ``MARK + j`` in ``fd``), or -1 when
    that neighbour is off the grid or not on the flat."""
    rows, cols = fd.shape
    rn = r + DROW[k]
    cn = c + DCOL[k]
    if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
        return -1
    m = fd[rn, cn]
    return m - MARK if MARK <= m < 0 else -1


@njit(cache=True, nogil=True)
def _flat_distances(fd, region, queue, nq, dist, code):
    """Geodesic distances inside a flat from its drains, as pygeoprocessing's flat routing.

    The flat's pixels are ``region[j]`` (flat index) and are marked ``MARK + j`` in ``fd``. Starting from the
    drains ``queue[:nq]`` (``dist`` 0; the others inf), a FIFO label-correcting search relaxes each
    neighbour on the flat with 1 per edge step and sqrt 2 per corner step, re-queueing it when shortened,
    and sets ``code[j]`` to the direction from j toward the neighbour that last shortened ``dist[j]``: the
    D8 tie-breaking of pygeoprocessing's ``flow_dir_d8``. Returns ``queue`` (grown if needed).
    """
    rows, cols = fd.shape
    head = 0
    while head < nq:
        j = queue[head]
        head += 1
        idx = region[j]
        r = idx // cols
        c = idx - r * cols
        d0 = dist[j]
        for k in range(8):
            jn = _flat_member(fd, r, c, k)
            if jn < 0:
                continue
            ndist = d0 + (SQRT2 if k & 1 else 1.0)
            if dist[jn] > ndist:
                code[jn] = (k + 4) % 8
                dist[jn] = ndist
                queue = grow(queue, nq)
                queue[nq] = jn
                nq += 1
    return queue


@njit(cache=True, nogil=True, inline="always")
def _mfd_weights(dem, valid, r, c, z, w, wn):
    """MFD weights of pixel (r, c) at elevation ``z``: ``w[k]`` = drop per distance toward each lower valid
    neighbour ((z - z_k) / 1 for edge neighbours, / sqrt 2 for corner ones), ``wn[k]`` = 1 or 1/sqrt 2 toward
    each neighbour off the grid or nodata (where a flat with no lower edge drains). Returns their sums."""
    rows, cols = dem.shape
    total = 0.0
    ntotal = 0.0
    for k in range(8):
        w[k] = 0.0
        wn[k] = 0.0
        rn = r + DROW[k]
        cn = c + DCOL[k]
        if rn < 0 or rn >= rows or cn < 0 or cn >= cols or not valid[rn, cn]:
            wn[k] = SQRT2_INV if k & 1 else 1.0
            ntotal += wn[k]
            continue
        drop = z - np.float64(dem[rn, cn])
        if drop > 0.0:
            if k & 1:
                drop *= SQRT2_INV
            w[k] = drop
            total += drop
    return total, ntotal


@njit(cache=True, nogil=True)
def flow_dir_mfd(dem, valid):
    """Multiple flow direction, packed as pygeoprocessing's ``flow_dir_mfd``.

    A pixel with lower valid neighbours sends flow to each in proportion to its drop per distance
    ((z - z_k) / 1 for edge neighbours, / sqrt 2 for corner ones). Pixels of a flat (8-connected pixels of
    equal height with at least one that has no lower neighbour) flow toward the flat's drains: its pixels
    that do have lower neighbours, or, when there are none, its pixels next to nodata or the grid edge (which
    then send their flow out of the grid with weights 1 and 1/sqrt 2). Interior flat pixels send flow to the
    flat neighbours that are nearer a drain (geodesic distance in cells), weighted 1 (edge) or 1/sqrt 2
    (corner).

    Args:
        dem: 2-D float, depression-filled; valid: 2-D bool.

    Returns:
        int32 packed directions (see module docstring), 0 at invalid pixels and at pixels with no way out
        (only on a DEM that was not filled).
    """
    rows, cols = dem.shape
    fd = np.zeros((rows, cols), dtype=np.int32)
    w = np.zeros(8, dtype=np.float64)
    wn = np.zeros(8, dtype=np.float64)
    region = np.empty(256, dtype=np.int64)
    dist = np.empty(256, dtype=np.float64)
    queue = np.empty(256, dtype=np.int64)
    code = np.empty(256, dtype=np.int64)  # scratch for _flat_distances (D8 tie-breaking, unused here)
    kindv = np.empty(256, dtype=np.int64)  # 0 interior, 1 drain; packed drain value kept in fdv
    fdv = np.empty(256, dtype=np.int64)
    for r0 in range(rows):
        for c0 in range(cols):
            if not valid[r0, c0] or fd[r0, c0] != 0:
                continue
            z = np.float64(dem[r0, c0])
            total, _ = _mfd_weights(dem, valid, r0, c0, z, w, wn)
            if total > 0.0:
                fd[r0, c0] = _pack(w, total)
                continue
            # flat: collect the equal-height component; mark members with MARK + local index (packed
            # weights sum to at most 19, so no direction has its top byte 0xFF: these values are free)
            n = 0
            region = grow(region, n)
            region[n] = r0 * cols + c0
            fd[r0, c0] = MARK
            n += 1
            head = 0
            while head < n:
                idx = region[head]
                head += 1
                r = idx // cols
                c = idx - r * cols
                for k in range(8):
                    rn = r + DROW[k]
                    cn = c + DCOL[k]
                    if rn < 0 or rn >= rows or cn < 0 or cn >= cols or not valid[rn, cn]:
                        continue
                    m = fd[rn, cn]
                    if np.float64(dem[rn, cn]) == z and not (MARK <= m < 0):
                        if n >= MAX_FLAT:
                            raise ValueError("a flat area has more than 16777215 pixels")
                        region = grow(region, n)
                        region[n] = rn * cols + cn
                        fd[rn, cn] = MARK + n
                        n += 1
            if dist.shape[0] < n:
                size = max(n, 2 * dist.shape[0])
                dist = np.empty(size, dtype=np.float64)
                code = np.empty(size, dtype=np.int64)
                kindv = np.empty(size, dtype=np.int64)
                fdv = np.empty(size, dtype=np.int64)
                queue = _ensure(queue, size)
            n_down = 0
            for j in range(n):
                idx = region[j]
                r = idx // cols
                c = idx - r * cols
                total, ntotal = _mfd_weights(dem, valid, r, c, z, w, wn)
                dist[j] = np.inf
                kindv[j] = 0
                if total > 0.0:
                    kindv[j] = 1
                    fdv[j] = _pack(w, total)
                    n_down += 1
                elif ntotal > 0.0:
                    kindv[j] = 2
                    fdv[j] = _pack(wn, ntotal)
            # drains: downhill pixels, else nodata/edge pixels
            qsize = 0
            for j in range(n):
                if (n_down > 0 and kindv[j] == 1) or (n_down == 0 and kindv[j] == 2):
                    dist[j] = 0.0
                    queue[qsize] = j
                    qsize += 1
                    kindv[j] = 3  # drain
            queue = _flat_distances(fd, region, queue, qsize, dist, code)
            # directions: drains keep theirs, the others flow to nearer flat neighbours
            for j in range(n):
                idx = region[j]
                r = idx // cols
                c = idx - r * cols
                if kindv[j] == 3:
                    continue
                total = 0.0
                for k in range(8):
                    w[k] = 0.0
                    jn = _flat_member(fd, r, c, k)
                    if jn >= 0 and dist[jn] < dist[j]:
                        w[k] = SQRT2_INV if k & 1 else 1.0
                        total += w[k]
                fdv[j] = _pack(w, total) if total > 0.0 else 0
            for j in range(n):
                idx = region[j]
                r = idx // cols
                fd[r, idx - r * cols] = fdv[j] if fdv[j] != 0 else SINK
    return _clear_sinks(fd)


@njit(cache=True, nogil=True)
def d8_codes_to_packed(codes):
    """D8 codes (0..7; anything else = no flow/nodata) -> packed directions (code k -> 1 << 4k)."""
    rows, cols = codes.shape
    out = np.zeros((rows, cols), dtype=np.int32)
    for r in range(rows):
        for c in range(cols):
            k = codes[r, c]
            if 0 <= k <= 7:
                out[r, c] = 1 << (4 * k)
    return out


@njit(cache=True, nogil=True)
def packed_to_d8_codes(fd):
    """Packed single directions (``1 << 4k``) -> int8 D8 codes k; -1 where ``fd`` is 0 (no outflow) or holds
    more than one direction."""
    rows, cols = fd.shape
    out = np.full((rows, cols), -1, dtype=np.int8)
    for r in range(rows):
        for c in range(cols):
            v = fd[r, c]
            for k in range(8):
                if v == 1 << (4 * k):
                    out[r, c] = k
                    break
    return out


@njit(cache=True, nogil=True)
def flow_dir_d8(dem, valid, block):
    """D8 flow direction, packed (code k -> ``1 << 4k``), following pygeoprocessing's ``flow_dir_d8``.

    A pixel with lower valid neighbours flows to the steepest one (drop / distance, distance sqrt 2 for
    corners; ties to the lowest code). A flat (8-connected equal-height pixels found breadth-first from the
    first pixel met, scanning ``block`` x ``block`` tiles row by row) drains through its pixels that have
    lower neighbours; if it has none, through its pixels next to nodata or the grid edge (toward the first
    such edge neighbour, else the first corner one). The other flat pixels get their direction from a
    breadth-first search out of the drains: each points to the neighbour that last shortened its distance
    to a drain (1 per edge step, sqrt 2 per corner step), which reproduces pygeoprocessing's tie-breaking.

    Args:
        dem: 2-D float, depression-filled; valid: 2-D bool; block: tile size of the scan (256 in InVEST).

    Returns:
        int32 packed directions, 0 at invalid pixels and at pixels with no way out (only on a DEM that was
        not filled).
    """
    rows, cols = dem.shape
    fd = np.zeros((rows, cols), dtype=np.int32)
    region = np.empty(256, dtype=np.int64)
    dist = np.empty(256, dtype=np.float64)
    code = np.empty(256, dtype=np.int64)
    ndq = np.empty(256, dtype=np.int64)
    ndcode = np.empty(256, dtype=np.int64)
    dq = np.empty(256, dtype=np.int64)
    for yb in range(0, rows, block):
        for xb in range(0, cols, block):
            for r0 in range(yb, min(yb + block, rows)):
                for c0 in range(xb, min(xb + block, cols)):
                    if not valid[r0, c0] or fd[r0, c0] != 0:
                        continue
                    z = np.float64(dem[r0, c0])
                    best = -1
                    best_slope = 0.0
                    for k in range(8):
                        rn = r0 + DROW[k]
                        cn = c0 + DCOL[k]
                        if rn < 0 or rn >= rows or cn < 0 or cn >= cols or not valid[rn, cn]:
                            continue
                        s = z - np.float64(dem[rn, cn])
                        if k & 1:
                            s *= SQRT2_INV
                        if s > best_slope:
                            best_slope = s
                            best = k
                    if best >= 0:
                        fd[r0, c0] = 1 << (4 * best)
                        continue
                    # flat: breadth-first over the equal-height component from this root
                    n = 1
                    region[0] = r0 * cols + c0
                    fd[r0, c0] = MARK
                    head = 0
                    nd = 0
                    nn = 0
                    while head < n:
                        j = head
                        idx = region[head]
                        head += 1
                        r = idx // cols
                        c = idx - r * cols
                        best = -1
                        best_slope = 0.0
                        diag_nodata = True
                        for k in range(8):
                            rn = r + DROW[k]
                            cn = c + DCOL[k]
                            if rn < 0 or rn >= rows or cn < 0 or cn >= cols or not valid[rn, cn]:
                                if diag_nodata and best_slope == 0.0:
                                    best = k
                                    diag_nodata = (k & 1) == 1
                                continue
                            s = z - np.float64(dem[rn, cn])
                            if s < 0.0:
                                continue
                            if s == 0.0:
                                m = fd[rn, cn]
                                if not (MARK <= m < 0):
                                    if n >= MAX_FLAT:
                                        raise ValueError("a flat area has more than 16777215 pixels")
                                    region = grow(region, n)
                                    region[n] = rn * cols + cn
                                    fd[rn, cn] = MARK + n
                                    n += 1
                                continue
                            if k & 1:
                                s *= SQRT2_INV
                            if s > best_slope:
                                best_slope = s
                                best = k
                        if best >= 0:
                            if best_slope > 0.0:
                                dq = grow(dq, nd)
                                dq[nd] = j
                                nd += 1
                                code = _ensure(code, j + 1)
                                code[j] = best
                            else:
                                ndq = grow(ndq, nn)
                                ndcode = grow(ndcode, nn)
                                ndq[nn] = j
                                ndcode[nn] = best
                                nn += 1
                    if dist.shape[0] < n:
                        dist = np.empty(max(n, 2 * dist.shape[0]), dtype=np.float64)
                    code = _ensure(code, n)
                    for j in range(n):
                        dist[j] = np.inf
                    if nd == 0:
                        for t in range(nn):
                            dq = grow(dq, nd)
                            dq[nd] = ndq[t]
                            nd += 1
                            code[ndq[t]] = ndcode[t]
                    for t in range(nd):
                        dist[dq[t]] = 0.0
                    for j in range(n):  # -1: no direction yet
                        if dist[j] != 0.0:
                            code[j] = -1
                    dq = _flat_distances(fd, region, dq, nd, dist, code)
                    for j in range(n):
                        idx = region[j]
                        r = idx // cols
                        fd[r, idx - r * cols] = (1 << (4 * code[j])) if code[j] >= 0 else SINK
    return _clear_sinks(fd)


# --------------------------------------------------------------------------- traversal order and accumulation
@njit(cache=True, nogil=True, inline="always")
def _visit(fd, r, c, acc, indeg, order, tail):
    """Process pixel (r, c) of a topological traversal, for each neighbour j it sends flow to inside the grid:
    unless ``acc`` is empty, acc(j) += acc(r, c)·q_j / sum(q) where acc(j) is defined (not NaN); unless
    ``indeg`` is empty (Kahn's algorithm), count the inflow as seen and, when it was j's last, append j to
    ``order`` at ``tail``. Returns the new tail."""
    rows, cols = fd.shape
    with_acc = acc.shape[0] > 0
    with_kahn = indeg.shape[0] > 0
    v = fd[r, c]
    qsum = 0
    a = 0.0
    if with_acc:
        for k in range(8):
            qsum += (v >> (4 * k)) & 0xF
        a = acc[r, c]
    for k in range(8):
        q = (v >> (4 * k)) & 0xF
        if q == 0:
            continue
        rn = r + DROW[k]
        cn = c + DCOL[k]
        if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
            continue
        if with_acc and acc[rn, cn] == acc[rn, cn]:
            acc[rn, cn] += a * q / qsum
        if with_kahn and fd[rn, cn] != 0:
            indeg[rn, cn] -= 1
            if indeg[rn, cn] == 0:
                order[tail] = rn * cols + cn
                tail += 1
    return tail


@njit(cache=True, nogil=True)
def _kahn(fd, order, acc):
    """Kahn's algorithm over the pixels with outflow (``fd != 0``): fills ``order`` upstream first and
    returns the number of pixels ordered (fewer than there are means a cycle). Unless ``acc`` is empty, each
    pixel's acc is passed down as it is ordered (:func:`_visit`), which makes it an accumulation."""
    rows, cols = fd.shape
    indeg = np.zeros((rows, cols), dtype=np.uint8)
    for r in range(rows):
        for c in range(cols):
            v = fd[r, c]
            if v == 0:
                continue
            for k in range(8):
                if (v >> (4 * k)) & 0xF:
                    rn = r + DROW[k]
                    cn = c + DCOL[k]
                    if 0 <= rn < rows and 0 <= cn < cols and fd[rn, cn] != 0:
                        indeg[rn, cn] += 1
    tail = 0
    for r in range(rows):
        for c in range(cols):
            if fd[r, c] != 0 and indeg[r, c] == 0:
                order[tail] = r * cols + c
                tail += 1
    head = 0
    while head < tail:
        idx = order[head]
        head += 1
        r = idx // cols
        tail = _visit(fd, r, idx - r * cols, acc, indeg, order, tail)
    return tail


_NO_ACC = np.empty((0, 0), dtype=np.float64)


def order_and_propagate(fd: np.ndarray, acc: np.ndarray) -> np.ndarray:
    """Topological order of the pixels with outflow (``fd != 0``; every pixel after all pixels that flow into
    it), passing ``acc`` down in the same pass as :func:`propagate` does (skipped if ``acc`` is empty).

    Raises:
        ValueError: the directions contain a cycle.
    """
    n_valid = int(np.count_nonzero(fd))
    order = np.empty(n_valid, dtype=np.int32 if fd.size < 2**31 - 1 else np.int64)
    done = _kahn(fd, order, acc)
    if done != n_valid:
        raise ValueError(f"flow directions form a cycle: {n_valid - done} pixels never drain")
    return order


def topological_order(fd: np.ndarray) -> np.ndarray:
    """Flat indices of the pixels with outflow (``fd != 0``), every pixel after all pixels that flow into it.

    Raises:
        ValueError: the directions contain a cycle.
    """
    return order_and_propagate(fd, _NO_ACC)


def order_and_accumulation(fd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`topological_order` and the unweighted flow accumulation (as :func:`accumulate_ones`) in one pass.

    Raises:
        ValueError: the directions contain a cycle.
    """
    acc = np.where(fd != 0, 1.0, np.nan)
    return order_and_propagate(fd, acc), acc


@njit(cache=True, nogil=True)
def propagate(fd, order, acc):
    """Pass flow down along ``order``, in place: acc(j) += acc(i)·q_ij / sum(q_i) for each pixel i in turn and
    every neighbour j inside the grid whose acc is not NaN. ``acc`` (float64) holds each pixel's own
    contribution on entry and NaN where flow leaves the network; a pixel not in ``order`` (no outflow) still
    receives. On exit acc(i) = own(i) + sum over upstream j of acc(j)·q_ji / sum(q_j)."""
    cols = fd.shape[1]
    no_kahn = np.zeros((0, 0), dtype=np.uint8)
    for t in range(order.shape[0]):
        idx = order[t]
        r = idx // cols
        _visit(fd, r, idx - r * cols, acc, no_kahn, order, 0)


@njit(cache=True, nogil=True)
def accumulate(fd, order, weight):
    """Flow accumulation acc(i) = w(i) + sum over upstream j of acc(j)·q_ji / sum(q_j).

    Args:
        fd: packed directions; order: from :func:`topological_order`; weight: 2-D float (NaN counts 0).

    Returns:
        float64 accumulation, NaN at invalid pixels (``fd == 0``).
    """
    rows, cols = fd.shape
    acc = np.full((rows, cols), np.nan)
    for r in range(rows):
        for c in range(cols):
            if fd[r, c] != 0:
                wv = np.float64(weight[r, c])
                acc[r, c] = wv if wv == wv else 0.0
    propagate(fd, order, acc)
    return acc


@njit(cache=True, nogil=True)
def accumulate_ones(fd, order):
    """Unweighted flow accumulation (pixels draining through each pixel, itself included)."""
    acc = np.where(fd != 0, 1.0, np.nan)
    propagate(fd, order, acc)
    return acc


# --------------------------------------------------------------------------- streams
@njit(cache=True, nogil=True)
def extract_streams_d8(acc, threshold):
    """D8 streams: 1 where flow accumulation > threshold, 0 elsewhere, 255 where acc is NaN."""
    rows, cols = acc.shape
    out = np.full((rows, cols), 255, dtype=np.uint8)
    for r in range(rows):
        for c in range(cols):
            a = acc[r, c]
            if a == a:
                out[r, c] = 1 if a > threshold else 0
    return out


@njit(cache=True, nogil=True, parallel=True)
def inflow_mask(fd):
    """uint8 per pixel: bit k set when neighbour k (inside the grid) sends flow into the pixel."""
    rows, cols = fd.shape
    out = np.zeros((rows, cols), dtype=np.uint8)
    for r in prange(rows):
        for c in range(cols):
            bits = 0
            for k in range(8):
                rn = r + DROW[k]
                cn = c + DCOL[k]
                if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
                    continue
                if (fd[rn, cn] >> (4 * ((k + 4) % 8))) & 0xF:
                    bits |= 1 << k
            out[r, c] = bits
    return out


@njit(cache=True, nogil=True)
def extract_streams_mfd(acc, fd, threshold, trace_proportion, block):
    """MFD streams as pygeoprocessing's ``extract_streams_mfd``.

    Pixels are visited tile by tile (``block`` x ``block``, row-major). A pixel with acc >= threshold that
    sends flow off the grid or into nodata is an outlet and a stream; from each outlet the stream is traced
    upstream (FIFO): an upstream pixel with acc >= threshold becomes stream (and turns the tentative
    pixels downstream of it into stream), one with acc >= ``trace_proportion`` x threshold is tentative.
    Tentative pixels not joined to a stream end as 0.

    Returns:
        uint8: 1 stream, 0 not, 255 where acc is NaN.
    """
    rows, cols = acc.shape
    stream = np.full((rows, cols), 255, dtype=np.uint8)
    trace = trace_proportion * threshold
    inflow = inflow_mask(fd)
    openq = np.empty(1024, dtype=np.int64)
    backq = np.empty(1024, dtype=np.int64)
    for yb in range(0, rows, block):
        for xb in range(0, cols, block):
            for r0 in range(yb, min(yb + block, rows)):
                for c0 in range(xb, min(xb + block, cols)):
                    a0 = acc[r0, c0]
                    if a0 != a0 or stream[r0, c0] != 255:
                        continue
                    stream[r0, c0] = 0
                    if a0 < threshold:
                        continue
                    v = fd[r0, c0]
                    outlet = False
                    for k in range(8):
                        if ((v >> (4 * k)) & 0xF) == 0:
                            continue
                        rn = r0 + DROW[k]
                        cn = c0 + DCOL[k]
                        if rn < 0 or rn >= rows or cn < 0 or cn >= cols or acc[rn, cn] != acc[rn, cn]:
                            outlet = True
                            break
                    if not outlet:
                        continue
                    stream[r0, c0] = 1
                    # FIFO as a ring buffer (ohead: oldest item, osize: items held)
                    ohead = 0
                    osize = 1
                    openq[0] = r0 * cols + c0
                    while osize > 0:
                        idx = openq[ohead]
                        ohead += 1
                        if ohead == openq.shape[0]:
                            ohead = 0
                        osize -= 1
                        r = idx // cols
                        c = idx - r * cols
                        ups = inflow[r, c]
                        for k in range(8):
                            if not (ups >> k) & 1:
                                continue
                            rs = r + DROW[k]
                            cs = c + DCOL[k]
                            sv = stream[rs, cs]
                            if sv == 1 or sv == 2:
                                continue
                            a = acc[rs, cs]
                            if a >= threshold:
                                stream[rs, cs] = 1
                                if osize == openq.shape[0]:
                                    openq = _ring_grow(openq, ohead)
                                    ohead = 0
                                openq[(ohead + osize) % openq.shape[0]] = rs * cols + cs
                                osize += 1
                                bhead = 0
                                btail = 1
                                backq[0] = rs * cols + cs
                                while bhead < btail:
                                    bidx = backq[bhead]
                                    bhead += 1
                                    br = bidx // cols
                                    bc = bidx - br * cols
                                    vb = fd[br, bc]
                                    for kb in range(8):
                                        if ((vb >> (4 * kb)) & 0xF) == 0:
                                            continue
                                        rn = br + DROW[kb]
                                        cn = bc + DCOL[kb]
                                        if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
                                            continue
                                        if stream[rn, cn] == 2:
                                            stream[rn, cn] = 1
                                            backq = grow(backq, btail)
                                            backq[btail] = rn * cols + cn
                                            btail += 1
                            elif a >= trace:
                                stream[rs, cs] = 2
                                if osize == openq.shape[0]:
                                    openq = _ring_grow(openq, ohead)
                                    ohead = 0
                                openq[(ohead + osize) % openq.shape[0]] = rs * cols + cs
                                osize += 1
    for r in range(rows):
        for c in range(cols):
            if stream[r, c] == 2:
                stream[r, c] = 0
    return stream
