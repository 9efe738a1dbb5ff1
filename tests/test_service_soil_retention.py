"""Soil retention on a 3×3 grid and the Ganzi 2010 arithmetic (gep-methods §5, §20.1, §25.5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gep.parameters import default_parameters
from gep.problems import GepInputError
from gep.services import soil_retention
from service_fixtures import make_context

# 1 forest C = 0.05, P = 1; 2 cropland C = 0.3, P = 0.5
CLASSES = pd.DataFrame({"class": [1, 2], "usle_c": [0.05, 0.3], "usle_p": [1.0, 0.5]})
LANDCOVER = [[1, 1, 2], [1, 2, 2], [1, 1, 1]]
FULL = np.ones((3, 3))


def _ctx(landcover=LANDCOVER, r=4000.0, k=0.02, ls=2.5, **kwargs):
    layers = {
        "landcover": landcover,
        "rainfall_erosivity": FULL * r,
        "soil_erodibility": FULL * k,
        "ls_factor": FULL * ls,
    }
    layers.update(kwargs.pop("layers", {}))
    return make_context(layers, kwargs.pop("classes", CLASSES), **kwargs)


def _component(result, name):
    return next(c for c in result.components if c.name == name)


def test_retained_soil_and_value_per_pixel():
    result = soil_retention.compute(_ctx())
    # potential R × K × LS = 4000 × 0.02 × 2.5 = 200 t/hm²; forest (1 − 0.05 × 1) = 0.95 -> 190 t per 1 hm² pixel;
    # cropland (1 − 0.3 × 0.5) = 0.85 -> 170 t
    assert result.physical[0, 0] == pytest.approx(190.0)
    assert result.physical[0, 2] == pytest.approx(170.0)
    # 6 forest + 3 cropland: 6 × 190 + 3 × 170 = 1140 + 510 = 1650 t
    assert result.physical.sum() == pytest.approx(1650.0)
    # forest pixel: sediment 0.24 × 190 / 0.93 = 45.6 / 0.93 = 49.0323 m³, × 15.58 = 763.923 yuan
    sediment = _component(result, "sediment")
    assert sediment.physical[0, 0] == pytest.approx(49.0323, abs=1e-4)
    assert sediment.value_yuan[0, 0] == pytest.approx(763.923, abs=1e-3)
    # N 190 × 0.0037 = 0.703 t × 875 = 615.125 yuan; P 190 × 0.00108 = 0.2052 t × 2800 = 574.56 yuan
    assert _component(result, "nitrogen").physical[0, 0] == pytest.approx(0.703)
    assert _component(result, "nitrogen").value_yuan[0, 0] == pytest.approx(615.125)
    assert _component(result, "phosphorus").value_yuan[0, 0] == pytest.approx(574.56)
    # total 763.923 + 615.125 + 574.56 = 1953.608 yuan
    assert result.value_yuan[0, 0] == pytest.approx(1953.608, abs=1e-3)
    assert [c.name for c in result.components] == ["sediment", "nitrogen", "phosphorus"]
    assert "potassium not counted (soil_k_content = 0)" in result.notes


def test_potassium_counted_when_content_set():
    params = default_parameters().with_values({"soil_k_content": 0.02, "k_price": 100.0}, source="test")
    result = soil_retention.compute(_ctx(params=params))
    # forest: 190 t × 0.02 = 3.8 t K × 100 yuan/t = 380 yuan; total 1953.608 + 380 = 2333.608
    assert _component(result, "potassium").physical[0, 0] == pytest.approx(3.8)
    assert result.value_yuan[0, 0] == pytest.approx(2333.608, abs=1e-3)


def test_pixel_area_scales_in_hectares():
    # 30 m × 30 m = 900 m² = 0.09 hm²: forest 190 t/hm² × 0.09 = 17.1 t
    assert soil_retention.compute(_ctx(pixel_area_m2=900.0)).physical[0, 0] == pytest.approx(17.1)


def test_nodata_pixel_is_nan():
    landcover = [[1, 1, 2], [1, -1, 2], [1, 1, 1]]
    result = soil_retention.compute(_ctx(landcover=landcover))
    assert np.isnan(result.physical[1, 1]) and np.isnan(result.value_yuan[1, 1])
    # 6 × 190 + 2 × 170 = 1480 t
    assert np.nansum(result.physical) == pytest.approx(1480.0)


def test_ganzi_2010_sediment_check():
    """Ganzi 2010: 38.86 亿t × 0.24 / 0.93 = 10.03 亿m³ of sediment, 156.26 亿元 at 15.58 yuan/m³."""
    classes = pd.DataFrame({"class": [1], "usle_c": [0.0], "usle_p": [1.0]})
    ones = np.ones((1, 1))
    # one 1-hm² pixel with R × K × LS × (1 − 0) = 38.86e8 t/hm²
    ctx = make_context(
        {"landcover": [[1]], "rainfall_erosivity": ones * 38.86e8, "soil_erodibility": ones, "ls_factor": ones},
        classes,
    )
    result = soil_retention.compute(ctx)
    sediment = _component(result, "sediment")
    # 38.86e8 × 0.24 / 0.93 = 10.0284e8 m³ -> 10.03 亿m³
    assert round(sediment.physical.sum() / 1e8, 2) == 10.03
    # 10.0284e8 × 15.58 = 156.24 亿元; 38.86 is itself rounded (±0.005 亿t moves the value by
    # ±0.005 × 0.24 / 0.93 × 15.58 = ±0.020 亿元), so the published 156.26 is matched within that
    assert abs(sediment.value_yuan.sum() / 1e8 - 156.26) < 0.021

    # Q = 38.8633 亿t (within the rounding of 38.86) reproduces every published soil figure to 0.01:
    # sediment 38.8633 × 0.24 / 0.93 = 10.0292 -> 10.03 亿m³, × 15.58 = 156.2555 -> 156.26 亿元;
    # N 38.8633e8 × 0.0037 = 1437.942 万t, × 875 = 125.820 亿元; P × 0.00108 = 419.724 万t, × 2800 = 117.523 亿元;
    # total 156.2555 + 125.8199 + 117.5226 = 399.598 -> 399.60 亿元
    ctx = make_context(
        {"landcover": [[1]], "rainfall_erosivity": ones * 38.8633e8, "soil_erodibility": ones, "ls_factor": ones},
        classes,
    )
    result = soil_retention.compute(ctx)
    assert round(_component(result, "sediment").value_yuan.sum() / 1e8, 2) == 156.26
    assert round(_component(result, "nitrogen").physical.sum() / 1e4, 2) == 1437.94
    assert round(_component(result, "nitrogen").value_yuan.sum() / 1e8, 2) == 125.82
    assert round(_component(result, "phosphorus").physical.sum() / 1e4, 2) == 419.72
    assert round(_component(result, "phosphorus").value_yuan.sum() / 1e8, 2) == 117.52
    assert round(result.value_yuan.sum() / 1e8, 2) == 399.60


def test_input_errors():
    classes = CLASSES.copy()
    classes.loc[0, "usle_c"] = np.nan
    with pytest.raises(GepInputError) as excinfo:
        soil_retention.compute(_ctx(classes=classes))
    (problem,) = excinfo.value.problems
    assert (problem.code, problem.field, problem.params["codes"]) == ("svc_class_value_missing", "usle_c", "1")

    with pytest.raises(GepInputError) as excinfo:
        soil_retention.compute(_ctx(landcover=[[1, 1, 2], [1, 5, 2], [1, 1, 1]]))
    assert excinfo.value.problems[0].code == "svc_class_missing"
    assert "usle_c, usle_p" in excinfo.value.problems[0].params["columns"]

    ctx = make_context({"landcover": LANDCOVER, "rainfall_erosivity": FULL, "soil_erodibility": FULL}, CLASSES)
    with pytest.raises(GepInputError, match="ls_factor"):
        soil_retention.compute(ctx)


def test_water_and_built_up_retain_no_soil_unless_the_option_says_so():
    classes = pd.DataFrame(
        {
            "class": [1, 2, 3],
            "usle_c": [0.05, 0.0, 0.01],
            "usle_p": [1.0, 1.0, 1.0],
            "ecosystem": ["forest", "water", "urban"],
        }
    )
    landcover = [[1, 2, 3], [1, 1, 1], [1, 1, 1]]
    result = soil_retention.compute(_ctx(landcover=landcover, classes=classes))
    # water (C = 0) would be credited 200 t and built-up 198 t; both are 0, forest keeps 190 t
    assert result.physical[0, 1] == 0.0 and result.physical[0, 2] == 0.0
    assert result.physical.sum() == pytest.approx(7 * 190.0)
    counted = soil_retention.compute(
        _ctx(landcover=landcover, classes=classes, options={"soil_retention_excluded_ecosystems": ()})
    )
    assert counted.physical[0, 1] == pytest.approx(200.0)
    assert counted.physical[0, 2] == pytest.approx(200.0 * 0.99)
