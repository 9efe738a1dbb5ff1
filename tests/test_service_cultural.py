"""Recreation (travel cost, tourism revenue) and landscape value on tiny grids, worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gep.parameters import default_parameters
from gep.problems import GepInputError
from gep.services import landscape_value, recreation
from service_fixtures import make_context

FOREST, CROP, WATER, GRASS, URBAN, WETLAND, SHRUB = 1, 2, 3, 4, 5, 6, 7
CLASSES = pd.DataFrame(
    {
        "class": [FOREST, CROP, WATER, GRASS, URBAN, WETLAND, SHRUB],
        "ecosystem": ["forest", "cropland", "water", "grassland", "urban", "wetland", "shrub"],
    }
)
# natural scenery for recreation: forest (0,0), water (0,1), wetland (1,0), grassland (1,1) = 4 pixels;
# cropland, urban and shrub weigh 0 for recreation. Landscape value also counts shrub: 5 pixels.
LC = [[FOREST, WATER, CROP], [WETLAND, GRASS, URBAN], [SHRUB, URBAN, URBAN]]
SCENERY = [(0, 0), (0, 1), (1, 0), (1, 1)]


def stats(**columns) -> pd.DataFrame:
    frame = pd.DataFrame(columns)
    frame.insert(1, "year", 2020)
    return frame


TOURISM = stats(region_code=["R1"], tourism_visits=[1000.0], tourism_revenue_yuan=[50000.0])


def ctx_with(tables, params=None, **kwargs):
    return make_context({"landcover": LC}, CLASSES, tables=tables, params=params, **kwargs)


def params(**values):
    return default_parameters().with_values(values, source="test")


# --------------------------------------------------------------------------------------------------
# recreation
# --------------------------------------------------------------------------------------------------


def test_tourism_revenue_method():
    result = recreation.compute(ctx_with({"statistics": TOURISM}, options={"recreation_method": "tourism_revenue"}))
    # 1000 visits and 50 000 yuan over the 4 scenery pixels: 250 visits and 12 500 yuan each
    for pixel in SCENERY:
        assert result.physical[pixel] == pytest.approx(250.0)
        assert result.value_yuan[pixel] == pytest.approx(12500.0)
    assert result.value_yuan[0, 2] == 0.0 and result.value_yuan[2, 0] == 0.0  # cropland, shrub
    assert np.nansum(result.value_yuan) == pytest.approx(50000.0)
    assert result.unit == "visits" and result.components == ()


def test_travel_cost_with_parameters():
    chosen = params(travel_cost_per_visit=300.0, visit_days=2.0, time_value_per_day=50.0)
    result = recreation.compute(ctx_with({"statistics": TOURISM}, chosen, options={"recreation_method": "travel_cost"}))
    # V = 1000 × (300 + 2 × 50) = 400 000 yuan: spending 300 000, time 1000 × 2 d × 50 = 100 000
    assert np.nansum(result.value_yuan) == pytest.approx(400000.0)
    assert np.nansum(result.physical) == pytest.approx(1000.0)
    expenditure, time_cost = result.components
    assert expenditure.name == "expenditure" and np.nansum(expenditure.value_yuan) == pytest.approx(300000.0)
    assert time_cost.unit == "visit_days" and np.nansum(time_cost.physical) == pytest.approx(2000.0)
    assert np.nansum(time_cost.value_yuan) == pytest.approx(100000.0)
    assert result.value_yuan[1, 1] == pytest.approx(100000.0)  # a quarter on each scenery pixel
    assert result.parameters_used == ("travel_cost_per_visit", "visit_days", "time_value_per_day")


def test_travel_cost_defaults():
    result = recreation.compute(ctx_with({"statistics": TOURISM}))
    # default method travel_cost: 1000 × (656.85 + 2 × 48.7) = 1000 × 754.25 = 754 250 yuan
    assert np.nansum(result.value_yuan) == pytest.approx(754250.0)


def test_travel_cost_from_a_visitor_survey():
    visitors = pd.DataFrame(
        {
            "region_code": ["R1", "R1"],
            "origin_zone": ["near", "far"],
            "visits": [10.0, 5.0],
            "travel_cost_yuan": [100.0, 300.0],
            "days": [1.0, 2.0],
            "time_value_yuan_per_day": [50.0, 60.0],
            "onsite_spending_yuan": [20.0, None],
        }
    )
    result = recreation.compute(ctx_with({"statistics": TOURISM, "visitors": visitors}))
    # near: 10 × (1 × 50 + 100 + 20) = 1700; far: 5 × (2 × 60 + 300 + 0) = 2100; V = 3800 yuan, 15 visits
    # expenditure 10 × 120 + 5 × 300 = 2700; time 10 × 1 × 50 + 5 × 2 × 60 = 1100 (20 visit-days)
    assert np.nansum(result.value_yuan) == pytest.approx(3800.0)
    assert np.nansum(result.physical) == pytest.approx(15.0)
    expenditure, time_cost = result.components
    assert np.nansum(expenditure.value_yuan) == pytest.approx(2700.0)
    assert np.nansum(time_cost.value_yuan) == pytest.approx(1100.0)
    assert np.nansum(time_cost.physical) == pytest.approx(20.0)
    assert result.value_yuan[0, 0] == pytest.approx(950.0)  # 3800 / 4


def test_visitor_survey_with_a_blank_is_an_error():
    visitors = pd.DataFrame(
        {
            "region_code": ["R1"],
            "visits": [None],
            "travel_cost_yuan": [1.0],
            "days": [1.0],
            "time_value_yuan_per_day": [1.0],
        }
    )
    with pytest.raises(GepInputError) as info:
        recreation.compute(ctx_with({"statistics": TOURISM, "visitors": visitors}))
    (problem,) = info.value.problems
    assert problem.code == "mat_value_missing" and problem.field == "visits" and problem.source == "visitors"


def test_variant_wins_over_the_option():
    ctx = ctx_with({"statistics": TOURISM}, variant="tourism_revenue", options={"recreation_method": "travel_cost"})
    assert np.nansum(recreation.compute(ctx).value_yuan) == pytest.approx(50000.0)


def test_unknown_recreation_method_is_an_error():
    with pytest.raises(GepInputError) as info:
        recreation.compute(ctx_with({"statistics": TOURISM}, options={"recreation_method": "hedonic"}))
    assert info.value.problems[0].code == "svc_choice_unknown"
    assert "travel_cost" in info.value.problems[0].render("zh")


def test_recreation_formula_warns_about_double_counting():
    assert "overlap" in recreation.DECLARATION.formula


def test_recreation_parent_row_allocated_by_scenery():
    # county A = column 0, county B = columns 1-2 of LC, both in city C; only C has a row
    units = [[1, 2, 2], [1, 2, 2], [1, 2, 2]]
    ctx = make_context(
        {"landcover": LC},
        CLASSES,
        tables={"statistics": stats(region_code=["C"], tourism_visits=[800.0], tourism_revenue_yuan=[400.0])},
        unit_index=np.array(units),
        unit_codes=("C", "A", "B"),
        region_units={"C": (0, 1, 2), "A": (1,), "B": (2,)},
        options={"recreation_method": "tourism_revenue"},
    )
    result = recreation.compute(ctx)
    # scenery pixels: A (0,0) forest, (1,0) wetland; B (0,1) water, (1,1) grass -> 4 pixels, 100 yuan each; A = 200
    a = float(np.nansum(np.where(ctx.region_mask("A"), result.value_yuan, 0.0)))
    assert a == pytest.approx(200.0)
    assert result.extra["allocated_regions"] == ["A", "B"]


# --------------------------------------------------------------------------------------------------
# landscape value
# --------------------------------------------------------------------------------------------------

PROPERTIES = pd.DataFrame(
    {"region_code": ["R1", "R1", "R1"], "floor_area_m2": [1000.0, 500.0, 800.0], "distance_m": [300.0, 500.0, 800.0]}
)


def test_landscape_value_counts_properties_within_the_distance():
    result = landscape_value.compute(ctx_with({"properties": PROPERTIES}, params(landscape_premium_yuan_per_m2=10.0)))
    # within 500 m: 1000 + 500 = 1500 m² (the 800 m one is out); 1500 × 10 = 15 000 yuan
    assert np.nansum(result.physical) == pytest.approx(1500.0)
    assert np.nansum(result.value_yuan) == pytest.approx(15000.0)
    # spread over forest, water, wetland, grassland and shrub: 5 pixels, 300 m² and 3000 yuan each
    assert result.physical[2, 0] == pytest.approx(300.0) and result.value_yuan[0, 1] == pytest.approx(3000.0)
    assert result.physical[2, 2] == 0.0  # urban
    assert result.unit == "m2"
    assert any("2 of 3 properties within 500 m" in n for n in result.notes)


def test_landscape_value_threshold_and_default_premium():
    result = landscape_value.compute(ctx_with({"properties": PROPERTIES}, params(landscape_distance_m=300.0)))
    # only the 1000 m² property at 300 m; default premium 750 yuan/m² -> 750 000 yuan
    assert np.nansum(result.physical) == pytest.approx(1000.0)
    assert np.nansum(result.value_yuan) == pytest.approx(750000.0)


def test_landscape_rows_are_additive_over_nested_regions():
    units = [[1, 2, 2], [1, 2, 2], [1, 2, 2]]
    table = pd.DataFrame({"region_code": ["C", "A"], "floor_area_m2": [500.0, 200.0], "distance_m": [0.0, 0.0]})
    ctx = make_context(
        {"landcover": LC},
        CLASSES,
        tables={"properties": table},
        unit_index=np.array(units),
        unit_codes=("C", "A", "B"),
        region_units={"C": (0, 1, 2), "A": (1,), "B": (2,)},
    )
    result = landscape_value.compute(ctx)
    # C's 500 m² over its 5 green/blue pixels (100 each); A's 200 m² over A's 3 (forest, wetland, shrub)
    # -> A: 3 × 100 + 200 = 500 m²; B: 2 × 100 = 200 m²; total 700
    assert np.nansum(result.physical) == pytest.approx(700.0)
    assert float(np.nansum(np.where(ctx.region_mask("A"), result.physical, 0.0))) == pytest.approx(500.0)
    assert result.physical[0, 0] == pytest.approx(100.0 + 200.0 / 3.0)


def test_landscape_value_needs_the_properties_table():
    assert landscape_value.DECLARATION.tables[0].required
    with pytest.raises(GepInputError) as info:
        landscape_value.compute(ctx_with({}))
    assert info.value.problems[0].code == "mat_table_missing"


def test_landscape_unknown_region_and_negative_area():
    table = pd.DataFrame({"region_code": ["Z1", "R1"], "floor_area_m2": [1.0, -2.0], "distance_m": [0.0, 0.0]})
    with pytest.raises(GepInputError) as info:
        landscape_value.compute(ctx_with({"properties": table}))
    codes = sorted(p.code for p in info.value.problems)
    assert codes == ["mat_region_unknown", "mat_value_negative"]
    assert any(p.params.get("region") == "Z1" for p in info.value.problems)
