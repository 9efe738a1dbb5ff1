"""Pest control (病虫害控制), prevention cost (methods doc §14) [V: Ganzi 2017 §2.4.9, table 3].

Area of forest and grassland that resists pests or recovers by itself, times the cost of manual pest
control per unit area. Per pixel::

    Q = share × S / 1e4                         hm² (m² / 1e4 m²/hm²)
    V = Q × pest_cost_forest      on forest     (375 yuan/hm² [V: Ganzi 2017])
    V = Q × pest_cost_grassland   on grassland  (112.5 yuan/hm² [V: Ganzi 2017])

share is the class column ``pest_control_share`` (0-1), needed only for classes whose ``ecosystem``
is forest or grassland; every other ecosystem (shrub included, as in Ganzi) gives 0. Components
``forest`` and ``grassland`` (hm²) split the quantity and the value.
"""

from __future__ import annotations

import numpy as np

from gep.services import checks
from gep.services.base import Component, LayerInput, ServiceContext, ServiceDeclaration, ServiceResult
from gep.services.kernels import class_member
from gep.units import M2_PER_HA

COSTS = (("forest", "pest_cost_forest"), ("grassland", "pest_cost_grassland"))
"""(ecosystem, parameter with its cost per hm²)."""

DECLARATION = ServiceDeclaration(
    item_id="pest_control",
    unit="hm2",
    layers=(LayerInput("landcover"),),
    class_columns=("ecosystem", "pest_control_share"),
    parameters=tuple(name for _, name in COSTS),
    components=tuple((eco, "hm2") for eco, _ in COSTS),
    valuation="prevention_cost",
    formula="Q = pest_control_share × area (forest, grassland); V = Q × pest_cost_forest | pest_cost_grassland",
)


def compute(ctx: ServiceContext) -> ServiceResult:
    """Pest-resistant area (hm² per pixel) and value (yuan per pixel); see the module docstring."""
    item = DECLARATION.item_id
    checks.pick_variant(ctx, DECLARATION)
    checks.raise_problems(checks.require_layers(ctx, item, ("landcover",)))
    problems = checks.check_class_rows(ctx, item, DECLARATION.class_columns)
    problems += checks.check_ecosystem_column(ctx, item)
    masks_codes = [checks.ecosystem_codes(ctx, (eco,)) for eco, _ in COSTS]
    present = checks.present_classes(ctx)
    needed = [int(c) for codes in masks_codes for c in codes if int(c) in present]
    problems += checks.check_class_values(ctx, item, {"pest_control_share": checks.FRACTION}, needed)
    problems += checks.check_parameters(ctx, item, DECLARATION.parameters)
    checks.raise_problems(problems)

    landcover = np.asarray(ctx.layers["landcover"])
    share = ctx.class_values("pest_control_share") if needed else np.zeros(landcover.shape)
    hectares = ctx.pixel_area_m2 / M2_PER_HA
    nodata = checks.landcover_nodata(ctx)
    components = []
    for (ecosystem, price_name), codes in zip(COSTS, masks_codes, strict=True):
        area = np.where(class_member(landcover, codes), share * hectares, 0.0)
        area = checks.inside_only(ctx, np.where(nodata, np.nan, area))
        value = area * ctx.params.value(price_name)
        components.append(Component(ecosystem, "hm2", area, value, price_name))
    physical = sum(c.physical for c in components)
    value = sum(c.value_yuan for c in components)
    return ServiceResult(
        item_id=item,
        unit=DECLARATION.unit,
        physical=physical,
        value_yuan=value,
        components=tuple(components),
        parameters_used=DECLARATION.parameters,
        notes=tuple(checks.nodata_note(ctx, ~np.isnan(physical))),
    )
