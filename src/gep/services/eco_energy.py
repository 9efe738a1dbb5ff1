"""Ecological energy (生态能源), market value method.

Value (gep-methods §3, Ganzi 2017 table 3 [V]):

    V = (E_hydro + E_other) × P          yuan/a

E_hydro is the hydropower generation (statistics column ``hydropower_kwh``, kWh/a), E_other other
renewable generation counted as ecological energy (optional column ``other_renewable_kwh``; an absent
column, blank cells and regions without a figure count 0) and P the on-grid price ``hydropower_price``
(0.53 yuan/kWh, Ganzi 2010 [V]), applied to both. The physical quantity is the generation in kWh, with the
two as components.

Generation is allocated to the region's water pixels (ecosystem ``water``) by the rule of
:mod:`gep.services.material`: hydropower comes from the water system; other renewables follow the same
weights for simplicity (an ``allocation_weights`` option can change them for the whole item).
"""

from __future__ import annotations

from gep.services.base import Component, ServiceContext, ServiceDeclaration, ServiceResult, TableInput
from gep.services.material import (
    STATISTICS,
    allocate_totals,
    check_landcover,
    ecosystem_weights,
    merged_regions,
    nan_total,
    raise_problems,
    statistics_figures,
    unique_notes,
)

HYDRO = "hydropower_kwh"
OTHER = "other_renewable_kwh"
PRICE = "hydropower_price"

DECLARATION = ServiceDeclaration(
    item_id="eco_energy",
    unit="kWh",
    tables=(TableInput(STATISTICS, ("region_code", "year", HYDRO)),),
    class_columns=("ecosystem",),
    parameters=(PRICE,),
    components=(("hydropower", "kWh"), ("other_renewable", "kWh")),
    whole_grid=True,
    valuation="market_value",
    formula=(
        "V = (hydropower_kwh + other_renewable_kwh) × hydropower_price (kWh × yuan/kWh); allocated to water pixels"
    ),
)

ITEM = DECLARATION.item_id


def compute(ctx: ServiceContext) -> ServiceResult:
    """Ecological energy generated per pixel (kWh/a) and its value (yuan)."""
    raise_problems(check_landcover(ctx, ITEM))
    figures, table_notes = statistics_figures(ctx, ITEM, [HYDRO], optional=[OTHER])
    weights, described, weight_notes = ecosystem_weights(ctx, ITEM)
    price = ctx.params.value(PRICE)
    hydro = allocate_totals(ctx, figures[HYDRO], weights, HYDRO)
    other = allocate_totals(ctx, figures[OTHER], weights, OTHER)
    # pixels without any other-renewable figure count 0 (optional column), not NaN
    other_values = nan_total([other.values, hydro.values * 0.0])
    components = (
        Component("hydropower", "kWh", hydro.values, hydro.values * price, PRICE),
        Component("other_renewable", "kWh", other_values, other_values * price, PRICE),
    )
    notes = [f"allocated to {described} pixels"]
    if OTHER not in ctx.tables[STATISTICS].columns:
        notes.append(f"no {OTHER} column; other renewables counted as 0")
    other_notes = [n for n in other.notes if "no figure for regions" not in n]
    return ServiceResult(
        item_id=ITEM,
        unit="kWh",
        physical=nan_total([c.physical for c in components]),
        value_yuan=nan_total([c.value_yuan for c in components]),
        components=components,
        parameters_used=(PRICE,),
        notes=unique_notes(notes, weight_notes, table_notes, hydro.notes, other_notes),
        extra={"allocated_regions": list(merged_regions([hydro, other]))},
    )
