"""County evaluation scores (3 and 4 counties by hand), weights that must sum to one, and the 40/60
GEP award split."""

from __future__ import annotations

import math

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
weight = 0.6666666666666666
[[group]]
id = "g2"
name_zh = "组2"
name_en = "group 2"
weight = 0.3333333333333334
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

# group weights 2/3 and 1/3 (summing to 1 in double precision); the indicators give no weight, so
# each group's indicators weigh equally: i1 and i2 1/2 each, i3 1.
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
    # score = 100 * (2/3 g1 + 1/3 g2) = 100 * (2 g1 + g2)/3:
    # A 100*(1 + 1)/3 = 66.67; B 100*(0.5 + 0.5)/3 = 33.33; C 100*(1.5 + 0)/3 = 50
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


# --- weights must sum to one ------------------------------------------------------------------------------

GROUPS = """
[[group]]
id = "g1"
name_zh = "组1"
name_en = "group 1"
{w1}
[[group]]
id = "g2"
name_zh = "组2"
name_en = "group 2"
{w2}
[[indicator]]
id = "i1"
group = "g1"
name_zh = "指标1"
name_en = "i1"
{v1}
[[indicator]]
id = "i2"
group = "g1"
name_zh = "指标2"
name_en = "i2"
{v2}
[[indicator]]
id = "i3"
group = "g2"
name_zh = "指标3"
name_en = "i3"
"""


def _config(tmp_path, w1="", w2="", v1="", v2=""):
    path = tmp_path / "weights.toml"
    path.write_text(GROUPS.format(w1=w1, w2=w2, v1=v1, v2=v2), encoding="utf-8")
    return path


def test_group_and_indicator_weights_must_sum_to_one(tmp_path):
    path = _config(tmp_path, "weight = 0.5", "weight = 0.6", "weight = 0.5", "weight = 0.4")
    with pytest.raises(GepInputError) as exc:
        load_evaluation_config(path)
    codes = [p.code for p in exc.value.problems]
    assert codes == ["analytics_group_weights_sum", "analytics_indicator_weights_sum"]
    text = str(exc.value)
    # 0.5 + 0.6 = 1.1 for the groups; 0.5 + 0.4 = 0.9 for the indicators of g1 (g2's lone i3 defaults to 1)
    assert "weights.toml [group.weight]" in text and "(g1=0.5, g2=0.6) sum to 1.1" in text
    assert "weights.toml [group g1]" in text and "group g1 (i1=0.5, i2=0.4) sum to 0.9" in text
    assert "expected them to sum to 1" in text
    assert "和为 1.1" in exc.value.render("zh")
    # 0.3333 * 3 = 0.9999 is 1e-4 off: rejected; 0.333333333333 + 0.333333333333 + 0.333333333334 = 1
    path = _config(tmp_path, "weight = 0.3333", "weight = 0.6666", "weight = 0.5", "weight = 0.5")
    with pytest.raises(GepInputError, match="sum to 0.9999;"):
        load_evaluation_config(path)
    path = _config(tmp_path, "weight = 0.333333333333", "weight = 0.666666666667", "weight = 0.25", "weight = 0.75")
    cfg = load_evaluation_config(path)  # 1e-12 off: within the 1e-9 tolerance
    assert [i.weight for i in cfg.indicators] == [0.25, 0.75, 1.0]


def test_omitted_weights_are_equal_and_partial_weights_an_error(tmp_path):
    cfg = load_evaluation_config(_config(tmp_path))
    # no weight anywhere: groups 1/2 each; g1's two indicators 1/2 each, g2's one indicator 1
    assert [g.weight for g in cfg.groups] == [0.5, 0.5]
    assert [i.weight for i in cfg.indicators] == [0.5, 0.5, 1.0]
    with pytest.raises(GepInputError) as exc:
        load_evaluation_config(_config(tmp_path, w1="weight = 1.0", v2="weight = 1.0"))
    text = str(exc.value)
    assert [p.code for p in exc.value.problems] == ["analytics_weights_partial"] * 2
    assert "the groups give a weight for some (g1) but not for others (g2)" in text
    assert "the indicators of group g1 give a weight for some (i2) but not for others (i1)" in text


def test_packaged_weights_sum_to_one_and_weigh_equally():
    cfg = load_evaluation_config()
    assert math.fsum(g.weight for g in cfg.groups) == pytest.approx(1.0, abs=1e-9)
    assert {i.weight for i in cfg.indicators} == {0.2}
    assert [g.weight for g in cfg.groups] == pytest.approx([1 / 3] * 3, abs=1e-15)
    # two counties, every indicator present. A is higher on all five GEP-to-GDP indicators and on three
    # of the five GEP indicators, B on the other two GEP indicators and on all five GDP-to-GEP ones.
    # min-max over two regions gives the higher 1 and the lower 0, so
    # A: groups 1, 3 * 0.2 = 0.6, 0 -> score 100 * (1 + 0.6 + 0)/3 = 53.33
    # B: groups 0, 2 * 0.2 = 0.4, 1 -> score 100 * (0 + 0.4 + 1)/3 = 46.67
    gep_ids = [i.id for i in cfg.indicators if i.group == "gep"]
    rows = []
    for indicator in cfg.indicators:
        a_higher = indicator.group == "gep_to_gdp" or indicator.id in gep_ids[:3]
        for code, value in (("A", 2.0 if a_higher else 1.0), ("B", 1.0 if a_higher else 2.0)):
            rows.append({"region_code": code, "region_name": code, "indicator_id": indicator.id, "value": value})
    s = evaluate_counties(pd.DataFrame(rows), cfg).scores.set_index("region_code")
    assert s["score"].to_dict() == pytest.approx({"A": 160 / 3, "B": 140 / 3})
    assert s["score_gep"].to_dict() == pytest.approx({"A": 60.0, "B": 40.0})
    # one indicator absent from the data (greenway_km, group GDP to GEP): a warning, and the other
    # four of that group renormalize to 0.2 / 0.8 = 1/4 each; B still scores 1 in that group
    partial = pd.DataFrame([r for r in rows if r["indicator_id"] != "greenway_km"])
    result = evaluate_counties(partial, cfg)
    assert [p.code for p in result.problems] == ["analytics_indicator_absent"]
    assert "greenway_km" in result.problems[0].render("en")
    s = result.scores.set_index("region_code")
    assert s["score"].to_dict() == pytest.approx({"A": 160 / 3, "B": 140 / 3})
    weights = result.details[result.details["region_code"] == "B"].set_index("indicator_id")
    # B's contribution of one GDP-to-GEP indicator: 100 * 1/3 (group) * 1/4 (renormalized) * 1 = 8.33
    assert weights.loc["afforestation_area", "contribution"] == pytest.approx(100 / 12)


# --- four counties worked by hand ----------------------------------------------------------------------

FOUR_CONFIG = """
[evaluation]
id = "four"
normalization = "minmax"
scale = 100.0
[[group]]
id = "eco"
name_zh = "生态"
name_en = "ecology"
weight = 0.6
[[group]]
id = "econ"
name_zh = "经济"
name_en = "economy"
weight = 0.4
[[indicator]]
id = "forest"
group = "eco"
name_zh = "森林覆盖率"
name_en = "forest coverage"
unit = "%"
weight = 0.5
[[indicator]]
id = "pm25"
group = "eco"
name_zh = "PM2.5浓度"
name_en = "PM2.5"
unit = "µg/m³"
direction = "negative"
weight = 0.5
[[indicator]]
id = "tourism"
group = "econ"
name_zh = "旅游增加值"
name_en = "tourism value added"
unit = "亿元"
weight = 0.75
[[indicator]]
id = "brands"
group = "econ"
name_zh = "品牌数"
name_en = "brands"
unit = "个"
weight = 0.25
"""

FOUR_VALUES = (
    "region_code,region_name,forest,pm25,tourism,brands\n"
    "A,甲,10,30,5,200\nB,乙,20,20,9,100\nC,丙,30,40,7,300\nD,丁,50,35,1,500\n"
)


def test_four_county_evaluation_and_award_by_hand(tmp_path):
    config = tmp_path / "four.toml"
    config.write_text(FOUR_CONFIG, encoding="utf-8")
    values = tmp_path / "four.csv"
    values.write_text(FOUR_VALUES, encoding="utf-8")
    cfg = load_evaluation_config(config)
    frame, problems = read_county_values(values, cfg.ids())
    assert problems == []
    result = evaluate_counties(frame, cfg)
    assert result.problems == []
    n = result.details.set_index(["region_code", "indicator_id"])["normalized"]
    # forest (+): 10, 20, 30, 50; min 10, max 50, range 40: (x - 10)/40 -> A 0, B 0.25, C 0.5, D 1
    assert [n[(r, "forest")] for r in "ABCD"] == pytest.approx([0.0, 0.25, 0.5, 1.0])
    # pm25 (-, lower is better): 30, 20, 40, 35; min 20, max 40, range 20: (40 - x)/20 -> A 0.5, B 1, C 0, D 0.25
    assert [n[(r, "pm25")] for r in "ABCD"] == pytest.approx([0.5, 1.0, 0.0, 0.25])
    # tourism (+): 5, 9, 7, 1; range 8: (x - 1)/8 -> A 0.5, B 1, C 0.75, D 0
    assert [n[(r, "tourism")] for r in "ABCD"] == pytest.approx([0.5, 1.0, 0.75, 0.0])
    # brands (+): 200, 100, 300, 500; range 400: (x - 100)/400 -> A 0.25, B 0, C 0.5, D 1
    assert [n[(r, "brands")] for r in "ABCD"] == pytest.approx([0.25, 0.0, 0.5, 1.0])
    s = result.scores.set_index("region_code")
    # eco = 0.5 forest + 0.5 pm25: A 0.25, B 0.625, C 0.25, D 0.625
    assert s["score_eco"].to_dict() == pytest.approx({"A": 25.0, "B": 62.5, "C": 25.0, "D": 62.5})
    # econ = 0.75 tourism + 0.25 brands: A 0.375 + 0.0625 = 0.4375, B 0.75, C 0.5625 + 0.125 = 0.6875, D 0.25
    assert s["score_econ"].to_dict() == pytest.approx({"A": 43.75, "B": 75.0, "C": 68.75, "D": 25.0})
    # score = 100 (0.6 eco + 0.4 econ): A 15 + 17.5 = 32.5; B 37.5 + 30 = 67.5; C 15 + 27.5 = 42.5;
    # D 37.5 + 10 = 47.5
    assert s["score"].to_dict() == pytest.approx({"A": 32.5, "B": 67.5, "C": 42.5, "D": 47.5})
    assert s["rank"].to_dict() == {"B": 1, "D": 2, "C": 3, "A": 4}
    assert result.scores["region_code"].tolist() == ["B", "D", "C", "A"]
    # contribution of B's pm25: 100 * 0.6 * 0.5 * 1 = 30
    assert result.details.set_index(["region_code", "indicator_id"]).loc[("B", "pm25"), "contribution"] == (
        pytest.approx(30.0)
    )

    # award of a pool of 1亿元 = 1e8 yuan, 40 % by GEP level and 60 % by GEP growth
    totals = pd.DataFrame(
        {
            "region_code": list("ABCD") * 2,
            "region_name": ["甲", "乙", "丙", "丁"] * 2,
            "year": [2020] * 4 + [2021] * 4,
            "gep_yuan": [100e8, 200e8, 300e8, 400e8, 120e8, 210e8, 270e8, 400e8],
        }
    )
    award, problems = split_award(totals, 2021, 1e8)
    assert problems == []
    a = award.set_index("region_code")
    # growth: A 120/100 - 1 = 0.2; B 210/200 - 1 = 0.05; C 270/300 - 1 = -0.1 -> counts 0; D 400/400 - 1 = 0
    assert a["growth_rate"].to_dict() == pytest.approx({"A": 0.2, "B": 0.05, "C": -0.1, "D": 0.0}, abs=1e-12)
    # level part 0.4e8 by GEP 2021 of 1000e8: shares 0.12, 0.21, 0.27, 0.40 -> 4.8e6, 8.4e6, 10.8e6, 16e6
    assert a["level_award_yuan"].to_dict() == pytest.approx({"A": 4.8e6, "B": 8.4e6, "C": 10.8e6, "D": 16e6})
    # growth part 0.6e8 by positive growth (sum 0.25): A 0.8, B 0.2 -> 48e6, 12e6; C and D 0
    assert a["growth_award_yuan"].to_dict() == pytest.approx({"A": 48e6, "B": 12e6, "C": 0.0, "D": 0.0}, abs=1e-6)
    # totals: A 52.8e6, B 20.4e6, C 10.8e6, D 16e6 (sum 1e8)
    assert a["award_yuan"].to_dict() == pytest.approx({"A": 52.8e6, "B": 20.4e6, "C": 10.8e6, "D": 16e6})
    assert award["region_code"].tolist() == ["A", "B", "D", "C"]
    assert award["award_yuan"].sum() == pytest.approx(1e8)
