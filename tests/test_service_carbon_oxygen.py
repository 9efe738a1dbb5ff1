"""Carbon sequestration and oxygen release on 3×3 grids, numbers worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gep.parameters import default_parameters
from gep.problems import GepInputError
from gep.services import carbon_sequestration, oxygen_release
from service_fixtures import make_context

# carbon_rate in t C/(hm²·a): 1 forest 2.0, 2 cropland 0.5, 3 water 0
CLASSES = pd.DataFrame(
    {"class": [1, 2, 3], "ecosystem": ["forest", "cropland", "water"], "carbon_rate": [2.0, 0.5, 0.0]}
)

# NEP g C/(m²·a) on 1e4 m² pixels: g C = NEP × 1e4, t C = NEP × 1e4 × 1e-6 = NEP × 0.01
NEP = [[120.0, 240.0, 0.0], [-60.0, 360.0, 12.0], [600.0, 30.0, 0.0]]
# t C: 1.2 + 2.4 + 0 − 0.6 + 3.6 + 0.12 + 6.0 + 0.3 + 0 = 13.02 t C
# t CO2 = 13.02 × 44/12 = 572.88 / 12 = 47.74; value = 47.74 × 380 = 18 141.2 yuan
NEP_T_C, NEP_T_CO2, NEP_YUAN = 13.02, 47.74, 18141.2

# rate variant, pixel 2500 m² = 0.25 hm²: class 1 ×3, class 2 ×3, class 3 ×2, nodata ×1
LANDCOVER = [[1, 1, 2], [2, 3, 3], [1, 2, -1]]
# t C = 3 × 2.0 × 0.25 + 3 × 0.5 × 0.25 + 2 × 0 = 1.5 + 0.375 = 1.875 t C
# t CO2 = 1.875 × 44/12 = 6.875; value = 6.875 × 380 = 2612.5 yuan
RATE_T_C, RATE_T_CO2, RATE_YUAN = 1.875, 6.875, 2612.5


def _params(**values: float):
    return default_parameters().with_values(values, source="test") if values else None


def _nep_ctx(**kwargs):
    return make_context({"nep": NEP, "landcover": [[1] * 3] * 3}, CLASSES, **kwargs)


def _rate_ctx(**kwargs):
    return make_context({"landcover": LANDCOVER}, CLASSES, pixel_area_m2=2500.0, **kwargs)


def test_carbon_nep_default_variant():
    result = carbon_sequestration.compute(_nep_ctx())
    assert result.unit == "t CO2"
    assert np.nansum(result.physical) == pytest.approx(NEP_T_CO2)
    assert np.nansum(result.value_yuan) == pytest.approx(NEP_YUAN)
    (carbon,) = result.components
    assert carbon.unit == "t C" and np.nansum(carbon.physical) == pytest.approx(NEP_T_C)
    assert np.nansum(carbon.value_yuan) == pytest.approx(NEP_YUAN)
    # the source pixel: −60 g C/m² -> −0.6 t C -> −2.2 t CO2 -> −836 yuan, kept negative
    assert result.physical[1, 0] == pytest.approx(-2.2)
    assert result.value_yuan[1, 0] == pytest.approx(-836.0)
    assert any("NEP < 0 in 1 pixels" in n for n in result.notes)
    assert result.parameters_used == ("carbon_price",)


def test_carbon_outside_pixels_are_nan():
    # pixel (2, 2) outside every region (its NEP is 0, so the inside total stays 47.74)
    units = np.zeros((3, 3), dtype=np.int32)
    units[2, 2] = -1
    result = carbon_sequestration.compute(_nep_ctx(unit_index=units))
    assert np.isnan(result.physical[2, 2]) and np.isnan(result.value_yuan[2, 2])
    assert np.nansum(result.physical) == pytest.approx(NEP_T_CO2)


def test_carbon_price_per_t_c_replaces_per_t_co2():
    # 13.02 t C × 1320 yuan/t C = 17 186.4 yuan (not 47.74 × 380)
    result = carbon_sequestration.compute(_nep_ctx(params=_params(carbon_price_per_c=1320.0)))
    assert np.nansum(result.value_yuan) == pytest.approx(17186.4)
    assert np.nansum(result.physical) == pytest.approx(NEP_T_CO2)
    assert result.parameters_used == ("carbon_price_per_c",)
    assert any("per t C" in n for n in result.notes)


def test_carbon_rate_variant():
    result = carbon_sequestration.compute(_rate_ctx(variant="rate"))
    assert np.nansum(result.physical) == pytest.approx(RATE_T_CO2)
    assert np.nansum(result.value_yuan) == pytest.approx(RATE_YUAN)
    # one forest pixel: 2.0 × 0.25 = 0.5 t C -> 0.5 × 44/12 = 1.8333 t CO2
    assert result.physical[0, 0] == pytest.approx(0.5 * 44 / 12)
    assert np.isnan(result.physical[2, 2])  # nodata land cover
    assert any("1 pixels inside the area have no data" in n for n in result.notes)


def test_carbon_ganzi_at_published_rounding():
    # Ganzi 2010: 0.31 亿t CO2 × 380 = 117.8 亿元 but 117.35 亿元 was published, which implies
    # 117.35e8 / 380 = 0.30882 亿t. One pixel of 1e10 m² with NEP 842.24 g C/m²:
    # 842.24 × 1e10 × 1e-6 = 8.4224e6 t C × 44/12 = 3.088213e7 t CO2 (rounds to 0.31 亿t)
    # × 380 = 1.1735211e10 yuan = 117.35 亿元
    ctx = make_context({"nep": [[842.24]]}, CLASSES, pixel_area_m2=1e10)
    result = carbon_sequestration.compute(ctx)
    assert round(float(result.physical.sum()) / 1e8, 2) == 0.31
    assert float(result.value_yuan.sum()) / 1e8 == pytest.approx(117.35, abs=0.005)


def test_carbon_unknown_variant_names_valid_ones():
    with pytest.raises(GepInputError, match="nep, rate") as info:
        carbon_sequestration.compute(_nep_ctx(variant="npp"))
    assert "npp" in info.value.render("zh")


def test_carbon_missing_class_and_nan_rate_are_named():
    bad_classes = CLASSES.assign(carbon_rate=[2.0, np.nan, 0.0])
    with pytest.raises(GepInputError) as info:
        carbon_sequestration.compute(
            make_context({"landcover": [[1, 2, 9], [9, 3, 1], [1, 1, 1]]}, bad_classes, variant="rate")
        )
    text = str(info.value)
    assert "classes 9 occur" in text and "2 pixels" in text  # missing from the table
    assert "'carbon_rate' is empty (NaN) for classes 2" in text


def test_carbon_nep_variant_needs_nep_layer():
    with pytest.raises(GepInputError, match="layer 'nep' is missing"):
        carbon_sequestration.compute(make_context({"landcover": LANDCOVER}, CLASSES))


# --- oxygen release ---------------------------------------------------------------------------

# NPP g C/(m²·a) on 1e4 m² pixels: t C = NPP × 0.01
NPP = [[300.0, 450.0, 0.0], [150.0, 600.0, 900.0], [75.0, 0.0, 30.0]]
# t C: 3 + 4.5 + 0 + 1.5 + 6 + 9 + 0.75 + 0 + 0.3 = 25.05; t O2 = 25.05 × 32/12 = 66.8; × 1000 = 66 800 yuan


def test_oxygen_from_carbon_nep_default():
    # 47.74 t CO2 × 32/44 = 34.72 t O2 (= 13.02 t C × 32/12); × 1000 yuan/t = 34 720 yuan
    result = oxygen_release.compute(_nep_ctx())
    assert result.unit == "t O2"
    assert np.nansum(result.physical) == pytest.approx(34.72)
    assert np.nansum(result.value_yuan) == pytest.approx(34720.0)
    # source pixel −0.6 t C -> −1.6 t O2 (net consumption, kept)
    assert result.physical[1, 0] == pytest.approx(-1.6)
    assert any("O2 kept negative" in n for n in result.notes)


def test_oxygen_from_carbon_follows_carbon_variant_option():
    # rate basis: 1.875 t C × 32/12 = 5.0 t O2; × 1000 = 5000 yuan
    result = oxygen_release.compute(_rate_ctx(options={"carbon_variant": "rate"}))
    assert np.nansum(result.physical) == pytest.approx(5.0)
    assert np.nansum(result.value_yuan) == pytest.approx(5000.0)


def test_oxygen_npp_variant():
    ctx = make_context({"npp": NPP}, CLASSES, variant="npp")
    result = oxygen_release.compute(ctx)
    assert np.nansum(result.physical) == pytest.approx(66.8)
    assert np.nansum(result.value_yuan) == pytest.approx(66800.0)


def test_oxygen_ganzi_at_published_rounding():
    # Ganzi 2010: 2.51 亿t × 727 = 1824.8 亿元 vs 1821.92 published, which implies 2.50608 亿t.
    # One pixel of 1e11 m², NPP 939.78 g C/m²: 939.78 × 1e11 × 1e-6 = 9.3978e7 t C
    # × 32/12 = 2.50608e8 t O2 (rounds to 2.51 亿t); × 727 = 1.82192016e11 yuan = 1821.92 亿元
    params = default_parameters().with_values({"oxygen_price": 727.0}, source="Ganzi 2017")
    ctx = make_context({"npp": [[939.78]]}, CLASSES, pixel_area_m2=1e11, params=params, variant="npp")
    result = oxygen_release.compute(ctx)
    assert round(float(result.physical.sum()) / 1e8, 2) == 2.51
    assert float(result.value_yuan.sum()) / 1e8 == pytest.approx(1821.92, abs=0.005)


def test_oxygen_bad_carbon_variant_option():
    with pytest.raises(GepInputError, match="carbon_variant 'npp'.*valid: nep, rate"):
        oxygen_release.compute(_nep_ctx(options={"carbon_variant": "npp"}))


def test_oxygen_unknown_variant():
    with pytest.raises(GepInputError, match="from_carbon, npp"):
        oxygen_release.compute(_nep_ctx(variant="nep"))


def test_carbon_negative_price_per_c_is_rejected():
    with pytest.raises(GepInputError, match="carbon_price_per_c = -5 yuan/t C is invalid"):
        carbon_sequestration.compute(_nep_ctx(params=_params(carbon_price_per_c=-5.0)))
