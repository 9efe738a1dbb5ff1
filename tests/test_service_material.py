"""Material products (agriculture, forestry, animal husbandry, fishery, water supply, eco-energy) on tiny
grids, with allocation shares worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gep.catalog import load_catalog
from gep.parameters import default_parameters
from gep.problems import GepInputError
from gep.services import (
    agriculture,
    animal_husbandry,
    eco_energy,
    fishery,
    forestry,
    landscape_value,
    recreation,
    water_supply,
)
from gep.services.registry import services
from service_fixtures import make_context

FOREST, CROP, WATER, GRASS, URBAN, WETLAND, SHRUB = 1, 2, 3, 4, 5, 6, 7
CLASSES = pd.DataFrame(
    {
        "class": [FOREST, CROP, WATER, GRASS, URBAN, WETLAND, SHRUB],
        "ecosystem": ["forest", "cropland", "water", "grassland", "urban", "wetland", "shrub"],
    }
)

# Flat 3×3 grid, one region R1; (2, 2) has no land cover.
FLAT_LC = [[FOREST, SHRUB, CROP], [GRASS, WATER, URBAN], [SHRUB, FOREST, -1]]

# City C with counties A (columns 0-1, rows 0-2) and B (columns 2-3, rows 0-2); row 3 is C's own
# remainder (columns 0-2) and (3, 3) is outside every region.
UNITS = [[1, 1, 2, 2], [1, 1, 2, 2], [1, 1, 2, 2], [0, 0, 0, -1]]
CODES = ("C", "A", "B")
REGION_UNITS = {"C": (0, 1, 2), "A": (1,), "B": (2,)}
TREE_LC = [
    [CROP, CROP, CROP, FOREST],
    [FOREST, FOREST, FOREST, FOREST],
    [URBAN, WATER, WATER, WATER],
    [CROP, GRASS, FOREST, FOREST],
]
# cropland pixels: A (0,0) (0,1); B (0,2); C's own (3,0). water: A (2,1); B (2,2) (2,3).
A_CROP, B_CROP, C_CROP = [(0, 0), (0, 1)], [(0, 2)], [(3, 0)]


def stats(**columns) -> pd.DataFrame:
    """A statistics table from region_code=[...] and column=[...] lists (year 2020 on every row)."""
    frame = pd.DataFrame(columns)
    frame.insert(1, "year", 2020)
    return frame


def flat_ctx(table: pd.DataFrame, **kwargs):
    return make_context({"landcover": FLAT_LC}, CLASSES, tables={"statistics": table}, **kwargs)


def tree_ctx(table: pd.DataFrame, **kwargs):
    return make_context(
        {"landcover": TREE_LC},
        CLASSES,
        tables={"statistics": table},
        unit_index=np.array(UNITS),
        unit_codes=CODES,
        region_units=REGION_UNITS,
        **kwargs,
    )


def region_sum(ctx, array, code) -> float:
    return float(np.nansum(np.where(ctx.region_mask(code), array, 0.0)))


def own_mask(ctx, code):
    return ctx.unit_index == ctx.unit_codes.index(code)


# --------------------------------------------------------------------------------------------------
# the four sectors: ecosystem weights on one region
# --------------------------------------------------------------------------------------------------


def test_agriculture_goes_to_cropland_only():
    ctx = flat_ctx(stats(region_code=["R1"], agriculture_yuan=[300.0]))
    result = agriculture.compute(ctx)
    # one cropland pixel (0, 2) takes all 300 yuan; the other classified pixels get 0; (2, 2) is NaN
    assert result.value_yuan[0, 2] == pytest.approx(300.0)
    assert np.nansum(result.value_yuan) == pytest.approx(300.0)
    assert result.value_yuan[0, 0] == 0.0 and np.isnan(result.value_yuan[2, 2])
    np.testing.assert_array_equal(result.physical, result.value_yuan)
    assert result.unit == "yuan"
    assert result.extra["allocated_regions"] == []
    assert any("gross_output" in n and "same figure in yuan" in n for n in result.notes)
    assert any("1 pixels inside the account lack a land-cover class" in n for n in result.notes)


def test_forestry_goes_to_forest_and_shrub():
    result = forestry.compute(flat_ctx(stats(region_code=["R1"], forestry_yuan=[1000.0])))
    # forest + shrub pixels: (0,0) (0,1) (2,0) (2,1) = 4 -> 1000 / 4 = 250 each
    for pixel in [(0, 0), (0, 1), (2, 0), (2, 1)]:
        assert result.value_yuan[pixel] == pytest.approx(250.0)
    assert np.nansum(result.value_yuan) == pytest.approx(1000.0)


def test_animal_husbandry_goes_to_grassland_and_cropland():
    result = animal_husbandry.compute(flat_ctx(stats(region_code=["R1"], animal_husbandry_yuan=[500.0])))
    # cropland (0,2) + grassland (1,0) = 2 pixels -> 250 each
    assert result.value_yuan[0, 2] == pytest.approx(250.0)
    assert result.value_yuan[1, 0] == pytest.approx(250.0)
    assert np.nansum(result.value_yuan) == pytest.approx(500.0)


def test_fishery_goes_to_water_and_wetland_with_the_basis_noted():
    lc = [[WATER, WETLAND, FOREST], [FOREST, FOREST, FOREST], [FOREST, FOREST, FOREST]]
    ctx = make_context(
        {"landcover": lc},
        CLASSES,
        tables={"statistics": stats(region_code=["R1"], fishery_yuan=[90.0])},
        options={"material_basis": "net_output"},
    )
    result = fishery.compute(ctx)
    # water (0,0) + wetland (0,1) -> 45 each
    assert result.value_yuan[0, 0] == pytest.approx(45.0) and result.value_yuan[0, 1] == pytest.approx(45.0)
    assert np.nansum(result.value_yuan) == pytest.approx(90.0)
    assert any("net_output" in n for n in result.notes)


def test_allocation_weights_option_overrides_the_default():
    options = {"allocation_weights": {"agriculture": {"cropland": 1.0, "grassland": 3.0}}}
    result = agriculture.compute(flat_ctx(stats(region_code=["R1"], agriculture_yuan=[400.0]), options=options))
    # weights: cropland (0,2) 1, grassland (1,0) 3 -> 400 × 1/4 = 100 and 400 × 3/4 = 300
    assert result.value_yuan[0, 2] == pytest.approx(100.0)
    assert result.value_yuan[1, 0] == pytest.approx(300.0)


def test_bad_allocation_weights_are_rejected():
    options = {"allocation_weights": {"agriculture": {"orchard": 1.0}}}
    with pytest.raises(GepInputError) as info:
        agriculture.compute(flat_ctx(stats(region_code=["R1"], agriculture_yuan=[1.0]), options=options))
    assert info.value.problems[0].code == "mat_weights_invalid"


def test_region_without_the_ecosystem_spreads_evenly_with_a_note():
    ctx = make_context(
        {"landcover": [[FOREST, FOREST], [FOREST, URBAN]]},
        CLASSES,
        tables={"statistics": stats(region_code=["R1"], agriculture_yuan=[40.0])},
    )
    result = agriculture.compute(ctx)
    # no cropland: 40 yuan over the 4 pixels = 10 each, so the region total is kept
    np.testing.assert_allclose(result.value_yuan, 10.0)
    assert any("spread evenly over its 4 pixels" in n for n in result.notes)


def test_invalid_material_basis_is_an_error():
    with pytest.raises(GepInputError) as info:
        agriculture.compute(
            flat_ctx(stats(region_code=["R1"], agriculture_yuan=[1.0]), options={"material_basis": "sales"})
        )
    problem = info.value.problems[0]
    assert problem.code == "svc_choice_unknown" and "material_basis" in problem.render("en")
    assert "gross_output" in problem.render("en")


# --------------------------------------------------------------------------------------------------
# region hierarchy
# --------------------------------------------------------------------------------------------------


def test_parent_row_is_allocated_to_children_without_rows():
    ctx = tree_ctx(stats(region_code=["C"], agriculture_yuan=[900.0]))
    result = agriculture.compute(ctx)
    # 4 cropland pixels (A 2, B 1, C's own 1) share 900 -> 225 each: A 450, B 225, C's own 225
    for pixel in A_CROP + B_CROP + C_CROP:
        assert result.value_yuan[pixel] == pytest.approx(225.0)
    assert region_sum(ctx, result.value_yuan, "A") == pytest.approx(450.0)
    assert region_sum(ctx, result.value_yuan, "B") == pytest.approx(225.0)
    assert region_sum(ctx, result.value_yuan, "C") == pytest.approx(900.0)
    assert result.extra["allocated_regions"] == ["A", "B"]
    assert any("no rows for regions A, B" in n and "allocated" in n for n in result.notes)
    assert np.isnan(result.value_yuan[3, 3])  # outside every region


def test_leaf_rows_win_and_the_parent_fills_the_rest():
    ctx = tree_ctx(stats(region_code=["C", "A"], agriculture_yuan=[900.0, 300.0]))
    result = agriculture.compute(ctx)
    # A's row: 300 over its 2 cropland pixels = 150 each.
    # C's remainder 900 − 300 = 600 over B's cropland (0,2) and C's own (3,0) = 300 each.
    for pixel in A_CROP:
        assert result.value_yuan[pixel] == pytest.approx(150.0)
    for pixel in B_CROP + C_CROP:
        assert result.value_yuan[pixel] == pytest.approx(300.0)
    assert region_sum(ctx, result.value_yuan, "C") == pytest.approx(900.0)
    assert result.extra["allocated_regions"] == ["B"]


def test_parent_remainder_goes_to_its_own_pixels():
    ctx = tree_ctx(stats(region_code=["C", "A", "B"], agriculture_yuan=[900.0, 300.0, 200.0]))
    result = agriculture.compute(ctx)
    # A 150 + 150, B 200 on (0,2), C's own remainder 900 − 300 − 200 = 400 on (3,0)
    assert result.value_yuan[0, 2] == pytest.approx(200.0)
    assert result.value_yuan[3, 0] == pytest.approx(400.0)
    assert region_sum(ctx, result.value_yuan, "C") == pytest.approx(900.0)
    assert result.extra["allocated_regions"] == []


def test_children_exceeding_the_parent_leave_a_note():
    ctx = tree_ctx(stats(region_code=["C", "A"], agriculture_yuan=[100.0, 300.0]))
    result = agriculture.compute(ctx)
    # remainder 100 − 300 = −200: not allocated; B and C's own cropland get 0; A keeps its 300
    assert region_sum(ctx, result.value_yuan, "A") == pytest.approx(300.0)
    assert result.value_yuan[0, 2] == 0.0 and result.value_yuan[3, 0] == 0.0
    assert any("sum to 300, more than its own row 100" in n for n in result.notes)


def test_regions_without_any_figure_are_nan():
    ctx = tree_ctx(stats(region_code=["A"], agriculture_yuan=[300.0]))
    result = agriculture.compute(ctx)
    assert region_sum(ctx, result.value_yuan, "A") == pytest.approx(300.0)
    assert np.isnan(result.value_yuan[0, 2]) and np.isnan(result.value_yuan[3, 0])
    assert any("no figure for regions B, C" in n for n in result.notes)


def test_blank_cell_means_no_figure_for_that_region():
    table = stats(region_code=["C", "A", "B"], agriculture_yuan=[900.0, 300.0, None])
    result = agriculture.compute(tree_ctx(table))
    # as with no B row: B's (0,2) and C's own (3,0) share 600
    assert result.value_yuan[0, 2] == pytest.approx(300.0)
    assert result.extra["allocated_regions"] == ["B"]


def test_parent_difference_without_own_pixels_is_noted():
    units = [[1, 1, 2, 2]] * 4  # C has no pixels of its own
    ctx = make_context(
        {"landcover": TREE_LC},
        CLASSES,
        tables={"statistics": stats(region_code=["C", "A", "B"], agriculture_yuan=[1000.0, 300.0, 200.0])},
        unit_index=np.array(units),
        unit_codes=CODES,
        region_units=REGION_UNITS,
    )
    result = agriculture.compute(ctx)
    assert np.nansum(result.value_yuan) == pytest.approx(500.0)
    assert any("region C has no pixel of its own to take parent − Σ children = 500" in n for n in result.notes)


# --------------------------------------------------------------------------------------------------
# input errors
# --------------------------------------------------------------------------------------------------


def test_unknown_region_is_named():
    with pytest.raises(GepInputError) as info:
        agriculture.compute(tree_ctx(stats(region_code=["C", "X9"], agriculture_yuan=[1.0, 2.0])))
    (problem,) = info.value.problems
    assert problem.code == "mat_region_unknown" and problem.params["region"] == "X9"
    assert problem.params["row"] == 2 and problem.source == "statistics"
    assert "X9" in problem.render("en") and "X9" in problem.render("zh")


def test_numeric_region_codes_are_read_as_text():
    ctx = make_context(
        {"landcover": [[CROP]]},
        CLASSES,
        unit_codes=("331102",),
        tables={"statistics": stats(region_code=[331102.0], agriculture_yuan=[7.0])},
    )
    assert np.nansum(agriculture.compute(ctx).value_yuan) == pytest.approx(7.0)


def test_duplicate_bad_and_negative_values_are_errors():
    table = stats(region_code=["A", "A", "B"], agriculture_yuan=[1.0, "many", -5.0])
    with pytest.raises(GepInputError) as info:
        agriculture.compute(tree_ctx(table))
    codes = {p.code for p in info.value.problems}
    assert codes == {"value_not_number", "mat_value_negative"}
    table = stats(region_code=["A", "A"], agriculture_yuan=[1.0, 2.0])
    with pytest.raises(GepInputError) as info:
        agriculture.compute(tree_ctx(table))
    (problem,) = info.value.problems
    assert problem.code == "mat_region_duplicate" and problem.params["rows"] == "1, 2"


def test_missing_column_and_table():
    with pytest.raises(GepInputError) as info:
        agriculture.compute(tree_ctx(pd.DataFrame({"region_code": ["C"]})))
    assert info.value.problems[0].code == "column_missing"
    ctx = make_context({"landcover": [[CROP]]}, CLASSES)
    with pytest.raises(GepInputError) as info:
        agriculture.compute(ctx)
    assert info.value.problems[0].code == "mat_table_missing"


def test_class_without_ecosystem_row_is_an_error():
    ctx = make_context(
        {"landcover": [[CROP, 9]]}, CLASSES, tables={"statistics": stats(region_code=["R1"], agriculture_yuan=[1.0])}
    )
    with pytest.raises(GepInputError) as info:
        agriculture.compute(ctx)
    assert info.value.problems[0].code == "mat_class_missing"


def test_year_selection():
    table = pd.DataFrame({"region_code": ["R1", "R1"], "year": [2019, 2020], "agriculture_yuan": [10.0, 20.0]})
    with pytest.raises(GepInputError) as info:
        agriculture.compute(flat_ctx(table))
    assert info.value.problems[0].code == "mat_years_several"
    result = agriculture.compute(flat_ctx(table, options={"year": 2020}))
    assert np.nansum(result.value_yuan) == pytest.approx(20.0)
    with pytest.raises(GepInputError) as info:
        agriculture.compute(flat_ctx(table, options={"year": 2021}))
    assert info.value.problems[0].code == "mat_year_missing"


# --------------------------------------------------------------------------------------------------
# water supply and eco-energy
# --------------------------------------------------------------------------------------------------


def test_water_supply_components_and_prices():
    table = stats(
        region_code=["R1"],
        water_use_domestic_m3=[100.0],
        water_use_industrial_m3=[200.0],
        water_use_agricultural_m3=[1000.0],
    )
    lc = [[WATER, FOREST, FOREST], [FOREST, WATER, FOREST], [FOREST, FOREST, FOREST]]
    result = water_supply.compute(make_context({"landcover": lc}, CLASSES, tables={"statistics": table}))
    # value: 100 × 2.6 + 200 × 3.6 + 1000 × 0.07 = 260 + 720 + 70 = 1050 yuan; 1300 m³
    assert np.nansum(result.physical) == pytest.approx(1300.0)
    assert np.nansum(result.value_yuan) == pytest.approx(1050.0)
    # two water pixels: 650 m³ and 525 yuan each; forest pixels 0
    assert result.physical[0, 0] == pytest.approx(650.0) and result.value_yuan[1, 1] == pytest.approx(525.0)
    assert result.value_yuan[0, 1] == 0.0
    by_name = {c.name: c for c in result.components}
    assert list(by_name) == ["domestic", "industrial", "agricultural"]
    assert np.nansum(by_name["industrial"].physical) == pytest.approx(200.0)
    assert np.nansum(by_name["industrial"].value_yuan) == pytest.approx(720.0)
    assert by_name["agricultural"].price_parameter == "water_price_agricultural"
    assert result.unit == "m3"


def test_water_supply_parent_row_per_use():
    table = stats(
        region_code=["C", "A"],
        water_use_domestic_m3=[30.0, 10.0],
        water_use_industrial_m3=[None, 4.0],
        water_use_agricultural_m3=[0.0, 0.0],
    )
    ctx = tree_ctx(table)
    result = water_supply.compute(ctx)
    by_name = {c.name: c for c in result.components}
    # domestic: A 10 on its water pixel (2,1); C's remainder 20 over B's 2 water pixels = 10 each
    assert by_name["domestic"].physical[2, 1] == pytest.approx(10.0)
    assert by_name["domestic"].physical[2, 2] == pytest.approx(10.0)
    # industrial: only A has a figure; B and C's own pixels have none (NaN)
    assert by_name["industrial"].physical[2, 1] == pytest.approx(4.0)
    assert np.isnan(by_name["industrial"].physical[2, 2])
    # total on B's pixel (2,2): domestic 10 + agricultural 0 (industrial unknown) -> 10 m³
    assert result.physical[2, 2] == pytest.approx(10.0)
    assert result.extra["allocated_regions"] == ["B"]


def test_eco_energy_hydropower_and_other_renewables():
    table = stats(region_code=["R1"], hydropower_kwh=[1000.0], other_renewable_kwh=[200.0])
    lc = [[WATER, FOREST, FOREST], [FOREST, FOREST, FOREST], [FOREST, FOREST, WATER]]
    result = eco_energy.compute(make_context({"landcover": lc}, CLASSES, tables={"statistics": table}))
    # (1000 + 200) kWh × 0.53 yuan/kWh = 636 yuan, on the two water pixels: 600 kWh, 318 yuan each
    assert np.nansum(result.physical) == pytest.approx(1200.0)
    assert np.nansum(result.value_yuan) == pytest.approx(636.0)
    assert result.value_yuan[2, 2] == pytest.approx(318.0)
    by_name = {c.name: c for c in result.components}
    assert np.nansum(by_name["other_renewable"].value_yuan) == pytest.approx(106.0)  # 200 × 0.53
    assert result.unit == "kWh"


def test_eco_energy_without_other_renewables():
    table = stats(region_code=["R1"], hydropower_kwh=[1000.0])
    result = eco_energy.compute(make_context({"landcover": [[WATER]]}, CLASSES, tables={"statistics": table}))
    assert float(result.value_yuan[0, 0]) == pytest.approx(530.0)  # 1000 × 0.53
    assert float(result.components[1].physical[0, 0]) == 0.0
    assert any("no other_renewable_kwh column" in n for n in result.notes)


def test_water_supply_formula_names_the_double_counting():
    assert "water conservation" in water_supply.DECLARATION.formula


# --------------------------------------------------------------------------------------------------
# declarations and parameters
# --------------------------------------------------------------------------------------------------

MODULES = (agriculture, forestry, animal_husbandry, fishery, water_supply, eco_energy, recreation, landscape_value)


def test_declarations_match_the_catalogue_and_the_registry():
    catalog = load_catalog()
    registry = services()
    for module in MODULES:
        declaration = module.DECLARATION
        item = catalog.item(declaration.item_id)
        assert declaration.unit == item.unit, declaration.item_id
        assert declaration.valuation == item.valuation, declaration.item_id
        assert registry[declaration.item_id].module is module
        assert declaration.whole_grid and declaration.class_columns == ("ecosystem",)


def test_declared_parameters_are_shipped_with_provenance():
    defaults = default_parameters()
    for module in MODULES:
        for name in module.DECLARATION.parameters:
            parameter = defaults[name]
            assert parameter.source and parameter.name_zh and parameter.name_en
            assert parameter.base_year is not None or not parameter.unit.startswith("yuan")
    assert defaults["water_price_domestic"].tag == "verified"
    assert defaults["hydropower_price"].value == 0.53
    assert defaults["landscape_premium_yuan_per_m2"].tag == "unverified"


# --------------------------------------------------------------------------------------------------
# through the engine (two-county fixture: A 100 forest pixels, B 96 forest + 4 water pixels)
# --------------------------------------------------------------------------------------------------


def test_engine_allocates_the_city_row(tmp_path):
    from account_fixture import build, edit_spec
    from gep.engine.compute import run_services
    from gep.inputs.prepare import prepare_inputs
    from gep.spec import load_spec

    path = build(tmp_path / "acc")
    # every column of the statistics table (the engine does not yet check declared columns before a run);
    # blank cells are "no figure"
    columns = [
        "agriculture_yuan",
        "animal_husbandry_yuan",
        "water_use_domestic_m3",
        "water_use_industrial_m3",
        "water_use_agricultural_m3",
        "tourism_visits",
        "tourism_revenue_yuan",
    ]
    table = pd.DataFrame(
        {
            "region_code": ["C", "A"],
            "year": [2020, 2020],
            "forestry_yuan": [1960.0, None],
            "fishery_yuan": [400.0, None],
            "hydropower_kwh": [1000.0, None],
            **{column: [None, None] for column in columns},
        }
    )
    table.to_csv(path.parent / "statistics.csv", index=False)
    edit_spec(path, lambda raw: raw["tables"].update({"statistics": {"path": "statistics.csv"}}))
    spec, problems = load_spec(path)
    assert spec is not None, problems
    prepared = prepare_inputs(spec)
    runs = {run.service.item_id: run.result for run in run_services(prepared)}
    index = prepared.index
    forestry_sums = index.region_sums(runs["forestry"].value_yuan)
    # 196 forest pixels share 1960 yuan: A 100 × 10 = 1000, B 96 × 10 = 960
    assert forestry_sums["A"] == pytest.approx(1000.0) and forestry_sums["B"] == pytest.approx(960.0)
    assert runs["forestry"].extra["allocated_regions"] == ["A", "B"]
    # the 4 water pixels are all in B: fishery 400 yuan and hydropower 1000 kWh × 0.53 = 530 yuan go to B
    assert index.region_sums(runs["fishery"].value_yuan)["B"] == pytest.approx(400.0)
    assert index.region_sums(runs["eco_energy"].value_yuan)["B"] == pytest.approx(530.0)
    assert index.region_sums(runs["eco_energy"].value_yuan)["A"] == pytest.approx(0.0)
    # agriculture has no figure at all: NaN everywhere, with a note
    assert np.isnan(runs["agriculture"].value_yuan).all()
    assert any("no figure for regions A, B" in n for n in runs["agriculture"].notes)
    assert "landscape_value" not in runs  # no properties table: skipped by the engine
