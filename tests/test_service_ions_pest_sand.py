"""Negative air ions, pest control and sand fixation on 3×3 grids, numbers worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gep.parameters import default_parameters
from gep.problems import GepInputError
from gep.services import negative_air_ions, pest_control, sand_fixation
from service_fixtures import make_context

NAN = np.nan

# --- negative air ions (1 hm² pixels) ----------------------------------------------------------

ION_CLASSES = pd.DataFrame(
    {
        "class": [1, 2, 3],
        "ecosystem": ["forest", "grassland", "water"],
        "canopy_height": [10.0, 0.5, 0.0],  # m
        "ion_lifetime": [10.0, 5.0, NAN],  # min; none needed where there is no canopy
    }
)
ION_LANDCOVER = [[1, 1, 2], [2, 3, 1], [3, 1, 2]]
IONS = [[1000.0, 600.0, 1600.0], [400.0, 2000.0, 2600.0], [5000.0, 1100.0, 800.0]]
# factor per ion/cm³ = 5.256e15 × A × H / L:  forest 5.256e15 × 1 × 10 / 10 = 5.256e15,
#                                             grass  5.256e15 × 1 × 0.5 / 5 = 5.256e14, water 0
# produced: forest Q 1000 + 600 + 2600 + 1100 = 5300 -> 5.256e15 × 5300 = 2.78568e19
#           grass  Q 1600 + 400 + 800 = 2800       -> 5.256e14 × 2800 = 1.47168e18
#           total 2.78568e19 + 1.47168e18 = 2.932848e19 ions
# above 600: forest 400 + 0 + 2000 + 500 = 2900 -> 5.256e15 × 2900 = 1.52424e19
#            grass 1000 + 0 + 200 = 1200        -> 5.256e14 × 1200 = 6.3072e17
#            total 1.587312e19 ions × 5.8185e-18 yuan/ion = 15.87312 × 5.8185 = 92.35775 yuan
IONS_PRODUCED, IONS_ABOVE, IONS_YUAN = 2.932848e19, 1.587312e19, 15.87312 * 5.8185


def _ion_ctx(**kwargs):
    layers = {"landcover": ION_LANDCOVER, "negative_ions": IONS}
    return make_context(layers, kwargs.pop("classes", ION_CLASSES), **kwargs)


def test_ion_constant_is_the_unit_algebra():
    # hm² -> m² (1e4) × m³ -> cm³ (1e6) × minutes per 365-day year (525 600) = 5.256e15
    assert pytest.approx(5.256e15, rel=1e-15) == negative_air_ions.ION_FACTOR


def test_negative_air_ions():
    result = negative_air_ions.compute(_ion_ctx())
    assert result.unit == "ions"
    assert np.nansum(result.physical) == pytest.approx(IONS_PRODUCED)
    assert np.nansum(result.value_yuan) == pytest.approx(IONS_YUAN)
    (above,) = result.components
    assert np.nansum(above.physical) == pytest.approx(IONS_ABOVE)
    # water pixel with 5000 ions/cm³ has no canopy: 0; forest pixel at exactly 600: produces, no value
    assert result.physical[2, 0] == 0.0
    assert result.physical[0, 1] == pytest.approx(5.256e15 * 600) and result.value_yuan[0, 1] == 0.0


def test_negative_air_ions_threshold_is_a_parameter():
    # threshold 0: above = produced = 2.932848e19 ions × 5.8185e-18 = 29.32848 × 5.8185 yuan
    params = default_parameters().with_values({"ion_threshold": 0.0}, source="test")
    result = negative_air_ions.compute(_ion_ctx(params=params))
    assert np.nansum(result.value_yuan) == pytest.approx(29.32848 * 5.8185)


def test_negative_air_ions_lifetime_must_be_positive_under_a_canopy():
    classes = ION_CLASSES.assign(ion_lifetime=[0.0, 5.0, NAN])
    with pytest.raises(GepInputError, match=r"'ion_lifetime' has invalid values.*1: 0; expected \(0, inf\]"):
        negative_air_ions.compute(_ion_ctx(classes=classes))


def test_negative_air_ions_rejects_a_variant():
    with pytest.raises(GepInputError, match=r"valid: \(none\)"):
        negative_air_ions.compute(_ion_ctx(variant="gbt38582"))


# --- pest control (1 hm² pixels) --------------------------------------------------------------

PEST_CLASSES = pd.DataFrame(
    {
        "class": [1, 2, 3, 4],
        "ecosystem": ["forest", "grassland", "shrub", "water"],
        "pest_control_share": [0.8, 0.5, NAN, NAN],  # not needed for shrub and water
    }
)
PEST_LANDCOVER = [[1, 1, 2], [2, 3, 4], [1, 2, 2]]
# forest 3 pixels × 0.8 × 1 hm² = 2.4 hm² × 375 = 900 yuan
# grass  4 pixels × 0.5 × 1 hm² = 2.0 hm² × 112.5 = 225 yuan; total 4.4 hm², 1125 yuan


def test_pest_control():
    result = pest_control.compute(make_context({"landcover": PEST_LANDCOVER}, PEST_CLASSES))
    assert result.unit == "hm2"
    assert np.nansum(result.physical) == pytest.approx(4.4)
    assert np.nansum(result.value_yuan) == pytest.approx(1125.0)
    forest, grassland = result.components
    assert np.nansum(forest.physical) == pytest.approx(2.4) and np.nansum(forest.value_yuan) == pytest.approx(900)
    assert np.nansum(grassland.physical) == pytest.approx(2.0)
    assert np.nansum(grassland.value_yuan) == pytest.approx(225.0)
    assert result.physical[1, 1] == 0.0 and result.physical[1, 2] == 0.0  # shrub, water


def test_pest_control_ganzi():
    # forest 158 万hm² = 1.58e10 m² × 375 yuan/hm² = 5.925e8 yuan (published 5.93 亿元, half-up)
    forest = make_context(
        {"landcover": [[1]]}, PEST_CLASSES.assign(pest_control_share=[1.0, 1.0, NAN, NAN]), pixel_area_m2=1.58e10
    )
    value = pest_control.compute(forest).value_yuan.sum()
    assert value == pytest.approx(5.925e8)
    assert abs(value / 1e8 - 5.93) <= 0.005 + 1e-9
    # grassland 711.13 万hm² = 7.1113e10 m² × 112.5 = 8.0002125e8 yuan = 8.00 亿元
    grass = make_context(
        {"landcover": [[2]]}, PEST_CLASSES.assign(pest_control_share=[1.0, 1.0, NAN, NAN]), pixel_area_m2=7.1113e10
    )
    assert pest_control.compute(grass).value_yuan.sum() / 1e8 == pytest.approx(8.00, abs=0.005)


def test_pest_control_share_errors():
    classes = PEST_CLASSES.assign(pest_control_share=[1.5, NAN, NAN, NAN])
    with pytest.raises(GepInputError) as info:
        pest_control.compute(make_context({"landcover": PEST_LANDCOVER}, classes))
    text = str(info.value)
    assert "'pest_control_share' is empty (NaN) for classes 2" in text
    classes = PEST_CLASSES.assign(pest_control_share=[1.5, 0.5, NAN, NAN])
    with pytest.raises(GepInputError, match=r"1: 1.5; expected \[0, 1\]"):
        pest_control.compute(make_context({"landcover": PEST_LANDCOVER}, classes))


def test_pest_control_missing_class():
    with pytest.raises(GepInputError, match="classes 5 occur"):
        pest_control.compute(make_context({"landcover": [[1, 5], [2, 2]]}, PEST_CLASSES))


# --- sand fixation (1 hm² pixels) -------------------------------------------------------------

POTENTIAL = [[50.0, 40.0, 30.0], [20.0, 10.0, 0.0], [5.0, 60.0, 12.8]]
ACTUAL = [[10.0, 40.0, 5.0], [25.0, 2.0, 0.0], [1.0, 20.0, 0.0]]
# t/hm² × 1 hm²: 40 + 0 + 25 − 5 + 8 + 0 + 4 + 40 + 12.8 = 124.8 t
# covered = 124.8 / (1.28 × 0.1) = 975 m²; value = 975 × 3.75 = 3656.25 yuan


def _sand_ctx(**kwargs):
    return make_context(
        {"wind_erosion_potential": POTENTIAL, "wind_erosion_actual": ACTUAL}, pd.DataFrame({"class": []}), **kwargs
    )


def test_sand_fixation():
    result = sand_fixation.compute(_sand_ctx())
    assert result.unit == "t"
    assert np.nansum(result.physical) == pytest.approx(124.8)
    assert np.nansum(result.value_yuan) == pytest.approx(3656.25)
    (covered,) = result.components
    assert np.nansum(covered.physical) == pytest.approx(975.0)
    # pixel (1, 0): 20 − 25 = −5 t kept negative -> −5 / 0.128 × 3.75 = −146.484375 yuan
    assert result.value_yuan[1, 0] == pytest.approx(-146.484375)
    assert any("exceeds the potential in 1 pixels" in n for n in result.notes)


def test_sand_fixation_ganzi():
    # 779.42 万t held: one pixel of 1e4 hm² (1e8 m²) at 779.42 t/hm² = 7.7942e6 t
    # / (1.28 × 0.1) = 6.0892e7 m² (60.89 km²) × 3.75 = 2.283469e8 yuan = 2.28 亿元
    ctx = make_context(
        {"wind_erosion_potential": [[779.42]], "wind_erosion_actual": [[0.0]]},
        pd.DataFrame({"class": []}),
        pixel_area_m2=1e8,
    )
    result = sand_fixation.compute(ctx)
    assert result.physical.sum() == pytest.approx(7.7942e6)
    assert result.components[0].physical.sum() / 1e6 == pytest.approx(60.89, abs=0.005)
    assert result.value_yuan.sum() / 1e8 == pytest.approx(2.28, abs=0.005)


def test_sand_fixation_bad_parameter_and_missing_layer():
    params = default_parameters().with_values({"sand_cover_thickness": 0.0}, source="test")
    with pytest.raises(GepInputError, match="sand_cover_thickness = 0 m is invalid.*expected > 0"):
        sand_fixation.compute(_sand_ctx(params=params))
    ctx = make_context({"wind_erosion_potential": POTENTIAL}, pd.DataFrame({"class": []}))
    with pytest.raises(GepInputError, match="layer 'wind_erosion_actual' is missing"):
        sand_fixation.compute(ctx)
