"""The analytics commands end to end on two tiny hand-made account folders (2020, 2021)."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from gep.analytics.cli import app

REGIONS = {"331100": ("丽水市", "city"), "331102": ("莲都区", "county"), "331121": ("青田县", "county")}
ITEMS = {"agriculture": "material", "water_conservation": "regulating", "recreation": "cultural"}
# yuan per county and item; the city is the sum of its counties
VALUES = {
    2020: {"331102": (1e9, 6e9, 3e9), "331121": (2e9, 10e9, 4e9)},  # GEP 1.0e10 and 1.6e10
    2021: {"331102": (1.1e9, 6.6e9, 3.3e9), "331121": (2e9, 9e9, 5e9)},  # 1.1e10 (+10 %) and 1.6e10 (0 %)
}


def _write_account(folder, year: int) -> None:
    folder.mkdir()
    counties = VALUES[year]
    city = tuple(sum(v) for v in zip(*counties.values(), strict=True))
    rows = []
    for code, values in {"331100": city, **counties}.items():
        name, level = REGIONS[code]
        for (item, category), value in zip(ITEMS.items(), values, strict=True):
            rows.append(
                {
                    "year": year,
                    "region_code": code,
                    "region_name": name,
                    "level": level,
                    "category": category,
                    "item": item,
                    "item_name_zh": item,
                    "item_name_en": item,
                    "component": "",
                    "physical_quantity": 1.0,
                    "physical_unit": "t",
                    "value_yuan": value,
                    "method": "test",
                    "profile": "zj_db33_2274_2020",
                }
            )
    pd.DataFrame(rows).to_csv(folder / "account.csv", index=False, encoding="utf-8-sig")
    pd.DataFrame({"item": list(ITEMS), "status": "computed"}).to_csv(folder / "methods.csv", index=False)
    summary = {"name": "test", "year": year, "profile": "zj_db33_2274_2020", "synthetic": True, "regions": []}
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")


@pytest.fixture
def inputs(tmp_path):
    for year in (2020, 2021):
        _write_account(tmp_path / f"acc{year}", year)
    (tmp_path / "realized.csv").write_text(
        "region_code,year,component,value_yuan,source\n"
        "331100,2021,material_sales,1620000000,统计年鉴2022 表12-3 row 4\n"
        "331100,2021,tourism_revenue,1080000000,文旅局 表1 row 2\n",
        encoding="utf-8",
    )
    (tmp_path / "deflator.csv").write_text("year,index\n2020,100\n2021,105\n", encoding="utf-8")
    return tmp_path


def _invoke(args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result


def _accounts(path):
    return ["--account", path / "acc2020", "--account", path / "acc2021"]


def test_indicators_command(inputs):
    (inputs / "obs.csv").write_text("year,pm25,forest_coverage\n2021,22,81.8\n2022,21,81.9\n", encoding="utf-8")
    out = inputs / "out"
    result = _invoke(
        [
            "indicators",
            *_accounts(inputs),
            "--realized",
            inputs / "realized.csv",
            "--observed",
            inputs / "obs.csv",
            "--out",
            out,
            "--lang",
            "en",
        ]
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "indicators.csv", encoding="utf-8-sig").set_index("indicator_id")
    # city GEP 2021 = 3.1e9 + 15.6e9 + 8.3e9 = 2.7e10 yuan = 270 亿元; realized (1.62e9 + 1.08e9)/2.7e10 = 10 %
    assert table.loc["gep", "value"] == pytest.approx(270.0)
    assert table.loc["realization_rate", "value"] == pytest.approx(10.0)
    assert table.loc["pm25", "status"] == "on_track"
    assert table.loc["co2_intensity_reduction", "status"] == "no_data"
    book = openpyxl.load_workbook(out / "indicators.xlsx", read_only=True)
    assert book.sheetnames == ["indicators", "forecasts", "observed"]


def test_realization_command(inputs):
    out = inputs / "out"
    result = _invoke(["realization", *_accounts(inputs), "--realized", inputs / "realized.csv", "--out", out])
    assert result.exit_code == 0, result.output
    rates = pd.read_csv(out / "realization_rates.csv", dtype={"region_code": str}, encoding="utf-8-sig").set_index(
        "category"
    )
    # material 1.62e9 / 3.1e9; cultural 1.08e9 / 8.3e9; total 2.7e9 / 2.7e10 = 0.1
    assert rates.loc["total", "rate"] == pytest.approx(0.1)
    assert rates.loc["material", "rate"] == pytest.approx(1.62 / 3.1)
    components = pd.read_csv(out / "realization_components.csv", encoding="utf-8-sig")
    assert "统计年鉴2022 表12-3 row 4" in components["source"].tolist()
    assert (out / "realization.xlsx").is_file()


def test_realization_command_bad_input(inputs):
    (inputs / "bad.csv").write_text(
        "region_code,year,component,value_yuan,source\n331100,2021,magic,5,x\n", encoding="utf-8"
    )
    result = _invoke(
        ["realization", *_accounts(inputs), "--realized", inputs / "bad.csv", "--out", inputs / "out", "--lang", "en"]
    )
    assert result.exit_code == 1
    assert "bad.csv [component]" in result.output and "'magic'" in result.output


def test_evaluate_command_award(inputs):
    out = inputs / "out"
    result = _invoke(["evaluate", *_accounts(inputs), "--award-pool", "1000000", "--out", out])
    assert result.exit_code == 0, result.output
    award = pd.read_csv(out / "award.csv", dtype={"region_code": str}, encoding="utf-8-sig").set_index("region_code")
    # counties only: level 400 000 × (1.1e10, 1.6e10)/2.7e10; growth 600 000 all to 331102 (+10 %; 331121 0 %)
    assert set(award.index) == {"331102", "331121"}
    assert award.loc["331102", "award_yuan"] == pytest.approx(400_000 * 11 / 27 + 600_000)
    assert award.loc["331121", "award_yuan"] == pytest.approx(400_000 * 16 / 27)


def test_evaluate_command_scores(inputs):
    values = inputs / "values.xlsx"
    cfg_ids = ["forest_coverage", "urban_green_rate"]
    pd.DataFrame(
        {
            "region_code": [331102, 331121],
            "region_name": ["莲都区", "青田县"],
            cfg_ids[0]: [70.0, 80.0],
            cfg_ids[1]: [40.0, 30.0],
        }
    ).to_excel(values, index=False)
    out = inputs / "out"
    result = _invoke(["evaluate", "--values", values, "--out", out])
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(out / "evaluation_scores.csv", dtype={"region_code": str}, encoding="utf-8-sig").set_index(
        "region_code"
    )
    # only the GEP group has values: min-max gives (0, 1) and (1, 0) -> both 50
    assert scores["score"].tolist() == pytest.approx([50.0, 50.0])
    assert scores["rank"].tolist() == [1, 1]


def test_audit_command(inputs):
    out = inputs / "out"
    args = [
        "audit",
        *_accounts(inputs),
        "--region",
        "331121",
        "--start",
        "2020",
        "--end",
        "2021",
        "--deflator",
        inputs / "deflator.csv",
        "--out",
        out,
    ]
    result = _invoke(args)
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(out / "audit_summary.csv", encoding="utf-8-sig").iloc[0]
    # 1.6e10 both years; at 2020 prices 1.6e10 × 100/105 -> change -1/21 = -4.76 %: not more than 5 %
    assert summary["change_rate"] == pytest.approx(-1 / 21)
    assert not summary["flagged"]
    # water_conservation 9e9/1.05 - 10e9 = -1.43e9 drives it
    assert summary["main_driver"] == "water_conservation"
    result = _invoke([*args, "--threshold", "0.04"])
    assert result.exit_code == 0, result.output
    assert bool(pd.read_csv(out / "audit_summary.csv", encoding="utf-8-sig").iloc[0]["flagged"])


def test_audit_command_needs_a_tenure(inputs):
    result = _invoke(["audit", *_accounts(inputs), "--out", inputs / "out", "--lang", "en"])
    assert result.exit_code == 1
    assert "--region, --start and --end, or --tenures FILE" in result.output
