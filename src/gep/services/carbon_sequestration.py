"""Carbon sequestration (固碳): CO2 fixed by ecosystems in the year, valued at a carbon price.

Physical quantity (methods doc §10), per pixel, in t CO2/a:

- ``nep`` (default) [S: Bo et al. 2017; Ganzi 2017]: ``Q_CO2 = 44/12 × NEP × area``, NEP from the
  ``nep`` layer in g C/(m²·a): g C/m² × m² = g C; × 1e-6 = t C; × 44/12 = t CO2. Pixels with NEP < 0
  are carbon sources: they stay negative (an ecosystem that emits is not clipped to zero) and a note
  counts them.
- ``rate`` [U: MEE guide / 2022 规范 style]: ``Q_CO2 = 44/12 × carbon_rate × area``, carbon_rate from
  the class table in t C/(hm²·a) × pixel area in hm². The class rate stands for the whole ecosystem
  (vegetation and soil, i.e. the guide's FCSR × (1 + β), GSR, SCSR_i folded into one number per class).

Price basis. A carbon price is quoted either per t CO2 or per t C (× 44/12 = 3.667 apart), so the
basis is carried by the parameter's unit, never guessed:

- ``carbon_price`` (yuan/t CO2, default 380 [V: Ganzi 2017, applied to 0.31 亿t "固碳(CO2)"]);
- ``carbon_price_per_c`` (yuan/t C, default 0 = unset). When it is set > 0 it replaces
  ``carbon_price``: ``V = Q_C × carbon_price_per_c`` (e.g. 1320 yuan/t C, Baiyangdian [V]); a note says
  so. Both are never added.

The result's main quantity is t CO2, with one component ``carbon`` in t C carrying the same value.
Input checks are those of :mod:`gep.services.checks`, shared by all regulating services.
"""

from __future__ import annotations

import numpy as np

from gep.services import checks
from gep.services.base import Component, LayerInput, ServiceContext, ServiceDeclaration, ServiceResult
from gep.units import CO2_PER_C, M2_PER_HA, T_PER_G

"""Tonnes per gram (NEP/NPP layers are in g C/m²)."""

DECLARATION = ServiceDeclaration(
    item_id="carbon_sequestration",
    unit="t CO2",
    layers=(LayerInput("nep", required=False), LayerInput("landcover", required=False)),
    class_columns=("carbon_rate",),
    parameters=("carbon_price", "carbon_price_per_c"),
    components=(("carbon", "t C"),),
    variants=("nep", "rate"),
    valuation="afforestation_cost",
    formula=(
        "Q_CO2 = 44/12 × NEP × area (nep) or 44/12 × carbon_rate × area (rate, [U]); "
        "V = Q_CO2 × carbon_price [yuan/t CO2], or Q_C × carbon_price_per_c [yuan/t C] when that is > 0"
    ),
)

_VARIANT_LAYERS = {"nep": ("nep",), "rate": ("landcover",)}


def carbon_tonnes(ctx: ServiceContext, variant: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Net carbon fixed per pixel in t C/a for ``variant`` ("nep" or "rate"), and notes.

    Raises GepInputError when a layer or a class value the variant needs is missing. Pixels outside
    ``ctx.inside`` are NaN.
    """
    item = DECLARATION.item_id
    problems = checks.require_layers(ctx, item, _VARIANT_LAYERS[variant], variant)
    checks.raise_problems(problems)
    if variant == "nep":
        nep = np.asarray(ctx.layers["nep"], dtype=np.float64)
        tonnes_c = nep * ctx.pixel_area_m2 * T_PER_G
    else:
        checks.raise_problems(checks.check_class_columns(ctx, item, {"carbon_rate": None}))
        rate = ctx.class_values("carbon_rate")  # t C/(hm²·a)
        tonnes_c = rate * (ctx.pixel_area_m2 / M2_PER_HA)
    tonnes_c = checks.inside_only(ctx, tonnes_c)
    return tonnes_c, _source_note(tonnes_c, variant)


def _source_note(tonnes_c: np.ndarray, variant: str) -> tuple[str, ...]:
    negative = tonnes_c < 0  # NaN compares False
    count = int(np.count_nonzero(negative))
    if count == 0:
        return ()
    what = "NEP < 0" if variant == "nep" else "carbon_rate < 0"
    total = float(tonnes_c[negative].sum() * CO2_PER_C)
    return (f"{what} in {count} pixels (carbon sources): kept negative, {total:.6g} t CO2 in total",)


def compute(ctx: ServiceContext) -> ServiceResult:
    """CO2 fixed (t CO2 per pixel) and its value (yuan per pixel); see the module docstring."""
    variant = checks.pick_variant(ctx, DECLARATION)
    tonnes_c, notes = carbon_tonnes(ctx, variant)
    tonnes_co2 = tonnes_c * CO2_PER_C

    has_per_c = "carbon_price_per_c" in ctx.params
    per_c = ctx.params.value("carbon_price_per_c") if has_per_c else 0.0
    names = ["carbon_price_per_c"] if per_c > 0 else ["carbon_price"]
    checked = names + (["carbon_price_per_c"] if has_per_c and names[0] != "carbon_price_per_c" else [])
    checks.raise_problems(checks.check_parameters(ctx, DECLARATION.item_id, checked))
    if per_c > 0:
        value = tonnes_c * per_c
        price_name = "carbon_price_per_c"
        notes += (f"valued per t C: carbon_price_per_c = {per_c:g} yuan/t C (carbon_price not used)",)
    else:
        value = tonnes_co2 * ctx.params.value("carbon_price")
        price_name = "carbon_price"
    component = Component("carbon", "t C", tonnes_c, value, price_name)
    return ServiceResult(
        item_id=DECLARATION.item_id,
        unit=DECLARATION.unit,
        physical=tonnes_co2,
        value_yuan=value,
        components=(component,),
        parameters_used=(price_name,),
        notes=(f"variant {variant}", *notes, *checks.nodata_note(ctx, ~np.isnan(tonnes_co2))),
    )
