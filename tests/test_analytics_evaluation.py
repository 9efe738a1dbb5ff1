"""County evaluation scores (3 counties by hand) and the 40/60 GEP award split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gep.analytics.evaluation import evaluate_counties, load_evaluation_config, normalize, split_award
from gep.analytics.io import read_county_values
from gep.problems import GepInputError

CONFIG = """
[evaluation]
id = "test"
normalization = "minmax"
scale = 100.0
[[group]]
id = "g1"
name_zh = "组1"
name_en = "group 1"
weight = 2.0
[[group]]
id = "g2"
name_zh = "组2"
name_en = "group 2"
weight = 1.0
[[indicator]]
id = "i1"
group = "g1"
name_zh = "指标1"
name_en = "i1"
direction = "positive"
target = 20.0
[[indicator]]
id = "i2"
group = "g1"
name_zh = "指标2"
name_en = "i2"
direction = "negative"
target = 10.0
[[indicator]]
id = "i3"
group = "g2"
name_zh = "指标3"
name_en = "i3"
target = 100.0
"""

VALUES = "region_code,region_name,i1,i2,i3\nA,甲,10,5,100\nB,乙,20,15,50\nC,丙,30,10,0\n"


@pytest.fixture
def setup(tmp_path):
    config = tmp_path / "eval.toml"
    config.write_text(CONFIG, encoding="utf-8")
    values = tmp_path / "values.csv"
    values.write_text(VALUES, encoding="utf-8")
    cfg = load_evaluation_config(config)
    frame, problems = read_county_values(values, cfg.ids())
    assert problems == []
    return cfg, frame


def test_minmax_scores_by_hand(setup):
    cfg, frame = setup
    result = evaluate_counties(frame, cfg)
    s = result.scores.set_index("region_code")
    # i1 (+): (x - 10)/20 -> A 0, B 0.5, C 1;  i2 (-): (15 - x)/10 -> A 1, B 0, C 0.5;  i3 (+): x/100 -> A 1, B 0.5, C 0
    # g1 = mean(i1, i2): A 0.5, B 0.25, C 0.75;  g2 = i3
    # score = 100 * (2*g1 + 1*g2)/3: A 100*(1 + 1)/3 = 66.67; B 100*(0.5 + 0.5)/3 = 33.33; C 100*(1.5 + 0)/3 = 50
    assert s["score"].to_dict() == pytest.approx({"A": 200 / 3, "B": 100 / 3, "C": 50.0})
    assert s["score_g1"].to_dict() == pytest.approx({"A": 50.0, "B": 25.0, "C": 75.0})
    assert s["rank"].to_dict() == {"A": 1, "C": 2, "B": 3}
    assert result.scores["region_code"].tolist() == ["A", "C", "B"]
    # contributions add up to the score
    d = result.details.groupby("region_code")["contribution"].sum()
    assert d.to_dict() == pytest.approx(s["score"].to_dict())


def test_zscore_and_target_by_hand(setup):
    cfg, frame = setup
    z = evaluate_counties(frame, cfg, method="zscore").details.set_index(["region_code", "indicator_id"])["normalized"]
    # i1 = 10, 20, 30: mean 20, population sd sqrt((100 + 0 + 100)/3) = 8.165 -> A -1.2247
    assert z[("A", "i1")] == pytest.approx(-10 / np.sqrt(200 / 3))
    # i2 negative: 5, 15, 10, mean 10 -> A +5/sd
    assert z[("A", "i2")] == pytest.approx(5 / np.sqrt(50 / 3))
    t = evaluate_counties(frame, cfg, method="target").scores.set_index("region_code")["score"]
    # i1 x/20 capped at 1: A 0.5, B 1, C 1; i2 10/x capped: A 1, B 0.667, C 1; i3 x/100: A 1, B 0.5, C 0
    # A: g1 0.75, g2 1 -> 100*(1.5 + 1)/3 = 83.33;  B: g1 (1 + 2/3)/2 = 5/6, g2 0.5 -> 100*(5/3 + 0.5)/3 = 72.22
    assert t["A"] == pytest.approx(250 / 3)
    assert t["B"] == pytest.approx(100 * (5 / 3 + 0.5) / 3)


def test_normalize_edge_cases():
    assert normalize([3, 3, 3], "minmax").tolist() == [1.0, 1.0, 1.0]
    assert normalize([3, 3, 3], "zscore").tolist() == [0.0, 0.0, 0.0]
    assert normalize([0.0, 5.0, 20.0], "target", "negative", target=10.0).tolist() == [1.0, 1.0, 0.5]
    with pytest.raises(ValueError):
        normalize([1, 2], "rank")


def test_missing_value_and_absent_indicator(setup, tmp_path):
    cfg, _ = setup
    values = tmp_path / "v.csv"
    values.write_text("region_code,i1,i2\nA,10,5\nB,20,\nC,30,10\n", encoding="utf-8")
    with pytest.raises(GepInputError, match=r"v.csv \[i2\]: value '' in row 3 is missing"):
        read_county_values(values, cfg.ids())
    values.write_text("region_code,i1,i2\nA,10,5\nB,20,15\nC,30,10\n", encoding="utf-8")
    frame, _ = read_county_values(values, cfg.ids())
    result = evaluate_counties(frame, cfg)
    assert [p.code for p in result.problems] == ["analytics_indicator_absent"]
    # only g1 remains: A = 100*0.5 = 50
    assert result.scores.set_index("region_code").loc["A", "score"] == pytest.approx(50.0)
    long = pd.DataFrame(
        {"region_code": ["A", "B"], "region_name": ["", ""], "indicator_id": ["i1", "i2"], "value": [1.0, 2.0]}
    )
    with pytest.raises(GepInputError, match="region B has no value for indicator i1"):
        evaluate_counties(long, cfg)


def test_reader_reports_bad_cells(setup, tmp_path):
    cfg, _ = setup
    values = tmp_path / "v.csv"
    values.write_text("region_code,i1,i2\nA,10,5\nB,20,abc\n", encoding="utf-8")
    with pytest.raises(GepInputError) as exc:
        read_county_values(values, cfg.ids())
    assert "v.csv [i2]" in str(exc.value) and "'abc' in row 3" in str(exc.value)


def test_packaged_config_has_three_groups_of_five():
    cfg = load_evaluation_config()
    assert [g.id for g in cfg.groups] == ["gep_to_gdp", "gep", "gdp_to_gep"]
    for group in cfg.groups:
        assert len([i for i in cfg.indicators if i.group == group.id]) == 5
    assert (cfg.award.level_weight, cfg.award.growth_weight) == (0.4, 0.6)


TOTALS = pd.DataFrame(
    {
        "region_code": ["A", "B", "C"] * 2,
        "region_name": ["甲", "乙", "丙"] * 2,
        "year": [2020] * 3 + [2021] * 3,
        "gep_yuan": [100.0, 300.0, 150.0, 120.0, 330.0, 150.0],
    }
)


def test_award_split_by_hand():
    award, problems = split_award(TOTALS, 2021, 1000.0)
    a = award.set_index("region_code")
    # level part 400: GEP 120, 330, 150 of 600 -> shares 0.2, 0.55, 0.25 -> 80, 220, 100
    # growth part 600: growth 0.2, 0.1, 0 -> shares 2/3, 1/3, 0 -> 400, 200, 0
    # award A 480, B 420, C 100
    assert a["award_yuan"].to_dict() == pytest.approx({"A": 480.0, "B": 420.0, "C": 100.0})
    assert a["growth_rate"].to_dict() == pytest.approx({"A": 0.2, "B": 0.1, "C": 0.0})
    assert award["award_yuan"].sum() == pytest.approx(1000.0)
    assert problems == []


def test_award_with_deflator_and_no_growth():
    # index 2020 = 100, 2021 = 110: real growth A 120/1.1/100 - 1 = 0.0909, B 330/1.1/300 - 1 = 0, C < 0
    award, _ = split_award(TOTALS, 2021, 1000.0, deflators={2020: 100.0, 2021: 110.0})
    a = award.set_index("region_code")
    assert a.loc["B", "growth_rate"] == pytest.approx(0.0, abs=1e-12)
    assert a.loc["A", "growth_award_yuan"] == pytest.approx(600.0)  # the only region that grew
    shrink = TOTALS.assign(gep_yuan=[100.0, 300.0, 150.0, 90.0, 300.0, 100.0])
    award, problems = split_award(shrink, 2021, 1000.0)
    assert [p.code for p in problems] == ["analytics_award_no_growth"]
    assert award["award_yuan"].sum() == pytest.approx(400.0)  # the growth part stays unallocated
    with pytest.raises(GepInputError, match="no price index for year 2020"):
        split_award(TOTALS, 2021, 1000.0, deflators={2021: 110.0})
