"""The ecological product catalogue: data files, loader checks, plugins and rendering.

Expected values are written out from the reference documents, not from the loader's output:
item ids from notes/common.md, SEEA codes from realization-and-seea.md §1.6, profile membership from
gep-methods.md §2.1 and §20.1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gep.catalog import (
    DEFAULT_PROFILE,
    CatalogDataError,
    _parse_items,
    _parse_profile,
    build_catalog,
    load_catalog,
)
from gep.catalog.render import render_catalog

MATERIAL = ("agriculture", "forestry", "animal_husbandry", "fishery", "water_supply", "eco_energy")
REGULATING = (
    "water_conservation",
    "soil_retention",
    "sand_fixation",
    "flood_regulation",
    "water_purification",
    "air_purification",
    "carbon_sequestration",
    "oxygen_release",
    "climate_regulation",
    "negative_air_ions",
    "pest_control",
    "coastal_protection",
)
CULTURAL = ("recreation", "landscape_value")
PROFILES = {"ndrc2022", "gbt46869_2025", "mee2020", "zj_db33_2274_2020", "lishui2019", "rcees_ganzi", "xie2015_esv"}


# ----------------------------------------------------------------------------------------- items


def test_items_are_the_shared_vocabulary_in_category_order():
    ids = tuple(item.id for item in load_catalog().items)
    # 6 material + 12 regulating + 2 cultural = 20 items, material first, then file order.
    assert ids == MATERIAL + REGULATING + CULTURAL
    categories = [item.category for item in load_catalog().items]
    assert categories.count("material") == 6
    assert categories.count("regulating") == 12
    assert categories.count("cultural") == 2


def test_every_item_has_both_names_and_a_seea_code_or_a_reason():
    for item in load_catalog().items:
        assert item.name_zh and item.name_en and item.unit_zh and item.unit_en, item.id
        assert any("\u4e00" <= ch <= "\u9fff" for ch in item.name_zh), item.id
        assert item.description_zh and item.description_en and item.valuation_zh and item.valuation_en
        if item.in_seea:
            assert item.seea_code is not None and item.seea_codes[0] == item.seea_code, item.id
        else:
            assert item.seea_code is None and item.seea_note.strip(), item.id


def test_items_outside_seea_are_eco_energy_oxygen_and_ions():
    outside = {item.id for item in load_catalog().items if not item.in_seea}
    assert outside == {"eco_energy", "oxygen_release", "negative_air_ions"}


@pytest.mark.parametrize(
    ("item_id", "code"),
    [  # realization-and-seea.md §1.6: the crosswalk's first code of each item
        ("soil_retention", "2.6"),
        ("carbon_sequestration", "2.1"),
        ("recreation", "3.1"),
        ("landscape_value", "3.2"),
        ("water_conservation", "2.11"),
        ("water_supply", "1.9"),
        ("air_purification", "2.4"),
        ("climate_regulation", "2.3"),
        ("pest_control", "2.18"),
        ("coastal_protection", "2.13"),
        ("flood_regulation", "2.12"),
        ("agriculture", "1.1"),
    ],
)
def test_seea_codes_follow_the_crosswalk(item_id, code):
    assert load_catalog().item(item_id).seea_code == code


def test_units_and_valuation_of_a_few_items():
    catalog = load_catalog()
    assert (catalog.item("water_conservation").unit, catalog.item("water_conservation").valuation) == (
        "m3",
        "shadow_engineering",
    )
    assert catalog.item("agriculture").unit == "yuan"
    assert catalog.item("climate_regulation").unit == "kWh"
    assert catalog.item("pest_control").unit == "hm2"
    assert catalog.item("recreation").valuation == "travel_cost"
    assert catalog.item("oxygen_release").valuation == "industrial_oxygen"
    assert catalog.item("landscape_value").valuation == "hedonic_pricing"


def test_unknown_item_lists_known_ids():
    with pytest.raises(KeyError) as info:
        load_catalog().item("wood")
    assert "wood" in str(info.value) and "soil_retention" in str(info.value)


# -------------------------------------------------------------------------------------- profiles


def test_all_profiles_are_present_and_default_exists():
    catalog = load_catalog()
    assert {profile.id for profile in catalog.profiles} == PROFILES
    assert catalog.profile(DEFAULT_PROFILE).id == "zj_db33_2274_2020"


def test_zhejiang_profile_counts_ions_and_not_sand_fixation():
    items = load_catalog().profile("zj_db33_2274_2020").items
    assert "negative_air_ions" in items
    assert "sand_fixation" not in items
    # 6 material + 9 regulating (no sand fixation, pest control, coastal protection) + recreation = 16
    assert len(load_catalog().items_for_profile("zj_db33_2274_2020")) == 16


def test_ganzi_profile_follows_the_case_study():
    ganzi = load_catalog().profile("rcees_ganzi")
    # gep-methods.md §20.1: 17 rows of items, with sand fixation and pest control, no ions/landscape.
    assert len(ganzi.items) == 17
    assert {"sand_fixation", "pest_control", "water_supply"} <= set(ganzi.items)
    assert not {"negative_air_ions", "landscape_value", "coastal_protection"} & set(ganzi.items)
    assert ganzi.variants == {"carbon_sequestration": "nep", "oxygen_release": "npp"}
    assert ganzi.options["material_basis"] == "net_output"
    assert ganzi.options["recreation_method"] == "travel_cost"


def test_item_profiles_are_derived_from_profile_files():
    catalog = load_catalog()
    sand = catalog.item("sand_fixation")
    assert "rcees_ganzi" in sand.profiles and "zj_db33_2274_2020" not in sand.profiles
    for item in catalog.items:
        for profile in catalog.profiles:
            assert (profile.id in item.profiles) == (item.id in profile.items)


def test_items_for_profile_keep_catalogue_order():
    items = [item.id for item in load_catalog().items_for_profile("lishui2019")]
    assert items == [i for i in MATERIAL + REGULATING + CULTURAL if i in items]


def test_screening_profile_is_equivalent_factor_with_no_items():
    xie = load_catalog().profile("xie2015_esv")
    assert xie.method == "equivalent_factor"
    assert xie.items == () and xie.note


def test_unverified_profile_choices_carry_a_note():
    for profile in load_catalog().profiles:
        assert set(profile.unverified) <= set(profile.items)
        if profile.unverified:
            assert "nverified" in profile.note, profile.id


def test_unknown_profile_lists_valid_names():
    with pytest.raises(KeyError) as info:
        load_catalog().profile("zhejiang")
    message = str(info.value)
    assert "zhejiang" in message
    assert all(name in message for name in PROFILES)


# ---------------------------------------------------------------------------------------- layers


def test_layers_match_the_vocabulary():
    catalog = load_catalog()
    names = {layer.name for layer in catalog.layers}
    assert names == {
        "dem",
        "landcover",
        "precipitation",
        "evapotranspiration",
        "rainfall_erosivity",
        "soil_erodibility",
        "npp",
        "nep",
        "storm_rainfall",
        "water_evaporation",
        "hot_days",
        "negative_ions",
        "wind_erosion_potential",
        "wind_erosion_actual",
        "ls_factor",
    }
    assert (catalog.layer("dem").min, catalog.layer("dem").max) == (-100.0, 9000.0)
    assert (catalog.layer("nep").min, catalog.layer("nep").max) == (-2000.0, 3000.0)
    assert catalog.layer("negative_ions").max == 1e6
    assert catalog.layer("landcover").resampling == "nearest"
    assert catalog.layer("precipitation").resampling == "average"
    ls = catalog.layer("ls_factor")
    assert ls.derived and ls.derived_from == ("dem",)
    assert not any(layer.derived for layer in catalog.layers if layer.name != "ls_factor")
    with pytest.raises(KeyError, match="precipitation"):
        catalog.layer("rain")


# ------------------------------------------------------------------------------- loader checks

_ITEM = """
[categories.material]
zh = "物质产品"
en = "material products"
[categories.regulating]
zh = "调节服务"
en = "regulating services"
[categories.cultural]
zh = "文化服务"
en = "cultural services"
[valuation_methods.market_value]
zh = "市场价值法"
en = "market value"
"""


def _item(item_id: str, category: str = "material") -> str:
    return f"""
[[items]]
id = "{item_id}"
category = "{category}"
name_zh = "名称"
name_en = "name"
unit = "t"
unit_zh = "吨"
unit_en = "t"
valuation = "market_value"
seea_code = "1.1"
description_zh = "说明"
description_en = "description"
provenance = "unverified"
provenance_source = "test"
"""


def test_unknown_category_names_file_and_entry():
    with pytest.raises(CatalogDataError) as info:
        _parse_items(_ITEM + _item("rice", "provisioning"), "items.toml")
    message = str(info.value)
    assert "items.toml" in message and "rice" in message and "provisioning" in message
    assert "material" in message  # the valid choices


def test_duplicate_item_id_is_rejected():
    with pytest.raises(CatalogDataError, match=r"items\.toml.*rice"):
        _parse_items(_ITEM + _item("rice") + _item("rice"), "items.toml")


def test_item_not_in_seea_needs_a_note():
    text = _ITEM + _item("rice").replace('seea_code = "1.1"', "in_seea = false")
    with pytest.raises(CatalogDataError, match="seea_note"):
        _parse_items(text, "items.toml")


def _profile(items: str, profile_id: str = "mine", extra: str = "") -> str:
    return f"""
id = "{profile_id}"
title_zh = "我的"
title_en = "mine"
standard = "none"
status = "test"
items = [{items}]
{extra}
"""


def test_profile_naming_an_unknown_item_is_rejected():
    with pytest.raises(CatalogDataError) as info:
        _parse_profile(_profile('"agriculture", "timber"'), "mine.toml", ("agriculture",))
    assert "mine.toml" in str(info.value) and "timber" in str(info.value)


def test_profile_option_values_are_checked():
    text = _profile('"agriculture"', extra='[options]\nmaterial_basis = "gross"')
    with pytest.raises(CatalogDataError, match="gross_output"):
        _parse_profile(text, "mine.toml", ("agriculture",))


def test_profile_options_get_defaults():
    profile = _parse_profile(_profile('"agriculture"'), "mine.toml", ("agriculture",))
    assert profile.options == {
        "material_basis": "gross_output",
        "include_water_supply": True,
        "recreation_method": "travel_cost",
        "include_reservoir_operating_cost": False,
    }


# --------------------------------------------------------------------------------------- plugins


class _FakeEntryPoint:
    def __init__(self, name, target):
        self.name = name
        self._target = target

    def load(self):
        if isinstance(self._target, Exception):
            raise self._target
        return self._target


def test_plugin_profile_is_added_and_membership_derived(tmp_path: Path):
    path = tmp_path / "county.toml"
    path.write_text(_profile('"water_conservation", "recreation"', "county_x"), encoding="utf-8")
    catalog = build_catalog([_FakeEntryPoint("county", lambda: path)])
    assert catalog.profile("county_x").items == ("water_conservation", "recreation")
    assert "county_x" in catalog.item("recreation").profiles
    assert "county_x" not in catalog.item("agriculture").profiles
    assert catalog.problems == ()


def test_broken_plugins_become_warnings(tmp_path: Path):
    bad_item = tmp_path / "bad.toml"
    bad_item.write_text(_profile('"timber"', "bad"), encoding="utf-8")
    clash = tmp_path / "clash.toml"
    clash.write_text(_profile('"recreation"', "rcees_ganzi"), encoding="utf-8")
    plugins = [
        _FakeEntryPoint("crashes", ImportError("no module named county")),
        _FakeEntryPoint("unknown_item", str(bad_item)),
        _FakeEntryPoint("duplicate", clash),
        _FakeEntryPoint("missing", str(tmp_path / "absent.toml")),
    ]
    with pytest.warns(RuntimeWarning) as record:
        catalog = build_catalog(plugins)
    assert len(record) == 4 and len(catalog.problems) == 4
    assert "crashes" in str(record[0].message) and "no module named county" in str(record[0].message)
    assert "timber" in str(record[1].message)
    assert {p.id for p in catalog.profiles} == PROFILES  # built-ins intact, nothing added
    assert catalog.profile("rcees_ganzi").source.endswith("profiles/rcees_ganzi.toml")
    assert "插件" in catalog.problems[0].render("zh")


# ------------------------------------------------------------------------------------- rendering

_REQUIRED_KEYS = {"id", "category", "name_zh", "name_en", "unit", "seea_code", "in_seea", "valuation", "profiles"}


def test_json_output_parses_with_required_keys():
    records = json.loads(render_catalog(lang="en", fmt="json"))
    assert len(records) == 20
    for record in records:
        assert set(record) >= _REQUIRED_KEYS
    by_id = {r["id"]: r for r in records}
    assert by_id["eco_energy"]["seea_code"] is None and by_id["eco_energy"]["in_seea"] is False
    assert by_id["soil_retention"]["seea_code"] == "2.6"
    assert "zj_db33_2274_2020" in by_id["negative_air_ions"]["profiles"]


def test_json_output_for_a_profile_has_only_its_items():
    records = json.loads(render_catalog(profile="zj_db33_2274_2020", fmt="json"))
    ids = {r["id"] for r in records}
    assert len(records) == 16 and "negative_air_ions" in ids and "sand_fixation" not in ids


def test_chinese_table_has_chinese_headers_and_categories():
    text = render_catalog(lang="zh")
    assert "类别" in text and "项目名称" in text
    assert "物质产品" in text and "调节服务" in text and "文化服务" in text
    assert "土壤保持" in text and "不属于 SEEA" in text


def test_english_table_for_a_profile():
    text = render_catalog(lang="en", profile="rcees_ganzi")
    assert "Category" in text and "regulating services" in text and "sand fixation" in text
    assert "negative air ions" not in text


def test_render_rejects_bad_choices_naming_valid_ones():
    with pytest.raises(ValueError) as info:
        render_catalog(profile="zhejiang")
    assert all(name in str(info.value) for name in PROFILES)
    with pytest.raises(ValueError, match="table, json"):
        render_catalog(fmt="csv")
    with pytest.raises(ValueError, match="zh, en"):
        render_catalog(lang="fr")
