"""Departure audit: GEP change at comparable prices over a tenure, flag, item drivers."""

from __future__ import annotations

import pandas as pd
import pytest

from gep.analytics.audit import AuditRule, Tenure, audit_tenure, load_audit_rule
from gep.problems import GepInputError

ITEMS = pd.DataFrame(
    {
        "region_code": ["R"] * 4,
        "region_name": ["县"] * 4,
        "year": [2020, 2020, 2021, 2021],
        "category": ["regulating", "cultural"] * 2,
        "item": ["water_conservation", "recreation"] * 2,
        "value_yuan": [600.0, 400.0, 540.0, 480.0],
        "profile": ["zj_db33_2274_2020"] * 4,
    }
)
DEFLATORS = {2020: 100.0, 2021: 120.0}


def test_flag_at_comparable_prices_by_hand():
    # 2021 at 2020 prices: × 100/120 -> water_conservation 540 -> 450, recreation 480 -> 400; GEP 1020 -> 850
    # change 850 - 1000 = -150 = -15 % < -5 % -> flagged; driver water_conservation (-150, all of the change)
    result = audit_tenure(ITEMS, Tenure("R", 2020, 2021, "张三"), AuditRule(0.05), DEFLATORS)
    s = result.summary
    assert s["gep_start_yuan"] == pytest.approx(1000.0)
    assert s["gep_end_yuan"] == pytest.approx(1020.0)
    assert s["gep_end_comparable_yuan"] == pytest.approx(850.0)
    assert s["change_rate"] == pytest.approx(-0.15)
    assert s["flagged"] and s["main_driver"] == "water_conservation"
    items = result.items.set_index("item")
    assert items.loc["water_conservation", "change_yuan"] == pytest.approx(-150.0)
    assert items.loc["water_conservation", "share_of_change"] == pytest.approx(1.0)
    assert items.loc["recreation", "change_yuan"] == pytest.approx(0.0)
    assert result.items["rank"].tolist() == [1, 2]
    assert result.problems == []


def test_nominal_comparison_is_not_flagged_and_warns():
    # at current prices GEP rises 1000 -> 1020 (+2 %)
    result = audit_tenure(ITEMS, Tenure("R", 2020, 2021), AuditRule(0.05))
    assert result.summary["change_rate"] == pytest.approx(0.02)
    assert not result.summary["flagged"]
    assert [p.code for p in result.problems] == ["analytics_no_deflator"]
    # rising GEP: the item that rose most comes first (recreation +80)
    assert result.summary["main_driver"] == "recreation"


def test_threshold_boundary_is_not_flagged():
    # 1000 -> 950 at current prices: -5 % exactly, not "more than" 5 %
    items = ITEMS.assign(value_yuan=[600.0, 400.0, 550.0, 400.0])
    assert not audit_tenure(items, Tenure("R", 2020, 2021), AuditRule(0.05)).summary["flagged"]
    assert audit_tenure(items, Tenure("R", 2020, 2021), AuditRule(0.049)).summary["flagged"]


def test_items_in_one_year_and_profiles():
    extra = pd.concat(
        [
            ITEMS,
            pd.DataFrame(
                [
                    {
                        "region_code": "R",
                        "region_name": "县",
                        "year": 2021,
                        "category": "regulating",
                        "item": "negative_air_ions",
                        "value_yuan": 10.0,
                        "profile": "lishui2019",
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    extra.loc[extra["year"] == 2021, "profile"] = "lishui2019"
    result = audit_tenure(extra, Tenure("R", 2020, 2021), AuditRule(0.05), DEFLATORS)
    codes = sorted(p.code for p in result.problems)
    assert codes == ["analytics_item_one_year", "analytics_profile_differs"]
    assert result.items.set_index("item").loc["negative_air_ions", "start_yuan"] == 0.0


def test_errors():
    with pytest.raises(GepInputError, match="no price index for year 2021"):
        audit_tenure(ITEMS, Tenure("R", 2020, 2021), deflators={2020: 100.0})
    with pytest.raises(GepInputError, match="no GEP for region R in 2022"):
        audit_tenure(ITEMS, Tenure("R", 2020, 2022))
    with pytest.raises(GepInputError, match="region 'Q' is not in the data"):
        audit_tenure(ITEMS, Tenure("Q", 2020, 2021))
    with pytest.raises(GepInputError, match="before start year"):
        audit_tenure(ITEMS, Tenure("R", 2021, 2020))


def test_packaged_rule():
    assert load_audit_rule().decline_threshold == 0.05


def test_tables_gep_deflator_tenures(tmp_path):
    from gep.analytics.io import gep_totals, read_deflators, read_gep_table, read_tenures

    gep = tmp_path / "gep.csv"
    gep.write_text(
        "region_code,year,category,item,value_yuan\n"
        "R,2020,regulating,water_conservation,600\nR,2020,cultural,recreation,400\n"
        "R,2021,regulating,water_conservation,540\nR,2021,cultural,recreation,480\n",
        encoding="utf-8",
    )
    items = read_gep_table(gep)
    totals = gep_totals(items).set_index("year")
    assert totals.loc[2021, "gep_yuan"] == 1020.0 and totals.loc[2021, "cultural_yuan"] == 480.0
    deflator = tmp_path / "deflator.csv"
    deflator.write_text("year,index\n2020,100\n2021,120\n", encoding="utf-8")
    tenures = tmp_path / "tenures.csv"
    tenures.write_text("official,region_code,start_year,end_year\n张三,R,2020,2021\n", encoding="utf-8")
    (tenure,) = read_tenures(tenures)
    result = audit_tenure(items, tenure, AuditRule(0.05), read_deflators(deflator))
    assert result.summary["official"] == "张三"
    assert result.summary["change_rate"] == pytest.approx(-0.15)  # as in the hand-worked case above
    deflator.write_text("year,index\n2020,0\n2020,120\n", encoding="utf-8")
    with pytest.raises(GepInputError, match=r"deflator.csv \[index\]: price index 0.0 for year 2020 is not positive"):
        read_deflators(deflator)
    gep.write_text("region_code,year,category,value_yuan\nR,2020,spiritual,1\n", encoding="utf-8")
    with pytest.raises(GepInputError, match="spiritual"):
        read_gep_table(gep)
    tenures.write_text("region_code,start_year,end_year\nR,2021,2019\n", encoding="utf-8")
    with pytest.raises(GepInputError, match="end year 2019 is before start year 2021"):
        read_tenures(tenures)
