"""Negative air ions (负氧离子), Zhejiang/Lishui practice, LY/T 1721-2008 form (methods doc §13).

The whole formula is [U]: it was recalled from LY/T 1721-2008 / GB/T 38582-2020, not read there. Per
pixel::

    G = 5.256e15 × Q × A × H / L                         ions/a produced
    U = 5.256e15 × A × H × K × (Q − 600) / L             yuan/a, only where Q > 600

Q: ``negative_ions`` layer (ions/cm³); A: pixel area (hm²); H: class column ``canopy_height`` (m);
L: class column ``ion_lifetime`` (min); K: ``ion_cost`` (5.8185e-18 yuan/ion [U]); 600:
``ion_threshold`` (ions/cm³ [U]).

The constant is consistent with these units and a 365-day year::

    A hm² × 1e4 m²/hm² × H m = 1e4·A·H m³;  × 1e6 cm³/m³ = 1e10·A·H cm³ of air
    × Q ions/cm³ = 1e10·Q·A·H ions present at once
    renewed every L min: × 525 600 min/a / L  ->  1e10 × 5.256e5 = 5.256e15

Main quantity: all ions produced, G (unit "ions" per pixel; 1 hm² of 10 m forest at 1000 ions/cm³ and
L = 10 min gives 5.3e18, so reports should show it in 1e18 ions). Component ``above_threshold``
counts only the ions above the threshold concentration, 5.256e15 × A × H × max(Q − 600, 0) / L, and
carries the whole value (= component × K).

Classes with canopy_height 0 (water, urban, bare...) produce nothing here; ion_lifetime must be > 0
for every class with a canopy that occurs in the area.
"""

from __future__ import annotations

import numpy as np

from gep.services import checks
from gep.services.base import Component, LayerInput, ServiceContext, ServiceDeclaration, ServiceResult
from gep.units import CM3_PER_M3, M2_PER_HA, MIN_PER_YEAR

ION_FACTOR = M2_PER_HA * CM3_PER_M3 * MIN_PER_YEAR
"""5.256e15: hm² → m², m³ → cm³, and renewals per year per minute of ion lifetime."""

DECLARATION = ServiceDeclaration(
    item_id="negative_air_ions",
    unit="ions",
    layers=(LayerInput("landcover"), LayerInput("negative_ions")),
    class_columns=("canopy_height", "ion_lifetime"),
    parameters=("ion_cost", "ion_threshold"),
    components=(("above_threshold", "ions"),),
    valuation="replacement_cost",
    formula=(
        "G = 5.256e15 × Q × A × H / L; V = 5.256e15 × A × H × K × (Q − 600) / L where Q > 600 "
        "[U, LY/T 1721-2008 recalled]"
    ),
)


def compute(ctx: ServiceContext) -> ServiceResult:
    """Ions produced (ions per pixel) and value (yuan per pixel); see the module docstring."""
    item = DECLARATION.item_id
    checks.pick_variant(ctx, DECLARATION)
    checks.raise_problems(checks.require_layers(ctx, item, ("landcover", "negative_ions")))
    problems = checks.check_class_rows(ctx, item, DECLARATION.class_columns)
    problems += checks.check_class_values(ctx, item, {"canopy_height": checks.NON_NEGATIVE})
    problems += checks.check_parameters(ctx, item, ("ion_cost", "ion_threshold"))
    checks.raise_problems(problems)
    table = ctx.classes
    present = table.index[table.index.isin(list(checks.present_classes(ctx)))]
    with_canopy = [int(c) for c in present if float(table.at[c, "canopy_height"]) > 0]
    checks.raise_problems(checks.check_class_values(ctx, item, {"ion_lifetime": checks.POSITIVE}, with_canopy))

    height = ctx.class_values("canopy_height")  # m; NaN where landcover is nodata
    lifetime = ctx.class_values("ion_lifetime") if with_canopy else np.ones_like(height)  # min
    ions = np.asarray(ctx.layers["negative_ions"], dtype=np.float64)  # ions/cm³
    threshold = ctx.params.value("ion_threshold")
    per_ion_q = ION_FACTOR * (ctx.pixel_area_m2 / M2_PER_HA) * height / np.where(height > 0, lifetime, 1.0)
    # height == 0 -> no air column: 0 even where the ions layer has no data.
    produced = checks.inside_only(ctx, np.where(height == 0, 0.0, per_ion_q * ions))
    excess = np.maximum(ions - threshold, 0.0)  # NaN stays NaN
    above = checks.inside_only(ctx, np.where(height == 0, 0.0, per_ion_q * excess))
    value = above * ctx.params.value("ion_cost")

    return ServiceResult(
        item_id=item,
        unit=DECLARATION.unit,
        physical=produced,
        value_yuan=value,
        components=(Component("above_threshold", "ions", above, value, "ion_cost"),),
        parameters_used=("ion_cost", "ion_threshold"),
        notes=("LY/T 1721-2008 formula recalled, not verified [U]", *checks.nodata_note(ctx, ~np.isnan(produced))),
    )
