"""Soil retention (土壤保持): RUSLE potential minus actual erosion, valued at replacement cost.

Physical quantity (gep-methods §5 [S: Bo et al. 2017; V: Ganzi 2017]): per pixel

    Q = R × K × LS × (1 − C × P) × A_hm2          t/a
    R: rainfall erosivity, MJ·mm/(hm²·h·a); K: soil erodibility, t·hm²·h/(hm²·MJ·mm);
    LS: slope length-steepness (dimensionless, derived by the engine from ``dem``);
    C, P: class columns ``usle_c``, ``usle_p``; A_hm2: pixel area in hm².

Value (Ganzi 2017 eqs 4-5 [V]): V = V_sediment + V_N + V_P (+ V_K)
    sediment avoided (m³) = λ × Q / ρ, valued at dredging_cost (yuan/m³)
    nutrient i lost avoided (t) = Q × content_i, valued at price_i (yuan/t); K only when soil_k_content > 0

Water bodies and built-up land hold no erodible soil that an ecosystem retains, so they are left out
(0) by default: a water pixel with C = 0 would otherwise be credited with its whole potential
erosion. The option ``soil_retention_excluded_ecosystems`` changes the list [U: our reading; the
standards' text on this was not seen].
"""

from __future__ import annotations

import numpy as np

from gep.services.base import Component, LayerInput, ServiceContext, ServiceDeclaration, ServiceResult
from gep.services.checks import (
    FRACTION,
    check_class_columns,
    ecosystem_codes,
    nodata_note,
    raise_problems,
    require_layers,
)
from gep.services.kernels import class_member
from gep.units import M2_PER_HA

DECLARATION = ServiceDeclaration(
    item_id="soil_retention",
    unit="t",
    layers=(LayerInput("landcover"), LayerInput("rainfall_erosivity"), LayerInput("soil_erodibility")),
    class_columns=("usle_c", "usle_p"),
    parameters=(
        "sediment_deposition_coef",
        "soil_bulk_density",
        "dredging_cost",
        "soil_n_content",
        "soil_p_content",
        "soil_k_content",
        "n_price",
        "p_price",
        "k_price",
    ),
    components=(("sediment", "m3"), ("nitrogen", "t"), ("phosphorus", "t"), ("potassium", "t")),
    variants=("rusle",),
    derived_layers=("ls_factor",),
    whole_grid=False,
    valuation="replacement_cost",
    formula=("Q = R × K × LS × (1 − C × P) × A; V = λ × Q / ρ × c_dredge + Σ_{N,P(,K)} Q × content × price"),
)

ITEM = DECLARATION.item_id
EXCLUDED_ECOSYSTEMS = ("water", "urban")

_NUTRIENTS = (
    ("nitrogen", "soil_n_content", "n_price"),
    ("phosphorus", "soil_p_content", "p_price"),
    ("potassium", "soil_k_content", "k_price"),
)


def compute(ctx: ServiceContext) -> ServiceResult:
    """Soil retained per pixel (t/a) and its value (yuan): avoided sediment plus avoided nutrient loss."""
    layers = ["landcover", "rainfall_erosivity", "soil_erodibility", "ls_factor"]
    raise_problems(require_layers(ctx, ITEM, layers))
    raise_problems(check_class_columns(ctx, ITEM, {"usle_c": FRACTION, "usle_p": FRACTION}))

    erosivity = np.asarray(ctx.layers["rainfall_erosivity"], dtype=np.float64)
    erodibility = np.asarray(ctx.layers["soil_erodibility"], dtype=np.float64)
    ls = np.asarray(ctx.layers["ls_factor"], dtype=np.float64)
    c_factor = ctx.class_values("usle_c")
    p_factor = ctx.class_values("usle_p")
    rate = erosivity * erodibility * ls * (1.0 - c_factor * p_factor)  # t/(hm²·a)
    inside = np.asarray(ctx.inside, dtype=bool)
    valid = inside & np.isfinite(rate)
    retained = np.where(valid, rate * (ctx.pixel_area_m2 / M2_PER_HA), np.nan)
    excluded = tuple(ctx.options.get("soil_retention_excluded_ecosystems", EXCLUDED_ECOSYSTEMS))
    no_soil = class_member(np.asarray(ctx.layers["landcover"]), ecosystem_codes(ctx, excluded)) & valid
    retained[no_soil] = 0.0

    params = ctx.params
    sediment = params.value("sediment_deposition_coef") * retained / params.value("soil_bulk_density")
    components = [
        Component("sediment", "m3", sediment, sediment * params.value("dredging_cost"), "dredging_cost")
    ]
    used = ["sediment_deposition_coef", "soil_bulk_density", "dredging_cost"]
    notes: list[str] = [f"no soil retention on ecosystems {', '.join(excluded)} [U]"] if excluded else []
    for name, content_name, price_name in _NUTRIENTS:
        content = params.value(content_name)
        if name == "potassium" and content <= 0:
            notes.append("potassium not counted (soil_k_content = 0)")
            continue
        if name == "potassium" and params.value(price_name) == 0:
            notes.append("potassium counted at k_price = 0")
        mass = retained * content
        components.append(Component(name, "t", mass, mass * params.value(price_name), price_name))
        used += [content_name, price_name]
    value = sum((c.value_yuan for c in components), start=np.zeros(retained.shape))
    notes.extend(nodata_note(ctx, valid, "R, K, LS or a land-cover class"))
    return ServiceResult(
        item_id=ITEM,
        unit="t",
        physical=retained,
        value_yuan=value,
        components=tuple(components),
        parameters_used=tuple(used),
        notes=tuple(notes),
    )
