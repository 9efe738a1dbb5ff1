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
from gep.services.checks import (
    FRACTION,
    check_class_rows,
    check_class_values,
    check_ecosystem_column,
    class_mask,
    ecosystem_codes,
    nodata_note,
    raise_problems,
    require_layers,
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


def operating_cost_per_m3(ctx: ServiceContext) -> tuple[float, tuple[str, ...], list[str]]:
    """Reservoir cost per m³ (yuan), the price of water conservation and flood regulation:
    ``reservoir_cost``, plus ``reservoir_operating_cost`` when the profile option
    ``include_reservoir_operating_cost`` is true. Returns (price, parameters used, notes)."""
    price = ctx.params.value("reservoir_cost")
    if not ctx.options.get("include_reservoir_operating_cost", False):
        return price, ("reservoir_cost",), []
    operating = ctx.params.value("reservoir_operating_cost")
    notes = [
        f"reservoir operating cost {operating:g} yuan/m3 added to the construction cost {price:g} yuan/m3"
    ]
    if operating == 0:
        notes.append("include_reservoir_operating_cost is set but reservoir_operating_cost is 0")
    return price + operating, ("reservoir_cost", "reservoir_operating_cost"), notes


def compute(ctx: ServiceContext) -> ServiceResult:
    """Water conserved per pixel (m³/a, may be negative) and its value (yuan)."""
    raise_problems(require_layers(ctx, ITEM, ["landcover", "precipitation", "evapotranspiration"]))
    use_water_evaporation = "water_evaporation" in ctx.layers
    columns = ["runoff_coefficient", "ecosystem"] if use_water_evaporation else ["runoff_coefficient"]
    problems = check_class_rows(ctx, ITEM, columns)
    problems += check_class_values(ctx, ITEM, {"runoff_coefficient": FRACTION})
    if use_water_evaporation:
        problems += check_ecosystem_column(ctx, ITEM)
    raise_problems(problems)

    precipitation = np.asarray(ctx.layers["precipitation"], dtype=np.float64)
    et = np.asarray(ctx.layers["evapotranspiration"], dtype=np.float64)
    notes: list[str] = []
    if use_water_evaporation:
        is_water = class_mask(ctx, ecosystem_codes(ctx, ("water",)))
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
