"""Flood regulation (洪水调蓄): storm water held by vegetation, reservoirs, lakes and marshes, valued at
reservoir construction cost.

Physical quantity (gep-methods §7, Ganzi 2017 eqs 7-10), m³/a:
- vegetation [U]: (P_storm − P_storm × α_storm) × A × 1e-3 on pixels of ecosystems ``forest``, ``shrub``,
  ``grassland`` (the natural vegetation of the MEE guide's 植被洪水调蓄 as recalled; cropland, wetland,
  water, urban and bare are excluded by default; a profile may set the option
  ``flood_vegetation_ecosystems`` to another list). α_storm = class column ``storm_runoff_coefficient``.
- reservoirs [V]: flood_reservoir_share (0.35) × total capacity, placed on the pixel holding (x, y).
- lakes (Rao et al. 2014): e^a × A_km2^b 万m³ (× 1e4 -> m³), placed on the pixel holding (x, y); the default
  (a, b) is the eastern-plain pair, recalled from memory [U]; Ganzi's plateau pair is [V].
- marshes [V]: marsh_detention_depth (0.3 m) × area, on pixels of ecosystem ``wetland``.
Value [V]: V = Σ × reservoir_cost (+ reservoir_operating_cost with ``include_reservoir_operating_cost``, [U]).
Reservoirs or lakes whose point falls outside the grid or outside every region are left out, with a note.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit

from gep.problems import Problem
from gep.services.base import (
    Component,
    LayerInput,
    ServiceContext,
    ServiceDeclaration,
    ServiceResult,
    TableInput,
)
from gep.services.checks import (
    ECOSYSTEMS,
    FRACTION,
    check_class_rows,
    check_class_values,
    check_ecosystem_column,
    check_table_columns,
    check_table_numbers,
    ecosystem_codes,
    landcover_ints,
    missing_note,
    raise_problems,
    region_code_text,
    require_layers,
    unknown_choice,
)
from gep.services.water_conservation import operating_cost_per_m3
from gep.units import MM_TO_M, WAN

DECLARATION = ServiceDeclaration(
    item_id="flood_regulation",
    unit="m3",
    layers=(LayerInput("landcover"), LayerInput("storm_rainfall")),
    class_columns=("ecosystem", "storm_runoff_coefficient"),
    tables=(
        TableInput("reservoirs", ("name", "region_code", "total_capacity_m3", "lon", "lat"), required=False),
        TableInput("lakes", ("name", "region_code", "area_km2", "lon", "lat"), required=False),
    ),
    parameters=(
        "flood_reservoir_share",
        "lake_coef_a",
        "lake_coef_b",
        "marsh_detention_depth",
        "reservoir_cost",
        "reservoir_operating_cost",
    ),
    components=(("vegetation", "m3"), ("reservoirs", "m3"), ("lakes", "m3"), ("marshes", "m3")),
    whole_grid=True,
    valuation="shadow_engineering",
    formula=(
        "C = vegetation (P_storm − P_storm × α) × A [U] + 0.35 × reservoir capacity + lakes e^a × A^b 万m³ "
        "[a, b U] + marshes 0.3 m × A; V = C × reservoir_cost"
    ),
)

ITEM = DECLARATION.item_id
VEGETATION_ECOSYSTEMS: tuple[str, ...] = ("forest", "shrub", "grassland")
"""Ecosystems whose storm detention is counted by default (MEE guide as recalled, [U])."""

_POINT_COLUMNS = {
    "reservoirs": ("name", "total_capacity_m3", "x", "y"),
    "lakes": ("name", "area_km2", "x", "y"),
}


def _vegetation_ecosystems(ctx: ServiceContext) -> tuple[str, ...]:
    chosen = ctx.options.get("flood_vegetation_ecosystems", VEGETATION_ECOSYSTEMS)
    names = (chosen,) if isinstance(chosen, str) else tuple(str(e) for e in chosen)  # type: ignore[union-attr]
    bad = [e for e in names if e not in ECOSYSTEMS]
    if bad:
        raise_problems([unknown_choice(ITEM, "flood_vegetation_ecosystems", ", ".join(bad), ECOSYSTEMS)])
    return names


def _place_points(
    ctx: ServiceContext, table: pd.DataFrame, name: str, volumes: np.ndarray, placed: np.ndarray
) -> list[str]:
    """Add each row's volume (m³) to ``placed`` (in place) at the pixel holding its (x, y); return notes on
    the points left out."""
    inside = np.asarray(ctx.inside, dtype=bool)
    notes: list[str] = []
    if len(table) and ctx.transform is None:
        raise ValueError(f"ctx.transform is needed to place the {name} points")
    inverse = ~ctx.transform if len(table) else None
    rows, cols = inside.shape
    for row in range(len(table)):
        label = str(table["name"].iloc[row])
        x, y = float(table["x"].iloc[row]), float(table["y"].iloc[row])
        col_f, row_f = inverse @ (x, y)  # type: ignore[operator]
        r, c = int(np.floor(row_f)), int(np.floor(col_f))
        if not (0 <= r < rows and 0 <= c < cols):
            notes.append(
                f"{name}: {label!r} at ({x:g}, {y:g}) is outside the grid; {volumes[row]:g} m3 not counted"
            )
            continue
        unit = int(np.asarray(ctx.unit_index)[r, c])
        if unit < 0 or not inside[r, c]:
            notes.append(
                f"{name}: {label!r} at ({x:g}, {y:g}) is outside every region; "
                f"{volumes[row]:g} m3 not counted"
            )
            continue
        placed[r, c] += volumes[row]
        if "region_code" in table.columns:
            listed = region_code_text(table["region_code"].iloc[row])
            found = ctx.unit_codes[unit]
            if listed in ctx.region_units and unit not in ctx.region_units[listed]:
                notes.append(f"{name}: {label!r} is listed under region {listed} but lies in region {found}")
    return notes


def _point_tables(ctx: ServiceContext) -> dict[str, pd.DataFrame]:
    """The reservoirs and lakes tables present, checked (columns, numbers)."""
    tables = {n: ctx.tables[n] for n in _POINT_COLUMNS if ctx.tables.get(n) is not None}
    problems: list[Problem] = []
    for name, table in tables.items():
        problems += check_table_columns(table, name, _POINT_COLUMNS[name])
    raise_problems(problems)
    for name, table in tables.items():
        quantity = _POINT_COLUMNS[name][1]
        problems += check_table_numbers(table, name, quantity, non_negative=True)
        problems += check_table_numbers(table, name, "x")
        problems += check_table_numbers(table, name, "y")
    raise_problems(problems)
    return tables


def compute(ctx: ServiceContext) -> ServiceResult:
    """Storm water regulated per pixel (m³/a) by component, and its value (yuan)."""
    raise_problems(require_layers(ctx, ITEM, ["landcover", "storm_rainfall"]))
    raise_problems(check_class_rows(ctx, ITEM, DECLARATION.class_columns) + check_ecosystem_column(ctx, ITEM))
    vegetation_ecosystems = _vegetation_ecosystems(ctx)
    veg_codes = ecosystem_codes(ctx, vegetation_ecosystems)
    raise_problems(check_class_values(ctx, ITEM, {"storm_runoff_coefficient": FRACTION}, codes=veg_codes))
    tables = _point_tables(ctx)

    inside = np.asarray(ctx.inside, dtype=bool)
    area = ctx.pixel_area_m2
    params = ctx.params
    notes: list[str] = []

    # reservoirs and lakes: 0 inside the account (NaN outside) plus the volumes of their points
    outside = np.where(inside, 0.0, np.nan)
    reservoirs = outside
    if "reservoirs" in tables:
        table = tables["reservoirs"]
        volume = params.value("flood_reservoir_share") * pd.to_numeric(table["total_capacity_m3"]).to_numpy(
            float
        )
        reservoirs = outside.copy()
        notes += _place_points(ctx, table, "reservoirs", volume, reservoirs)
    lakes = outside
    if "lakes" in tables:
        table = tables["lakes"]
        area_km2 = pd.to_numeric(table["area_km2"]).to_numpy(float)
        a, b = params.value("lake_coef_a"), params.value("lake_coef_b")
        volume = np.where(area_km2 > 0, np.exp(a) * area_km2**b * WAN, 0.0)
        lakes = outside.copy()
        notes += _place_points(ctx, table, "lakes", volume, lakes)
    if reservoirs is outside and lakes is outside:
        reservoirs = outside.copy()  # each component owns its array

    codes = landcover_ints(ctx)
    members = [np.asarray(veg_codes, dtype=np.int64), np.asarray(ecosystem_codes(ctx, ("wetland",)), dtype=np.int64)]
    size = max([int(m.max()) + 1 for m in members if m.size] + [1])
    is_veg, is_marsh = np.zeros(size, dtype=np.bool_), np.zeros(size, dtype=np.bool_)
    is_veg[members[0]] = True
    is_marsh[members[1]] = True
    storm = np.asarray(ctx.layers["storm_rainfall"], dtype=np.float64)
    alpha = ctx.class_values("storm_runoff_coefficient")
    price, used, price_notes = operating_cost_per_m3(ctx)
    out = {name: np.empty(inside.shape) for name in ("vegetation", "marshes", "physical")}
    worth = {name: np.empty(inside.shape) for name in ("vegetation", "marshes", "physical")}
    missing = _flood_pixels(
        *(_flat(a) for a in (inside, codes)),
        is_veg,
        is_marsh,
        *(_flat(a) for a in (storm, alpha)),
        float(area),
        float(params.value("marsh_detention_depth") * area),
        *(_flat(a) for a in (reservoirs, lakes)),
        float(price),
        *(a.reshape(-1) for a in out.values()),
        *(a.reshape(-1) for a in worth.values()),
    )
    vegetation, marshes, physical = out["vegetation"], out["marshes"], out["physical"]
    notes += price_notes
    notes += missing_note(missing, "storm rainfall or a land-cover class")
    notes.append(f"vegetation term on ecosystems {', '.join(vegetation_ecosystems)} [U]")
    components = (
        Component("vegetation", "m3", vegetation, worth["vegetation"], "reservoir_cost"),
        Component("reservoirs", "m3", reservoirs, reservoirs * price, "reservoir_cost"),
        Component("lakes", "m3", lakes, lakes * price, "reservoir_cost"),
        Component("marshes", "m3", marshes, worth["marshes"], "reservoir_cost"),
    )
    return ServiceResult(
        item_id=ITEM,
        unit="m3",
        physical=physical,
        value_yuan=worth["physical"],
        components=components,
        parameters_used=(
            "flood_reservoir_share",
            "lake_coef_a",
            "lake_coef_b",
            "marsh_detention_depth",
            *used,
        ),
        notes=tuple(notes),
    )


def _flat(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array).reshape(-1)


_LARGEST = float(np.finfo(np.float64).max)


@njit(cache=True, nogil=True)
def _finite(v: float) -> float:  # pragma: no cover - compiled
    """``np.nan_to_num`` of one number: NaN -> 0, ±inf -> ±largest float."""
    if np.isnan(v):
        return 0.0
    if np.isinf(v):
        return _LARGEST if v > 0 else -_LARGEST
    return v


@njit(cache=True, nogil=True)
def _flood_pixels(
    inside, codes, is_veg, is_marsh, storm, alpha, area, marsh_volume, reservoirs, lakes, price,
    vegetation, marshes, physical, vegetation_value, marshes_value, physical_value,
):  # pragma: no cover - compiled
    """Vegetation and marsh terms, their sum with the point volumes, and the values (× price), per pixel
    in one pass, as the array form (``np.where`` ... ``+ outside``, ``np.nan_to_num``) computes them; returns
    the number of pixels inside the account whose vegetation or marsh term is not finite."""
    n = is_veg.size
    missing = 0
    for i in range(inside.size):
        if not inside[i]:
            veg = np.nan
            marsh = np.nan
            total = np.nan
        else:
            c = codes[i]
            if c < 0:
                veg = np.nan
                marsh = np.nan
            else:
                veg = 0.0
                marsh = 0.0
                if c < n and is_veg[c]:
                    s = storm[i]
                    veg = (s - s * alpha[i]) * area * MM_TO_M
                if c < n and is_marsh[c]:
                    marsh = marsh_volume
                veg = veg + 0.0  # + "outside" (0 inside the account), as the array form does
                marsh = marsh + 0.0
            points = _finite(reservoirs[i]) + _finite(lakes[i])
            total = _finite(veg) + _finite(marsh) + points
            if not (np.isfinite(veg) and np.isfinite(marsh)):
                missing += 1
            if (np.isnan(veg) or np.isnan(marsh)) and points == 0:
                total = np.nan
        vegetation[i] = veg
        marshes[i] = marsh
        physical[i] = total
        vegetation_value[i] = veg * price
        marshes_value[i] = marsh * price
        physical_value[i] = total * price
    return missing
