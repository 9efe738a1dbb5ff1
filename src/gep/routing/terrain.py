"""Terrain and flow-routing API: depression filling, slope, D8/MFD flow direction, flow accumulation and
the RUSLE LS factor, on in-memory 2-D numpy arrays.

Conventions (all functions):

* Arrays are 2-D ``(rows, cols)``, north-up (row 0 is the northern edge), square pixels of side
  ``cell_size`` metres.
* Nodata: NaN in a float DEM, and/or an explicit boolean ``valid`` mask (True = data). A pixel is valid
  when the mask says so *and* its value is finite. Integer DEMs need ``valid`` for their nodata value.
* Outputs carry NaN (floats), -1 (D8 codes) or 0 (packed MFD directions) at invalid pixels. Flow leaving
  the grid or entering an invalid pixel leaves the network: the grid edge and nodata holes are outlets.
* Direction numbering, counter-clockwise from east (pygeoprocessing's order): see :data:`D8_OFFSETS`.
* D8 directions are int8 codes; MFD directions are pygeoprocessing's packed int32 (eight 4-bit weights
  q_k = (fd >> 4k) & 0xF, share q_k / sum q; 4 bytes a pixel), decoded by :func:`mfd_proportions`.

This module converts dtypes, builds the valid mask, checks arguments and dispatches to the numba kernels
shared with InVEST SDR/NDR (:mod:`gep.routing.packed`, :mod:`gep.routing.rusle`), so that fill, slope,
flow directions (pygeoprocessing's MFD weights and D8 flat tie-breaking) and LS are InVEST 3.20's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from gep.routing import packed as _pk
from gep.routing import rusle as _rusle

D8_OFFSETS: dict[int, tuple[int, int]] = {
    0: (0, 1),  # E
    1: (-1, 1),  # NE
    2: (-1, 0),  # N
    3: (-1, -1),  # NW
    4: (0, -1),  # W
    5: (1, -1),  # SW
    6: (1, 0),  # S
    7: (1, 1),  # SE
}
"""D8 code -> (drow, dcol). Rows grow southward. Also k in the packed MFD weights and in
:func:`mfd_proportions`."""
D8_NODATA = -1
"""D8 code of an invalid pixel."""
D8_SINK = 8
"""D8 code of a pixel with no outflow; only occurs on a DEM that was not depression-filled."""

DEFAULT_L_MAX = 122.0
"""InVEST SDR's default cap on the slope-length factor L (``l_max``, dimensionless)."""

RoutingMethod = Literal["mfd", "d8"]
LsVariant = Literal["invest", "desmet_govers"]


# --------------------------------------------------------------------------- input handling
def _as_dem(dem: np.ndarray, valid: np.ndarray | None, name: str = "dem") -> tuple[np.ndarray, np.ndarray]:
    """float64 C-contiguous copy-or-view of ``dem`` and the combined valid mask."""
    arr = np.asarray(dem)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (rows, cols), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must hold numbers, got dtype {arr.dtype}")
    z = np.ascontiguousarray(arr, dtype=np.float64)
    ok = np.isfinite(z)
    if valid is not None:
        mask = np.asarray(valid)
        if mask.shape != z.shape:
            raise ValueError(f"valid mask has shape {mask.shape}, expected {z.shape} like {name}")
        ok &= mask.astype(bool)
    return z, np.ascontiguousarray(ok)


def _float_array(values: np.ndarray) -> np.ndarray:
    """C-contiguous float32 (kept) or float64 (anything else) array of ``values``."""
    arr = np.asarray(values)
    return np.ascontiguousarray(arr, dtype=np.float32 if arr.dtype == np.float32 else np.float64)


def _check_cell_size(cell_size: float) -> float:
    size = float(cell_size)
    if not np.isfinite(size) or size <= 0:
        raise ValueError(f"cell_size must be a positive number of metres, got {cell_size!r}")
    return size


# --------------------------------------------------------------------------- filling
def fill_depressions(dem: np.ndarray, valid: np.ndarray | None = None, *, epsilon: bool = False) -> np.ndarray:
    """Fill every depression that does not drain to the grid edge or to a nodata pixel.

    Priority-Flood (Barnes, Lehman & Mulla 2014, Computers & Geosciences 62:117-127), seeded from the
    valid pixels on the grid edge or next to nodata; each depression is raised to its spill (pour point)
    elevation. pygeoprocessing.routing.fill_pits without a size limit (:func:`gep.routing.packed.fill_pits`).

    Args:
        dem: elevations (m), 2-D; NaN = nodata.
        valid: optional boolean mask, True = data.
        epsilon: False (default) leaves filled depressions exactly flat (the flow-direction functions
            route across flats); True tilts them by one float64 ulp per pixel toward the outlet
            (Priority-Flood+ε, their Algorithm 3).

    Returns:
        float64 filled elevations (m), NaN at invalid pixels.
    """
    z, ok = _as_dem(dem, valid)
    filled = _pk.fill_pits(z, ok, bool(epsilon))
    filled[~ok] = np.nan
    return filled


# --------------------------------------------------------------------------- slope
def gradient(dem: np.ndarray, cell_size: float, valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Horn (1981) 3x3 gradient (dz/dx toward east, dz/dy toward north; dimensionless m/m) with
    pygeoprocessing.calculate_slope's rules at grid edges and next to nodata: a stencil row (column)
    missing one end uses the difference with its middle pixel (one cell apart) at half weight, or with
    the centre pixel times sqrt 2 when only a corner is left; missing rows drop out. NaN at invalid pixels.
    """
    z, ok = _as_dem(dem, valid)
    return _pk.horn_gradient(z, ok, _check_cell_size(cell_size))


def slope(dem: np.ndarray, cell_size: float, valid: np.ndarray | None = None) -> np.ndarray:
    """Slope angle θ = atan(sqrt((dz/dx)^2 + (dz/dy)^2)) in radians, Horn's (1981) 3x3 method.

    Edge pixels and pixels next to nodata use the available neighbours (see :func:`gradient`), so no
    NaN bleeds from nodata into valid pixels. NaN at invalid pixels.

    Args:
        dem: elevations (m); cell_size: pixel side (m); valid: optional mask.
    """
    dzdx, dzdy = gradient(dem, cell_size, valid)
    return np.arctan(np.hypot(dzdx, dzdy))


def slope_percent(dem: np.ndarray, cell_size: float, valid: np.ndarray | None = None) -> np.ndarray:
    """Slope in percent, 100 tan θ (as pygeoprocessing.calculate_slope / InVEST), float64. NaN at invalid."""
    dzdx, dzdy = gradient(dem, cell_size, valid)
    return 100.0 * np.hypot(dzdx, dzdy)


def radians_to_percent(theta: np.ndarray | float) -> np.ndarray:
    """Percent slope 100 tan θ from a slope angle θ in radians."""
    return 100.0 * np.tan(theta)


def percent_to_radians(pct: np.ndarray | float) -> np.ndarray:
    """Slope angle θ = atan(pct / 100) in radians from percent slope."""
    return np.arctan(np.asarray(pct, dtype=np.float64) / 100.0)


def aspect_shape_factor(dzdx: np.ndarray, dzdy: np.ndarray) -> np.ndarray:
    """Desmet & Govers (1996) x = |sin α| + |cos α| for aspect α, from the gradient:
    x = (|dz/dx| + |dz/dy|) / sqrt(dz/dx² + dz/dy²); 1 on flat pixels (gradient 0). Range [1, sqrt 2]."""
    norm = np.hypot(dzdx, dzdy)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = (np.abs(dzdx) + np.abs(dzdy)) / norm
    return np.where(norm > 0, x, np.where(np.isnan(norm), np.nan, 1.0))


# --------------------------------------------------------------------------- flow direction
def _d8_codes(fd: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """int8 D8 codes from packed single directions; valid pixels without outflow are sinks."""
    codes = _pk.packed_to_d8_codes(fd)
    codes[ok & (fd == 0)] = D8_SINK
    return codes


def flow_direction_d8(filled_dem: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """D8 flow direction as pygeoprocessing.routing.flow_dir_d8 (:func:`gep.routing.packed.flow_dir_d8`).

    Steepest descent uses drop / distance (distance 1 for cardinal, sqrt 2 for diagonal neighbours);
    ties go to the lowest code. Flats (equal-elevation pixels) drain through their pixels that have a lower
    neighbour, by a breadth-first search from those drains (each flat pixel points to the neighbour that
    first reached it along a shortest path, pygeoprocessing's tie-breaking); a flat with no lower edge
    drains off the grid or into nodata from its edge/nodata pixels (toward the first such cardinal
    neighbour in code order, else the first diagonal one). On a depression-filled DEM every valid pixel
    therefore drains to the grid edge or to nodata.

    Args:
        filled_dem: depression-filled elevations (m) (see :func:`fill_depressions`); NaN = nodata.
        valid: optional mask.

    Returns:
        int8 codes 0..7 (see :data:`D8_OFFSETS`; the target may lie off the grid or on nodata, which
        means the flow leaves), -1 at invalid pixels, 8 (:data:`D8_SINK`) for undrained pixels of a
        DEM that was not filled.
    """
    z, ok = _as_dem(filled_dem, valid, "filled_dem")
    return _d8_codes(_pk.flow_dir_d8(z, ok, _pk.BLOCK), ok)


def flow_direction_mfd(filled_dem: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Multiple flow direction as pygeoprocessing.routing.flow_dir_mfd (used by InVEST SDR/NDR), packed.

    Each pixel sends flow to every lower neighbour k in proportion to w_k = (z - z_k) / L_k, with
    L_k = 1 for cardinal and sqrt 2 for diagonal neighbours (the downhill slope in units of the cell
    size; Freeman 1991 / Quinn et al. 1991 slope-weighted MFD with exponent 1, no contour-length term).
    Pixels on flats send flow to the neighbours on the flat that are nearer its drain, w_k = 1 / L_k;
    flats with no lower edge send flow off the grid / into nodata from their edge pixels. The weights are
    stored as pygeoprocessing's 4-bit integers, q_k = floor(0.5 + 15 w_k / sum w), share q_k / sum q.

    Args:
        filled_dem: depression-filled elevations (m); NaN = nodata.
        valid: optional mask.

    Returns:
        int32 packed directions (rows, cols): q_k = (fd >> 4k) & 0xF toward neighbour k
        (:data:`D8_OFFSETS`); shares toward off-grid or nodata neighbours are the outflow leaving the area.
        0 at invalid pixels and sinks (only on a DEM that was not filled). See :func:`mfd_proportions`.
    """
    z, ok = _as_dem(filled_dem, valid, "filled_dem")
    return _pk.flow_dir_mfd(z, ok)


def mfd_proportions(directions: np.ndarray) -> np.ndarray:
    """Shares of flow q_k / sum q toward the eight neighbours, from packed directions.

    Returns:
        float32 (8, rows, cols): ``p[k, r, c]`` is the share of pixel (r, c)'s flow sent toward neighbour k
        (:data:`D8_OFFSETS`); each pixel with outflow sums to 1, the others are all 0.
    """
    fd = _packed(directions)
    q = np.stack([(fd >> (4 * k)) & 0xF for k in range(8)]).astype(np.float32)
    total = q.sum(axis=0)
    np.divide(q, total, out=q, where=total > 0)
    return q


def _packed(directions: np.ndarray) -> np.ndarray:
    fd = np.asarray(directions)
    if fd.ndim != 2 or fd.dtype != np.int32:
        raise ValueError(f"packed directions must be a 2-D int32 array, got {fd.dtype} of shape {fd.shape}")
    return np.ascontiguousarray(fd)


# --------------------------------------------------------------------------- accumulation
def _accumulate(fd: np.ndarray, ok: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """acc = own weight + inflow over packed ``fd`` (0 outside ``ok``); valid pixels without outflow
    (sinks) receive flow and pass none on. Raises ValueError on cycles."""
    acc = np.where(ok, 1.0 if weights is None else weights, np.nan)
    _pk.order_and_propagate(fd, acc)
    return acc


def flow_accumulation(
    directions: np.ndarray, weights: np.ndarray | None = None, valid: np.ndarray | None = None
) -> np.ndarray:
    """Flow accumulation over D8 codes or packed (MFD or D8) directions, in topological order.

    acc(i) = w(i) + sum over upstream neighbours j of p(j -> i) * acc(j), where p is 1 for the D8 target
    (0 otherwise) or the MFD share. With ``weights=None`` (w = 1) it is the number of pixels draining
    through each pixel *including itself* (InVEST's flow_accumulation_d8/mfd convention).

    Args:
        directions: int8 (rows, cols) D8 codes from :func:`flow_direction_d8`, or int32 packed directions
            from :func:`flow_direction_mfd`.
        weights: optional float (rows, cols) per-pixel contribution (any unit; the result has the
            same unit); must be finite on valid pixels.
        valid: optional mask, True = data. Default: D8 codes != -1; packed directions != 0. Pixels of the
            mask without outflow (D8 code 8, or packed 0: sinks, only on unfilled DEMs) receive flow and
            pass none on; flow into a pixel outside the mask leaves.

    Returns:
        float64 (rows, cols) accumulation, NaN at invalid pixels.

    Raises:
        ValueError: bad shapes or dtypes, non-finite weights on valid pixels, or directions that form a cycle.
    """
    d = np.asarray(directions)
    if d.ndim == 2 and d.dtype == np.int8:
        ok = d != D8_NODATA
        fd = _pk.d8_codes_to_packed(d)
    elif d.ndim == 2 and d.dtype == np.int32:
        ok = d != 0
        fd = np.ascontiguousarray(d)
    else:
        raise ValueError(
            "directions must be int8 D8 codes (flow_direction_d8) or int32 packed directions "
            f"(flow_direction_mfd), got {d.dtype} of shape {d.shape}"
        )
    if valid is not None:
        mask = np.asarray(valid, dtype=bool)
        if mask.shape != d.shape:
            raise ValueError(f"valid mask has shape {mask.shape}, expected {d.shape}")
        ok = mask
        fd = np.where(ok, fd, np.int32(0))
    w = None
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != d.shape:
            raise ValueError(f"weights have shape {w.shape}, expected {d.shape}")
        bad = int(np.count_nonzero(ok & ~np.isfinite(w)))
        if bad:
            raise ValueError(f"weights are not finite on {bad} valid pixels")
    return _accumulate(fd, ok, w)


# --------------------------------------------------------------------------- routing bundle
@dataclass(frozen=True)
class Routing:
    """Results of routing one DEM, to be shared by the models that need them (SDR, NDR, LS...).

    Attributes:
        filled: depression-filled DEM (m), NaN at nodata.
        valid: boolean mask of valid pixels.
        method: "mfd" or "d8".
        directions: int8 D8 codes (rows, cols) or int32 packed MFD directions (rows, cols).
        accumulation: float64 number of pixels draining through each pixel, including itself.
    """

    filled: np.ndarray
    valid: np.ndarray
    method: RoutingMethod
    directions: np.ndarray
    accumulation: np.ndarray


def route(
    dem: np.ndarray, valid: np.ndarray | None = None, method: RoutingMethod = "mfd", *, fill: bool = True
) -> Routing:
    """Fill (optional), flow direction and unweighted flow accumulation of a DEM in one call.

    Args:
        dem: elevations (m), NaN = nodata; valid: optional mask.
        method: "mfd" (InVEST SDR/NDR default) or "d8".
        fill: run :func:`fill_depressions` first (as InVEST does); pass False for an already filled DEM.
    """
    if method not in ("mfd", "d8"):
        raise ValueError(f"method must be 'mfd' or 'd8', got {method!r}")
    z, ok = _as_dem(dem, valid)
    filled = _pk.fill_pits(z, ok) if fill else z.copy()
    filled[~ok] = np.nan
    fd = _pk.flow_dir_d8(filled, ok, _pk.BLOCK) if method == "d8" else _pk.flow_dir_mfd(filled, ok)
    acc = _accumulate(fd, ok, None)
    directions = _d8_codes(fd, ok) if method == "d8" else fd
    return Routing(filled=filled, valid=ok, method=method, directions=directions, accumulation=acc)


# --------------------------------------------------------------------------- RUSLE LS
def _m_and_s(slope_pct: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(slope_pct, dtype=np.float64)
    m, s = _rusle.m_and_s(np.ascontiguousarray(p.ravel()))
    return m.reshape(p.shape), s.reshape(p.shape)


def m_exponent(slope_pct: np.ndarray | float) -> np.ndarray:
    """RUSLE slope-length exponent m from percent slope, as InVEST SDR (``_calculate_ls_factor``, table
    after Oliveira et al. 2013): 0.2 for slope <= 1 %, 0.3 for <= 3.5 %, 0.4 for <= 5 %, 0.5 for
    <= 9 %, and above 9 % m = β/(1+β) with β = (sin θ / 0.0896) / (3 (sin θ)^0.8 + 0.56)
    (McCool et al. 1989, Trans. ASAE 32(5):1571). NaN stays NaN."""
    return _m_and_s(slope_pct)[0]


def s_factor(slope_pct: np.ndarray | float) -> np.ndarray:
    """RUSLE slope steepness factor S from percent slope (McCool et al. 1987, Trans. ASAE 30(5):1387;
    used by InVEST SDR): S = 10.8 sin θ + 0.03 for slope < 9 %, S = 16.8 sin θ - 0.50 for slope >= 9 %,
    θ = atan(slope_pct / 100). Dimensionless; NaN stays NaN."""
    return _m_and_s(slope_pct)[1]


def ls_from_slope_and_accumulation(
    slope_pct: np.ndarray,
    flow_accumulation: np.ndarray,
    cell_size: float,
    *,
    l_max: float = DEFAULT_L_MAX,
    variant: LsVariant = "invest",
    aspect_factor: np.ndarray | None = None,
) -> np.ndarray:
    """RUSLE LS from percent slope and flow accumulation (pixels, including the pixel itself).

    Desmet & Govers (1996, J. Soil Water Conserv. 51(5):427-433) eq. 3 for the slope-length factor of a
    grid cell, capped at ``l_max``, times McCool et al. (1987) S::

        L = ((A + D²)^(m+1) - A^(m+1)) / (D^(m+2) · x^m · 22.13^m),   L = min(L, l_max)
        LS = L · S

    D = cell size (m), m = :func:`m_exponent`, S = :func:`s_factor`, 22.13 m = the USLE unit plot length
    (kernel: :func:`gep.routing.rusle.ls_into`, shared with InVEST SDR).

    Variants (they agree where the upstream area is 0, i.e. flow accumulation 1):

    * ``"invest"`` (default) reproduces natcap.invest >= 3.14 ``sdr._calculate_ls_factor`` exactly:
      A = sqrt((F - 1) · D²) (ADR-0001: "square root of catchment area", as SAGA) and
      x = |sin θ| + |cos θ| of the *slope angle* θ = atan(pct/100) (what InVEST's code computes).
    * ``"desmet_govers"``: A = (F - 1) · D² (m², the paper's A_in) and x = |sin α| + |cos α| of the
      aspect α, taken from ``aspect_factor`` (see :func:`aspect_shape_factor`; required).

    Args:
        slope_pct: percent slope (rows, cols), NaN = nodata.
        flow_accumulation: upstream pixel count including itself (rows, cols), NaN = nodata.
        cell_size: D (m).
        l_max: cap on L (InVEST default 122).
        variant: see above.
        aspect_factor: x per pixel for the "desmet_govers" variant.

    Returns:
        float64 dimensionless LS, NaN where any input is nodata.
    """
    size = _check_cell_size(cell_size)
    pct = _float_array(slope_pct)
    acc = _float_array(flow_accumulation)
    if pct.ndim != 2 or pct.shape != acc.shape:
        raise ValueError(f"slope has shape {pct.shape} but flow accumulation has {acc.shape} (2-D, equal)")
    if not l_max > 0:
        raise ValueError(f"l_max must be positive, got {l_max!r}")
    if variant == "invest":
        xfac = _rusle.NO_ASPECT
    elif variant == "desmet_govers":
        if aspect_factor is None:
            raise ValueError("variant 'desmet_govers' needs aspect_factor (see aspect_shape_factor)")
        xfac = np.ascontiguousarray(aspect_factor, dtype=np.float64)
        if xfac.shape != pct.shape:
            raise ValueError(f"aspect_factor has shape {xfac.shape}, expected {pct.shape}")
    else:
        raise ValueError(f"variant must be 'invest' or 'desmet_govers', got {variant!r}")
    out = np.empty(pct.shape, dtype=np.float64)
    _rusle.ls_into(out, pct, acc, xfac, size, float(l_max), variant == "invest")
    return out


def ls_factor(
    dem: np.ndarray,
    cell_size: float,
    method: RoutingMethod = "mfd",
    *,
    l_max: float = DEFAULT_L_MAX,
    valid: np.ndarray | None = None,
    variant: LsVariant = "invest",
    fill: bool = True,
    routing: Routing | None = None,
) -> np.ndarray:
    """Dimensionless RUSLE LS factor of a DEM, as InVEST SDR computes it.

    Pipeline (as InVEST SDR): fill depressions; percent slope by Horn's method on the filled DEM (float32,
    as InVEST's slope raster); flow direction (MFD or D8) and flow accumulation F on the filled DEM; then
    :func:`ls_from_slope_and_accumulation` (Desmet & Govers 1996 L capped at ``l_max``, McCool et al.
    1987 S, InVEST's m table). Every step uses the kernels of :mod:`gep.invest.sdr`, so with
    ``variant="invest"`` the result is InVEST's ``ls.tif`` up to float32 rounding of L·S.

    Args:
        dem: elevations (m), 2-D, NaN = nodata.
        cell_size: pixel side (m), square pixels.
        method: "mfd" (InVEST default) or "d8".
        l_max: cap on L, default 122 (InVEST's default).
        valid: optional mask, True = data.
        variant: "invest" (default) or "desmet_govers", see :func:`ls_from_slope_and_accumulation`.
        fill: fill depressions first (default True, as InVEST).
        routing: a :class:`Routing` already computed for this DEM (reused instead of routing again).

    Returns:
        float64 LS (rows, cols), NaN at nodata.
    """
    size = _check_cell_size(cell_size)
    if routing is None:
        routing = route(dem, valid, method, fill=fill)
    elif routing.accumulation.shape != np.shape(dem):
        raise ValueError(f"routing is for shape {routing.accumulation.shape}, dem has {np.shape(dem)}")
    # InVEST's slope raster is float32; its m and S tables switch at exactly 1, 3.5, 5 and 9 %
    pct = _pk.slope_percent(routing.filled, routing.valid, size)
    aspect = None
    if variant == "desmet_govers":
        aspect = aspect_shape_factor(*_pk.horn_gradient(routing.filled, routing.valid, size))
    return ls_from_slope_and_accumulation(
        pct, routing.accumulation, size, l_max=l_max, variant=variant, aspect_factor=aspect
    )
