"""Plan indicators (表3-1): the packaged data, progress, status at the boundaries, observed tables, forecasts."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from gep.analytics.indicators import (
    Indicator,
    IndicatorSet,
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


# --- years: base after target, missing years, observations outside the plan period ---------------------

SET = """
[set]
id = "t"
target_year = 2025
[[indicator]]
id = "forest"
number = 1
name_zh = "森林覆盖率"
name_en = "forest coverage"
unit = "%"
target = 82.0
target_kind = "at_least"
attribute = "expected"
direction = "higher"
source = "test"
base_year = {base_year}
base_value = 80.0
"""


def test_base_year_not_before_target_year_is_an_error(tmp_path):
    for base_year in (2025, 2026):  # equal to, and after, the target year 2025
        path = tmp_path / f"set_{base_year}.toml"
        path.write_text(SET.format(base_year=base_year), encoding="utf-8")
        with pytest.raises(GepInputError) as exc:
            load_indicator_set(path)
        problem = exc.value.problems[0]
        assert problem.code == "analytics_base_not_before_target" and problem.field == "indicator.forest"
        text = str(exc.value)
        assert f"set_{base_year}.toml [indicator.forest]" in text
        assert f"base year {base_year} is not before the target year 2025" in text
        assert "expected a base year earlier than the target year" in text
        assert "基期年份应早于目标年份" in exc.value.render("zh")
    good = tmp_path / "good.toml"
    good.write_text(SET.format(base_year=2020), encoding="utf-8")
    assert load_indicator_set(good).get("forest").base_year == 2020
    # a targets file moving the base year past the target (or the target before the base) is named
    targets = tmp_path / "targets.toml"
    targets.write_text("[indicator.forest]\ntarget_year = 2019\n", encoding="utf-8")
    with pytest.raises(GepInputError) as exc:
        load_indicator_set(good, targets)
    assert exc.value.problems[0].source == str(targets)
    assert "base year 2020 is not before the target year 2019" in str(exc.value)
    targets.write_text("[indicator.pm25]\nbase_year = 2025\nbase_value = 22.0\n", encoding="utf-8")
    with pytest.raises(GepInputError, match=r"targets.toml \[indicator.pm25\]: indicator pm25: base year 2025"):
        load_indicator_set(targets=targets)
    targets.write_text("[indicator.pm25]\nbase_year = 2020.5\n", encoding="utf-8")
    with pytest.raises(GepInputError, match="base_year 2020.5 is not a whole year"):
        load_indicator_set(targets=targets)
    # in code: the straight path needs base < target
    with pytest.raises(ValueError, match="base year 2025 is not before target year 2025"):
        expected_progress(2025, 2025, 2025)
    with pytest.raises(ValueError, match="base year 2026"):
        _indicator(base_year=2026)


def _one(indicator: Indicator) -> IndicatorSet:
    return IndicatorSet("t", "", "", 2025, "test", (indicator,))


def _observed(values: dict[int, float]) -> pd.DataFrame:
    return pd.DataFrame({"indicator_id": "x", "year": list(values), "value": list(values.values()), "source": "o.csv"})


def test_missing_years_warn_and_progress_still_works():
    # base 0 (2020) -> target 100 (2025); observed 2021 = 20 and 2023 = 50, 2022 missing.
    # progress (50 - 0)/(100 - 0) = 0.5; expected (2023 - 2020)/5 = 0.6; gap -0.1 -> at risk
    report = evaluate_indicators(_one(_indicator()), _observed({2021: 20.0, 2023: 50.0}))
    row = report.table.iloc[0]
    assert (row["year"], row["value"]) == (2023, 50.0)
    assert row["progress"] == pytest.approx(0.5) and row["expected_progress"] == pytest.approx(0.6)
    assert row["status"] == "at_risk"
    assert pd.isna(row["ses_forecast_target_year"]) and report.forecasts.empty
    assert [p.code for p in report.problems] == ["analytics_series_gap"]
    text = report.problems[0].render("en")
    assert text.startswith("warning: o.csv [x]: x: years 2022 are missing between 2021 and 2023")
    assert "no forecast is made (progress and status still use" in text
    # two missing years are both named: 2019, 2022 observed -> 2020, 2021 missing
    report = evaluate_indicators(_one(_indicator(base_year=2018)), _observed({2019: 10.0, 2022: 40.0}))
    assert "years 2020, 2021 are missing" in report.problems[0].render("en")


def test_observations_before_the_base_year_are_history():
    # base 0 (2020) -> target 100 (2025); 2018 = -10, 2019 = -5 precede the base
    # status from 2022 = 40: progress 0.4, expected (2022 - 2020)/5 = 0.4, gap 0 -> on track
    values = {2018: -10.0, 2019: -5.0, 2020: 0.0, 2021: 25.0, 2022: 40.0}
    report = evaluate_indicators(_one(_indicator()), _observed(values))
    row = report.table.iloc[0]
    assert (row["base_year"], row["base_value"], row["base_from"]) == (2020, 0.0, "plan")
    assert row["progress"] == pytest.approx(0.4) and row["status"] == "on_track"
    assert "2018, 2019" in row["notes"]
    assert [p.code for p in report.problems] == ["analytics_before_base"]
    assert "observations of 2018, 2019 are before the base year 2020" in report.problems[0].render("en")
    # the forecasts use the whole series, 2018-2022 (five points: both methods estimated)
    observed = report.forecasts[report.forecasts["kind"] == "observed"]
    assert sorted(set(observed["year"])) == [2018, 2019, 2020, 2021, 2022]
    assert not pd.isna(row["ses_forecast_target_year"])
    # nothing from the base year on: no_data
    report = evaluate_indicators(_one(_indicator()), _observed({2018: -10.0, 2019: -5.0}))
    row = report.table.iloc[0]
    assert row["status"] == "no_data" and pd.isna(row["year"])
    assert "analytics_only_before_base" in [p.code for p in report.problems]
    assert assess(_indicator(), pd.Series({2019: 5.0})).status == "no_data"


def test_observations_after_the_target_year():
    # base 0 (2020) -> target 100 (2025); 2025 = 85, 2026 = 95: latest 2026, expected progress 1 (clipped),
    # progress 0.95, gap -0.05 -> at risk (within 10 % of the planned change), nothing forecast
    report = evaluate_indicators(_one(_indicator()), _observed({2025: 85.0, 2026: 95.0}))
    row = report.table.iloc[0]
    assert row["year"] == 2026 and row["expected_progress"] == 1.0
    assert row["progress"] == pytest.approx(0.95) and row["status"] == "at_risk"
    f = report.forecasts
    assert f.empty or f[f["kind"] == "forecast"].empty
    codes = [p.code for p in report.problems]
    assert "analytics_after_target" in codes
    text = next(p for p in report.problems if p.code == "analytics_after_target").render("en")
    assert "the latest observation (2026) is after the target year 2025" in text
    # as of 2025 (year=2025): 85 -> progress 0.85, gap -0.15 -> off track, no after-target warning
    report = evaluate_indicators(_one(_indicator()), _observed({2025: 85.0, 2026: 95.0}), year=2025)
    row = report.table.iloc[0]
    assert row["status"] == "off_track" and row["progress"] == pytest.approx(0.85)
    assert "analytics_after_target" not in [p.code for p in report.problems]
    # no plan base and the first observation in the target year: progress undefined, status = target met
    bare = _indicator(base_year=None, base_value=None)
    report = evaluate_indicators(_one(bare), _observed({2025: 120.0}))
    row = report.table.iloc[0]
    assert row["status"] == "on_track" and pd.isna(row["progress"]) and row["base_year"] == 2025
    assert [p.code for p in report.problems] == ["analytics_first_after_target"]
    assert assess(bare, pd.Series({2025: 90.0})).status == "off_track"
