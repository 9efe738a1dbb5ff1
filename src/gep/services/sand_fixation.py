"""Wind-break and sand fixation (防风固沙), replacement cost (methods doc §6) [V: Ganzi 2017 eq. 6].

Physical quantity: RWEQ potential minus actual wind erosion, per pixel::

    Q = (wind_erosion_potential − wind_erosion_actual) × S / 1e4      t/(hm²·a) × hm² = t/a

Value: the sand held, spread as a standard cover layer, is the area that would otherwise need
sand-control works::

    covered = Q / (ρ × h)                  t / (t/m³ × m) = m²
    V = covered × P_f                      m² × yuan/m² = yuan

ρ = ``sand_bulk_density`` (1.28 t/m³), h = ``sand_cover_thickness`` (0.1 m), P_f =
``sand_control_cost`` (3.75 yuan/m²), all [V: Ganzi 2017]. Ganzi: 779.42 万t / (1.28 × 0.1) =
6.089e7 m² (60.89 km²) × 3.75 = 2.28 亿元.

Where actual erosion exceeds the potential (inconsistent RWEQ inputs) Q is negative; it is kept, not
clipped, and a note counts the pixels. Component ``covered_area`` (m²) carries the whole value.
"""

from __future__ import annotations

import numpy as np

from gep.services import checks
from gep.services.base import Component, LayerInput, ServiceContext, ServiceDeclaration, ServiceResult
from gep.units import M2_PER_HA

DECLARATION = ServiceDeclaration(
    item_id="sand_fixation",
    unit="t",
    layers=(LayerInput("wind_erosion_potential"), LayerInput("wind_erosion_actual")),
    parameters=("sand_bulk_density", "sand_cover_thickness", "sand_control_cost"),
    components=(("covered_area", "m2"),),
    valuation="replacement_cost",
    formula="Q = (wind_erosion_potential − wind_erosion_actual) × area; V = Q / (ρ × h) × P_f",
)


def compute(ctx: ServiceContext) -> ServiceResult:
    """Sand held (t per pixel) and value (yuan per pixel); see the module docstring."""
    item = DECLARATION.item_id
    checks.pick_variant(ctx, DECLARATION)
    layers = ("wind_erosion_potential", "wind_erosion_actual")
    problems = checks.require_layers(ctx, item, layers)
    problems += checks.check_parameters(ctx, item, DECLARATION.parameters[:2], positive=True)
    problems += checks.check_parameters(ctx, item, DECLARATION.parameters[2:])
    checks.raise_problems(problems)

    potential, actual = (np.asarray(ctx.layers[name], dtype=np.float64) for name in layers)
    tonnes = checks.inside_only(ctx, (potential - actual) * (ctx.pixel_area_m2 / M2_PER_HA))
    p = ctx.params
    covered = tonnes / (p.value("sand_bulk_density") * p.value("sand_cover_thickness"))  # m²
    value = covered * p.value("sand_control_cost")

    notes = checks.nodata_note(ctx, ~np.isnan(tonnes))
    negative = tonnes < 0
    if negative.any():
        notes.append(
            f"actual wind erosion exceeds the potential in {int(negative.sum())} pixels: "
            f"kept negative, {float(tonnes[negative].sum()):.6g} t in total"
        )
    return ServiceResult(
        item_id=item,
        unit=DECLARATION.unit,
        physical=tonnes,
        value_yuan=value,
        components=(Component("covered_area", "m2", covered, value, "sand_control_cost"),),
        parameters_used=DECLARATION.parameters,
        notes=tuple(notes),
    )
