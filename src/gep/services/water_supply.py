"""Water supply (水资源供给), market value method.

Value (gep-methods §3, Ganzi 2017 eq. 1 and table 3 [V]):

    V = Σ_i Q_i × P_i          yuan/a

Q_i is the water use of purpose i (domestic, industrial, agricultural; m³/a, statistics columns
``water_use_domestic_m3``, ``water_use_industrial_m3``, ``water_use_agricultural_m3``) and P_i its price
(parameters ``water_price_domestic`` 2.6, ``water_price_industrial`` 3.6, ``water_price_agricultural``
0.07 yuan/m³, Ganzi 2010 [V]). The physical quantity is Σ Q_i in m³, with one component per purpose.

Each purpose's volume is allocated to the region's water pixels (ecosystem ``water``) by the rule of
:mod:`gep.services.material`. Water supply overlaps with water conservation (the abstracted water is part
of the water conserved); the RCEES practice keeps both, and profiles may drop the item
(``include_water_supply``); the engine leaves the item out when a profile sets it false.
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

USES: tuple[tuple[str, str, str], ...] = (
    ("domestic", "water_use_domestic_m3", "water_price_domestic"),
    ("industrial", "water_use_industrial_m3", "water_price_industrial"),
    ("agricultural", "water_use_agricultural_m3", "water_price_agricultural"),
)
"""(component name, statistics column in m³/a, price parameter in yuan/m³) per purpose."""

DECLARATION = ServiceDeclaration(
    item_id="water_supply",
    unit="m3",
    tables=(TableInput(STATISTICS, ("region_code", "year", *(column for _, column, _ in USES))),),
    class_columns=("ecosystem",),
    parameters=tuple(price for _, _, price in USES),
    components=tuple((name, "m3") for name, _, _ in USES),
    whole_grid=True,
    valuation="market_value",
    formula=(
        "V = Σ_i Q_i × P_i over domestic, industrial and agricultural water use (m³ × yuan/m³); allocated to "
        "water pixels; overlaps with water conservation (RCEES keeps both; include_water_supply = false drops it)"
    ),
)

ITEM = DECLARATION.item_id


def compute(ctx: ServiceContext) -> ServiceResult:
    """Water supplied per pixel (m³/a, with components per purpose) and its value (yuan)."""
    raise_problems(check_landcover(ctx, ITEM))
    figures, table_notes = statistics_figures(ctx, ITEM, [column for _, column, _ in USES])
    weights, described, weight_notes = ecosystem_weights(ctx, ITEM)
    components = []
    allocations = []
    for name, column, price_name in USES:
        allocation = allocate_totals(ctx, figures[column], weights, column)
        allocations.append(allocation)
        price = ctx.params.value(price_name)
        components.append(Component(name, "m3", allocation.values, allocation.values * price, price_name))
    notes = [f"allocated to {described} pixels"]
    return ServiceResult(
        item_id=ITEM,
        unit="m3",
        physical=nan_total([c.physical for c in components]),
        value_yuan=nan_total([c.value_yuan for c in components]),
        components=tuple(components),
        parameters_used=DECLARATION.parameters,
        notes=unique_notes(notes, weight_notes, table_notes, *(a.notes for a in allocations)),
        extra={"allocated_regions": list(merged_regions(allocations))},
    )
