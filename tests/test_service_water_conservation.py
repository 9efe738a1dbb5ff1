"""Water conservation on a 3×3 grid, numbers worked out by hand (pixel 100 m × 100 m = 1e4 m²)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gep.parameters import default_parameters
from gep.problems import GepInputError
from gep.services import water_conservation
from service_fixtures import make_context

# 1 forest α = 0.03, 2 urban α = 0.60, 3 water α = 0
CLASSES = pd.DataFrame(
    {"class": [1, 2, 3], "ecosystem": ["forest", "urban", "water"], "runoff_coefficient": [0.03, 0.60, 0.0]}
)
LANDCOVER = [[1, 1, 2], [1, 2, 3], [3, 3, 1]]
P = np.full((3, 3), 1500.0)
ET = np.full((3, 3), 800.0)

# forest: (1500 − 1500 × 0.03 − 800) = 655 mm × 1e4 m² × 1e-3 = 6550 m³; × 7.06 = 46243 yuan
# urban:  (1500 − 900 − 800) = −200 mm -> −2000 m³ (kept negative); × 7.06 = −14120 yuan
# water:  (1500 − 0 − 800) = 700 mm -> 7000 m³; × 7.06 = 49420 yuan
FOREST, URBAN, WATER = 6550.0, -2000.0, 7000.0


def _ctx(**kwargs):
    layers = {"landcover": LANDCOVER, "precipitation": P, "evapotranspiration": ET}
    layers.update(kwargs.pop("layers", {}))
    return make_context(layers, kwargs.pop("classes", CLASSES), **kwargs)


def test_water_balance_per_pixel_and_total():
    result = water_conservation.compute(_ctx())
    expected = np.array([[FOREST, FOREST, URBAN], [FOREST, URBAN, WATER], [WATER, WATER, FOREST]])
    np.testing.assert_allclose(result.physical, expected)
    assert result.physical[0, 0] == pytest.approx(6550.0)
    assert result.value_yuan[0, 0] == pytest.approx(46243.0)
    # 4 × 6550 − 2 × 2000 + 3 × 7000 = 26200 − 4000 + 21000 = 43200 m³; × 7.06 = 304992 yuan
    assert result.physical.sum() == pytest.approx(43200.0)
    assert result.value_yuan.sum() == pytest.approx(304992.0)
    assert result.unit == "m3" and result.parameters_used == ("reservoir_cost",)


def test_negative_balance_is_kept_and_noted():
    result = water_conservation.compute(_ctx())
    assert result.physical[0, 2] == pytest.approx(-2000.0)
    assert result.value_yuan[0, 2] == pytest.approx(-14120.0)
    # two urban pixels: 2 × −2000 = −4000 m³
    assert any("negative water balance in 2 pixels, total -4000 m3" in n for n in result.notes)


def test_operating_cost_option_adds_to_price():
    params = default_parameters().with_values({"reservoir_operating_cost": 0.5}, source="test")
    result = water_conservation.compute(_ctx(params=params, options={"include_reservoir_operating_cost": True}))
    # 6550 m³ × (7.06 + 0.5) = 6550 × 7.56 = 49518 yuan
    assert result.value_yuan[0, 0] == pytest.approx(49518.0)
    assert "reservoir_operating_cost" in result.parameters_used
    # without the option the operating cost is ignored: 46243 yuan
    assert water_conservation.compute(_ctx(params=params)).value_yuan[0, 0] == pytest.approx(46243.0)


def test_water_pixels_use_open_water_evaporation_when_given():
    result = water_conservation.compute(_ctx(layers={"water_evaporation": np.full((3, 3), 1000.0)}))
    # water: (1500 − 0 − 1000) = 500 mm -> 5000 m³; forest keeps ET = 800 mm -> 6550 m³
    assert result.physical[1, 2] == pytest.approx(5000.0)
    assert result.physical[0, 0] == pytest.approx(6550.0)


def test_nodata_and_outside_pixels_are_nan():
    precipitation = P.copy()
    precipitation[2, 2] = np.nan
    unit_index = np.zeros((3, 3), dtype=np.int32)
    unit_index[0, 0] = -1
    result = water_conservation.compute(_ctx(layers={"precipitation": precipitation}, unit_index=unit_index))
    assert np.isnan(result.physical[2, 2]) and np.isnan(result.physical[0, 0])
    # remaining: 2 forest (6550) + 2 urban (−2000) + 3 water (7000) = 13100 − 4000 + 21000 = 30100 m³
    assert np.nansum(result.physical) == pytest.approx(30100.0)
    assert any(n.startswith("1 pixels inside the account lack") for n in result.notes)


def _codes(excinfo) -> list[str]:
    excinfo.value.render("zh")  # every message renders in Chinese too
    return [p.code for p in excinfo.value.problems]


def test_class_missing_from_table_names_codes_and_column():
    landcover = [[1, 1, 2], [1, 7, 3], [3, 9, 9]]
    with pytest.raises(GepInputError) as excinfo:
        water_conservation.compute(_ctx(layers={"landcover": landcover}))
    (problem,) = excinfo.value.problems
    assert problem.code == "svc_class_missing"
    assert problem.params["codes"] == "7, 9" and problem.params["pixels"] == 3
    assert "runoff_coefficient" in problem.params["columns"]
    assert "7, 9" in excinfo.value.render("zh") and "runoff_coefficient" in str(excinfo.value)


def test_nan_and_out_of_range_class_values():
    classes = CLASSES.copy()
    classes.loc[1, "runoff_coefficient"] = np.nan  # class 2
    classes.loc[2, "runoff_coefficient"] = 2.67  # class 3, a percentage given as a fraction
    with pytest.raises(GepInputError) as excinfo:
        water_conservation.compute(_ctx(classes=classes))
    assert _codes(excinfo) == ["svc_class_value_missing", "svc_class_value_invalid"]
    assert excinfo.value.problems[0].params["codes"] == "2"
    assert excinfo.value.problems[1].params["values"] == "2.67"


def test_missing_column_and_layer():
    with pytest.raises(GepInputError) as excinfo:
        water_conservation.compute(_ctx(classes=CLASSES.drop(columns="runoff_coefficient")))
    assert _codes(excinfo) == ["column_missing"]
    ctx = make_context({"landcover": LANDCOVER, "precipitation": P}, CLASSES)
    with pytest.raises(GepInputError, match="evapotranspiration"):
        water_conservation.compute(ctx)
