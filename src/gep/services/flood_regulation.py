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
    landcover_codes,
    nodata_note,
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
    ctx: ServiceContext, table: pd.DataFrame, name: str, volumes: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """Add each row's volume (m³) to the pixel holding its (x, y); note the points left out."""
    inside = np.asarray(ctx.inside, dtype=bool)
    placed = np.zeros(inside.shape)
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
    return placed, notes


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
    codes = landcover_codes(ctx)
    has_class = inside & (codes >= 0)
    outside = np.where(inside, 0.0, np.nan)
    area = ctx.pixel_area_m2
    params = ctx.params
    notes: list[str] = []

    is_veg = has_class & np.isin(codes, veg_codes)
    storm = np.asarray(ctx.layers["storm_rainfall"], dtype=np.float64)
    alpha = ctx.class_values("storm_runoff_coefficient")
    held_mm = storm - storm * alpha
    vegetation = np.where(is_veg, held_mm * area * MM_TO_M, 0.0) + outside
    vegetation[inside & ~has_class] = np.nan

    is_marsh = has_class & np.isin(codes, ecosystem_codes(ctx, ("wetland",)))
    marshes = np.where(is_marsh, params.value("marsh_detention_depth") * area, 0.0) + outside
    marshes[inside & ~has_class] = np.nan

    reservoirs = outside.copy()
    if "reservoirs" in tables:
        table = tables["reservoirs"]
        volume = params.value("flood_reservoir_share") * pd.to_numeric(table["total_capacity_m3"]).to_numpy(
            float
        )
        placed, placed_notes = _place_points(ctx, table, "reservoirs", volume)
        reservoirs += placed
        notes += placed_notes
    lakes = outside.copy()
    if "lakes" in tables:
        table = tables["lakes"]
        area_km2 = pd.to_numeric(table["area_km2"]).to_numpy(float)
        a, b = params.value("lake_coef_a"), params.value("lake_coef_b")
        volume = np.where(area_km2 > 0, np.exp(a) * area_km2**b * WAN, 0.0)
        placed, placed_notes = _place_points(ctx, table, "lakes", volume)
        lakes += placed
        notes += placed_notes

    points = np.nan_to_num(reservoirs) + np.nan_to_num(lakes)
    physical = np.nan_to_num(vegetation) + np.nan_to_num(marshes) + points
    missing = inside & (np.isnan(vegetation) | np.isnan(marshes))
    physical[missing & (points == 0)] = np.nan
    physical[~inside] = np.nan

    price, used, price_notes = operating_cost_per_m3(ctx)
    notes += price_notes
    notes += nodata_note(
        ctx, np.isfinite(vegetation) & np.isfinite(marshes), "storm rainfall or a land-cover class"
    )
    notes.append(f"vegetation term on ecosystems {', '.join(vegetation_ecosystems)} [U]")
    components = tuple(
        Component(name, "m3", quantity, quantity * price, "reservoir_cost")
        for name, quantity in (
            ("vegetation", vegetation),
            ("reservoirs", reservoirs),
            ("lakes", lakes),
            ("marshes", marshes),
        )
    )
    return ServiceResult(
        item_id=ITEM,
        unit="m3",
        physical=physical,
        value_yuan=physical * price,
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
