"""The account engine end to end on the two-county fixture, with results worked out by hand.

Fixture (tests/account_fixture.py): 100 m pixels (1 ha); county A = 100 forest pixels, county B =
96 forest + 4 water pixels; P = 1500 mm, ET = 800 mm, forest runoff coefficient 0.03, open-water
evaporation 900 mm; reservoir cost 7.06 yuan/m³ (Ganzi default).
"""

import filecmp
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box
from tests.account_fixture import RES, ROWS, X0, Y0, build, edit_spec

from gep.engine.compute import run_services
from gep.engine.run import run_account
from gep.inputs.prepare import prepare_inputs
from gep.spec import load_spec


def account(spec_path, out, reports=False):
    """Run the account; the report files are tested in test_reports.py, so most runs skip them."""
    spec, problems = load_spec(spec_path)
    assert spec is not None, problems
    run_account(spec, out, reports=reports)
    table = pd.read_csv(out / "account.csv", dtype={"region_code": str}, keep_default_na=False)
    return table


def value(table, item, region, component="", column="value_yuan"):
    row = table[(table["item"] == item) & (table["region_code"] == region) & (table["component"] == component)]
    assert len(row) == 1, (item, region, component)
    return float(row[column].iloc[0])


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    directory = tmp_path_factory.mktemp("engine")
    spec = build(directory / "acc")
    return spec, account(spec, directory / "out", reports=True)


def test_water_conservation_by_hand(base):
    _, table = base
    # forest pixel: (1500 - 0.03*1500 - 800) mm * 10000 m2 * 1e-3 = 6550 m3
    # water pixel: (1500 - 0 - 900) mm * 10 = 6000 m3 (open-water evaporation as ET)
    assert value(table, "water_conservation", "A", column="physical_quantity") == pytest.approx(100 * 6550)
    assert value(table, "water_conservation", "B", column="physical_quantity") == pytest.approx(96 * 6550 + 4 * 6000)
    assert value(table, "water_conservation", "A") == pytest.approx(655000 * 7.06)


def test_air_purification_takes_the_smaller_of_capacity_and_load(base):
    _, table = base
    # SO2 capacity 0.1 t/ha on forest: A 100 ha -> 10 t vs load 1 t -> 1 t; B 96 ha -> 9.6 t vs 100 t -> 9.6 t
    assert value(table, "air_purification", "A", "so2", "physical_quantity") == pytest.approx(1.0)
    assert value(table, "air_purification", "B", "so2", "physical_quantity") == pytest.approx(9.6)
    assert value(table, "air_purification", "B", "so2") == pytest.approx(9.6 * 1200)


def test_children_sum_to_parent_for_every_item_and_component(base):
    _, table = base
    for (item, component), rows in table.groupby(["item", "component"]):
        by_region = rows.set_index("region_code")
        for column in ("physical_quantity", "value_yuan"):
            parent = by_region.loc["C", column]
            assert parent == pytest.approx(by_region.loc["A", column] + by_region.loc["B", column], rel=1e-11), (
                item,
                component,
                column,
            )


def test_methods_and_summary_list_excluded_items(base):
    spec, _ = base
    out = spec.parent.parent / "out"
    methods = pd.read_csv(out / "methods.csv", keep_default_na=False).set_index("item")
    assert methods.loc["sand_fixation", "status"] == "excluded"
    assert methods.loc["water_conservation", "status"] == "computed"
    assert "reservoir_cost=7.06 yuan/m3 [verified]" in methods.loc["water_conservation", "parameters"]
    assert "[U]" in methods.loc["negative_air_ions", "notes"] or methods.loc["negative_air_ions", "unverified"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["skipped_items"]["sand_fixation"] == "excluded by profile"
    assert summary["checks"]["region_children_sum_max_residual_yuan"] == 0.0


def test_region_and_class_overrides(tmp_path):
    spec = build(tmp_path / "acc")
    edit_spec(
        spec,
        lambda raw: raw.update(
            parameters={
                "regions": {"A": {"reservoir_cost": 10.0}},
                "classes": {"1": {"runoff_coefficient": 0.05}},
            }
        ),
    )
    table = account(spec, tmp_path / "out")
    # forest pixel with alpha 0.05: (1500 - 75 - 800) * 10 = 6250 m3
    assert value(table, "water_conservation", "A", column="physical_quantity") == pytest.approx(100 * 6250)
    assert value(table, "water_conservation", "A") == pytest.approx(100 * 6250 * 10.0)
    assert value(table, "water_conservation", "B") == pytest.approx((96 * 6250 + 4 * 6000) * 7.06)


def test_zone_sums(tmp_path):
    spec = build(tmp_path / "acc")
    gpd.GeoDataFrame(
        {"code": ["Z"], "name": ["公园"], "kind": ["national_park"]},
        geometry=[box(X0, Y0 - ROWS * RES, X0 + 5 * RES, Y0)],
        crs="EPSG:4549",
    ).to_file(spec.parent / "zones.gpkg", driver="GPKG")
    edit_spec(spec, lambda raw: raw.update(zones=[{"path": "zones.gpkg"}]))
    table = account(spec, tmp_path / "out")
    # the zone covers 5 columns x 10 rows of forest in county A: 50 * 6550 m3
    assert value(table, "water_conservation", "Z", column="physical_quantity") == pytest.approx(50 * 6550)
    assert table[table["region_code"] == "Z"]["level"].unique().tolist() == ["zone"]


def test_rerun_is_byte_identical(tmp_path):
    spec = build(tmp_path / "acc")
    account(spec, tmp_path / "one")
    account(spec, tmp_path / "two")
    names = ["account.csv", "methods.csv", "summary.json"]
    names += [f"maps/{p.name}" for p in sorted((tmp_path / "one" / "maps").iterdir())]
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "one", tmp_path / "two", names, shallow=False)
    assert mismatch == [] and errors == []
    assert len(match) > 10


def test_chunked_run_equals_whole_grid(tmp_path):
    spec_path = build(tmp_path / "acc")
    spec, _ = load_spec(spec_path)
    prepared = prepare_inputs(spec)
    whole = {r.service.item_id: r.result for r in run_services(prepared, chunk_rows=10_000)}
    chunked = {r.service.item_id: r.result for r in run_services(prepared, chunk_rows=3)}
    for item, result in whole.items():
        np.testing.assert_allclose(chunked[item].value_yuan, result.value_yuan, rtol=1e-12, equal_nan=True)


def test_refuses_to_replace_a_folder_it_did_not_write(tmp_path):
    spec_path = build(tmp_path / "acc")
    spec, _ = load_spec(spec_path)
    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "thesis.docx").write_text("keep me")
    with pytest.raises(FileExistsError, match="holds no earlier gep account"):
        run_account(spec, precious)
    assert (precious / "thesis.docx").read_text() == "keep me"


def test_cog_maps_are_tiled_and_georeferenced(base):
    import rasterio

    spec, table = base
    with rasterio.open(spec.parent.parent / "out" / "maps" / "water_conservation_physical.tif") as src:
        assert src.crs.to_epsg() == 4549
        assert src.profile["tiled"] and src.profile["blockxsize"] == 256
        data = src.read(1)
        assert np.nansum(data) == pytest.approx(value(table, "water_conservation", "C", column="physical_quantity"))


def test_profiles_include_and_exclude_items(tmp_path):
    spec = build(tmp_path / "acc")
    edit_spec(spec, lambda raw: raw["account"].update(profile="rcees_ganzi"))
    table = account(spec, tmp_path / "out")
    computed = set(table["item"])
    # the Ganzi case study counts pest control but not negative air ions (Zhejiang practice)
    assert "pest_control" in computed and "negative_air_ions" not in computed
    # pest control on forest: 196 ha of forest x share 1.0 x 375 yuan/ha (Ganzi 2010)
    assert value(table, "pest_control", "C") == pytest.approx(196 * 375.0)
    methods = pd.read_csv(tmp_path / "out" / "methods.csv", keep_default_na=False).set_index("item")
    assert methods.loc["negative_air_ions", "status"] == "excluded"
    # sand fixation is in the profile but the fixture has no wind-erosion layers: skipped, and says why
    assert methods.loc["sand_fixation", "status"] == "skipped"
    assert "wind_erosion_potential" in methods.loc["sand_fixation", "reason"]


def test_provenance_traces_inputs_and_parameters(base):
    import hashlib

    spec, _ = base
    provenance = json.loads((spec.parent.parent / "out" / "provenance.json").read_text(encoding="utf-8"))
    precipitation = spec.parent / "precipitation.tif"
    expected = hashlib.sha256(precipitation.read_bytes()).hexdigest()
    assert provenance["inputs"]["layers.precipitation"]["sha256"] == expected
    cost = provenance["parameters"]["reservoir_cost"]
    assert (cost["value"], cost["unit"], cost["tag"], cost["base_year"]) == (7.06, "yuan/m3", "verified", 2010)
    assert provenance["profile"]["id"] == "zj_db33_2274_2020"


def test_account_object_reads_back_totals_and_checks(base):
    from gep.account import Account

    spec, table = base
    acc = Account.load(spec.parent.parent / "out")
    assert acc.year == 2020 and acc.profile == "zj_db33_2274_2020"
    totals = acc.totals("A")
    regulating = table[(table["region_code"] == "A") & (table["component"] == "")]["value_yuan"].sum()
    assert totals["regulating_yuan"] == pytest.approx(regulating)
    assert totals["gep_yuan"] == pytest.approx(
        totals["material_yuan"] + totals["regulating_yuan"] + totals["cultural_yuan"]
    )
    # county A is 1 km2 (100 pixels of 1 ha): GEP per km2 equals its GEP
    assert acc.region("A")["gep_per_km2_yuan"] == pytest.approx(totals["gep_yuan"], rel=1e-3)
    checks = acc.checks()
    assert checks and all(c.ok for c in checks)
    assert acc.map_path("water_conservation").is_file()
    with pytest.raises(KeyError, match="region 'Q' is not in this account"):
        acc.region("Q")


def test_seea_supply_tables_by_ecosystem_type(base):
    spec, table = base
    out = spec.parent.parent / "out"
    monetary = pd.read_csv(out / "seea_supply_monetary.csv", keep_default_na=False).set_index("item")
    # water conservation: forest 196 pixels x 6550 m3 x 7.06 = 9,063,628 yuan; water 4 x 6000 x 7.06 = 169,440
    assert monetary.loc["water_conservation", "forest"] == pytest.approx(196 * 6550 * 7.06)
    assert monetary.loc["water_conservation", "water"] == pytest.approx(4 * 6000 * 7.06)
    assert monetary.loc["water_conservation", "seea_code"] == "2.11"
    # oxygen release is not an ecosystem service in SEEA EA: kept apart and out of the SEEA total
    assert monetary.loc["oxygen_release", "section"].startswith("memorandum")
    seea_items = monetary[(monetary["section"] == "seea") & (monetary.index != "total")]
    assert monetary.loc["total", "total_supply"] == pytest.approx(seea_items["total_supply"].astype(float).sum())
    city = table[(table["region_code"] == "C") & (table["component"] == "")].set_index("item")["value_yuan"]
    for item in seea_items.index:
        assert float(monetary.loc[item, "total_supply"]) == pytest.approx(city[item], rel=1e-9)
    physical = pd.read_csv(out / "seea_supply_physical.csv", keep_default_na=False).set_index("item")
    assert physical.loc["water_conservation", "unit"] == "m3"
    assert physical.loc["water_conservation", "total_supply"] == pytest.approx(196 * 6550 + 4 * 6000)


def test_double_counting_switch_drops_water_supply(tmp_path):
    from gep.catalog import load_catalog

    # the Lishui 2019 profile lists no water supply and sets include_water_supply = false
    assert load_catalog().profile("lishui2019").options["include_water_supply"] is False
    spec_path = build(tmp_path / "acc")
    edit_spec(spec_path, lambda raw: raw["account"].update(profile="lishui2019"))
    spec, _ = load_spec(spec_path)
    prepared = prepare_inputs(spec)
    assert "water_supply" not in prepared.computable_items
    assert "include_water_supply = false" in prepared.skipped_items["water_supply"]
    # and a profile that keeps it (Ganzi) lists it as selected
    edit_spec(spec_path, lambda raw: raw["account"].update(profile="rcees_ganzi"))
    spec, _ = load_spec(spec_path)
    assert "water_supply" in prepare_inputs(spec).selected_items
