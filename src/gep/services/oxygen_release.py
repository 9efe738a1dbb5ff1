"""Oxygen release (释氧): O2 released by photosynthesis in the year, valued at an industrial O2 price.

Physical quantity (methods doc §11), per pixel, in t O2/a:

- ``from_carbon`` (default) [U: stoichiometry, 1 mol O2 per mol CO2 fixed]:
  ``Q_O2 = 32/44 × Q_CO2``, with Q_CO2 computed exactly as the carbon_sequestration item does, on the
  basis named by ``ctx.options["carbon_variant"]`` ("nep" by default, or "rate"). The engine should
  pass the carbon item's variant there so that O2 and CO2 stay 32/44 of each other. NEP < 0 (a net
  carbon source) gives negative O2 (net consumption); it is kept and noted.
- ``npp`` (Ganzi 2017 convention [V]: O2 from NPP, CO2 from NEP): ``Q_O2 = 32/12 × NPP × area``,
  NPP from the ``npp`` layer in g C/(m²·a): g C/m² × m² × 1e-6 = t C; × 32/12 = t O2 (one mol O2
  released per mol C fixed, 32 g O2 per 12 g C) [U: stoichiometry]. This agrees with the dry-matter
  rule 1.2 kg O2 per kg dry matter [V: Baiyangdian 2017; Jiaozhou 2018] at a carbon fraction of 0.45
  of dry matter (1.2 / 0.45 = 2.67 ≈ 32/12) [U: carbon fraction]. With this variant O2 and CO2 are
  NOT 32/44 of each other (NPP includes the carbon that heterotrophic respiration returns, NEP does
  not); Ganzi 2017 reports 0.31 亿t CO2 and 2.51 亿t O2.

Value: ``V = Q_O2 × oxygen_price`` (yuan/t O2; default 1000, MOH industrial oxygen price [V:
Baiyangdian 2017]; Ganzi 2017 used 727 yuan/t [V]).
"""

from __future__ import annotations

import numpy as np

from gep.services import carbon_sequestration as carbon
from gep.services import checks
from gep.services.base import LayerInput, ServiceContext, ServiceDeclaration, ServiceResult
from gep.units import O2_PER_C, T_PER_G

"""t O2 released per t C fixed (44/12 × 32/44 = 32/12)."""

DECLARATION = ServiceDeclaration(
    item_id="oxygen_release",
    unit="t O2",
    layers=(
        LayerInput("nep", required=False),
        LayerInput("npp", required=False),
        LayerInput("landcover", required=False),
    ),
    class_columns=("carbon_rate",),
    parameters=("oxygen_price",),
    variants=("from_carbon", "npp"),
    valuation="industrial_oxygen",
    formula=(
        "Q_O2 = 32/44 × Q_CO2 of the carbon item (from_carbon) or 32/12 × NPP × area (npp, Ganzi "
        "convention: O2 from NPP, CO2 from NEP); V = Q_O2 × oxygen_price"
    ),
)


def oxygen_tonnes(ctx: ServiceContext, variant: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """O2 released per pixel in t O2/a for ``variant``, and notes. NaN outside ``ctx.inside``."""
    item = DECLARATION.item_id
    if variant == "npp":
        checks.raise_problems(checks.require_layers(ctx, item, ("npp",), variant))
        npp = np.asarray(ctx.layers["npp"], dtype=np.float64)
        tonnes = checks.inside_only(ctx, npp * ctx.pixel_area_m2 * T_PER_G * O2_PER_C)
        return tonnes, ("O2 from NPP (32/12 t O2 per t C); not 32/44 of the CO2 from NEP",)
    checks.raise_problems(checks.check_option(ctx, item, "carbon_variant", carbon.DECLARATION.variants))
    basis = ctx.options.get("carbon_variant", carbon.DECLARATION.variants[0])
    tonnes_c, _ = carbon.carbon_tonnes(ctx, str(basis))
    tonnes = tonnes_c * O2_PER_C
    notes = [f"O2 = 32/44 × CO2 of carbon variant {basis}"]
    negative = tonnes < 0
    if negative.any():
        notes.append(
            f"net carbon source in {int(negative.sum())} pixels: O2 kept negative (net consumption), "
            f"{float(tonnes[negative].sum()):.6g} t O2 in total"
        )
    return tonnes, tuple(notes)


def compute(ctx: ServiceContext) -> ServiceResult:
    """O2 released (t O2 per pixel) and its value (yuan per pixel); see the module docstring."""
    variant = checks.pick_variant(ctx, DECLARATION)
    tonnes, notes = oxygen_tonnes(ctx, variant)
    checks.raise_problems(checks.check_parameters(ctx, DECLARATION.item_id, ["oxygen_price"]))
    value = tonnes * ctx.params.value("oxygen_price")
    return ServiceResult(
        item_id=DECLARATION.item_id,
        unit=DECLARATION.unit,
        physical=tonnes,
        value_yuan=value,
        parameters_used=("oxygen_price",),
        notes=(f"variant {variant}", *notes, *checks.nodata_note(ctx, ~np.isnan(tonnes))),
    )
