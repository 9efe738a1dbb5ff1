"""Flood regulation on a 3×3 grid of 100 m pixels (1e4 m²), numbers worked out by hand.

Grid: top-left corner (0, 300); pixel (row, col) has its centre at x = 100 col + 50, y = 250 − 100 row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gep.parameters import default_parameters
from gep.problems import GepInputError
from gep.services import flood_regulation
from service_fixtures import make_context

CLASSES = pd.DataFrame(
    {
        "class": [1, 2, 3, 4, 5],
        "ecosystem": ["forest", "cropland", "water", "wetland", "urban"],
        "storm_runoff_coefficient": [0.2, 0.5, np.nan, np.nan, np.nan],
    }
)
LANDCOVER = [[1, 1, 2], [1, 3, 4], [5, 1, 1]]
STORM = np.full((3, 3), 200.0)
RESERVOIRS = pd.DataFrame(
    {"name": ["A"], "region_code": ["R1"], "total_capacity_m3": [1.0e6], "x": [150.0], "y": [150.0]}
)
LAKES = pd.DataFrame({"name": ["L"], "region_code": ["R1"], "area_km2": [2.0], "x": [250.0], "y": [50.0]})
# lake model with a = 0, b = 1: e^0 × 2^1 = 2 万m³ = 20000 m³
LAKE_PARAMS = default_parameters().with_values({"lake_coef_a": 0.0, "lake_coef_b": 1.0}, source="test")


def _ctx(**kwargs):
    layers = {"landcover": kwargs.pop("landcover", LANDCOVER), "storm_rainfall": kwargs.pop("storm", STORM)}
    tables = kwargs.pop("tables", {"reservoirs": RESERVOIRS, "lakes": LAKES})
    return make_context(layers, kwargs.pop("classes", CLASSES), tables, kwargs.pop("params", LAKE_PARAMS), **kwargs)


def _component(result, name):
    return next(c for c in result.components if c.name == name)


def test_components_and_total():
    result = flood_regulation.compute(_ctx())
    # forest: (200 − 200 × 0.2) = 160 mm × 1e4 m² × 1e-3 = 1600 m³; 5 forest pixels -> 8000 m³
    vegetation = _component(result, "vegetation").physical
    assert vegetation[0, 0] == pytest.approx(1600.0) and vegetation.sum() == pytest.approx(8000.0)
    assert vegetation[0, 2] == 0.0  # cropland not counted by default
    # wetland: 0.3 m × 1e4 m² = 3000 m³
    assert _component(result, "marshes").physical[1, 2] == pytest.approx(3000.0)
    # reservoir 0.35 × 1e6 = 350000 m³ at (150, 150) -> row 1, col 1
    assert _component(result, "reservoirs").physical[1, 1] == pytest.approx(350000.0)
    # lake 20000 m³ at (250, 50) -> row 2, col 2 (a forest pixel: 1600 + 20000 = 21600 m³)
    assert _component(result, "lakes").physical[2, 2] == pytest.approx(20000.0)
    assert result.physical[2, 2] == pytest.approx(21600.0)
    # total 8000 + 3000 + 350000 + 20000 = 381000 m³; × 7.06 = 2689860 yuan
    assert result.physical.sum() == pytest.approx(381000.0)
    assert result.value_yuan.sum() == pytest.approx(2689860.0)
    assert _component(result, "reservoirs").value_yuan.sum() == pytest.approx(350000.0 * 7.06)


def test_default_lake_coefficients():
    result = flood_regulation.compute(_ctx(params=default_parameters()))
    # eastern-plain pair: e^4.924 = 137.552, 2^1.128 = 2.18556 -> 300.627 万m³ = 3.00627e6 m³
    assert _component(result, "lakes").physical.sum() == pytest.approx(3.00627e6, rel=1e-5)


def test_cropland_counted_when_profile_says_so():
    result = flood_regulation.compute(_ctx(options={"flood_vegetation_ecosystems": ["forest", "cropland"]}))
    # cropland: (200 − 100) mm × 10 m³/mm = 1000 m³
    assert _component(result, "vegetation").physical[0, 2] == pytest.approx(1000.0)


def test_points_outside_grid_or_regions_are_noted_not_counted():
    unit_index = np.zeros((3, 3), dtype=np.int32)
    unit_index[0, 2] = -1  # pixel (0, 2), centre (250, 250), outside every region
    reservoirs = pd.DataFrame(
        {
            "name": ["far", "edge", "A"],
            "region_code": ["R1", "R1", "R1"],
            "total_capacity_m3": [1.0e6, 2.0e6, 1.0e6],
            "x": [1000.0, 250.0, 150.0],
            "y": [1000.0, 250.0, 150.0],
        }
    )
    result = flood_regulation.compute(_ctx(tables={"reservoirs": reservoirs}, unit_index=unit_index))
    # only "A" counts: 0.35 × 1e6 = 350000 m³
    assert np.nansum(_component(result, "reservoirs").physical) == pytest.approx(350000.0)
    assert any("'far'" in n and "outside the grid" in n and "350000 m3" in n for n in result.notes)
    assert any("'edge'" in n and "outside every region" in n and "700000 m3" in n for n in result.notes)


def test_reservoir_listed_under_another_region_is_noted():
    unit_index = np.array([[0, 0, 1], [0, 0, 1], [0, 0, 1]], dtype=np.int32)
    reservoirs = RESERVOIRS.assign(region_code=["R2"])
    result = flood_regulation.compute(
        _ctx(tables={"reservoirs": reservoirs}, unit_index=unit_index, unit_codes=("R1", "R2"))
    )
    assert "reservoirs: 'A' is listed under region R2 but lies in region R1" in result.notes


def test_no_point_tables():
    result = flood_regulation.compute(_ctx(tables={}))
    # 8000 + 3000 = 11000 m³
    assert result.physical.sum() == pytest.approx(11000.0)


def _codes(excinfo) -> list[str]:
    excinfo.value.render("zh")  # every message renders in Chinese too
    return [p.code for p in excinfo.value.problems]


def test_input_errors():
    classes = CLASSES.copy()
    classes.loc[0, "storm_runoff_coefficient"] = np.nan  # forest needs it; cropland NaN would be fine
    with pytest.raises(GepInputError) as excinfo:
        flood_regulation.compute(_ctx(classes=classes))
    assert _codes(excinfo) == ["svc_class_value_missing"]
    assert excinfo.value.problems[0].params["codes"] == "1"

    classes = CLASSES.assign(ecosystem=["forests", "cropland", "water", "wetland", "urban"])
    with pytest.raises(GepInputError) as excinfo:
        flood_regulation.compute(_ctx(classes=classes))
    assert _codes(excinfo) == ["svc_class_ecosystem_invalid"] and excinfo.value.problems[0].params["codes"] == "1"

    with pytest.raises(GepInputError) as excinfo:
        flood_regulation.compute(_ctx(landcover=[[1, 1, 2], [1, 3, 4], [6, 1, 1]]))
    assert _codes(excinfo) == ["svc_class_missing"] and excinfo.value.problems[0].params["codes"] == "6"

    with pytest.raises(GepInputError) as excinfo:
        flood_regulation.compute(_ctx(tables={"reservoirs": RESERVOIRS.drop(columns="total_capacity_m3")}))
    assert _codes(excinfo) == ["column_missing"] and excinfo.value.problems[0].source == "reservoirs"

    with pytest.raises(GepInputError) as excinfo:
        flood_regulation.compute(_ctx(tables={"lakes": LAKES.assign(area_km2=[-1.0])}))
    assert _codes(excinfo) == ["svc_value_negative"]

    with pytest.raises(GepInputError) as excinfo:
        flood_regulation.compute(_ctx(options={"flood_vegetation_ecosystems": ["woods"]}))
    assert _codes(excinfo) == ["svc_choice_unknown"]
