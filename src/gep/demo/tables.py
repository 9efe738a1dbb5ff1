"""Tables of the lishui-demo inputs: the land-cover class table and the statistical tables.

Everything here is illustrative demo data unless a row's ``source`` column says otherwise. Only the
two big reservoirs' capacities are real-world figures, quoted from memory and tagged ``unverified``.
CSV files are written UTF-8 with a BOM (``utf-8-sig``) so that Excel shows the Chinese names correctly.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

SYNTHETIC_NOTE = "synthetic (gep lishui-demo, illustrative)"
"""``source`` text of a row made up for the demo."""

# --------------------------------------------------------------------------------------------
# Land-cover classes
# --------------------------------------------------------------------------------------------

EVERGREEN_BROADLEAF = 11
EVERGREEN_NEEDLELEAF = 12
MIXED_FOREST = 13
SHRUB = 21
GRASSLAND = 31
WETLAND = 41
PADDY = 51
DRYLAND = 52
BUILT_UP = 61
RIVER = 71
RESERVOIR = 72
LANDCOVER_NODATA = 255
"""Land-cover code of pixels outside the city, on disk (uint8)."""

FOREST_CLASSES = (EVERGREEN_BROADLEAF, EVERGREEN_NEEDLELEAF, MIXED_FOREST)
WATER_CLASSES = (RIVER, RESERVOIR)

# fmt: off
LANDCOVER_COLUMNS: tuple[str, ...] = (
    "class", "name_zh", "name_en", "ecosystem", "runoff_coefficient", "storm_runoff_coefficient",
    "usle_c", "usle_p", "transpiration_heat", "carbon_rate", "cod_capacity", "nh3n_capacity",
    "tp_capacity", "so2_capacity", "nox_capacity", "dust_capacity", "pest_control_share",
    "canopy_height", "ion_lifetime",
)
# fmt: on
"""The class-table columns of the shared vocabulary, in order; the file adds a ``source`` column."""


@dataclass(frozen=True)
class LandcoverClass:
    """One row of ``landcover_params``. Units as in the shared vocabulary:
    runoff coefficients, usle_c, usle_p, pest_control_share: fractions 0-1;
    transpiration_heat: kJ/(m²·d); carbon_rate: t C/(hm²·a); *_capacity: t/(hm²·a);
    canopy_height: m; ion_lifetime: min."""

    code: int
    name_zh: str
    name_en: str
    ecosystem: str
    runoff_coefficient: float
    storm_runoff_coefficient: float
    usle_c: float
    usle_p: float
    transpiration_heat: float
    carbon_rate: float
    cod_capacity: float
    nh3n_capacity: float
    tp_capacity: float
    so2_capacity: float
    nox_capacity: float
    dust_capacity: float
    pest_control_share: float
    canopy_height: float
    ion_lifetime: float
    source: str

    def row(self) -> list[object]:
        return [
            self.code,
            self.name_zh,
            self.name_en,
            self.ecosystem,
            self.runoff_coefficient,
            self.storm_runoff_coefficient,
            self.usle_c,
            self.usle_p,
            self.transpiration_heat,
            self.carbon_rate,
            self.cod_capacity,
            self.nh3n_capacity,
            self.tp_capacity,
            self.so2_capacity,
            self.nox_capacity,
            self.dust_capacity,
            self.pest_control_share,
            self.canopy_height,
            self.ion_lifetime,
            self.source,
        ]


_FOREST_NOTE = (
    "illustrative demo value; forest runoff coefficient from the 2017 red-line guide table as quoted "
    "in gep-methods.md [unverified]; SO2/dust uptake in the range of LY/T 1721 figures [unverified]"
)
_CLASS_NOTE = "illustrative demo value (synthetic), not from a standard"

# fmt: off
LANDCOVER_CLASSES: tuple[LandcoverClass, ...] = (
    LandcoverClass(EVERGREEN_BROADLEAF, "常绿阔叶林", "Evergreen broadleaf forest", "forest",
                   0.0267, 0.15, 0.006, 1.0, 2300.0, 3.8, 0.0, 0.0, 0.0, 0.0887, 0.006, 10.11,
                   0.90, 15.0, 20.0, _FOREST_NOTE),
    LandcoverClass(EVERGREEN_NEEDLELEAF, "常绿针叶林", "Evergreen needleleaf forest", "forest",
                   0.0302, 0.18, 0.008, 1.0, 1900.0, 3.2, 0.0, 0.0, 0.0, 0.2156, 0.006, 33.2,
                   0.60, 14.0, 20.0, _FOREST_NOTE),
    LandcoverClass(MIXED_FOREST, "针阔混交林", "Mixed forest", "forest",
                   0.0229, 0.16, 0.006, 1.0, 2100.0, 3.5, 0.0, 0.0, 0.0, 0.152, 0.006, 21.7,
                   0.80, 14.0, 20.0, _FOREST_NOTE),
    LandcoverClass(SHRUB, "灌丛", "Shrubland", "shrub",
                   0.0426, 0.22, 0.02, 1.0, 1300.0, 1.8, 0.0, 0.0, 0.0, 0.05, 0.004, 5.0,
                   0.70, 2.0, 10.0, _CLASS_NOTE),
    LandcoverClass(GRASSLAND, "草地", "Grassland", "grassland",
                   0.0937, 0.30, 0.04, 1.0, 800.0, 0.6, 0.0, 0.0, 0.0, 0.02, 0.002, 1.0,
                   0.80, 0.5, 10.0, _CLASS_NOTE),
    LandcoverClass(WETLAND, "湿地", "Wetland (marsh, riparian)", "wetland",
                   0.0, 0.05, 0.0, 1.0, 1200.0, 1.2, 0.35, 0.06, 0.012, 0.0, 0.0, 0.0,
                   0.0, 1.0, 10.0, _CLASS_NOTE),
    LandcoverClass(PADDY, "水田", "Paddy field", "cropland",
                   0.25, 0.40, 0.10, 0.15, 900.0, 0.4, 0.0, 0.0, 0.0, 0.045, 0.003, 0.9,
                   0.0, 1.0, 10.0, _CLASS_NOTE),
    LandcoverClass(DRYLAND, "旱地（含茶园、果园）", "Dryland (incl. tea gardens, orchards)", "cropland",
                   0.35, 0.50, 0.25, 0.40, 700.0, 0.2, 0.0, 0.0, 0.0, 0.045, 0.003, 0.9,
                   0.0, 1.0, 10.0, _CLASS_NOTE),
    LandcoverClass(BUILT_UP, "建设用地", "Built-up land", "urban",
                   0.60, 0.85, 0.01, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                   0.0, 0.0, 10.0, _CLASS_NOTE),
    LandcoverClass(RIVER, "河流", "River", "water",
                   0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.20, 0.03, 0.006, 0.0, 0.0, 0.0,
                   0.0, 0.0, 10.0,
                   _CLASS_NOTE + "; open water: runoff coefficient 0, storm coefficient 1 "
                   "(no vegetation retention; flood regulation of water bodies comes from reservoirs)"),
    LandcoverClass(RESERVOIR, "水库", "Reservoir", "water",
                   0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.20, 0.03, 0.006, 0.0, 0.0, 0.0,
                   0.0, 0.0, 10.0,
                   _CLASS_NOTE + "; open water: runoff coefficient 0, storm coefficient 1 "
                   "(no vegetation retention; flood regulation of water bodies comes from reservoirs)"),
)
# fmt: on


def landcover_class(code: int) -> LandcoverClass:
    """The class with integer ``code``."""
    for item in LANDCOVER_CLASSES:
        if item.code == code:
            return item
    raise KeyError(code)


# --------------------------------------------------------------------------------------------
# Counties
# --------------------------------------------------------------------------------------------

CITY_CODE = "331100"


@dataclass(frozen=True)
class County:
    """A county of Lishui with its seat (lon/lat, EPSG:4326) and illustrative size weights used to
    spread the city's synthetic statistics: ``population`` (persons, loosely modelled on the 2020
    census magnitudes, not official) and ``economy`` (relative GDP weight)."""

    code: str
    name: str
    name_en: str
    seat_lon: float
    seat_lat: float
    seat_radius_km: float
    population: int
    economy: float


# fmt: off
COUNTIES: tuple[County, ...] = (
    County("331102", "莲都区", "Liandu", 119.92, 28.45, 5.0, 565_000, 0.27),
    County("331121", "青田县", "Qingtian", 120.29, 28.14, 2.5, 505_000, 0.15),
    County("331122", "缙云县", "Jinyun", 120.09, 28.66, 3.0, 405_000, 0.16),
    County("331123", "遂昌县", "Suichang", 119.27, 28.59, 2.2, 190_000, 0.08),
    County("331124", "松阳县", "Songyang", 119.48, 28.45, 2.5, 200_000, 0.07),
    County("331125", "云和县", "Yunhe", 119.57, 28.12, 2.0, 110_000, 0.05),
    County("331126", "庆元县", "Qingyuan", 119.06, 27.62, 2.0, 150_000, 0.05),
    County("331127", "景宁畲族自治县", "Jingning", 119.63, 27.97, 1.8, 110_000, 0.04),
    County("331181", "龙泉市", "Longquan", 119.14, 28.07, 3.0, 250_000, 0.13),
)
# fmt: on


# --------------------------------------------------------------------------------------------
# Reservoirs and lakes
# --------------------------------------------------------------------------------------------

RESERVOIR_COLUMNS = ("name", "name_en", "region_code", "total_capacity_m3", "lon", "lat", "source")
LAKE_COLUMNS = ("name", "region_code", "area_km2", "lon", "lat", "source")
_UNVERIFIED_CAPACITY = "unverified: total capacity quoted from memory; location approximate"


@dataclass(frozen=True)
class Reservoir:
    """A reservoir row. ``total_capacity_m3`` in m³; ``lon``/``lat`` EPSG:4326, a point on the water
    body inside county ``region_code``; ``radius_km`` is the radius of the small water body the
    raster synthesis draws for synthetic reservoirs (0 for the two big ones, drawn as valley lakes)."""

    name: str
    name_en: str
    region_code: str
    total_capacity_m3: float
    lon: float
    lat: float
    source: str
    radius_km: float = 0.0


# fmt: off
RESERVOIRS: tuple[Reservoir, ...] = (
    Reservoir("紧水滩水库", "Jinshuitan reservoir", "331125", 13.93e8, 119.47, 28.13, _UNVERIFIED_CAPACITY),
    Reservoir("滩坑水库", "Tankeng reservoir", "331121", 41.9e8, 119.975, 28.12, _UNVERIFIED_CAPACITY),
    Reservoir("莲都示例水库", "Liandu demo reservoir", "331102", 0.32e8, 119.83, 28.58, SYNTHETIC_NOTE, 0.9),
    Reservoir("缙云示例水库", "Jinyun demo reservoir", "331122", 0.45e8, 120.20, 28.75, SYNTHETIC_NOTE, 1.0),
    Reservoir("遂昌示例水库", "Suichang demo reservoir", "331123", 0.75e8, 119.05, 28.45, SYNTHETIC_NOTE, 1.2),
    Reservoir("松阳示例水库", "Songyang demo reservoir", "331124", 0.28e8, 119.33, 28.36, SYNTHETIC_NOTE, 0.8),
    Reservoir("庆元示例水库", "Qingyuan demo reservoir", "331126", 0.22e8, 119.00, 27.56, SYNTHETIC_NOTE, 0.8),
    Reservoir("景宁示例水库", "Jingning demo reservoir", "331127", 0.18e8, 119.45, 27.87, SYNTHETIC_NOTE, 0.7),
    Reservoir("龙泉示例水库", "Longquan demo reservoir", "331181", 0.40e8, 118.93, 28.16, SYNTHETIC_NOTE, 1.0),
)
# fmt: on


# --------------------------------------------------------------------------------------------
# Pollutant loads and statistics
# --------------------------------------------------------------------------------------------

POLLUTANTS = ("cod", "nh3n", "tp", "so2", "nox", "dust")
POLLUTANT_COLUMNS = ("region_code", "pollutant", "load_t", "source")

_LOAD_PER_PERSON_T: dict[str, float] = {
    "cod": 0.0080,
    "nh3n": 0.00085,
    "tp": 0.00012,
    "so2": 0.0016,
    "nox": 0.0045,
    "dust": 0.0022,
}
"""Illustrative emissions per resident (t/(person·a)); a county's load = population × rate × a
county-specific factor between 0.8 and 1.2 (synthetic)."""

# fmt: off
STATISTICS_COLUMNS = (
    "region_code", "year", "gdp_yuan", "population", "agriculture_yuan", "forestry_yuan",
    "animal_husbandry_yuan", "fishery_yuan", "water_use_domestic_m3", "water_use_industrial_m3",
    "water_use_agricultural_m3", "hydropower_kwh", "tourism_visits", "tourism_revenue_yuan", "source",
)
# fmt: on

_CITY_TOTALS: dict[str, float] = {
    "gdp_yuan": 1540e8,
    "agriculture_yuan": 110e8,
    "forestry_yuan": 36e8,
    "animal_husbandry_yuan": 25e8,
    "fishery_yuan": 6e8,
    "water_use_domestic_m3": 1.3e8,
    "water_use_industrial_m3": 1.5e8,
    "water_use_agricultural_m3": 5.2e8,
    "hydropower_kwh": 85e8,
    "tourism_visits": 0.70e8,
    "tourism_revenue_yuan": 700e8,
}
"""Illustrative city totals for 2020-like magnitudes (synthetic; not official statistics).
Units as in the column names: yuan, m³, kWh, visits."""

_COUNTY_WEIGHTS: dict[str, dict[str, float]] = {
    # county: weights on top of population/economy for the primary sector, hydropower and tourism.
    "331102": {"agri": 0.9, "forest": 0.6, "hydro": 0.4, "tour": 1.3},
    "331121": {"agri": 0.8, "forest": 0.8, "hydro": 1.6, "tour": 0.8},
    "331122": {"agri": 1.1, "forest": 0.7, "hydro": 0.6, "tour": 1.2},
    "331123": {"agri": 1.0, "forest": 1.4, "hydro": 1.2, "tour": 1.1},
    "331124": {"agri": 1.4, "forest": 1.1, "hydro": 0.6, "tour": 1.0},
    "331125": {"agri": 0.9, "forest": 1.2, "hydro": 2.2, "tour": 1.2},
    "331126": {"agri": 1.2, "forest": 1.6, "hydro": 1.0, "tour": 0.9},
    "331127": {"agri": 1.0, "forest": 1.5, "hydro": 1.8, "tour": 1.0},
    "331181": {"agri": 1.1, "forest": 1.5, "hydro": 1.3, "tour": 1.0},
}


def _split(total: float, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` that sum exactly to round(total)
    (largest-remainder rounding)."""
    target = int(round(total))
    wsum = sum(weights)
    raw = [target * w / wsum for w in weights]
    parts = [int(v) for v in raw]
    rest = target - sum(parts)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - parts[i]), i))
    for i in order[:rest]:
        parts[i] += 1
    return parts


def statistics_rows(year: int) -> list[list[object]]:
    """Rows of ``statistics.csv``: one per county, then the city row, whose numbers are the county
    sums exactly."""
    pops = [c.population for c in COUNTIES]
    econ = [c.economy for c in COUNTIES]
    w = [_COUNTY_WEIGHTS[c.code] for c in COUNTIES]
    columns: dict[str, list[int]] = {"population": pops}
    columns["gdp_yuan"] = _split(_CITY_TOTALS["gdp_yuan"], econ)
    primary = [p * k["agri"] for p, k in zip(pops, w, strict=True)]
    columns["agriculture_yuan"] = _split(_CITY_TOTALS["agriculture_yuan"], primary)
    columns["forestry_yuan"] = _split(
        _CITY_TOTALS["forestry_yuan"], [p * k["forest"] for p, k in zip(pops, w, strict=True)]
    )
    columns["animal_husbandry_yuan"] = _split(_CITY_TOTALS["animal_husbandry_yuan"], primary)
    columns["fishery_yuan"] = _split(
        _CITY_TOTALS["fishery_yuan"], [p * k["hydro"] for p, k in zip(pops, w, strict=True)]
    )
    columns["water_use_domestic_m3"] = _split(_CITY_TOTALS["water_use_domestic_m3"], pops)
    columns["water_use_industrial_m3"] = _split(_CITY_TOTALS["water_use_industrial_m3"], econ)
    columns["water_use_agricultural_m3"] = _split(_CITY_TOTALS["water_use_agricultural_m3"], primary)
    columns["hydropower_kwh"] = _split(_CITY_TOTALS["hydropower_kwh"], [k["hydro"] for k in w])
    tour = [p**0.5 * k["tour"] for p, k in zip(pops, w, strict=True)]
    columns["tourism_visits"] = _split(_CITY_TOTALS["tourism_visits"], tour)
    spend = [t * (0.8 + c.economy) for t, c in zip(tour, COUNTIES, strict=True)]  # richer towns, more spent
    columns["tourism_revenue_yuan"] = _split(_CITY_TOTALS["tourism_revenue_yuan"], spend)
    value_columns = STATISTICS_COLUMNS[2:-1]
    rows: list[list[object]] = []
    for i, county in enumerate(COUNTIES):
        rows.append([county.code, year, *(columns[c][i] for c in value_columns), SYNTHETIC_NOTE])
    rows.append(
        [
            CITY_CODE,
            year,
            *(sum(columns[c]) for c in value_columns),
            SYNTHETIC_NOTE + "; city row = sum of the counties",
        ]
    )
    return rows


def pollutant_rows() -> list[list[object]]:
    """Rows of ``pollutant_loads.csv``: every county × pollutant, load in t/a (synthetic)."""
    rows: list[list[object]] = []
    for i, county in enumerate(COUNTIES):
        for j, pollutant in enumerate(POLLUTANTS):
            factor = 0.8 + 0.4 * (((i + 1) * 7 + (j + 1) * 3) % 11) / 10.0  # fixed 0.8..1.2 pattern
            load = county.population * _LOAD_PER_PERSON_T[pollutant] * factor
            rows.append([county.code, pollutant, round(load, 1), SYNTHETIC_NOTE])
    return rows


def reservoir_rows() -> list[list[object]]:
    return [[r.name, r.name_en, r.region_code, r.total_capacity_m3, r.lon, r.lat, r.source] for r in RESERVOIRS]


def landcover_rows() -> list[list[object]]:
    return [c.row() for c in LANDCOVER_CLASSES]


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _format(value: object) -> str:
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Write a UTF-8-with-BOM CSV to a temporary name in the same folder, then rename it to ``path``."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([_format(v) for v in row])
    os.replace(tmp, path)


def write_tables(directory: Path, year: int) -> dict[str, Path]:
    """Write the five CSV tables into ``directory``; returns table name -> path."""
    out = {
        "landcover_params": (LANDCOVER_COLUMNS + ("source",), landcover_rows()),
        "reservoirs": (RESERVOIR_COLUMNS, reservoir_rows()),
        "lakes": (LAKE_COLUMNS, []),
        "pollutant_loads": (POLLUTANT_COLUMNS, pollutant_rows()),
        "statistics": (STATISTICS_COLUMNS, statistics_rows(year)),
    }
    paths: dict[str, Path] = {}
    for name, (header, rows) in out.items():
        path = directory / f"{name}.csv"
        write_csv(path, header, rows)
        paths[name] = path
    return paths


TABLE_INFO: dict[str, dict[str, object]] = {
    "landcover_params": {
        "description": "Land-cover class table: codes, names, ecosystem type and per-class parameters",
        "unit": "per column, see the gep shared vocabulary",
        "synthetic": True,
        "source": "illustrative demo values; forest runoff coefficients and LY/T 1721-like uptake rates "
        "quoted from memory [unverified]",
    },
    "reservoirs": {
        "description": "Reservoirs with total capacity and a point on the water body",
        "unit": "total_capacity_m3: m3; lon/lat: degrees EPSG:4326",
        "synthetic": True,
        "source": "紧水滩 and 滩坑 capacities quoted from memory [unverified]; the other rows are synthetic",
    },
    "lakes": {
        "description": "Natural lakes (none of note in Lishui: header only)",
        "unit": "area_km2: km2",
        "synthetic": False,
        "source": "empty by design",
    },
    "pollutant_loads": {
        "description": "Emitted pollutant loads per county",
        "unit": "load_t: t/a",
        "synthetic": True,
        "source": SYNTHETIC_NOTE,
    },
    "statistics": {
        "description": "Statistical yearbook-like figures per county and for the city (city = sum)",
        "unit": "yuan, persons, m3, kWh, visits (see column names)",
        "synthetic": True,
        "source": SYNTHETIC_NOTE,
    },
}
