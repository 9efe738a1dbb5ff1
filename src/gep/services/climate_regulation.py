"""Climate regulation (气候调节): energy used by plant transpiration and water-surface evaporation,
valued at the electricity that air conditioners and humidifiers would need (methods doc §12).

Vegetation [V: Ganzi 2017 eq. 12; S: Bo et al. 2017], per pixel, kWh/a::

    E_pt = EPP × S × D / (3600 × r)
    kJ/(m²·d) × m² × d = kJ;  kJ / (3600 kJ/kWh) = kWh of heat;  / r = kWh of electricity

EPP is the class column ``transpiration_heat`` (kJ/(m²·d); 0 for non-vegetation), S the pixel area
(m²), D the ``hot_days`` layer (days with daily max > 26 °C [U]), r the air-conditioner energy
efficiency ratio ``ac_efficiency`` (3.0 [V: Bo et al. 2017]). Per-type EPP values were not found in
any source (§12, [U]); they come from the class table.

Water surface, pixels whose class has ecosystem ``water``, MEE form [U]::

    E_w  = water_evaporation × 1e-3 × S                      mm × 1e-3 m/mm × m² = m³
    E_we = E_w × ρ_w × q / (3.6e6 × r) + E_w × y
    m³ × 1e6 g/m³ × q J/g = J;  J / (3.6e6 J/kWh) = kWh of heat;  / r = kWh of electricity
    m³ × y kWh/m³ = kWh of electricity for humidifying

(the doc's "× 10^3 / 3600" is the same algebra with ρ_w in t/m³: t × 1e3 kg/t × q kJ/kg / 3600).
q = ``water_latent_heat`` (2450 J/g [V, low reliability]), y = ``humidifier_energy`` (125 kWh/m³
[V: 商慧敏 et al. 2018]).

Both terms count the same evaporated water twice, once as cooling and once as humidifying. The MEE form
and Ganzi's both do so, and it is the default here. Option ``climate_humidification = False`` drops
the E_w × y term. Option ``climate_water_form = "ganzi"`` uses Ganzi's form
``(E·ρ·q/3600 + E·γ)`` [V], whose cooling term is not divided by r. The vegetation term keeps r in
both forms, as Ganzi's eq. 12 does.

Value: ``V = (E_pt + E_we) × electricity_price`` (0.53 yuan/kWh, Ganzi 2010 [V]). Components:
``vegetation`` and ``water`` (kWh), each valued at the same price.
"""

from __future__ import annotations

import numpy as np

from gep.services import checks
from gep.services.base import Component, LayerInput, ServiceContext, ServiceDeclaration, ServiceResult
from gep.services.kernels import class_member
from gep.units import J_PER_KWH, KJ_PER_KWH, MM_TO_M, WATER_DENSITY_G_PER_M3

WATER_FORMS = ("mee", "ganzi")

DECLARATION = ServiceDeclaration(
    item_id="climate_regulation",
    unit="kWh",
    layers=(LayerInput("landcover"), LayerInput("hot_days"), LayerInput("water_evaporation")),
    class_columns=("ecosystem", "transpiration_heat"),
    parameters=("ac_efficiency", "water_latent_heat", "humidifier_energy", "electricity_price"),
    components=(("vegetation", "kWh"), ("water", "kWh")),
    valuation="replacement_cost",
    formula=(
        "E = EPP × S × D / (3600 r) + E_w × ρ_w × q / (3.6e6 r) + E_w × y [water term: U, MEE form; "
        "option: Ganzi form without r]; V = E × electricity_price"
    ),
)


def _options(ctx: ServiceContext) -> tuple[str, bool]:
    item = DECLARATION.item_id
    problems = checks.check_option(ctx, item, "climate_water_form", WATER_FORMS)
    problems += checks.check_flag(ctx, item, "climate_humidification")
    checks.raise_problems(problems)
    form = str(ctx.options.get("climate_water_form", WATER_FORMS[0]))
    return form, bool(ctx.options.get("climate_humidification", True))


def compute(ctx: ServiceContext) -> ServiceResult:
    """Energy (kWh per pixel) and value (yuan per pixel); see the module docstring."""
    item = DECLARATION.item_id
    checks.pick_variant(ctx, DECLARATION)
    form, humidify = _options(ctx)
    checks.raise_problems(checks.require_layers(ctx, item, ("landcover",)))
    problems = checks.check_class_rows(ctx, item, DECLARATION.class_columns)
    problems += checks.check_class_values(ctx, item, {"transpiration_heat": checks.NON_NEGATIVE})
    problems += checks.check_ecosystem_column(ctx, item)
    names = ["ac_efficiency", "water_latent_heat", "humidifier_energy", "electricity_price"]
    problems += checks.check_parameters(ctx, item, names[:1], positive=True)
    problems += checks.check_parameters(ctx, item, names[1:])
    checks.raise_problems(problems)
    water_codes = checks.ecosystem_codes(ctx, ("water",))

    codes = np.asarray(ctx.layers["landcover"])
    inside = np.asarray(ctx.inside, dtype=bool)
    heat = ctx.class_values("transpiration_heat")  # kJ/(m²·d); NaN where landcover is nodata
    is_water = class_member(codes, water_codes)
    needed = [("hot_days", bool(np.any(inside & (heat > 0)))), ("water_evaporation", bool(np.any(inside & is_water)))]
    checks.raise_problems(checks.require_layers(ctx, item, [n for n, need in needed if need]))

    p = ctx.params
    r = p.value("ac_efficiency")
    area = ctx.pixel_area_m2
    if needed[0][1]:
        days = np.asarray(ctx.layers["hot_days"], dtype=np.float64)
        vegetation = np.where(heat == 0, 0.0, heat * area * days / (KJ_PER_KWH * r))
    else:
        vegetation = np.where(np.isnan(heat), np.nan, 0.0)
    water = np.where(checks.landcover_nodata(ctx), np.nan, 0.0)
    if needed[1][1]:
        evaporation = np.asarray(ctx.layers["water_evaporation"], dtype=np.float64)
        volume = np.where(is_water, evaporation * MM_TO_M * area, 0.0)  # m³
        cooling_r = r if form == "mee" else 1.0
        water = water + volume * WATER_DENSITY_G_PER_M3 * p.value("water_latent_heat") / (J_PER_KWH * cooling_r)
        if humidify:
            water = water + volume * p.value("humidifier_energy")
    vegetation = checks.inside_only(ctx, vegetation)
    water = checks.inside_only(ctx, water)
    total = vegetation + water

    price = p.value("electricity_price")
    used = tuple(names if humidify else names[:2] + names[3:])
    notes = [f"water term: {form} form" + ("" if humidify else ", humidification not counted")]
    return ServiceResult(
        item_id=item,
        unit=DECLARATION.unit,
        physical=total,
        value_yuan=total * price,
        components=(
            Component("vegetation", "kWh", vegetation, vegetation * price, "electricity_price"),
            Component("water", "kWh", water, water * price, "electricity_price"),
        ),
        parameters_used=used,
        notes=(*notes, *checks.nodata_note(ctx, ~np.isnan(total))),
    )
