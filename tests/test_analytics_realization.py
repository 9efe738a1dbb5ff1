"""Realization rate = realized value / GEP, overall and per category, with traced components."""

from __future__ import annotations

import pandas as pd
import pytest

from gep.analytics.io import read_realized
from gep.analytics.realization import load_definition, realization_rates
from gep.problems import GepInputError

TOTALS = pd.DataFrame(
    {
        "region_code": ["A"],
        "region_name": ["County A"],
        "level": ["county"],
        "year": [2020],
        "material_yuan": [100.0],
        "regulating_yuan": [700.0],
        "cultural_yuan": [200.0],
        "gep_yuan": [1000.0],
    }
)

REALIZED = (
    "region_code,year,component,value_yuan,source\n"
    "A,2020,material_sales,60,统计年鉴 表5-3 row 12\n"
    "A,2020,eco_compensation,35,财政局 表2 row 4\n"
    "A,2020,government_procurement,14,采购合同 2020-07\n"
    "A,2020,tourism_revenue,150,文旅局 表1 row 2\n"
)


def _realized(tmp_path, text=REALIZED):
    path = tmp_path / "realized.csv"
    path.write_text(text, encoding="utf-8")
    return read_realized(path)


def test_rates_by_hand(tmp_path):
    result = realization_rates(TOTALS, _realized(tmp_path), load_definition())
    rates = result.rates.set_index("category")["rate"]
    # material 60/100 = 0.6; regulating (35 + 14)/700 = 0.07; cultural 150/200 = 0.75
    # total (60 + 35 + 14 + 150)/1000 = 259/1000 = 0.259
    assert rates.to_dict() == pytest.approx({"material": 0.6, "regulating": 0.07, "cultural": 0.75, "total": 0.259})
    comp = result.components.set_index("component")
    assert comp.loc["material_sales", "source"] == "统计年鉴 表5-3 row 12"
    assert comp.loc["eco_compensation", "row"] == 3
    assert comp.loc["tourism_revenue", "category"] == "cultural"
    assert result.problems == []


def test_definition_share_and_counted(tmp_path):
    path = tmp_path / "def.toml"
    path.write_text(
        '[definition]\nid = "half_tourism"\n'
        '[[component]]\nid = "tourism_revenue"\ncategory = "cultural"\n'
        'name_zh = "旅游"\nname_en = "tourism"\nshare = 0.5\n'
        '[[component]]\nid = "material_sales"\ncategory = "material"\n'
        'name_zh = "销售"\nname_en = "sales"\ncounted = false\n'
        '[[component]]\nid = "eco_compensation"\ncategory = "regulating"\nname_zh = "补偿"\nname_en = "comp"\n'
        '[[component]]\nid = "government_procurement"\ncategory = "regulating"\nname_zh = "采购"\nname_en = "proc"\n',
        encoding="utf-8",
    )
    result = realization_rates(TOTALS, _realized(tmp_path), load_definition(path))
    rates = result.rates.set_index("category")["rate"]
    # cultural 0.5*150/200 = 0.375; material not counted -> 0; total (75 + 49)/1000 = 0.124
    assert rates["cultural"] == pytest.approx(0.375)
    assert rates["material"] == 0.0
    assert rates["total"] == pytest.approx(0.124)


def test_unknown_component_and_missing_gep(tmp_path):
    text = REALIZED + "A,2020,carbon_magic,5,x\nB,2020,material_sales,1,y\n"
    with pytest.raises(GepInputError) as exc:
        realization_rates(TOTALS, _realized(tmp_path, text), load_definition())
    message = str(exc.value)
    assert "realized.csv [component]" in message and "'carbon_magic' (row 6)" in message
    assert "region B in 2020" in message


def test_bad_values_and_rate_above_one(tmp_path):
    with pytest.raises(GepInputError, match=r"value -5.0 in row 2 is negative"):
        _realized(tmp_path, "region_code,year,component,value_yuan,source\nA,2020,material_sales,-5,x\n")
    high = "region_code,year,component,value_yuan,source\nA,2020,material_sales,150,x\n"
    result = realization_rates(TOTALS, _realized(tmp_path, high), load_definition())
    assert [p.code for p in result.problems] == ["analytics_rate_above_one"]
    assert result.rates.set_index("category").loc["material", "rate"] == pytest.approx(1.5)


def test_invalid_definition(tmp_path):
    path = tmp_path / "def.toml"
    path.write_text(
        '[[component]]\nid = "x"\ncategory = "spiritual"\nname_zh = "x"\nname_en = "x"\nshare = 2\n', encoding="utf-8"
    )
    with pytest.raises(GepInputError) as exc:
        load_definition(path)
    assert "spiritual" in str(exc.value) and "share 2" in str(exc.value)
