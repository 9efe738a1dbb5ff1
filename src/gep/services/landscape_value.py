"""Landscape value (景观价值), hedonic pricing.

Value (gep-methods §16 [U]):

    V = A_l × P_l          yuan

A_l is the floor area (m²) of the properties that benefit from an ecosystem landscape: the rows of the
``properties`` table (``region_code``, ``floor_area_m2``, ``distance_m`` = distance to the nearest
green or blue space) whose distance is at most ``landscape_distance_m`` (500 m by default [U]). P_l is the
hedonic price premium ``landscape_premium_yuan_per_m2`` (yuan/m², [U]; replace with a local hedonic
regression). The physical quantity is A_l in m².

Each row is one property, so the table is additive: a region's floor area (its own rows) is spread over
all of its green and blue pixels (forest, shrub, grassland, wetland, water), descendants included; the
landscape provides the amenity, so the value is placed on it, not on the buildings.
"""

from __future__ import annotations

from gep.services.base import ServiceContext, ServiceDeclaration, ServiceResult, TableInput
from gep.services.material import (
    check_landcover,
    ecosystem_weights,
    raise_problems,
    read_rows,
    select_year,
    spread_additive,
    unique_notes,
)

PROPERTIES = "properties"
PRICE = "landscape_premium_yuan_per_m2"
DISTANCE = "landscape_distance_m"

DECLARATION = ServiceDeclaration(
    item_id="landscape_value",
    unit="m2",
    tables=(TableInput(PROPERTIES, ("region_code", "floor_area_m2", "distance_m"), required=True),),
    class_columns=("ecosystem",),
    parameters=(PRICE, DISTANCE),
    whole_grid=True,
    valuation="hedonic_pricing",
    formula=(
        "V = A_l × P_l: A_l = Σ floor_area_m2 of properties with distance_m ≤ landscape_distance_m [U], "
        "P_l = landscape_premium_yuan_per_m2 [U]; spread over the region's green and blue pixels"
    ),
)

ITEM = DECLARATION.item_id


def compute(ctx: ServiceContext) -> ServiceResult:
    """Floor area benefiting from landscapes per pixel (m²) and its value (yuan)."""
    raise_problems(check_landcover(ctx, ITEM))
    rows = read_rows(ctx, PROPERTIES, ITEM, ("floor_area_m2", "distance_m"))
    rows, year_notes = select_year(ctx, PROPERTIES, rows)
    threshold = ctx.params.value(DISTANCE)
    usable = rows["floor_area_m2"].notna() & rows["distance_m"].notna()
    near = usable & (rows["distance_m"] <= threshold)
    areas = rows.loc[near, "floor_area_m2"].groupby(rows.loc[near, "region_code"]).sum()
    weights, described, weight_notes = ecosystem_weights(ctx, ITEM)
    allocation = spread_additive(ctx, {str(c): float(v) for c, v in areas.items()}, weights, "floor_area_m2")
    price = ctx.params.value(PRICE)
    notes = [
        f"{int(near.sum())} of {len(rows)} properties within {threshold:g} m of green or blue space; "
        f"spread over {described} pixels"
    ]
    if (~usable).any():
        notes.append(f"{int((~usable).sum())} properties lack floor_area_m2 or distance_m; not counted")
    return ServiceResult(
        item_id=ITEM,
        unit="m2",
        physical=allocation.values,
        value_yuan=allocation.values * price,
        parameters_used=(PRICE, DISTANCE),
        notes=unique_notes(notes, weight_notes, year_notes, allocation.notes),
    )
