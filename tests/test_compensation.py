"""Upstream–downstream eco-compensation: the cross-section index, direction and amount by hand.

Two-pollutant agreement: w = 0.5 each; baselines COD_Mn 4.0 mg/L, NH3-N 0.5 mg/L (P0 = 0.5 + 0.5 = 1);
stability coefficient k = 0.9. Tiers on R: met R ≤ 0.9 → 8 000 000, R ≤ 1 → 5 000 000; not met
R ≤ 1.2 → 5 000 000, above → 10 000 000.
"""

import pandas as pd
import pytest
from typer.testing import CliRunner

from gep.problems import GepInputError
from gep.realization import example_path
from gep.realization.cli import app
from gep.realization.compensation import (
    assess,
    compensation_index,
    load_agreement,
    parse_agreement,
    read_monitoring,
)


def agreement_raw(form: str = "threshold") -> dict:
    return {
        "agreement": {"id": "two", "stability_coefficient": 0.9, "stability_form": form},
        "indicators": {
            "codmn": {"weight": 0.5, "baseline": 4.0, "unit": "mg/L"},
            "nh3n": {"weight": 0.5, "baseline": 0.5, "unit": "mg/L"},
        },
        "sections": [{"name": "S", "upstream": "Up", "downstream": "Down"}],
        "payment": {
            "met": {"tiers": [{"ratio_max": 0.9, "amount_yuan": 8e6}, {"ratio_max": 1.0, "amount_yuan": 5e6}]},
            "not_met": {"tiers": [{"ratio_max": 1.2, "amount_yuan": 5e6}, {"amount_yuan": 1e7}]},
        },
    }


def parsed(raw: dict):
    agreement, problems = parse_agreement(raw, "agreement.toml")
    assert agreement is not None, [p.render("en") for p in problems]
    return agreement


MONITORING = pd.DataFrame(
    {
        "section": ["S"] * 6 + ["other"],
        "year": [2021, 2021, 2021, 2021, 2022, 2022, 2021],
        "pollutant": ["codmn", "codmn", "nh3n", "nh3n", "codmn", "nh3n", "codmn"],
        "concentration": [3.0, 3.4, 0.4, 0.5, 4.4, 0.6, 99.0],
    }
)


def test_threshold_form_direction_and_amount():
    result = assess(parsed(agreement_raw()), MONITORING)
    r = result.results.set_index("year")
    # 2021: means COD_Mn (3.0 + 3.4)/2 = 3.2, NH3-N (0.4 + 0.5)/2 = 0.45
    #   P = 0.5 × 3.2/4.0 + 0.5 × 0.45/0.5 = 0.4 + 0.45 = 0.85; threshold k × P0 = 0.9 × 1 = 0.9
    #   R = 0.85 / 0.9 = 0.94444 ≤ 1: met, Down pays Up; tier 2 (R ≤ 1.0): 5 000 000
    assert r.loc[2021, "index"] == pytest.approx(0.85)
    assert r.loc[2021, "threshold"] == pytest.approx(0.9)
    assert r.loc[2021, "ratio"] == pytest.approx(0.85 / 0.9)
    assert (r.loc[2021, "met"], r.loc[2021, "payer"], r.loc[2021, "payee"]) == (True, "Down", "Up")
    assert r.loc[2021, "amount_yuan"] == pytest.approx(5e6)
    # 2022: P = 0.5 × 4.4/4.0 + 0.5 × 0.6/0.5 = 0.55 + 0.6 = 1.15; R = 1.15/0.9 = 1.2778 > 1.2
    #   not met, Up pays Down, open tier: 10 000 000
    assert r.loc[2022, "index"] == pytest.approx(1.15)
    assert (r.loc[2022, "met"], r.loc[2022, "payer"], r.loc[2022, "payee"]) == (False, "Up", "Down")
    assert r.loc[2022, "amount_yuan"] == pytest.approx(1e7)
    # terms and samples; the "other" section (not in the agreement) is ignored
    t = result.terms.set_index(["year", "indicator"])
    assert t.loc[(2021, "codmn"), "term"] == pytest.approx(0.4)
    assert t.loc[(2021, "nh3n"), "samples"] == 2
    assert set(result.results["section"]) == {"S"}
    assert "0.5×3.2/4" in r.loc[2021, "basis"]


def test_index_form():
    # Xin'an form: compared = k × P, threshold P0 = 1
    # 2021: 0.9 × 0.85 = 0.765 ≤ 0.9 → met, tier 1: 8 000 000
    # 2022: 0.9 × 1.15 = 1.035 ≤ 1.2 → not met, tier 1: 5 000 000
    r = assess(parsed(agreement_raw("index")), MONITORING).results.set_index("year")
    assert r.loc[2021, "compared_index"] == pytest.approx(0.765)
    assert (r.loc[2021, "met"], r.loc[2021, "amount_yuan"]) == (True, pytest.approx(8e6))
    assert r.loc[2022, "compared_index"] == pytest.approx(1.035)
    assert (r.loc[2022, "met"], r.loc[2022, "payer"], r.loc[2022, "amount_yuan"]) == (False, "Up", pytest.approx(5e6))


def test_flat_amounts_and_year_filter():
    raw = agreement_raw()
    raw["payment"] = {"met": {"amount_yuan": 1e8}, "not_met": {"amount_yuan": 1e8}}
    r = assess(parsed(raw), MONITORING, years=[2022]).results
    assert list(r["year"]) == [2022]
    assert (r["payer"].iloc[0], r["amount_yuan"].iloc[0], r["tier"].iloc[0]) == ("Up", pytest.approx(1e8), "flat")


def test_water_quantity_higher_is_better_and_section_baseline():
    raw = agreement_raw()
    raw["indicators"]["codmn"]["weight"] = 0.4
    raw["indicators"]["nh3n"]["weight"] = 0.4
    raw["indicators"]["flow"] = {"weight": 0.2, "baseline": 100.0, "unit": "m3/s", "better": "higher"}
    raw["sections"][0]["baselines"] = {"nh3n": 0.45}
    data = pd.DataFrame(
        {
            "section": ["S"] * 3,
            "year": [2021] * 3,
            "pollutant": ["codmn", "nh3n", "flow"],
            "concentration": [4.0, 0.45, 80.0],
        }
    )
    # P = 0.4 × 4/4 + 0.4 × 0.45/0.45 (section baseline) + 0.2 × 100/80 = 0.4 + 0.4 + 0.25 = 1.05
    index, terms = compensation_index(
        {"codmn": 4.0, "nh3n": 0.45, "flow": 80.0}, parsed(raw).indicators, {"nh3n": 0.45}
    )
    assert index == pytest.approx(1.05) and terms["flow"] == pytest.approx(0.25)
    r = assess(parsed(raw), data).results
    assert r["index"].iloc[0] == pytest.approx(1.05)
    # threshold 0.9 × P0 (0.4 + 0.4 + 0.2 = 1) = 0.9; R = 1.1667 → not met, tier R ≤ 1.2: 5 000 000
    assert (r["met"].iloc[0], r["amount_yuan"].iloc[0]) == (False, pytest.approx(5e6))


def test_read_monitoring_with_dates(tmp_path):
    path = tmp_path / "monitoring.csv"
    path.write_text(
        "section,date,pollutant,value,unit\nS,2021-01-15,codmn,3.0,mg/L\nS,2021-07-15,codmn,3.4,mg/L\n"
        "S,2021-03-01,nh3n,0.45,mg/l\n",
        encoding="utf-8",
    )
    data = read_monitoring(path)
    assert list(data["year"]) == [2021, 2021, 2021]
    r = assess(parsed(agreement_raw()), data, source=str(path)).results
    assert r["index"].iloc[0] == pytest.approx(0.85)  # same means as 2021 above


def test_bad_monitoring_cells_named(tmp_path):
    path = tmp_path / "monitoring.csv"
    path.write_text("section,year,pollutant,concentration\nS,2021,codmn,-1\nS,20x1,nh3n,0.4\n", encoding="utf-8")
    with pytest.raises(GepInputError) as exc:
        read_monitoring(path)
    found = {(p.field, p.params["row"], p.params["value"]) for p in exc.value.problems}
    assert found == {("concentration", 2, -1.0), ("year", 3, "20x1")}
    assert all(p.source == str(path) for p in exc.value.problems)


def test_missing_pollutant_and_unit_mismatch():
    data = MONITORING[~((MONITORING["year"] == 2022) & (MONITORING["pollutant"] == "nh3n"))]
    with pytest.raises(GepInputError) as exc:
        assess(parsed(agreement_raw()), data, source="m.csv")
    problem = exc.value.problems[0]
    assert (
        problem.code,
        problem.source,
        problem.params["section"],
        problem.params["year"],
        problem.params["value"],
    ) == (
        "realization_monitoring_missing",
        "m.csv",
        "S",
        2022,
        "nh3n",
    )
    with_units = MONITORING.assign(unit="mg/L")
    with_units.loc[0, "unit"] = "ug/L"
    with pytest.raises(GepInputError) as exc:
        assess(parsed(agreement_raw()), with_units, source="m.csv")
    assert exc.value.problems[0].code == "realization_unit_mismatch"
    assert exc.value.problems[0].params["value"] == "ug/L"


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        (lambda r: r["payment"]["met"]["tiers"][0].update(ratio_max=1.1), "realization_tier_bound_met", None),
        (lambda r: r["payment"]["not_met"]["tiers"].reverse(), "realization_tier_open_not_last", None),
        (lambda r: r["payment"]["met"].update(amount_yuan=1.0), "realization_amount_or_tiers", "payment.met"),
        (lambda r: r["sections"][0].update(baselines={"tn": 1.0}), "realization_unknown_indicator", None),
        (lambda r: r["indicators"]["codmn"].update(weight=-1), "realization_field", "indicators.codmn.weight"),
    ],
)
def test_bad_agreement_named(change, code, field):
    raw = agreement_raw()
    change(raw)
    agreement, problems = parse_agreement(raw, "a.toml")
    assert agreement is None and problems[0].code == code and problems[0].source == "a.toml"
    if field:
        assert problems[0].field == field


def test_shipped_agreements_load():
    xin = load_agreement(example_path("xinanjiang_round1.toml"))
    assert xin.agreement.stability_coefficient == 0.85 and xin.agreement.stability_form == "index"
    assert xin.baseline_index == pytest.approx(1.0)  # 4 × 0.25
    ou = load_agreement(example_path("oujiang_example.toml"))
    assert ou.indicators["flow"].better == "higher"


def test_cli_compensate(tmp_path):
    agreement = tmp_path / "a.toml"
    import tomli_w

    agreement.write_text(tomli_w.dumps(agreement_raw()), encoding="utf-8")
    monitoring = tmp_path / "m.csv"
    MONITORING.to_csv(monitoring, index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["compensate", str(agreement), str(monitoring), "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "compensation.csv", encoding="utf-8-sig")
    assert list(table["amount_yuan"]) == pytest.approx([5e6, 1e7])
    assert (out / "compensation_terms.csv").is_file() and (out / "compensation.xlsx").is_file()
