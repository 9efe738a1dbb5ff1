"""Deterministic synthetic rasters for the lishui-demo inputs.

The landscape is built from a few hand-placed geographic features of Lishui (peaks, rivers, the two big
reservoirs, county seats; positions approximate) plus fractal value noise drawn from fixed-seed numpy
generators. The noise lattices are anchored to the city polygon, not to the output grid, so a build at
100 m and one at 30 m show the same landscape at two levels of detail, and two builds at the same
resolution give identical arrays.

Pipeline: a 500 m *control lattice* holds the smooth fields (river base level ``bed``, valley factor,
mountain envelope, precipitation); they are upsampled bilinearly to the account grid and combined with
multi-octave value noise. Every array is float32 (uint8 for land cover) and is built with row blocks so
that a 30 m grid (~5,800 x 5,800) needs only a few full-size arrays at a time.

Nothing here is measured data: every value is synthetic and only meant to be plausible for Lishui.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import rasterio.features
import shapely
from affine import Affine
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from gep.demo import tables as T
from gep.grid import AccountGrid

SEED = 20_200_601
"""Root seed of every noise field; each field and octave gets its own stream ``[SEED, field, octave]``."""
GENERATOR_VERSION = "1"
SOURCE_TAG = f"gep lishui-demo generator v{GENERATOR_VERSION} (synthetic)"
ACCOUNT_CRS = "EPSG:4549"
CONTROL_STEP_M = 500.0
"""Spacing of the control lattice (m)."""
ANCHOR_MARGIN_M = 20_000.0
"""Noise and control lattices extend this far beyond the city polygon's projected bounds."""
RIDGE_PERSISTENCE = 0.75
"""Amplitude ratio between successive octaves of the ridge noise: high, for steep mountain slopes."""
RIDGE_MIN_CELL = 250.0
ROW_BLOCK = 512
"""Rows processed at a time in full-grid loops."""

PRECIP_STEP_DEG = 0.01
"""Pixel size (degrees) of the precipitation raster, which comes on its own EPSG:4326 grid."""
PRECIP_MARGIN_DEG = 0.1

# Noise field ids (each one an independent random stream).
_N_DEM, _N_FOREST, _N_SHRUB, _N_GRASS, _N_CROP, _N_WET, _N_URBAN, _N_RIDGE = 1, 2, 3, 4, 5, 6, 7, 8
_N_PRECIP, _N_ET, _N_K, _N_NPP, _N_EVAP, _N_HOT, _N_ION, _N_STORM, _N_R = 11, 12, 13, 14, 15, 16, 17, 18, 19


# ------------------------------------------------------------------------------------------------
# Geography (lon/lat EPSG:4326; positions approximate, chosen to be plausible)
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Peak:
    """A mountain massif: Gaussian envelope of height ``height_m`` (m a.s.l.) and scale ``sigma_km``."""

    name: str
    lon: float
    lat: float
    height_m: float
    sigma_km: float


# fmt: off
PEAKS: tuple[Peak, ...] = (
    Peak("黄茅尖 (凤阳山)", 119.17, 27.88, 1929.0, 9.0),
    Peak("百山祖", 119.20, 27.75, 1857.0, 8.0),
    Peak("庆元 highland", 119.00, 27.60, 1350.0, 18.0),
    Peak("景宁 大仰湖", 119.55, 27.78, 1650.0, 10.0),
    Peak("景宁-青田 hills", 119.85, 27.93, 1250.0, 13.0),
    Peak("九龙山 (遂昌)", 118.87, 28.38, 1724.0, 10.0),
    Peak("遂昌 north", 119.15, 28.76, 1550.0, 10.0),
    Peak("松阳 箬寮", 119.35, 28.30, 1450.0, 9.0),
    Peak("龙泉 west", 118.80, 28.05, 1450.0, 13.0),
    Peak("缙云 大洋山", 120.30, 28.79, 1400.0, 10.0),
    Peak("莲都 north", 119.83, 28.62, 1100.0, 11.0),
    Peak("青田 south-east", 120.30, 27.98, 1100.0, 12.0),
    Peak("云和 south", 119.50, 27.98, 1350.0, 9.0),
)
# fmt: on
BACKGROUND_M = 900.0
"""Mountain envelope away from every massif (m)."""
MIN_RELIEF_M = 500.0
"""The mountain envelope stays at least this far above the local river base level (m)."""


@dataclass(frozen=True)
class River:
    """A river as vertices ``(lon, lat, bed_m, valley_km, half_width_m)``: bed elevation (m), valley
    half-width scale (km) and channel half-width (m), linearly interpolated along each segment."""

    name: str
    vertices: tuple[tuple[float, float, float, float, float], ...]


# fmt: off
_JST_LINE = (
    (119.28, 28.085), (119.33, 28.100), (119.39, 28.115), (119.45, 28.125), (119.50, 28.140), (119.53, 28.152),
)
_TK_LINE = (
    (119.70, 27.975), (119.76, 28.000), (119.82, 28.030), (119.87, 28.060), (119.92, 28.090), (119.955, 28.115),
    (119.985, 28.130),
)
# fmt: on

# fmt: off
RIVERS: tuple[River, ...] = (
    River("瓯江 (龙泉溪-大溪-瓯江)", (
        (119.20, 27.80, 900.0, 0.8, 8.0),
        (119.16, 27.95, 420.0, 1.2, 15.0),
        (119.14, 28.06, 200.0, 3.0, 40.0),
        (119.22, 28.08, 185.0, 2.5, 50.0),
        (_JST_LINE[0][0], _JST_LINE[0][1], 150.0, 2.0, 60.0),
        (_JST_LINE[2][0], _JST_LINE[2][1], 140.0, 2.0, 60.0),
        (_JST_LINE[4][0], _JST_LINE[4][1], 130.0, 2.0, 60.0),
        (_JST_LINE[5][0], _JST_LINE[5][1], 120.0, 2.0, 60.0),
        (119.60, 28.17, 95.0, 3.0, 70.0),
        (119.70, 28.25, 75.0, 3.5, 80.0),
        (119.78, 28.33, 60.0, 5.0, 100.0),
        (119.88, 28.42, 50.0, 6.0, 120.0),
        (119.97, 28.43, 45.0, 5.0, 130.0),
        (120.06, 28.36, 35.0, 3.5, 140.0),
        (120.15, 28.25, 20.0, 3.0, 150.0),
        (120.29, 28.14, 10.0, 3.5, 170.0),
        (120.38, 28.10, 6.0, 3.0, 180.0),
        (120.50, 28.04, 3.0, 3.0, 200.0),
    )),
    River("松阴溪", (
        (119.10, 28.62, 320.0, 1.5, 20.0),
        (119.27, 28.59, 200.0, 3.0, 35.0),
        (119.40, 28.50, 160.0, 4.0, 45.0),
        (119.48, 28.45, 140.0, 5.0, 50.0),
        (119.62, 28.38, 100.0, 3.0, 55.0),
        (119.78, 28.33, 60.0, 4.0, 60.0),
    )),
    River("好溪", (
        (120.30, 28.85, 350.0, 1.2, 15.0),
        (120.09, 28.66, 150.0, 3.0, 35.0),
        (120.02, 28.55, 80.0, 2.0, 40.0),
        (119.97, 28.45, 48.0, 3.0, 45.0),
    )),
    River("小溪 (景宁-滩坑-青田)", (
        (119.35, 27.80, 600.0, 1.0, 12.0),
        (119.50, 27.88, 350.0, 1.5, 25.0),
        (119.63, 27.97, 220.0, 2.0, 35.0),
        (_TK_LINE[0][0], _TK_LINE[0][1], 130.0, 2.0, 50.0),
        (_TK_LINE[2][0], _TK_LINE[2][1], 120.0, 2.0, 60.0),
        (_TK_LINE[6][0], _TK_LINE[6][1], 110.0, 2.0, 60.0),
        (120.08, 28.18, 25.0, 2.0, 60.0),
        (120.20, 28.21, 16.0, 2.0, 70.0),
    )),
    River("松源溪 (庆元)", (
        (119.25, 27.70, 700.0, 0.8, 10.0),
        (119.06, 27.62, 340.0, 2.0, 30.0),
        (118.95, 27.52, 250.0, 1.5, 35.0),
        (118.85, 27.40, 200.0, 1.5, 35.0),
    )),
    River("乌溪江 (遂昌)", (
        (119.05, 28.45, 500.0, 1.0, 15.0),
        (118.98, 28.60, 300.0, 1.5, 30.0),
        (118.92, 28.80, 200.0, 1.5, 40.0),
        (118.90, 28.95, 150.0, 1.5, 40.0),
    )),
    River("浮云溪 (云和)", (
        (119.55, 27.98, 500.0, 1.0, 10.0),
        (119.57, 28.12, 150.0, 2.0, 20.0),
        (119.60, 28.17, 95.0, 2.0, 30.0),
    )),
    River("龙泉 west tributary", (
        (118.75, 28.25, 400.0, 1.0, 12.0),
        (118.95, 28.15, 280.0, 1.5, 25.0),
        (119.14, 28.06, 200.0, 2.0, 35.0),
    )),
)
# fmt: on


@dataclass(frozen=True)
class Lake:
    """A big reservoir drawn as a valley lake: a main line and side arms buffered by half-widths (km),
    flat at ``level_m`` (normal pool level, m a.s.l., approximate)."""

    name: str
    main: tuple[tuple[float, float], ...]
    main_half_km: float
    arms: tuple[tuple[tuple[float, float], ...], ...]
    arm_half_km: float
    level_m: float


# fmt: off
BIG_RESERVOIRS: tuple[Lake, ...] = (
    Lake("紧水滩水库", _JST_LINE, 0.55,
         (((119.36, 28.11), (119.38, 28.07)), ((119.43, 28.12), (119.44, 28.165)),
          ((119.48, 28.135), (119.49, 28.095))), 0.35, 184.0),
    Lake("滩坑水库", _TK_LINE, 0.60,
         (((119.78, 28.01), (119.80, 27.965)), ((119.85, 28.05), (119.86, 28.095)),
          ((119.90, 28.08), (119.92, 28.035)), ((119.97, 28.122), (119.98, 28.10)),
          ((119.975, 28.127), (119.99, 28.16))), 0.40, 160.0),
)
# fmt: on

NATIONAL_PARK_OUTLINE: tuple[tuple[float, float], ...] = (
    (119.08, 27.70),
    (119.15, 27.66),
    (119.25, 27.665),
    (119.32, 27.70),
    (119.33, 27.78),
    (119.28, 27.84),
    (119.20, 27.865),
    (119.12, 27.845),
    (119.07, 27.78),
)
"""Rough outline (lon/lat) of the 百山祖 part of the Qianjiangyuan-Baishanzu national park, drawn for
the demo around 119.2E 27.75N; NOT the official boundary."""


# ------------------------------------------------------------------------------------------------
# Layer metadata
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerInfo:
    name: str
    unit: str
    description: str


LAYERS: tuple[LayerInfo, ...] = (
    LayerInfo("dem", "m", "Elevation above sea level (synthetic terrain)"),
    LayerInfo("landcover", "class", "Land-cover class code, see landcover_params.csv (synthetic)"),
    LayerInfo("precipitation", "mm/a", "Annual precipitation on a 0.01 degree EPSG:4326 grid (synthetic)"),
    LayerInfo("evapotranspiration", "mm/a", "Annual actual evapotranspiration (synthetic)"),
    LayerInfo("rainfall_erosivity", "MJ·mm/(hm²·h·a)", "RUSLE rainfall erosivity R (synthetic)"),
    LayerInfo("soil_erodibility", "t·hm²·h/(hm²·MJ·mm)", "RUSLE soil erodibility K (synthetic)"),
    LayerInfo("npp", "g C/(m²·a)", "Net primary productivity (synthetic)"),
    LayerInfo("nep", "g C/(m²·a)", "Net ecosystem productivity (synthetic)"),
    LayerInfo("storm_rainfall", "mm", "Rainfall of the year's storm events (synthetic)"),
    LayerInfo("water_evaporation", "mm/a", "Open-water evaporation (synthetic; given everywhere)"),
    LayerInfo("hot_days", "days/a", "Days with daily maximum temperature above 26 °C (synthetic)"),
    LayerInfo("negative_ions", "ions/cm³", "Negative air ion concentration (synthetic)"),
)
LAYER_INFO: dict[str, LayerInfo] = {info.name: info for info in LAYERS}


# ------------------------------------------------------------------------------------------------
# Lattices and noise
# ------------------------------------------------------------------------------------------------


def _smoothstep(t: np.ndarray) -> np.ndarray:
    return t * t * (np.float32(3.0) - np.float32(2.0) * t)


def _octave_std() -> float:
    """Standard deviation of smoothstep-interpolated uniform(-1, 1) lattice noise (2-D)."""
    t = (np.arange(100_000, dtype=np.float64) + 0.5) / 100_000
    s = t * t * (3 - 2 * t)
    axis = float(np.mean((1 - s) ** 2 + s**2))
    return math.sqrt(axis * axis / 3.0)


_OCTAVE_STD = _octave_std()


@dataclass(frozen=True)
class Lattice:
    """Values at regularly spaced points of the account CRS: row 0 at ``y0`` (top), column 0 at ``x0``,
    spacing ``step`` (m); sampled bilinearly (``smooth``: with smoothstep weights)."""

    x0: float
    y0: float
    step: float
    values: np.ndarray

    def _axis(self, coords: np.ndarray, origin: float, sign: float, n: int) -> tuple[np.ndarray, np.ndarray]:
        f = (np.asarray(coords, dtype=np.float64) - origin) * sign / self.step
        i = np.clip(np.floor(f), 0, n - 2).astype(np.intp)
        t = np.clip(f - i, 0.0, 1.0).astype(np.float32)
        return i, t

    def rows_interpolated(self, xs: np.ndarray, smooth: bool) -> np.ndarray:
        """Values interpolated along x at columns ``xs``: shape (lattice rows, len(xs))."""
        ix, tx = self._axis(xs, self.x0, 1.0, self.values.shape[1])
        if smooth:
            tx = _smoothstep(tx)
        v = self.values
        return v[:, ix] * (1 - tx) + v[:, ix + 1] * tx

    def row_weights(self, ys: np.ndarray, smooth: bool) -> tuple[np.ndarray, np.ndarray]:
        iy, ty = self._axis(ys, self.y0, -1.0, self.values.shape[0])
        return iy, (_smoothstep(ty) if smooth else ty)

    def at_points(self, x: np.ndarray, y: np.ndarray, smooth: bool = False) -> np.ndarray:
        """Values at arbitrary points (arrays of the same shape), float32."""
        ix, tx = self._axis(x, self.x0, 1.0, self.values.shape[1])
        iy, ty = self._axis(y, self.y0, -1.0, self.values.shape[0])
        if smooth:
            tx, ty = _smoothstep(tx), _smoothstep(ty)
        v = self.values
        top = v[iy, ix] * (1 - tx) + v[iy, ix + 1] * tx
        bottom = v[iy + 1, ix] * (1 - tx) + v[iy + 1, ix + 1] * tx
        return (top * (1 - ty) + bottom * ty).astype(np.float32)


@dataclass(frozen=True)
class Frame:
    """The account grid plus the fixed anchor extent (account CRS) that lattices are drawn on."""

    grid: AccountGrid
    anchor: tuple[float, float, float, float]

    @property
    def xs(self) -> np.ndarray:
        t = self.grid.transform
        return t.c + t.a * (np.arange(self.grid.width, dtype=np.float64) + 0.5)

    @property
    def ys(self) -> np.ndarray:
        t = self.grid.transform
        return t.f + t.e * (np.arange(self.grid.height, dtype=np.float64) + 0.5)

    def blocks(self) -> Iterator[slice]:
        for r0 in range(0, self.grid.height, ROW_BLOCK):
            yield slice(r0, min(r0 + ROW_BLOCK, self.grid.height))

    def lattice_shape(self, step: float) -> tuple[int, int]:
        left, bottom, right, top = self.anchor
        return (int(math.ceil((top - bottom) / step)) + 2, int(math.ceil((right - left) / step)) + 2)

    def lattice(self, step: float, values: np.ndarray) -> Lattice:
        left, _, _, top = self.anchor
        return Lattice(left, top, step, values)

    def lattice_points(self, step: float) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates (x, y) of the lattice points of spacing ``step``, as 2-D arrays."""
        left, _, _, top = self.anchor
        ny, nx = self.lattice_shape(step)
        x = left + step * np.arange(nx, dtype=np.float64)
        y = top - step * np.arange(ny, dtype=np.float64)
        return np.meshgrid(x, y)

    def upsample(
        self, lattice: Lattice, out: np.ndarray | None = None, scale: float = 1.0, smooth: bool = False
    ) -> np.ndarray:
        """Sample ``lattice`` at every pixel centre (float32, shape of the grid). With ``out``, adds
        ``scale`` × the samples to it in place."""
        rows = lattice.rows_interpolated(self.xs, smooth)
        iy, ty = lattice.row_weights(self.ys, smooth)
        if out is None:
            out = np.zeros(self.grid.shape, dtype=np.float32)
        s = np.float32(scale)
        for b in self.blocks():
            w = ty[b][:, None]
            block = rows[iy[b]] * (1 - w)
            block += rows[iy[b] + 1] * w
            if scale != 1.0:
                block *= s
            out[b] += block
        return out


def _octave_cells(min_cell: float, max_cell: float) -> list[float]:
    cells = []
    cell = max_cell
    while cell >= min_cell:
        cells.append(cell)
        cell /= 2.0
    return cells


def _noise_lattice(frame: Frame, field: int, octave: int, cell: float) -> Lattice:
    rng = np.random.default_rng([SEED, field, octave])
    values = rng.random(frame.lattice_shape(cell), dtype=np.float32) * np.float32(2.0) - np.float32(1.0)
    return frame.lattice(cell, values)


def _octaves(
    frame: Frame, field: int, min_cell: float, max_cell: float, persistence: float
) -> list[tuple[Lattice, float]]:
    """(lattice, weight) per octave; weights normalised so the sum has unit variance. The octave list
    depends on ``min_cell``, which callers derive from the resolution; the lattices for the same cell
    size are the same at every resolution."""
    cells = _octave_cells(min_cell, max_cell)
    amps = [persistence**k for k in range(len(cells))]
    norm = math.sqrt(sum(a * a for a in amps)) * _OCTAVE_STD
    return [(_noise_lattice(frame, field, k, cell), amps[k] / norm) for k, cell in enumerate(cells)]


def fbm(
    frame: Frame,
    field: int,
    resolution: float,
    min_cell: float = 120.0,
    max_cell: float = 32_000.0,
    persistence: float = 0.55,
) -> np.ndarray:
    """Fractal value noise on the account grid, float32, roughly zero mean and unit variance.
    Octaves run from ``max_cell`` down to max(``min_cell``, 2 × resolution) metres."""
    out = np.zeros(frame.grid.shape, dtype=np.float32)
    for lattice, weight in _octaves(frame, field, max(min_cell, 2.0 * resolution), max_cell, persistence):
        frame.upsample(lattice, out=out, scale=weight, smooth=True)
    return out


def fbm_points(
    frame: Frame,
    field: int,
    x: np.ndarray,
    y: np.ndarray,
    min_cell: float,
    max_cell: float = 32_000.0,
    persistence: float = 0.55,
) -> np.ndarray:
    """The same fractal noise as :func:`fbm` (same field, same cells) at arbitrary points."""
    out = np.zeros(np.shape(x), dtype=np.float32)
    for lattice, weight in _octaves(frame, field, min_cell, max_cell, persistence):
        out += np.float32(weight) * lattice.at_points(x, y, smooth=True)
    return out


# ------------------------------------------------------------------------------------------------
# Projection helpers
# ------------------------------------------------------------------------------------------------

_TO_ACCOUNT = Transformer.from_crs("EPSG:4326", ACCOUNT_CRS, always_xy=True)
_TO_LONLAT = Transformer.from_crs(ACCOUNT_CRS, "EPSG:4326", always_xy=True)


def to_account(geom: BaseGeometry) -> BaseGeometry:
    """Project a lon/lat geometry to the account CRS."""
    return shapely.transform(geom, lambda c: np.column_stack(_TO_ACCOUNT.transform(c[:, 0], c[:, 1])))


def to_lonlat(geom: BaseGeometry) -> BaseGeometry:
    """Project an account-CRS geometry back to lon/lat."""
    return shapely.transform(geom, lambda c: np.column_stack(_TO_LONLAT.transform(c[:, 0], c[:, 1])))


def _xy(lon: float, lat: float) -> tuple[float, float]:
    x, y = _TO_ACCOUNT.transform(lon, lat)
    return float(x), float(y)


def lake_polygon(lake: Lake) -> BaseGeometry:
    """The lake's water body in the account CRS."""
    main = LineString([_xy(*p) for p in lake.main]).buffer(lake.main_half_km * 1000.0)
    arms = [LineString([_xy(*p) for p in arm]).buffer(lake.arm_half_km * 1000.0) for arm in lake.arms]
    return shapely.union_all([main, *arms])


def national_park_polygon() -> Polygon:
    return Polygon(NATIONAL_PARK_OUTLINE)


# ------------------------------------------------------------------------------------------------
# Control lattice: base level, valleys, mountains, precipitation
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Control:
    """Smooth fields on the 500 m control lattice: ``bed`` river base level (m), ``valley`` 0 on the
    rivers rising to 1 away from them, ``mountain`` envelope (m), ``terrain`` = bed + (mountain - bed)
    × valley (m), ``channel_distance`` to the nearest channel centre line (m), ``precipitation`` (mm/a)."""

    bed: Lattice
    valley: Lattice
    terrain: Lattice
    channel_distance: Lattice
    precipitation: Lattice


def _river_fields(x: np.ndarray, y: np.ndarray, river: River) -> tuple[np.ndarray, ...]:
    """Nearest distance (m), bed (m) and valley scale (m) of one river at points (x, y)."""
    best_d = np.full(x.shape, np.inf)
    best_bed = np.zeros(x.shape)
    best_w = np.ones(x.shape)
    verts = [(*_xy(lon, lat), bed, w * 1000.0) for lon, lat, bed, w, _ in river.vertices]
    for (ax, ay, abed, aw), (bx, by, bbed, bw) in zip(verts[:-1], verts[1:], strict=True):
        dx, dy = bx - ax, by - ay
        t = np.clip(((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
        d = np.hypot(x - (ax + t * dx), y - (ay + t * dy))
        closer = d < best_d
        best_d = np.where(closer, d, best_d)
        best_bed = np.where(closer, abed + t * (bbed - abed), best_bed)
        best_w = np.where(closer, aw + t * (bw - aw), best_w)
    return best_d, best_bed, best_w


def build_control(frame: Frame) -> Control:
    """Compute the control lattice fields (cheap: ~0.2 M points)."""
    x, y = frame.lattice_points(CONTROL_STEP_M)
    valley = np.ones(x.shape)
    weight_sum = np.zeros(x.shape)
    bed_sum = np.zeros(x.shape)
    channel = np.full(x.shape, np.inf)
    for river in RIVERS:
        d, bed, w = _river_fields(x, y, river)
        r = d / w
        valley *= 1.0 - np.exp(-(r * r))
        k = 1.0 / (r + 0.05) ** 2
        weight_sum += k
        bed_sum += k * bed
        channel = np.minimum(channel, d)
    bed = bed_sum / weight_sum
    mountain = np.full(x.shape, BACKGROUND_M)
    for peak in PEAKS:
        px, py = _xy(peak.lon, peak.lat)
        s = peak.sigma_km * 1000.0
        g = np.exp(-((x - px) ** 2 + (y - py) ** 2) / (2 * s * s))
        mountain = np.maximum(mountain, BACKGROUND_M + (peak.height_m - BACKGROUND_M) * g)
    mountain = np.maximum(mountain, bed + MIN_RELIEF_M)
    terrain = bed + (mountain - bed) * valley
    # Orographic precipitation (mm/a): 1,400 in the lowest valleys rising to ~2,050 on the highest
    # massifs, wetter towards the south-west, plus regional noise.
    lon, lat = _TO_LONLAT.transform(x, y)
    south_west = np.clip((120.2 - lon) / 1.4 * 0.5 + (28.9 - lat) / 1.4 * 0.5, 0.0, 1.0)
    n = fbm_points(frame, _N_PRECIP, x, y, min_cell=4000.0).astype(np.float64)
    precip = 1400.0 + 0.28 * terrain + 0.06 * mountain + 110.0 * south_west + 40.0 * n
    precip = np.clip(precip, 1400.0, 2100.0)

    def lat_(values: np.ndarray) -> Lattice:
        return frame.lattice(CONTROL_STEP_M, values.astype(np.float32))

    return Control(lat_(bed), lat_(valley), lat_(terrain), lat_(channel), lat_(precip))


# ------------------------------------------------------------------------------------------------
# Terrain and land cover
# ------------------------------------------------------------------------------------------------


@dataclass
class Landscape:
    """Full-grid results shared by the layer writers."""

    frame: Frame
    control: Control
    inside: np.ndarray
    """bool, True inside the city polygon."""
    dem: np.ndarray
    """float32 m, NaN outside."""
    landcover: np.ndarray
    """uint8 class codes, 255 outside."""


def make_frame(city_lonlat: BaseGeometry, resolution: float) -> Frame:
    """The account grid over the city polygon (projected to EPSG:4549) and the fixed lattice anchor."""
    city = to_account(city_lonlat)
    grid = AccountGrid.from_bounds(city.bounds, resolution, ACCOUNT_CRS)
    minx, miny, maxx, maxy = city.bounds
    m = ANCHOR_MARGIN_M
    anchor = (
        math.floor((minx - m) / 1000) * 1000.0,
        math.floor((miny - m) / 1000) * 1000.0,
        math.ceil((maxx + m) / 1000) * 1000.0,
        math.ceil((maxy + m) / 1000) * 1000.0,
    )
    return Frame(grid, anchor)


def _rasterize(frame: Frame, shapes: list[tuple[BaseGeometry, int]]) -> np.ndarray:
    return rasterio.features.rasterize(
        shapes, out_shape=frame.grid.shape, transform=frame.grid.transform, fill=0, dtype="uint8"
    )


def _soft_cap(a: np.ndarray, knee: float, top: float) -> None:
    """Compress values above ``knee`` smoothly so they never exceed ``top`` (in place)."""
    high = a > knee
    span = top - knee
    a[high] = knee + span * np.tanh((a[high] - knee) / span)


def build_terrain(frame: Frame, control: Control, inside: np.ndarray) -> np.ndarray:
    """DEM in m (float32, NaN outside): bed + relief × q, where relief = terrain - bed is the height of
    the crest envelope above the river base level and q = m1 × m2 (mostly below 1) pulls the land below
    it: m1 = clip(0.75 + 0.2 × fractal noise, 0.2, 1.12) varies the massifs, m2 = 0.25 + 0.75 × |ridge
    noise| / 1.4 (capped at 1.05) cuts ridges and valleys along the noise's zero lines. Summits are
    squeezed smoothly below 1,929 m (黄茅尖)."""
    res = frame.grid.resolution
    dem = fbm(frame, _N_DEM, res, min_cell=120.0, persistence=0.55)
    for b in frame.blocks():
        blk = dem[b]
        blk *= np.float32(0.2)
        blk += np.float32(0.75)
        np.clip(blk, np.float32(0.2), np.float32(1.12), out=blk)
    ridges = fbm(frame, _N_RIDGE, res, min_cell=RIDGE_MIN_CELL, max_cell=8000.0, persistence=RIDGE_PERSISTENCE)
    for b in frame.blocks():
        blk = ridges[b]
        np.abs(blk, out=blk)
        blk *= np.float32(0.75 / 1.4)
        blk += np.float32(0.25)
        np.minimum(blk, np.float32(1.05), out=blk)
        dem[b] *= blk
    del ridges
    relief = control.terrain.values - control.bed.values
    relief_f = frame.upsample(frame.lattice(CONTROL_STEP_M, relief))
    for b in frame.blocks():
        dem[b] *= relief_f[b]
    del relief_f
    frame.upsample(control.bed, out=dem)
    _soft_cap(dem, 1750.0, 1929.0)
    np.maximum(dem, np.float32(2.0), out=dem)
    dem[~inside] = np.nan
    return dem


def _forest_thresholds(dem: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Noise thresholds splitting forest into broadleaf (< t1), mixed (t1..t2), needleleaf (> t2):
    needleleaf plantations (Chinese fir, Masson pine) dominate the low hills, mixed forest the
    middle and upper slopes, Huangshan pine the summits."""
    low, mid = dem < 800, dem < 1300
    t1 = np.where(low, np.float32(-0.6), np.where(mid, np.float32(-0.5), np.float32(-1.0)))
    t2 = np.where(low, np.float32(-0.25), np.where(mid, np.float32(0.4), np.float32(0.3)))
    return t1, t2


def build_landcover(frame: Frame, control: Control, inside: np.ndarray, dem: np.ndarray) -> np.ndarray:
    """Land-cover codes (uint8, 255 outside), assigned in stages of rising priority:
    forest split -> shrub -> grassland -> cropland -> wetland -> built-up -> water."""
    res = frame.grid.resolution
    grid = frame.grid
    lc = np.full(grid.shape, T.EVERGREEN_NEEDLELEAF, dtype=np.uint8)
    bed = frame.upsample(control.bed)
    # height above the local river base level, m; reused by several stages
    rel = bed
    np.subtract(dem, bed, out=rel)
    np.nan_to_num(rel, copy=False, nan=0.0)
    del bed
    dem0 = np.nan_to_num(dem, nan=0.0)

    n = fbm(frame, _N_FOREST, res, min_cell=200.0, max_cell=16_000.0)
    for b in frame.blocks():
        t1, t2 = _forest_thresholds(dem0[b])
        blk = lc[b]
        blk[n[b] < t2] = T.MIXED_FOREST
        blk[n[b] < t1] = T.EVERGREEN_BROADLEAF

    n = fbm(frame, _N_SHRUB, res, min_cell=150.0, max_cell=8000.0)
    for b in frame.blocks():
        lift = np.clip((dem0[b] - 900.0) / 800.0, 0.0, 1.0)
        lc[b][n[b] > 1.6 - 0.8 * lift] = T.SHRUB

    n = fbm(frame, _N_GRASS, res, min_cell=150.0, max_cell=8000.0)
    for b in frame.blocks():
        lift = np.clip((dem0[b] - 1150.0) / 500.0, 0.0, 1.0)
        threshold = np.where(dem0[b] > 1150.0, 1.3 - 1.3 * lift, 2.6)
        lc[b][n[b] > threshold] = T.GRASSLAND

    n = fbm(frame, _N_CROP, res, min_cell=150.0, max_cell=8000.0)
    for b in frame.blocks():
        r, d, nb = rel[b], dem0[b], n[b]
        blk = lc[b]
        blk[(nb > 1.6) & (d > 150.0) & (d < 900.0)] = T.DRYLAND  # terraces, tea gardens, orchards
        blk[(r < 80.0 + 40.0 * nb) & (d < 900.0)] = T.DRYLAND
        blk[(r < 50.0 + 25.0 * nb) & (d < 700.0)] = T.PADDY

    channel = frame.upsample(control.channel_distance)
    n = fbm(frame, _N_WET, res, min_cell=150.0, max_cell=4000.0)
    for b in frame.blocks():
        lc[b][(channel[b] < 600.0) & (rel[b] < 10.0) & (n[b] > 0.9)] = T.WETLAND
    del channel

    n = fbm(frame, _N_URBAN, res, min_cell=150.0, max_cell=4000.0)
    for b in frame.blocks():
        lc[b][(rel[b] < 80.0) & (n[b] > 1.0)] = T.BUILT_UP  # villages and towns in the valleys
    xs, ys = frame.xs, frame.ys
    for county in T.COUNTIES:
        sx, sy = _xy(county.seat_lon, county.seat_lat)
        radius = county.seat_radius_km * 1000.0
        cols = np.nonzero(np.abs(xs - sx) < 1.5 * radius)[0]
        rows = np.nonzero(np.abs(ys - sy) < 1.5 * radius)[0]
        if cols.size == 0 or rows.size == 0:
            continue
        win = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        dist = np.hypot(xs[win[1]][None, :] - sx, ys[win[0]][:, None] - sy) / radius
        score = 1.0 - dist + 0.3 * n[win]
        lc[win][(score > 0.35) & (rel[win] < 150.0)] = T.BUILT_UP
    del n, rel

    lc[_rasterize(frame, river_shapes()) > 0] = T.RIVER
    lc[_rasterize(frame, [(g, 1) for g in reservoir_shapes()]) > 0] = T.RESERVOIR
    lc[~inside] = T.LANDCOVER_NODATA
    return lc


def river_shapes() -> list[tuple[BaseGeometry, int]]:
    """River channels (account CRS), one buffered segment each, value 1."""
    shapes = []
    for river in RIVERS:
        for a, b in zip(river.vertices[:-1], river.vertices[1:], strict=True):
            half = 0.5 * (a[4] + b[4])
            shapes.append((LineString([_xy(a[0], a[1]), _xy(b[0], b[1])]).buffer(half), 1))
    return shapes


def reservoir_shapes() -> list[BaseGeometry]:
    """Water bodies of all reservoirs (account CRS): the two valley lakes and a disc for each
    synthetic one."""
    shapes = [lake_polygon(lake) for lake in BIG_RESERVOIRS]
    for r in T.RESERVOIRS:
        if r.radius_km > 0:
            shapes.append(Point(_xy(r.lon, r.lat)).buffer(r.radius_km * 1000.0, quad_segs=16))
    return shapes


def flatten_water(frame: Frame, dem: np.ndarray, control: Control, lc: np.ndarray) -> None:
    """Put the big lakes at their pool level and rivers on their bed (in place)."""
    for lake in BIG_RESERVOIRS:
        mask = _rasterize(frame, [(lake_polygon(lake), 1)]) > 0
        dem[mask] = np.float32(lake.level_m)
    river = lc == T.RIVER
    if river.any():
        bed = frame.upsample(control.bed)
        dem[river] = np.minimum(dem[river], bed[river])


def build_landscape(
    city_lonlat: BaseGeometry, resolution: float, progress: Callable[[str], None] | None = None
) -> Landscape:
    """Terrain and land cover on the account grid over ``city_lonlat`` (a lon/lat polygon)."""
    frame = make_frame(city_lonlat, resolution)
    control = build_control(frame)
    inside = _rasterize(frame, [(to_account(city_lonlat), 1)]) > 0
    if progress:
        progress("terrain")
    dem = build_terrain(frame, control, inside)
    if progress:
        progress("landcover")
    lc = build_landcover(frame, control, inside, dem)
    flatten_water(frame, dem, control, lc)
    return Landscape(frame, control, inside, dem, lc)


# ------------------------------------------------------------------------------------------------
# Other layers
# ------------------------------------------------------------------------------------------------


def _lut(values: dict[int, float], default: float = 0.0) -> np.ndarray:
    lut = np.full(256, default, dtype=np.float32)
    for code, value in values.items():
        lut[code] = value
    lut[T.LANDCOVER_NODATA] = np.nan
    return lut


_WATER = {T.RIVER: 0.0, T.RESERVOIR: 0.0}
_ET_BASE = _lut(
    {
        T.EVERGREEN_BROADLEAF: 880,
        T.EVERGREEN_NEEDLELEAF: 840,
        T.MIXED_FOREST: 860,
        T.SHRUB: 790,
        T.GRASSLAND: 730,
        T.WETLAND: 860,
        T.PADDY: 800,
        T.DRYLAND: 730,
        T.BUILT_UP: 520,
        T.RIVER: 900,
        T.RESERVOIR: 900,
    }
)
_NPP_BASE = _lut(
    {
        T.EVERGREEN_BROADLEAF: 780,
        T.EVERGREEN_NEEDLELEAF: 700,
        T.MIXED_FOREST: 750,
        T.SHRUB: 520,
        T.GRASSLAND: 380,
        T.WETLAND: 450,
        T.PADDY: 520,
        T.DRYLAND: 430,
        T.BUILT_UP: 90,
        **_WATER,
    }
)
_NEP_SHARE = _lut(
    {
        T.EVERGREEN_BROADLEAF: 0.38,
        T.EVERGREEN_NEEDLELEAF: 0.33,
        T.MIXED_FOREST: 0.36,
        T.SHRUB: 0.25,
        T.GRASSLAND: 0.12,
        T.WETLAND: 0.30,
        T.PADDY: 0.08,
        T.DRYLAND: 0.05,
        T.BUILT_UP: -0.5,
        **_WATER,
    }
)
_ION_BASE = _lut(
    {
        T.EVERGREEN_BROADLEAF: 1800,
        T.EVERGREEN_NEEDLELEAF: 1500,
        T.MIXED_FOREST: 1650,
        T.SHRUB: 1100,
        T.GRASSLAND: 1000,
        T.WETLAND: 1500,
        T.PADDY: 800,
        T.DRYLAND: 700,
        T.BUILT_UP: 450,
        T.RIVER: 1700,
        T.RESERVOIR: 1600,
    }
)
_K_EXTRA = _lut({T.PADDY: 0.003, T.DRYLAND: 0.006})
_HOT_EXTRA = _lut({T.BUILT_UP: 8.0})


def layer_array(land: Landscape, name: str) -> np.ndarray:
    """One account-grid layer (float32, NaN outside the city) computed from the landscape."""
    frame = land.frame
    res = frame.grid.resolution
    if name == "dem":
        return land.dem
    smooth_cell = max(1000.0, 2.0 * res)
    field = {
        "evapotranspiration": _N_ET,
        "rainfall_erosivity": _N_R,
        "soil_erodibility": _N_K,
        "npp": _N_NPP,
        "nep": _N_NPP,
        "storm_rainfall": _N_STORM,
        "water_evaporation": _N_EVAP,
        "hot_days": _N_HOT,
        "negative_ions": _N_ION,
    }[name]
    out = fbm(
        frame,
        field,
        res,
        min_cell=smooth_cell if name not in ("npp", "nep", "negative_ions") else 300.0,
        max_cell=16_000.0,
    )
    needs_precip = name in ("rainfall_erosivity", "storm_rainfall")
    precip = frame.upsample(land.control.precipitation) if needs_precip else None
    for b in frame.blocks():
        n = out[b]
        lc = land.landcover[b]
        dem = land.dem[b]
        if name == "evapotranspiration":
            v = _ET_BASE[lc] - np.float32(0.06) * (dem - np.float32(300.0)) + np.float32(15.0) * n
            np.clip(v, 400.0, 950.0, out=v)
        elif name == "rainfall_erosivity":
            v = np.float32(4000.0) + (precip[b] - np.float32(1400.0)) * np.float32(5.0) + np.float32(150.0) * n
            np.clip(v, 3800.0, 8200.0, out=v)
        elif name == "soil_erodibility":
            v = np.float32(0.028) + np.float32(0.005) * n + _K_EXTRA[lc]
            np.clip(v, 0.012, 0.055, out=v)
        elif name in ("npp", "nep"):
            factor = np.clip(np.float32(1.0) - np.float32(0.00015) * (dem - np.float32(300.0)), 0.7, 1.05)
            v = _NPP_BASE[lc] * factor + np.float32(40.0) * n * (_NPP_BASE[lc] > 0)
            np.maximum(v, np.float32(0.0), out=v)
            if name == "nep":
                v *= _NEP_SHARE[lc]
        elif name == "storm_rainfall":
            v = np.float32(0.21) * precip[b] + np.float32(25.0) * n
            np.clip(v, 150.0, 700.0, out=v)
        elif name == "water_evaporation":
            v = np.float32(980.0) - np.float32(0.08) * dem + np.float32(15.0) * n
            np.clip(v, 700.0, 1050.0, out=v)
        elif name == "hot_days":
            v = np.float32(150.0) - np.float32(0.085) * dem + np.float32(4.0) * n + _HOT_EXTRA[lc]
            np.clip(v, 5.0, 170.0, out=v)
        elif name == "negative_ions":
            v = _ION_BASE[lc] + np.float32(1.1) * dem + np.float32(250.0) * n
            np.clip(v, 500.0, 5000.0, out=v)
        else:  # pragma: no cover - the dict lookup above already rejects unknown names
            raise KeyError(name)
        v[~land.inside[b]] = np.nan
        out[b] = v
    return out


@dataclass(frozen=True)
class LonLatRaster:
    """A raster on its own EPSG:4326 grid."""

    values: np.ndarray
    transform: Affine
    crs: str = "EPSG:4326"


def precipitation_lonlat(land: Landscape, city_lonlat: BaseGeometry) -> LonLatRaster:
    """Annual precipitation (mm/a) on a 0.01° EPSG:4326 grid covering the city's bbox plus a 0.1°
    margin, like a gridded climate product: values everywhere, no mask."""
    minlon, minlat, maxlon, maxlat = city_lonlat.bounds
    k = 1.0 / PRECIP_STEP_DEG
    left = math.floor((minlon - PRECIP_MARGIN_DEG) * k)
    right = math.ceil((maxlon + PRECIP_MARGIN_DEG) * k)
    bottom = math.floor((minlat - PRECIP_MARGIN_DEG) * k)
    top = math.ceil((maxlat + PRECIP_MARGIN_DEG) * k)
    lon = (np.arange(left, right, dtype=np.float64) + 0.5) / k
    lat = (np.arange(top, bottom, -1, dtype=np.float64) - 0.5) / k
    lon2, lat2 = np.meshgrid(lon, lat)
    x, y = _TO_ACCOUNT.transform(lon2, lat2)
    values = land.control.precipitation.at_points(x, y)
    transform = Affine(PRECIP_STEP_DEG, 0.0, left / k, 0.0, -PRECIP_STEP_DEG, top / k)
    return LonLatRaster(values.astype(np.float32), transform)
