"""Plan indicators (表3-1): the packaged data, progress, status at the boundaries, observed tables, forecasts."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from gep.analytics.indicators import (
    Indicator,
    StatusRule,
    assess,
    classify,
    combine_observed,
    evaluate_indicators,
    expected_progress,
    load_indicator_set,
    progress,
    values_from_accounts,
)
from gep.analytics.io import read_observed
from gep.problems import GepInputError


def _indicator(**changes) -> Indicator:
    values = dict(
        id="x",
        number=1,
        name_zh="测试",
        name_en="test",
        unit="%",
        target_kind="at_least",
        attribute="expected",
        direction="higher",
        target_year=2025,
        source="test",
        target=100.0,
        base_year=2020,
        base_value=0.0,
    )
    values.update(changes)
    return Indicator(**values)


def test_packaged_set_is_table_3_1():
    s = load_indicator_set()
    assert s.target_year == 2025
    assert [i.number for i in s.indicators] == list(range(1, 15))
    binding = {i.number for i in s.indicators if i.attribute == "binding"}
    assert binding == {3, 4, 5, 11, 12, 13}  # 约束性 in 表3-1
    by_id = {i.id: i for i in s.indicators}
    assert by_id["gep"].target == 5000 and by_id["gep"].unit == "亿元"
    assert by_id["realization_rate"].target == 48
    assert by_id["pm25"].direction == "lower" and by_id["pm25"].target == 23
    assert (by_id["brand_building"].target, by_id["brand_building"].target_upper) == (7, 14)
    assert {i.id for i in s.indicators if i.target_kind == "qualitative"} == {
        "co2_intensity_reduction",
        "water_intensity_reduction_completion",
        "land_intensity_reduction_completion",
    }
    assert all(i.source.startswith("表3-1") for i in s.indicators)
    assert all(i.name_zh and i.name_en for i in s.indicators)
    # base values printed in the plan: 表1-1 and 一（一）
    assert (by_id["gep"].base_year, by_id["gep"].base_value) == (2019, 5314.43)
    assert (by_id["aqi_good_rate"].base_year, by_id["aqi_good_rate"].base_value) == (2020, 98.9)


def test_progress_and_expected_progress_by_hand():
    # base 40 -> target 20 (lower is better); current 28: (28 - 40)/(20 - 40) = 0.6
    assert progress(40, 28, 20) == pytest.approx(0.6)
    # 2023 on the path 2020 -> 2025: 3/5 = 0.6; before the base 0, after the target 1
    assert expected_progress(2023, 2020, 2025) == pytest.approx(0.6)
    assert expected_progress(2019, 2020, 2025) == 0.0
    assert expected_progress(2027, 2020, 2025) == 1.0
    assert math.isnan(progress(5, 7, 5))


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (40.0, "on_track"),  # progress 0.40, expected 0.40 (2022 on 2020->2025): gap 0 -> on the path
        (35.0, "at_risk"),  # gap -0.05
        (30.0, "at_risk"),  # gap -0.10: exactly the at-risk tolerance (boundary is at_risk)
        (29.9, "off_track"),  # gap -0.101
        (100.0, "on_track"),  # target met
    ],
)
def test_status_boundaries(value, status):
    a = assess(_indicator(), pd.Series({2021: 20.0, 2022: value}))
    assert a.expected == pytest.approx(0.4)
    assert a.status == status


def test_status_tolerances_configurable():
    rule = StatusRule(on_track_tolerance=0.05, at_risk_tolerance=0.2)
    assert classify(-0.05, rule) == "on_track"
    assert classify(-0.0501, rule) == "at_risk"
    assert classify(-0.2, rule) == "at_risk"
    assert classify(-0.2001, rule) == "off_track"
    with pytest.raises(ValueError):
        StatusRule(on_track_tolerance=0.3, at_risk_tolerance=0.1)


def test_lower_is_better():
    # PM-like: base 40 (2020) -> target 20 (2025); 2023 value 28: progress 0.6 = expected 0.6 -> on track
    ind = _indicator(direction="lower", target_kind="at_most", target=20.0, base_value=40.0)
    assert assess(ind, pd.Series({2023: 28.0})).status == "on_track"
    # 32: progress 0.4, gap -0.2 -> off track
    assert assess(ind, pd.Series({2023: 32.0})).status == "off_track"


def test_base_already_meets_target():
    pm25 = load_indicator_set().get("pm25")  # base 21 (2020), ceiling 23
    ok = assess(pm25, pd.Series({2022: 22.0}))
    assert ok.status == "on_track" and math.isnan(ok.progress) and ok.target_met
    assert assess(pm25, pd.Series({2022: 24.0})).status == "off_track"


def test_no_target_and_no_data():
    s = load_indicator_set()
    assert assess(s.get("co2_intensity_reduction"), pd.Series({2022: 3.0})).status == "no_target"
    assert assess(s.get("eco_industry_value_added"), pd.Series(dtype=float)).status == "no_data"


def test_first_observation_is_base_when_plan_gives_none():
    # eco_agriculture_value_added: no base in the plan; 2021 = 300, 2023 = 380, target 500 (2025)
    # progress (380 - 300)/(500 - 300) = 0.4; expected (2023 - 2021)/(2025 - 2021) = 0.5 -> gap -0.1 at risk
    a = assess(load_indicator_set().get("eco_agriculture_value_added"), pd.Series({2021: 300.0, 2023: 380.0}))
    assert (a.base_year, a.base_value, a.base_from) == (2021, 300.0, "first observation")
    assert a.progress == pytest.approx(0.4) and a.expected == pytest.approx(0.5)
    assert a.status == "at_risk"


def test_targets_file_overrides(tmp_path):
    path = tmp_path / "targets.toml"
    path.write_text(
        "[indicator.water_intensity_reduction_completion]\ntarget = 100.0\n[status]\nat_risk_tolerance = 0.2\n",
        encoding="utf-8",
    )
    s = load_indicator_set(targets=path)
    ind = s.get("water_intensity_reduction_completion")
    assert (ind.target, ind.target_kind) == (100.0, "at_least")
    assert s.status.at_risk_tolerance == 0.2
    bad = tmp_path / "bad.toml"
    bad.write_text("[indicator.nope]\ntarget = 1\n", encoding="utf-8")
    with pytest.raises(GepInputError, match="nope"):
        load_indicator_set(targets=bad)


def test_evaluate_indicators_with_forecasts():
    observed = pd.DataFrame(
        {"indicator_id": ["eco_tourism_value_added"] * 3, "year": [2021, 2022, 2023], "value": [120.0, 140.0, 160.0]}
    )
    from gep.analytics.indicators import ForecastOptions

    report = evaluate_indicators(load_indicator_set(), observed, options=ForecastOptions(ses_alpha=0.5))
    row = report.table.set_index("indicator_id").loc["eco_tourism_value_added"]
    # SES a = 0.5: y' = 120, 120, 130, then 0.5*160 + 0.5*130 = 145 flat to 2025
    assert row["ses_forecast_target_year"] == pytest.approx(145.0)
    assert row["ses_alpha"] == 0.5 and not row["ses_estimated"]
    # Holt needs 4 points to estimate (3 given): skipped with a warning
    assert pd.isna(row["holt_forecast_target_year"])
    assert any(p.code == "analytics_too_few_points" for p in report.problems)
    # Holt with given parameters on the line 120, 140, 160: 2025 = 160 + 2*20 = 200, meets the target 200
    report = evaluate_indicators(load_indicator_set(), observed, options=ForecastOptions(holt_alpha=0.5, holt_beta=0.5))
    row = report.table.set_index("indicator_id").loc["eco_tourism_value_added"]
    assert row["holt_forecast_target_year"] == pytest.approx(200.0)
    assert bool(row["holt_meets_target"])
    f = report.forecasts
    assert f[(f["method"] == "holt") & (f["kind"] == "forecast")]["year"].tolist() == [2024, 2025]
    assert len(report.table) == 14


def test_gap_in_years_means_no_forecast():
    observed = pd.DataFrame(
        {"indicator_id": ["gep"] * 4, "year": [2019, 2020, 2022, 2023], "value": [1.0, 2.0, 3.0, 4.0]}
    )
    report = evaluate_indicators(load_indicator_set(), observed)
    gap = [p for p in report.problems if p.code == "analytics_series_gap"]
    assert gap and "2021" in gap[0].render("en")


def test_read_observed_long_wide_and_errors(tmp_path):
    ids = load_indicator_set().ids()
    long = tmp_path / "long.csv"
    long.write_text("indicator_id,year,value\npm25,2021,22\npm25,2022,20.5\n", encoding="utf-8")
    frame = read_observed(long, ids)
    assert frame["value"].tolist() == [22.0, 20.5] and frame["year"].tolist() == [2021, 2022]
    wide = tmp_path / "wide.xlsx"
    pd.DataFrame({"year": [2021, 2022], "pm25": [22, 20.5], "forest_coverage": [81.7, None]}).to_excel(
        wide, index=False
    )
    frame = read_observed(wide, ids)
    assert len(frame) == 3  # the empty cell is not an observation
    bad = tmp_path / "bad.csv"
    bad.write_text("indicator_id,year,value\npm2.5,2021,22\npm25,20x1,x\n", encoding="utf-8")
    with pytest.raises(GepInputError) as exc:
        read_observed(bad, ids)
    text = str(exc.value)
    assert "bad.csv" in text and "'pm2.5'" in text and "[year]" in text and "'x'" in text
    dup = tmp_path / "dup.csv"
    dup.write_text("indicator_id,year,value\npm25,2021,22\npm25,2021,23\n", encoding="utf-8")
    with pytest.raises(GepInputError, match="rows 2, 3"):
        read_observed(dup, ids)
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(GepInputError, match="layout"):
        read_observed(odd, ids)


def test_values_from_accounts_and_precedence():
    totals = pd.DataFrame({"region_code": ["331100", "331100"], "year": [2020, 2021], "gep_yuan": [5.0e11, 5.1e11]})
    rates = pd.DataFrame({"region_code": ["331100"], "year": [2021], "category": ["total"], "rate": [0.25]})
    values = values_from_accounts(totals, "331100", rates)
    # 5.0e11 yuan = 5000 亿元; rate 0.25 = 25 %
    got = {(r.indicator_id, r.year): r.value for r in values.itertuples()}
    assert got == {
        ("gep", 2020): pytest.approx(5000.0),
        ("gep", 2021): pytest.approx(5100.0),
        ("realization_rate", 2021): 25.0,
    }
    table = pd.DataFrame({"indicator_id": ["gep"], "year": [2021], "value": [5050.0], "source": ["t.csv"]})
    combined, problems = combine_observed([table], values)
    assert combined.set_index(["indicator_id", "year"]).loc[("gep", 2021), "value"] == 5050.0
    assert [p.code for p in problems] == ["analytics_observed_twice"]
    assert len(combined) == 3
