"""Water conservation (水源涵养), water-balance method, valued at reservoir construction cost.

Physical quantity (gep-methods §4, Ganzi 2017 eq. 3 [V]): per pixel

    Q = (P − R − ET) × A × 1e-3        m³/a   (P, R, ET in mm/a, A in m²)
    R = P × α                          α = class column ``runoff_coefficient`` (the R = P × α form is [U])

Value (eq. 4 [V]): V = Q × reservoir_cost, plus ``reservoir_operating_cost`` when the profile option
``include_reservoir_operating_cost`` is true (the NDRC 2022 form, [U]).

Choices:
- The balance applies to every ecosystem, water and urban included, as in Ganzi's Σ over all ecosystem
  types. Where the optional ``water_evaporation`` layer is given, pixels of ecosystem ``water`` use it as
  their ET (actual-ET products such as MOD16 have no data over open water); elsewhere ET is used.
- Negative balances (ET + R > P) are kept negative, never clipped; a note gives their count and total.
- Pixels outside the account, or inside without data, are NaN (with a note counting the latter).
"""

from __future__ import annotations

import numpy as np

from gep.services.base import LayerInput, ServiceContext, ServiceDeclaration, ServiceResult
from gep.services.pollutant_caps import (
    check_class_columns,
    check_ecosystem_column,
    check_layers,
    landcover_codes,
    nodata_note,
    operating_cost_per_m3,
    raise_problems,
)
from gep.units import MM_TO_M

DECLARATION = ServiceDeclaration(
    item_id="water_conservation",
    unit="m3",
    layers=(
        LayerInput("landcover"),
        LayerInput("precipitation"),
        LayerInput("evapotranspiration"),
        LayerInput("water_evaporation", required=False),
    ),
    class_columns=("runoff_coefficient", "ecosystem"),
    parameters=("reservoir_cost", "reservoir_operating_cost"),
    variants=("water_balance",),
    whole_grid=False,
    valuation="shadow_engineering",
    formula=(
        "Q = (P − P × α − ET) × A × 1e-3 (R = P × α is [U]); negative balances kept; "
        "V = Q × reservoir_cost (+ reservoir_operating_cost, NDRC form [U])"
    ),
)

ITEM = DECLARATION.item_id


def compute(ctx: ServiceContext) -> ServiceResult:
    """Water conserved per pixel (m³/a, may be negative) and its value (yuan)."""
    raise_problems(check_layers(ctx, ["landcover", "precipitation", "evapotranspiration"], ITEM))
    use_water_evaporation = "water_evaporation" in ctx.layers
    problems = check_class_columns(ctx, ITEM, {"runoff_coefficient": (0.0, 1.0)})
    if use_water_evaporation and not problems:
        problems += check_ecosystem_column(ctx, ITEM)
    raise_problems(problems)

    precipitation = np.asarray(ctx.layers["precipitation"], dtype=np.float64)
    et = np.asarray(ctx.layers["evapotranspiration"], dtype=np.float64)
    notes: list[str] = []
    if use_water_evaporation:
        water_codes = ctx.classes.index[ctx.classes["ecosystem"] == "water"]
        is_water = np.isin(landcover_codes(ctx), np.asarray(water_codes, dtype=np.int64))
        evaporation = np.asarray(ctx.layers["water_evaporation"], dtype=np.float64)
        use = is_water & np.isfinite(evaporation)
        et = np.where(use, evaporation, et)
        notes.append(
            f"open-water evaporation used as ET on {int(np.count_nonzero(use & ctx.inside))} water pixels"
        )
    alpha = ctx.class_values("runoff_coefficient")
    runoff = precipitation * alpha
    balance_mm = precipitation - runoff - et
    inside = np.asarray(ctx.inside, dtype=bool)
    valid = inside & np.isfinite(balance_mm)
    physical = np.where(valid, balance_mm * ctx.pixel_area_m2 * MM_TO_M, np.nan)

    negative = valid & (physical < 0)
    if negative.any():
        notes.append(
            f"negative water balance in {int(np.count_nonzero(negative))} pixels, total "
            f"{float(physical[negative].sum()):g} m3 (kept, not clipped)"
        )
    notes.extend(nodata_note(ctx, valid, "precipitation, evapotranspiration or a land-cover class"))
    price, used, price_notes = operating_cost_per_m3(ctx)
    notes.extend(price_notes)
    return ServiceResult(
        item_id=ITEM,
        unit="m3",
        physical=physical,
        value_yuan=physical * price,
        parameters_used=used,
        notes=tuple(notes),
    )
