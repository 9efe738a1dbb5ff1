"""Climate regulation on a 3×3 grid, numbers worked out by hand (pixel 1e4 m², r = 3, q = 2450 J/g,
y = 125 kWh/m³, 0.53 yuan/kWh)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gep.problems import GepInputError
from gep.services import climate_regulation
from service_fixtures import make_context

NAN = np.nan
# transpiration_heat kJ/(m²·d): 1 forest 5400, 2 grassland 2160, 3 water 0, 4 urban 0
CLASSES = pd.DataFrame(
    {
        "class": [1, 2, 3, 4],
        "ecosystem": ["forest", "grassland", "water", "urban"],
        "transpiration_heat": [5400.0, 2160.0, 0.0, 0.0],
    }
)
LANDCOVER = [[1, 1, 2], [2, 3, 3], [4, 1, 3]]
HOT_DAYS = [[30.0, 30.0, 20.0], [20.0, NAN, NAN], [30.0, 10.0, NAN]]
EVAPORATION = [[NAN, NAN, NAN], [NAN, 270.0, 270.0], [NAN, NAN, 540.0]]

# vegetation, per pixel kJ/(m²·d) × 1e4 m² × D d / (3600 kJ/kWh × 3):
#   forest 5400 × 1e4 / 10800 = 5000 kWh per day -> D 30, 30, 10: 150 000 + 150 000 + 50 000 = 350 000
#   grass  2160 × 1e4 / 10800 = 2000 kWh per day -> D 20, 20: 40 000 + 40 000 = 80 000
#   urban heat 0 -> 0.  Vegetation = 430 000 kWh
VEGETATION = 430_000.0
# water: E_w = mm × 1e-3 × 1e4 m² = 2700 + 2700 + 5400 = 10 800 m³
#   cooling (MEE) = 10 800 m³ × 1e6 g/m³ × 2450 J/g / 3.6e6 J/kWh / 3 = 10 800 × 2450 / 10.8 = 2 450 000 kWh
#   humidifying   = 10 800 × 125 = 1 350 000 kWh  -> water = 3 800 000 kWh
WATER = 3_800_000.0
# total = 4 230 000 kWh × 0.53 = 2 241 900 yuan


def _ctx(**kwargs):
    layers = {"landcover": LANDCOVER, "hot_days": HOT_DAYS, "water_evaporation": EVAPORATION}
    layers.update(kwargs.pop("layers", {}))
    return make_context(layers, kwargs.pop("classes", CLASSES), **kwargs)


def test_climate_mee_form_default():
    result = climate_regulation.compute(_ctx())
    assert result.unit == "kWh"
    vegetation, water = result.components
    assert (vegetation.name, water.name) == ("vegetation", "water")
    assert np.nansum(vegetation.physical) == pytest.approx(VEGETATION)
    assert np.nansum(water.physical) == pytest.approx(WATER)
    assert np.nansum(result.physical) == pytest.approx(4_230_000.0)
    assert np.nansum(result.value_yuan) == pytest.approx(2_241_900.0)
    # vegetation value 430 000 × 0.53 = 227 900; water 3 800 000 × 0.53 = 2 014 000
    assert np.nansum(vegetation.value_yuan) == pytest.approx(227_900.0)
    assert np.nansum(water.value_yuan) == pytest.approx(2_014_000.0)
    # one forest pixel with 30 hot days: 150 000 kWh; the water pixel of 540 mm: 5400 m³ ×
    # (2450 / 10.8 + 125) = 1 225 000 + 675 000 = 1 900 000 kWh
    assert result.physical[0, 0] == pytest.approx(150_000.0)
    assert result.physical[2, 2] == pytest.approx(1_900_000.0)
    assert result.physical[2, 0] == 0.0  # urban
    assert not np.isnan(result.physical).any()


def test_climate_ganzi_form_drops_r_on_water_cooling():
    # cooling without r: 10 800 × 2450 / 3.6 = 7 350 000; + 1 350 000 = 8 700 000; + 430 000 = 9 130 000
    result = climate_regulation.compute(_ctx(options={"climate_water_form": "ganzi"}))
    assert np.nansum(result.physical) == pytest.approx(9_130_000.0)
    assert np.nansum(result.components[0].physical) == pytest.approx(VEGETATION)


def test_climate_without_humidification():
    # water = cooling only, 2 450 000; total 2 880 000 kWh
    result = climate_regulation.compute(_ctx(options={"climate_humidification": False}))
    assert np.nansum(result.physical) == pytest.approx(2_880_000.0)
    assert "humidifier_energy" not in result.parameters_used


def test_climate_ganzi_values():
    # Ganzi 2010: vegetation 2799.10 亿kWh, water 1272.35 亿kWh at 0.53 yuan/kWh
    # -> 1483.52 and 674.35 亿元 (published table 674.34; total 2157.87 vs 2157.86 published: rounding).
    # Inputs built to give those quantities, one forest and one water pixel of 1e10 m²:
    #   forest: 302 302.8 kJ/(m²·d) × 1e10 m² × 1 d / (3600 × 3) = 2.79910e11 kWh
    #   water (Ganzi form): kWh/m³ = 2450 / 3.6 + 125 = 805.5556; E_w = 1272.35e8 / 805.5556 m³,
    #   i.e. E_w / 1e10 m² × 1e3 mm/m of evaporation.
    classes = CLASSES.assign(transpiration_heat=[302_302.8, 2160.0, 0.0, 0.0])
    evaporation_mm = 1272.35e8 / (2450 / 3.6 + 125) / 1e10 * 1e3
    ctx = make_context(
        {"landcover": [[1, 3]], "hot_days": [[1.0, NAN]], "water_evaporation": [[NAN, evaporation_mm]]},
        classes,
        pixel_area_m2=1e10,
        options={"climate_water_form": "ganzi"},
    )
    result = climate_regulation.compute(ctx)
    vegetation, water = result.components
    assert vegetation.physical.sum() / 1e8 == pytest.approx(2799.10)
    assert water.physical.sum() / 1e8 == pytest.approx(1272.35)
    assert vegetation.value_yuan.sum() / 1e8 == pytest.approx(1483.52, abs=0.005)
    assert water.value_yuan.sum() / 1e8 == pytest.approx(674.35, abs=0.005)


def test_climate_nodata_pixels_are_nan_and_noted():
    landcover = [[1, 1, 2], [2, 3, 3], [4, 1, -1]]
    result = climate_regulation.compute(_ctx(layers={"landcover": landcover}))
    assert np.isnan(result.physical[2, 2])
    # without the 540 mm water pixel (1 900 000 kWh): 4 230 000 − 1 900 000 = 2 330 000
    assert np.nansum(result.physical) == pytest.approx(2_330_000.0)
    assert any("1 pixels inside the area have no data" in n for n in result.notes)


def test_climate_bad_option_names_choices():
    with pytest.raises(GepInputError, match="valid: mee, ganzi"):
        climate_regulation.compute(_ctx(options={"climate_water_form": "bo2017"}))
    with pytest.raises(GepInputError, match="climate_humidification"):
        climate_regulation.compute(_ctx(options={"climate_humidification": "yes"}))


def test_climate_class_table_errors_are_collected():
    classes = CLASSES.assign(
        transpiration_heat=[5400.0, NAN, 0.0, -1.0], ecosystem=["forest", "grassland", "lake", "urban"]
    )
    with pytest.raises(GepInputError) as info:
        climate_regulation.compute(_ctx(classes=classes, layers={"landcover": [[1, 1, 2], [2, 3, 3], [4, 7, 3]]}))
    text = str(info.value)
    assert "classes 7 occur" in text
    assert "'transpiration_heat' is empty (NaN) for classes 2" in text
    assert "'ecosystem' has invalid values" in text and "3: 'lake'" in text


def test_climate_negative_heat_is_rejected():
    classes = CLASSES.assign(transpiration_heat=[5400.0, 2160.0, 0.0, -1.0])
    with pytest.raises(GepInputError, match=r"4: -1; expected \[0, inf\]"):
        climate_regulation.compute(_ctx(classes=classes))


def test_climate_needs_hot_days_only_with_vegetation():
    with pytest.raises(GepInputError, match="layer 'hot_days' is missing"):
        climate_regulation.compute(make_context({"landcover": LANDCOVER, "water_evaporation": EVAPORATION}, CLASSES))
    # water only: 540 mm × 1e-3 × 1e4 = 5400 m³ × (2450 / 10.8 + 125) = 1 900 000 kWh
    ctx = make_context({"landcover": [[3]], "water_evaporation": [[540.0]]}, CLASSES)
    assert climate_regulation.compute(ctx).physical.sum() == pytest.approx(1_900_000.0)
