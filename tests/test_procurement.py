"""GEP-based procurement (云和) and purchase (大洋) schemes: payment schedules worked out by hand."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from gep.problems import GepInputError
from gep.realization import example_path
from gep.realization.cli import app
from gep.realization.procurement import (
    basis_from_account,
    indicator_number,
    load_scheme,
    parse_scheme,
    payment_schedule,
    read_indicators,
    with_figures,
)


def yunhe_like(on_fail_share: float = 0.0) -> dict:
    """0.2 % of a regulating GEP of 1e9 yuan, 70 % in 2020, 30 % in 2021 if water class ≤ II."""
    return {
        "scheme": {"id": "yunhe_test", "first_year": 2020},
        "basis": [{"id": "regulating_gep", "share": 0.002, "value_yuan": 1.0e9}],
        "tranches": [
            {"year_offset": 0, "share": 0.7},
            {"year_offset": 1, "share": 0.3, "condition": "quality"},
        ],
        "conditions": {
            "quality": {
                "indicator": "water_quality_class",
                "operator": "<=",
                "threshold": "II",
                "on_fail_share": on_fail_share,
            }
        },
    }


def dayang_like(condition: bool = False) -> dict:
    """5 % of a site GEP of 2e7 yuan + 12 % of a premium of 5e6 yuan, over 4 years from 2020."""
    raw = {
        "scheme": {"id": "dayang_test", "kind": "purchase", "first_year": 2020},
        "basis": [
            {"id": "site_gep", "share": 0.05, "value_yuan": 2.0e7},
            {"id": "ecological_premium", "share": 0.12, "value_yuan": 5.0e6},
        ],
        "installments": {"years": 4},
    }
    if condition:
        raw["installments"]["condition"] = "cover"
        raw["conditions"] = {"cover": {"indicator": "forest_cover", "operator": ">=", "threshold": 0.8}}
    return raw


def parsed(raw: dict):
    scheme, problems = parse_scheme(raw, "scheme.toml")
    assert scheme is not None, [p.render("en") for p in problems]
    return scheme


def test_yunhe_condition_met():
    # total = 0.002 × 1e9 = 2 000 000 yuan; 2020: 0.7 × 2e6 = 1 400 000; 2021: 0.3 × 2e6 = 600 000,
    # paid because the 2021 water class II (= 2) ≤ II
    result = payment_schedule(parsed(yunhe_like()), {("water_quality_class", 2021): indicator_number("II")})
    s = result.schedule
    assert result.total_yuan == pytest.approx(2_000_000)
    assert list(s["year"]) == [2020, 2021]
    assert list(s["amount_yuan"]) == pytest.approx([1_400_000, 600_000])
    assert list(s["status"]) == ["unconditional", "met"]
    assert s["condition_met"].iloc[1] is True
    assert "water_quality_class <= II in 2021" in s["condition"].iloc[1]
    assert "0.002 × regulating_gep 1000000000 yuan" in s["basis"].iloc[1]


def test_yunhe_condition_not_met_and_pending():
    # class III (3) > II: the 600 000 yuan of 2021 are withheld; scheduled stays 600 000
    s = payment_schedule(parsed(yunhe_like()), {("water_quality_class", 2021): 3.0}).schedule
    assert list(s["amount_yuan"]) == pytest.approx([1_400_000, 0])
    assert list(s["scheduled_yuan"]) == pytest.approx([1_400_000, 600_000])
    assert s["status"].iloc[1] == "not_met" and s["condition_met"].iloc[1] is False
    # half paid on failure: 0.5 × 600 000 = 300 000
    s = payment_schedule(parsed(yunhe_like(on_fail_share=0.5)), {("water_quality_class", 2021): 3.0}).schedule
    assert s["amount_yuan"].iloc[1] == pytest.approx(300_000)
    # no observation for 2021 (only 2020): pending, the scheduled amount is listed
    s = payment_schedule(parsed(yunhe_like()), {("water_quality_class", 2020): 1.0}).schedule
    assert s["status"].iloc[1] == "pending" and s["condition_met"].iloc[1] is None


def test_dayang_instalments():
    # 0.05 × 2e7 + 0.12 × 5e6 = 1 000 000 + 600 000 = 1 600 000 yuan, 4 × 400 000 in 2020..2023
    result = payment_schedule(parsed(dayang_like()))
    s = result.schedule
    assert result.total_yuan == pytest.approx(1_600_000)
    assert list(s["year"]) == [2020, 2021, 2022, 2023]
    assert list(s["amount_yuan"]) == pytest.approx([400_000] * 4)
    assert list(result.basis["amount_yuan"]) == pytest.approx([1_000_000, 600_000])


def test_dayang_conditional_instalments():
    # forest cover ≥ 0.8: 2020 0.85 met, 2021 0.8 met (equal), 2022 0.79 not met, 2023 unobserved
    observed = {("forest_cover", 2020): 0.85, ("forest_cover", 2021): 0.8, ("forest_cover", 2022): 0.79}
    s = payment_schedule(parsed(dayang_like(condition=True)), observed).schedule
    assert list(s["status"]) == ["met", "met", "not_met", "pending"]
    assert list(s["amount_yuan"]) == pytest.approx([400_000, 400_000, 0, 400_000])


def test_first_year_override_and_figures():
    scheme = with_figures(parsed(dayang_like()), {"ecological_premium": 0.0})
    result = payment_schedule(scheme, first_year=2030)
    # 0.05 × 2e7 = 1 000 000 over 4 years: 250 000 a year from 2030
    assert list(result.schedule["year"]) == [2030, 2031, 2032, 2033]
    assert list(result.schedule["amount_yuan"]) == pytest.approx([250_000] * 4)
    with pytest.raises(KeyError, match="site_gep"):
        with_figures(scheme, {"nope": 1.0})


def test_shipped_examples_reproduce_reported_totals():
    # 云和: 0.2 % × 1 042 300 000 = 2 084 600 yuan = 208.46 万元; 70 % = 1 459 220, 30 % = 625 380
    yunhe = payment_schedule(load_scheme(example_path("yunhe_2020.toml")))
    assert yunhe.total_yuan == pytest.approx(2_084_600)
    assert list(yunhe.schedule["scheduled_yuan"]) == pytest.approx([1_459_220, 625_380])
    assert yunhe.problems == ()
    # 大洋: 5 % × 32 000 000 + 12 % × 9 940 000 = 1 600 000 + 1 192 800 = 2 792 800 = 279.28 万元,
    # 25 instalments of 111 712 yuan (≈ 11 万元 a year, as reported)
    dayang = payment_schedule(load_scheme(example_path("dayang_2020.toml")))
    assert dayang.total_yuan == pytest.approx(2_792_800)
    assert len(dayang.schedule) == 25
    assert dayang.schedule["amount_yuan"].iloc[0] == pytest.approx(111_712)
    assert dayang.problems == ()


def test_reported_total_differs_gives_warning():
    raw = dayang_like()
    raw["scheme"]["reported_total_yuan"] = 2_000_000.0
    result = payment_schedule(parsed(raw), source="dayang.toml")
    assert [p.code for p in result.problems] == ["realization_total_differs"]
    assert "2000000" in result.problems[0].render("en")


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        (lambda r: r["tranches"][1].update(share=0.4), "realization_shares_sum", "tranches.share"),
        (lambda r: r["tranches"][1].update(condition="nope"), "realization_unknown_condition", "tranches.1.condition"),
        (lambda r: r.update(installments={"years": 2}), "realization_plan_choice", "tranches"),
        (lambda r: r["basis"][0].pop("value_yuan"), "realization_basis_value_missing", "basis.0.value_yuan"),
        (lambda r: r["conditions"]["quality"].update(threshold="good"), "realization_field", None),
        (lambda r: r["basis"][0].update(shares=0.1), "realization_field", "basis.0.shares"),
    ],
)
def test_bad_scheme_names_field(change, code, field):
    raw = yunhe_like()
    change(raw)
    scheme, problems = parse_scheme(raw, "yunhe.toml")
    assert scheme is None
    assert problems[0].code == code and problems[0].source == "yunhe.toml"
    if field is not None:
        assert problems[0].field == field
    assert problems[0].render("zh") and problems[0].render("en")


def test_read_indicators(tmp_path):
    path = tmp_path / "indicators.csv"
    path.write_text("indicator,year,value\nwater_quality_class,2021,Ⅲ类\nei,2021,72.5\n", encoding="utf-8")
    assert read_indicators(path) == {("water_quality_class", 2021): 3.0, ("ei", 2021): 72.5}
    path.write_text("indicator,year,value\nwater_quality_class,2021,good\n", encoding="utf-8")
    with pytest.raises(GepInputError) as exc:
        read_indicators(path)
    problem = exc.value.problems[0]
    assert (problem.source, problem.field, problem.params["value"], problem.params["row"]) == (
        str(path),
        "value",
        "good",
        2,
    )


def write_account(directory):
    """A hand-made account folder: two townships T1, T2 under county Y, 2018."""
    directory.mkdir()
    rows = [
        # region, level, category, item, value_yuan
        ("Y", "county", "regulating", "water_conservation", 9e9),
        ("T1", "town", "regulating", "water_conservation", 3.0e8),
        ("T1", "town", "regulating", "flood_regulation", 1.0e8),
        ("T1", "town", "material", "agriculture", 5.0e8),
        ("T2", "town", "regulating", "water_conservation", 2.0e8),
        ("T2", "town", "regulating", "flood_regulation", 0.5e8),
    ]
    pd.DataFrame(
        [
            {
                "year": 2018,
                "region_code": r,
                "region_name": r,
                "level": lv,
                "category": c,
                "item": i,
                "component": "",
                "value_yuan": v,
            }
            for r, lv, c, i, v in rows
        ]
    ).to_csv(directory / "account.csv", index=False)
    pd.DataFrame({"item": ["water_conservation"]}).to_csv(directory / "methods.csv", index=False)
    regions = [{"region_code": c, "level": lv} for c, lv in (("Y", "county"), ("T1", "town"), ("T2", "town"))]
    summary = {"year": 2018, "profile": "zj_db33_2274_2020", "synthetic": True, "regions": regions}
    (directory / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    parents = [{"code": "Y", "parent": None}, {"code": "T1", "parent": "Y"}, {"code": "T2", "parent": "Y"}]
    (directory / "regions.json").write_text(json.dumps(parents), encoding="utf-8")


def test_basis_from_account(tmp_path):
    from gep.account import Account

    write_account(tmp_path / "acc")
    account = Account.load(tmp_path / "acc")
    raw = yunhe_like()
    raw["basis"][0] = {
        "id": "regulating_gep",
        "share": 0.002,
        "items": ["water_conservation", "flood_regulation"],
        "regions": ["T1", "T2"],
        "year": 2018,
    }
    scheme, problems = basis_from_account(parsed(raw), account, "acc")
    assert problems == []
    # (3e8 + 1e8) + (2e8 + 0.5e8) = 6.5e8 yuan; × 0.002 = 1 300 000
    assert scheme.basis[0].value_yuan == pytest.approx(6.5e8)
    assert payment_schedule(scheme).total_yuan == pytest.approx(1_300_000)
    # category = "regulating" over the root region Y: 9e9 only (its own rows; towns not added)
    raw["basis"][0] = {"id": "regulating_gep", "share": 0.002, "category": "regulating", "year": 2020}
    scheme, problems = basis_from_account(parsed(raw), account, "acc")
    assert scheme.basis[0].value_yuan == pytest.approx(9e9)
    assert [p.code for p in problems] == ["realization_year_differs"]
    # unknown region and an item the account lacks
    raw["basis"][0] = {"id": "g", "share": 0.1, "items": ["soil_retention"], "regions": ["T9"]}
    _, problems = basis_from_account(parsed(raw), account, "acc")
    assert sorted(p.code for p in problems) == ["realization_item_not_in_account", "realization_region_not_in_account"]
    # a township listed with its county would be counted twice
    raw["basis"][0] = {"id": "g", "share": 0.1, "items": ["water_conservation"], "regions": ["Y", "T1"]}
    _, problems = basis_from_account(parsed(raw), account, "acc")
    assert [(p.code, p.field, p.params["value"]) for p in problems] == [
        ("realization_regions_nested", "basis.0.regions", "T1")
    ]


def test_cli_procure(tmp_path):
    indicators = tmp_path / "ind.csv"
    indicators.write_text("indicator,year,value\nwater_quality_class,2021,I\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["procure", str(example_path("yunhe_2020.toml")), "--indicators", str(indicators), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    schedule = pd.read_csv(out / "procurement_schedule.csv", encoding="utf-8-sig")
    # class I (1) ≤ II: both tranches paid, 1 459 220 + 625 380 = 2 084 600
    assert schedule["amount_yuan"].sum() == pytest.approx(2_084_600)
    assert (out / "procurement.xlsx").is_file()
    bad = CliRunner().invoke(app, ["procure", str(tmp_path / "missing.toml"), "--out", str(out), "--lang", "en"])
    assert bad.exit_code == 1 and "missing.toml" in bad.output and "file not found" in bad.output
