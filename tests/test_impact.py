"""Project impact (生态占补平衡) on the two-county fixture, water conservation worked out by hand.

Fixture (tests/account_fixture.py): 100 m pixels (1 ha = 10 000 m²), forest class 1, water class 2 (a
2 × 2 pond at rows 4-5, columns 14-15 of county B); P = 1500 mm, ET = 800 mm, open-water evaporation
900 mm; forest runoff coefficient 0.03; reservoir cost 7.06 yuan/m³. We add class 3 "built-up"
(ecosystem urban, runoff coefficient 0.6).

Water conservation per pixel, Q = (P − P × α − ET) × 10 000 m² × 1e-3:
  forest:   (1500 − 45 − 800) × 10 = 6550 m³
  built-up: (1500 − 900 − 800) × 10 = −2000 m³
  water:    (1500 − 0 − 900) × 10 = 6000 m³ (ET of water pixels = open-water evaporation)
"""

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box
from tests.account_fixture import RES, X0, Y0, build
from typer.testing import CliRunner

from gep.inputs.prepare import prepare_inputs
from gep.problems import GepInputError
from gep.realization.cli import app
from gep.realization.impact import (
    CompensationTerms,
    Scenario,
    assess_impact,
    compensation_schedule,
)
from gep.spec import load_spec

BUILT_UP = {
    "class": 3,
    "name_zh": "建设用地",
    "name_en": "built-up",
    "ecosystem": "urban",
    "runoff_coefficient": 0.6,
    "storm_runoff_coefficient": 0.9,
    "usle_c": 0.0,
    "usle_p": 1.0,
    "transpiration_heat": 0.0,
    "carbon_rate": 0.0,
    "cod_capacity": 0.0,
    "nh3n_capacity": 0.0,
    "tp_capacity": 0.0,
    "so2_capacity": 0.0,
    "nox_capacity": 0.0,
    "dust_capacity": 0.0,
    "pest_control_share": 0.0,
    "canopy_height": 0.0,
    "ion_lifetime": 10.0,
    "source": "test",
}
PRICE = 7.06  # yuan/m³


def cells(row0: int, row1: int, col0: int, col1: int):
    """Polygon covering grid rows row0..row1-1 and columns col0..col1-1 (EPSG:4549)."""
    return box(X0 + col0 * RES, Y0 - row1 * RES, X0 + col1 * RES, Y0 - row0 * RES)


def footprint(*geoms, crs: str = "EPSG:4549", **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(dict(columns), geometry=list(geoms), crs=crs)


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("impact")
    spec_path = build(directory)
    table = pd.read_csv(directory / "landcover_params.csv")
    pd.concat([table, pd.DataFrame([BUILT_UP])], ignore_index=True).to_csv(
        directory / "landcover_params.csv", index=False
    )
    return spec_path


@pytest.fixture(scope="module")
def prepared(fixture_dir):
    spec, problems = load_spec(fixture_dir)
    assert spec is not None, problems
    prepared = prepare_inputs(spec)
    assert prepared.ok, [p.render("en") for p in prepared.problems]
    return prepared


@pytest.fixture(scope="module")
def forest_to_built_up(prepared):
    # a 3 × 3 forest block in county A: rows 2-4, columns 2-4
    return assess_impact(
        prepared, footprint(cells(2, 5, 2, 5)), Scenario(to_class=3), CompensationTerms(ratio=1.5), source="fp"
    )


def water_rows(result, component: str = "") -> pd.DataFrame:
    items = result.items
    return items[(items["item"] == "water_conservation") & (items["component"] == component)].set_index("region_code")


def test_water_conservation_loss_by_hand(forest_to_built_up):
    rows = water_rows(forest_to_built_up)
    # 9 pixels: before 9 × 6550 = 58 950 m³, after 9 × −2000 = −18 000 m³, loss 9 × 8550 = 76 950 m³
    fp = rows.loc["footprint"]
    assert fp["physical_before"] == pytest.approx(58_950)
    assert fp["physical_after"] == pytest.approx(-18_000)
    assert fp["physical_loss"] == pytest.approx(76_950)
    assert fp["physical_unit"] == "m3"
    # value: 76 950 × 7.06 = 543 267 yuan
    assert fp["value_loss_yuan"] == pytest.approx(76_950 * PRICE)
    # a per-pixel item: the loss is all in county A (and so the city C and the account area)
    for code in ("account", "A", "C"):
        assert rows.loc[code, "physical_loss"] == pytest.approx(76_950)
    assert rows.loc["B", "physical_loss"] == pytest.approx(0.0)
    # county A before: 100 forest pixels × 6550 = 655 000 m³; after: 91 × 6550 − 9 × 2000 = 578 050
    assert rows.loc["A", "physical_before"] == pytest.approx(655_000)
    assert rows.loc["A", "physical_after"] == pytest.approx(578_050)


def test_compensation_and_summary(forest_to_built_up):
    result = forest_to_built_up
    comp = result.compensation.set_index("item")
    # ratio 1.5: 543 267 × 1.5 = 814 900.5 yuan a year for water conservation
    assert comp.loc["water_conservation", "annual_compensation_yuan"] == pytest.approx(76_950 * PRICE * 1.5)
    assert comp.loc["water_conservation", "offsite_loss_yuan"] == pytest.approx(0.0)
    # the total row is the sum of the items' counted losses × ratio
    items_only = comp.drop(index="total")
    assert comp.loc["total", "annual_compensation_yuan"] == pytest.approx(
        max(0.0, items_only["counted_loss_yuan"].sum()) * 1.5
    )
    s = result.summary
    assert (s["footprint_pixels"], s["changed_pixels"]) == (9, 9)
    assert s["footprint_area_m2"] == pytest.approx(90_000)
    assert s["transitions"] == [{"from_class": 1, "to_class": 3, "pixels": 9}]
    assert int(result.changed.sum()) == 9
    # one year, no discounting: present value = the annual compensation
    assert s["present_value_yuan"] == pytest.approx(s["annual_compensation_yuan"])


def test_original_inputs_untouched(prepared, forest_to_built_up):
    landcover = prepared.layers["landcover"].data
    assert int((landcover == 3).sum()) == 0


def test_schedule_discounting():
    # annuity at 5 % for 3 years: 1/1.05 + 1/1.05² + 1/1.05³ = 0.952381 + 0.907029 + 0.863838 = 2.723248
    schedule = compensation_schedule(1000.0, CompensationTerms(years=3, discount_rate=0.05))
    assert list(schedule["year"]) == [1, 2, 3]
    assert list(schedule["discount_factor"]) == pytest.approx([0.952381, 0.907029, 0.863838], abs=1e-6)
    assert schedule["present_value_yuan"].sum() == pytest.approx(2723.248, abs=1e-3)


def test_from_classes_and_gains(prepared):
    # rows 3-6 × columns 13-16 = 16 pixels around the 2 × 2 pond; only forest (12 pixels) → built-up
    result = assess_impact(prepared, footprint(cells(3, 7, 13, 17)), Scenario(to_class=3, from_classes=(1,)))
    assert (result.summary["footprint_pixels"], result.summary["changed_pixels"]) == (16, 12)
    assert water_rows(result).loc["footprint", "physical_loss"] == pytest.approx(12 * 8550)
    # the pond itself → forest: each water pixel 6000 → 6550 m³, a gain of 4 × 550 = 2200 m³ (loss −2200)
    pond = assess_impact(
        prepared, footprint(cells(4, 6, 14, 16)), Scenario(to_class=1), CompensationTerms(net_gains=False)
    )
    comp = pond.compensation.set_index("item")
    assert water_rows(pond).loc["footprint", "physical_loss"] == pytest.approx(-2200)
    assert comp.loc["water_conservation", "value_loss_yuan"] == pytest.approx(-2200 * PRICE)
    # gross: a gain is not counted
    assert comp.loc["water_conservation", "counted_loss_yuan"] == 0.0
    assert comp.loc["total", "counted_loss_yuan"] == pytest.approx(
        comp.drop(index="total")["value_loss_yuan"].clip(lower=0).sum()
    )


def test_class_field_and_reprojected_footprint(prepared):
    # the same 3 × 3 block, given in WGS84 with its class in an attribute: the same water loss
    fp = footprint(cells(2, 5, 2, 5), lc=[3]).to_crs("EPSG:4326")
    result = assess_impact(prepared, fp, Scenario(class_field="lc"))
    assert water_rows(result).loc["footprint", "physical_loss"] == pytest.approx(76_950)


def test_layer_values_follow_the_change(prepared, forest_to_built_up):
    # NEP is an observed field: without --set-layer the carbon of the footprint does not change
    comp = forest_to_built_up.compensation.set_index("item")
    assert comp.loc["carbon_sequestration", "physical_loss"] == pytest.approx(0.0)
    # with NEP set to 0 on the 9 changed pixels: 200 g C/m² × 10 000 m² = 2 t C per pixel,
    # × 44/12 = 7.3333 t CO2; 9 pixels → 66 t CO2 lost
    result = assess_impact(prepared, footprint(cells(2, 5, 2, 5)), Scenario(to_class=3, layer_values={"nep": 0.0}))
    comp = result.compensation.set_index("item")
    assert comp.loc["carbon_sequestration", "physical_loss"] == pytest.approx(66.0)
    with pytest.raises(GepInputError) as exc:
        assess_impact(prepared, footprint(cells(2, 5, 2, 5)), Scenario(to_class=3, layer_values={"nnp": 0.0}))
    assert (exc.value.problems[0].code, exc.value.problems[0].params["value"]) == ("realization_layer_unknown", "nnp")


def test_bad_scenarios_are_named(prepared, fixture_dir):
    with pytest.raises(GepInputError) as exc:
        assess_impact(prepared, footprint(cells(2, 5, 2, 5)), Scenario(to_class=9))
    problem = exc.value.problems[0]
    assert problem.code == "realization_class_unknown" and problem.params["value"] == [9]
    assert problem.source.endswith("landcover_params.csv")
    with pytest.raises(GepInputError) as exc:
        assess_impact(prepared, footprint(cells(2, 5, 2, 5)), Scenario(to_class=3, class_field="lc"))
    assert exc.value.problems[0].code == "realization_scenario_choice"
    far = box(X0 + 10_000, Y0 - 10_000, X0 + 10_500, Y0 - 9_500)
    with pytest.raises(GepInputError) as exc:
        assess_impact(prepared, footprint(far), Scenario(to_class=3), source="far.geojson")
    assert exc.value.problems[0].code == "realization_footprint_no_pixels"
    assert exc.value.problems[0].source == "far.geojson"
    with pytest.raises(GepInputError) as exc:
        assess_impact(prepared, footprint(cells(2, 5, 2, 5)), Scenario(to_class=3), CompensationTerms(years=0))
    assert (exc.value.problems[0].code, exc.value.problems[0].field) == ("realization_bad_term", "years")


def test_cli_impact(tmp_path, fixture_dir):
    fp_path = tmp_path / "footprint.geojson"
    footprint(cells(2, 5, 2, 5)).to_file(fp_path, driver="GeoJSON")
    out = tmp_path / "out"
    args = ["impact", str(fixture_dir), "--footprint", str(fp_path), "--to-class", "3", "--years", "2"]
    args += ["--set-layer", "nep=0"]
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--quiet", "--lang", "en"])
    assert result.exit_code == 0, result.output
    items = pd.read_csv(out / "impact_items.csv", encoding="utf-8-sig", keep_default_na=False)
    row = items[(items["item"] == "water_conservation") & (items["region_code"] == "footprint")]
    assert float(row["physical_loss"].iloc[0]) == pytest.approx(76_950)
    summary = json.loads((out / "impact_summary.json").read_text(encoding="utf-8"))
    # two years, no discounting: present value = 2 × annual
    assert summary["present_value_yuan"] == pytest.approx(2 * summary["annual_compensation_yuan"])
    assert (out / "impact.xlsx").is_file() and (out / "impact_schedule.csv").is_file()
    missing = CliRunner().invoke(app, ["impact", str(fixture_dir), "--footprint", str(tmp_path / "no.geojson")])
    assert missing.exit_code == 1 and "no.geojson" in missing.output
    assert np.isfinite(summary["value_loss_yuan"]) and summary["scenario"]["layer_values"] == {"nep": 0.0}
    bad = CliRunner().invoke(app, [*args[:4], "--to-class", "3", "--set-layer", "nep", "--out", str(out)])
    assert bad.exit_code == 1 and "--set-layer" in bad.output
