"""Terrain and flow-routing API: depression filling, slope, D8/MFD flow direction, flow accumulation and
the RUSLE LS factor, on in-memory 2-D numpy arrays.

Conventions (all functions):

* Arrays are 2-D ``(rows, cols)``, north-up (row 0 is the northern edge), square pixels of side
  ``cell_size`` metres.
* Nodata: NaN in a float DEM, and/or an explicit boolean ``valid`` mask (True = data). A pixel is valid
  when the mask says so *and* its value is finite. Integer DEMs need ``valid`` for their nodata value.
* Outputs carry NaN (floats), -1 (D8 codes) or 0 (MFD proportions) at invalid pixels. Flow leaving the
  grid or entering an invalid pixel leaves the network: the grid edge and nodata holes are outlets.
* Direction numbering, counter-clockwise from east (pygeoprocessing's order): see
  :data:`D8_OFFSETS` and :mod:`gep.routing.kernels`.

The heavy lifting is in numba kernels (:mod:`gep.routing.kernels`); this module converts dtypes, builds
the valid mask, checks arguments and dispatches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from gep.routing import kernels as _k

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
"""D8 code -> (drow, dcol). Rows grow southward. Also the index of the first axis of MFD proportions."""
D8_NODATA = _k.D8_NODATA
"""D8 code of an invalid pixel (-1)."""
D8_SINK = _k.D8_SINK
"""D8 code of a pixel with no outflow (8); only occurs on a DEM that was not depression-filled."""

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
    elevation. Equivalent to pygeoprocessing.routing.fill_pits without a size limit.

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
    return _k.priority_flood_fill(z, ok, bool(epsilon))


# --------------------------------------------------------------------------- slope
def gradient(dem: np.ndarray, cell_size: float, valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Horn (1981) 3x3 gradient (dz/dx toward east, dz/dy toward north; dimensionless m/m), edge and
    nodata-adjacent pixels from the available neighbours (see :func:`gep.routing.kernels.horn_gradient`).
    NaN at invalid pixels."""
    z, ok = _as_dem(dem, valid)
    return _k.horn_gradient(z, ok, _check_cell_size(cell_size))


def slope(dem: np.ndarray, cell_size: float, valid: np.ndarray | None = None) -> np.ndarray:
    """Slope angle θ = atan(sqrt((dz/dx)^2 + (dz/dy)^2)) in radians, Horn's (1981) 3x3 method.

    Edge pixels and pixels next to nodata use the available neighbours (one-sided differences), so no
    NaN bleeds from nodata into valid pixels. NaN at invalid pixels.

    Args:
        dem: elevations (m); cell_size: pixel side (m); valid: optional mask.
    """
    dzdx, dzdy = gradient(dem, cell_size, valid)
    return np.arctan(np.hypot(dzdx, dzdy))


def slope_percent(dem: np.ndarray, cell_size: float, valid: np.ndarray | None = None) -> np.ndarray:
    """Slope in percent, 100 tan θ (as pygeoprocessing.calculate_slope / InVEST). NaN at invalid."""
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
def flow_direction_d8(filled_dem: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """D8 (steepest descent) flow direction with flats resolved toward their drain.

    Steepest descent uses drop / distance (distance 1 for cardinal, sqrt 2 for diagonal neighbours);
    ties go to the lowest code. Flats (equal-elevation pixels) flow along shortest paths to the flat's
    lower edge; flats with no lower edge drain off the grid or into nodata at their edge/nodata pixels.
    This follows pygeoprocessing.routing.flow_dir_d8. On a depression-filled DEM every valid pixel
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
    kind, dist = _k.plateau_distances(z, ok)
    return _k.d8_directions(z, ok, kind, dist)


def flow_direction_mfd(
    filled_dem: np.ndarray, valid: np.ndarray | None = None, *, quantize: bool = False
) -> np.ndarray:
    """Multiple flow direction proportions, InVEST/pygeoprocessing style (flow_dir_mfd).

    Each pixel sends flow to every lower neighbour k in proportion to w_k = (z - z_k) / L_k, with
    L_k = 1 for cardinal and sqrt 2 for diagonal neighbours (the downhill slope in units of the cell
    size; Freeman 1991 / Quinn et al. 1991 slope-weighted MFD with exponent 1, no contour-length term).
    Pixels on flats send flow to the neighbours on the flat that are nearer its drain, w_k = 1 / L_k;
    flats with no lower edge send flow off the grid / into nodata from their edge pixels.

    Args:
        filled_dem: depression-filled elevations (m); NaN = nodata.
        valid: optional mask.
        quantize: round proportions to InVEST's 4-bit integers (q = floor(0.5 + 15 p), p = q / sum q)
            to reproduce InVEST's accumulation exactly; default False keeps exact proportions.

    Returns:
        float32 array of shape (8, rows, cols): ``p[k, r, c]`` is the share of pixel (r, c)'s flow sent
        toward neighbour k (:data:`D8_OFFSETS`). Shares toward off-grid or nodata neighbours are the
        outflow leaving the area. Each valid non-sink pixel's shares sum to 1; invalid pixels and sinks
        are all 0.
    """
    z, ok = _as_dem(filled_dem, valid, "filled_dem")
    kind, dist = _k.plateau_distances(z, ok)
    return _k.mfd_proportions(z, ok, kind, dist, bool(quantize))


# --------------------------------------------------------------------------- accumulation
def flow_accumulation(
    directions: np.ndarray, weights: np.ndarray | None = None, valid: np.ndarray | None = None
) -> np.ndarray:
    """Flow accumulation over D8 codes or MFD proportions, in topological order (no recursion).

    acc(i) = w(i) + sum over upstream neighbours j of p(j -> i) * acc(j), where p is 1 for the D8 target
    (0 otherwise) or the MFD proportion. With ``weights=None`` (w = 1) it is the number of pixels
    draining through each pixel *including itself* (InVEST's flow_accumulation_d8/mfd convention).

    Args:
        directions: int (rows, cols) D8 codes from :func:`flow_direction_d8`, or float (8, rows, cols)
            MFD proportions from :func:`flow_direction_mfd`.
        weights: optional float (rows, cols) per-pixel contribution (any unit; the result has the
            same unit); must be finite on valid pixels.
        valid: optional mask, True = data. Default: D8 codes != -1; for MFD, pixels with any positive
            proportion. MFD sinks (all proportions 0,
            only on unfilled DEMs) are invalid by default; pass ``valid`` to include them.

    Returns:
        float64 (rows, cols) accumulation, NaN at invalid pixels.

    Raises:
        ValueError: bad shapes, non-finite weights on valid pixels, or directions that form a cycle.
    """
    d = np.asarray(directions)
    if d.ndim == 2:
        shape = d.shape
        if not np.issubdtype(d.dtype, np.integer):
            raise ValueError(f"D8 directions must be integer codes, got dtype {d.dtype}")
        ok = d != D8_NODATA
        codes = np.ascontiguousarray(d, dtype=np.int8)
    elif d.ndim == 3 and d.shape[0] == 8:
        shape = d.shape[1:]
        props = np.ascontiguousarray(d, dtype=np.float32)
        ok = (props > 0).any(axis=0)
    else:
        raise ValueError(
            f"directions must be D8 codes (rows, cols) or MFD proportions (8, rows, cols), got shape {d.shape}"
        )
    if valid is not None:
        mask = np.asarray(valid, dtype=bool)
        if mask.shape != shape:
            raise ValueError(f"valid mask has shape {mask.shape}, expected {shape}")
        ok = mask.copy()
    ok = np.ascontiguousarray(ok)
    if weights is None:
        w = np.ones(shape, dtype=np.float64)
    else:
        w = np.ascontiguousarray(weights, dtype=np.float64)
        if w.shape != shape:
            raise ValueError(f"weights have shape {w.shape}, expected {shape}")
        bad = int(np.count_nonzero(ok & ~np.isfinite(w)))
        if bad:
            raise ValueError(f"weights are not finite on {bad} valid pixels")
    if d.ndim == 2:
        acc, done = _k.accumulate_d8(codes, ok, w)
    else:
        acc, done = _k.accumulate_mfd(props, ok, w)
    n_valid = int(np.count_nonzero(ok))
    if done < n_valid:
        raise ValueError(f"flow directions form a cycle: {n_valid - done} pixels never drain")
    return acc


# --------------------------------------------------------------------------- routing bundle
@dataclass(frozen=True)
class Routing:
    """Results of routing one DEM, to be shared by the models that need them (SDR, NDR, LS...).

    Attributes:
        filled: depression-filled DEM (m), NaN at nodata.
        valid: boolean mask of valid pixels.
        method: "mfd" or "d8".
        directions: int8 D8 codes (rows, cols) or float32 MFD proportions (8, rows, cols).
        accumulation: float64 number of pixels draining through each pixel, including itself.
    """

    filled: np.ndarray
    valid: np.ndarray
    method: RoutingMethod
    directions: np.ndarray
    accumulation: np.ndarray


def route(
    dem: np.ndarray,
    valid: np.ndarray | None = None,
    method: RoutingMethod = "mfd",
    *,
    fill: bool = True,
    quantize_mfd: bool = False,
) -> Routing:
    """Fill (optional), flow direction and unweighted flow accumulation of a DEM in one call.

    Args:
        dem: elevations (m), NaN = nodata; valid: optional mask.
        method: "mfd" (InVEST SDR/NDR default) or "d8".
        fill: run :func:`fill_depressions` first (as InVEST does); pass False for an already filled DEM.
        quantize_mfd: see :func:`flow_direction_mfd`.
    """
    if method not in ("mfd", "d8"):
        raise ValueError(f"method must be 'mfd' or 'd8', got {method!r}")
    z, ok = _as_dem(dem, valid)
    filled = _k.priority_flood_fill(z, ok, False) if fill else np.where(ok, z, np.nan)
    kind, dist = _k.plateau_distances(filled, ok)
    if method == "d8":
        directions = _k.d8_directions(filled, ok, kind, dist)
        acc, done = _k.accumulate_d8(directions, ok, np.ones(z.shape))
    else:
        directions = _k.mfd_proportions(filled, ok, kind, dist, bool(quantize_mfd))
        acc, done = _k.accumulate_mfd(directions, ok, np.ones(z.shape))
    if done < int(np.count_nonzero(ok)):  # pragma: no cover - impossible with these directions
        raise RuntimeError("internal error: flow directions form a cycle")
    return Routing(filled=filled, valid=ok, method=method, directions=directions, accumulation=acc)


# --------------------------------------------------------------------------- RUSLE LS
def m_exponent(slope_pct: np.ndarray | float) -> np.ndarray:
    """RUSLE slope-length exponent m from percent slope, as InVEST SDR (``_calculate_ls_factor``, table
    after Oliveira et al. 2013): 0.2 for slope <= 1 %, 0.3 for <= 3.5 %, 0.4 for <= 5 %, 0.5 for
    <= 9 %, and above 9 % m = β/(1+β) with β = (sin θ / 0.0896) / (3 (sin θ)^0.8 + 0.56)
    (McCool et al. 1989, Trans. ASAE 32(5):1571). NaN stays NaN."""
    p = np.atleast_1d(np.asarray(slope_pct, dtype=np.float64))
    out = _k.m_exponent_array(np.ascontiguousarray(p), np.ascontiguousarray(np.isfinite(p)))
    return out.reshape(np.shape(slope_pct))


def s_factor(slope_pct: np.ndarray | float) -> np.ndarray:
    """RUSLE slope steepness factor S from percent slope (McCool et al. 1987, Trans. ASAE 30(5):1387;
    used by InVEST SDR): S = 10.8 sin θ + 0.03 for slope < 9 %, S = 16.8 sin θ - 0.50 for slope >= 9 %,
    θ = atan(slope_pct / 100). Dimensionless; NaN stays NaN."""
    p = np.atleast_1d(np.asarray(slope_pct, dtype=np.float64))
    out = _k.s_factor_array(np.ascontiguousarray(p), np.ascontiguousarray(np.isfinite(p)))
    return out.reshape(np.shape(slope_pct))


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

    D = cell size (m), m = :func:`m_exponent`, S = :func:`s_factor`, 22.13 m = the USLE unit plot length.

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
    pct = np.ascontiguousarray(slope_pct, dtype=np.float64)
    acc = np.ascontiguousarray(flow_accumulation, dtype=np.float64)
    if pct.shape != acc.shape:
        raise ValueError(f"slope has shape {pct.shape} but flow accumulation has {acc.shape}")
    if not l_max > 0:
        raise ValueError(f"l_max must be positive, got {l_max!r}")
    if variant == "invest":
        xfac = np.abs(np.sin(np.arctan(pct / 100.0))) + np.abs(np.cos(np.arctan(pct / 100.0)))
        sqrt_area = True
    elif variant == "desmet_govers":
        if aspect_factor is None:
            raise ValueError("variant 'desmet_govers' needs aspect_factor (see aspect_shape_factor)")
        xfac = np.ascontiguousarray(aspect_factor, dtype=np.float64)
        if xfac.shape != pct.shape:
            raise ValueError(f"aspect_factor has shape {xfac.shape}, expected {pct.shape}")
        sqrt_area = False
    else:
        raise ValueError(f"variant must be 'invest' or 'desmet_govers', got {variant!r}")
    ok = np.ascontiguousarray(np.isfinite(pct) & np.isfinite(acc) & np.isfinite(xfac))
    return _k.ls_kernel(pct, acc, np.ascontiguousarray(xfac), ok, size, float(l_max), sqrt_area)


def ls_factor(
    dem: np.ndarray,
    cell_size: float,
    method: RoutingMethod = "mfd",
    *,
    l_max: float = DEFAULT_L_MAX,
    valid: np.ndarray | None = None,
    variant: LsVariant = "invest",
    fill: bool = True,
    quantize_mfd: bool = False,
    routing: Routing | None = None,
) -> np.ndarray:
    """Dimensionless RUSLE LS factor of a DEM, following InVEST SDR.

    Pipeline (as InVEST SDR): fill depressions; percent slope by Horn's method on the filled DEM; flow
    direction (MFD or D8) and flow accumulation F on the filled DEM; then
    :func:`ls_from_slope_and_accumulation` (Desmet & Govers 1996 L capped at ``l_max``, McCool et al.
    1987 S, InVEST's m table).

    Args:
        dem: elevations (m), 2-D, NaN = nodata.
        cell_size: pixel side (m), square pixels.
        method: "mfd" (InVEST default) or "d8".
        l_max: cap on L, default 122 (InVEST's default).
        valid: optional mask, True = data.
        variant: "invest" (default) or "desmet_govers", see :func:`ls_from_slope_and_accumulation`.
        fill: fill depressions first (default True, as InVEST).
        quantize_mfd: use InVEST's 4-bit MFD proportions (see :func:`flow_direction_mfd`).
        routing: a :class:`Routing` already computed for this DEM (reused instead of routing again).

    Returns:
        float64 LS (rows, cols), NaN at nodata.
    """
    size = _check_cell_size(cell_size)
    if routing is None:
        routing = route(dem, valid, method, fill=fill, quantize_mfd=quantize_mfd)
    elif routing.accumulation.shape != np.shape(dem):
        raise ValueError(f"routing is for shape {routing.accumulation.shape}, dem has {np.shape(dem)}")
    dzdx, dzdy = _k.horn_gradient(routing.filled, routing.valid, size)
    pct = 100.0 * np.hypot(dzdx, dzdy)
    aspect = aspect_shape_factor(dzdx, dzdy) if variant == "desmet_govers" else None
    return ls_from_slope_and_accumulation(
        pct, routing.accumulation, size, l_max=l_max, variant=variant, aspect_factor=aspect
    )
