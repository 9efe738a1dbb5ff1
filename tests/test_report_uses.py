"""Uses of the account: analysis commands record their result in the account folder (uses/*.json)
and the account's report.html gains the section id="uses"; the account itself stays byte-identical.

Fixture: tests/account_fixture.py (city C of two counties A, B; 2020). The expected figures are
worked out from the account's own tables (account.csv, summary.json) and the inputs written here,
then compared with what the command wrote to its CSV and with the text of the report.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box
from tests.account_fixture import RES, X0, Y0, build
from typer.testing import CliRunner

from gep.account import Account
from gep.cli import app
from gep.engine.run import run_account
from gep.reports.html import format_use_value, render_html, write_html_report
from gep.reports.uses import attach_use, read_uses, use_payload
from gep.spec import load_spec

YUNHE = Path(__file__).resolve().parents[1] / "src" / "gep" / "realization" / "data" / "yunhe_2020.toml"
PROCURED_ITEMS = ("water_conservation", "climate_regulation", "soil_retention", "flood_regulation")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The fixture inputs with the account computed into the spec's output folder (``out``)."""
    directory = tmp_path_factory.mktemp("uses")
    spec, problems = load_spec(build(directory / "inputs"))
    assert spec is not None, problems
    run_account(spec, spec.output_dir)
    return directory / "inputs"


@pytest.fixture
def inputs(built, tmp_path) -> Path:
    """A private copy of the inputs and the account (``inputs/out``)."""
    return Path(shutil.copytree(built, tmp_path / "inputs"))


def digests(folder: Path, skip: tuple[str, ...] = ("report.html",)) -> dict[str, str]:
    """SHA-256 of every file of the account except ``skip`` and ``uses/``."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in skip and "uses" not in p.relative_to(folder).parts
    }


def section(html: str, sid: str = "uses") -> str:
    start = html.index(f'<section id="{sid}">')
    return html[start : html.index("</section>", start)]


def invoke(*args: object):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def realized_csv(folder: Path) -> Path:
    path = folder / "realized.csv"
    path.write_text(
        "region_code,year,component,value_yuan,source\n"
        "C,2020,material_sales,1000000,test\n"
        "C,2020,tourism_revenue,500000,test\n",
        encoding="utf-8",
    )
    return path


def test_realization_and_procure_recorded_in_report(inputs, tmp_path):
    account = inputs / "out"
    before = digests(account)
    assert "account.csv" in before and "summary.json" in before and any(k.startswith("maps") for k in before)
    realized = realized_csv(tmp_path)
    invoke("realization", "--account", account, "--realized", realized, "--out", tmp_path / "X")
    invoke("procure", YUNHE, "--account", account, "--out", tmp_path / "Y")

    assert sorted(p.name for p in (account / "uses").iterdir()) == ["procure.json", "realization.json"]
    assert digests(account) == before  # tables, maps, summary, provenance: byte-identical

    # realization rate of C 2020 = realized / GEP = (1 000 000 + 500 000) / GEP of C from summary.json
    summary = json.loads((account / "summary.json").read_text(encoding="utf-8"))
    gep = next(r["gep_yuan"] for r in summary["regions"] if r["region_code"] == "C")
    rates = pd.read_csv(tmp_path / "X" / "realization_rates.csv", encoding="utf-8-sig")
    rate = float(rates.loc[rates["category"] == "total", "rate"].iloc[0])
    assert rate == pytest.approx(1.5e6 / gep)

    # procurement (云和): 0.2 % of the four regulating items of the root region C in account.csv;
    # the schedule pays 70 % + 30 % of it
    table = pd.read_csv(account / "account.csv", encoding="utf-8-sig", keep_default_na=False)
    main = table[(table["region_code"] == "C") & (table["component"] == "") & table["item"].isin(PROCURED_ITEMS)]
    schedule = pd.read_csv(tmp_path / "Y" / "procurement_schedule.csv", encoding="utf-8-sig")
    total = float(schedule["amount_yuan"].sum())
    assert total == pytest.approx(0.002 * main["value_yuan"].sum())

    html = (account / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in html
    ids = re.findall(r'<section id="([a-z]+)">', html)
    assert ids.index("uses") == ids.index("maps") + 1 and ids.index("methods") == ids.index("uses") + 1
    assert '<a href="#uses">生态产品价值实现与应用</a>' in html
    uses = section(html)
    assert "生态产品价值实现与应用" in uses and "生态产品价值实现率" in uses and "付款计划" in uses
    assert f"{rate * 100:,.2f}%" in uses  # headline card, e.g. "5.51%"
    assert f"{total:,.2f}" in uses  # contract total and the schedule's total row
    assert uses.index('id="use-procure"') < uses.index('id="use-realization"')  # sorted by file name

    record = json.loads((account / "uses" / "realization.json").read_text(encoding="utf-8"))
    assert record["command"] == "realization" and record["format"] == "gep-use/1"
    assert record["title"] == {"zh": "生态产品价值实现率", "en": "Realization rate of ecological product value"}
    by_option = {i["option"]: i for i in record["inputs"]}
    assert by_option["--realized"]["sha256"] == hashlib.sha256(realized.read_bytes()).hexdigest()
    assert by_option["--account"]["sha256"] == hashlib.sha256((account / "account.csv").read_bytes()).hexdigest()
    rows = record["tables"][0]["records"]
    assert [r["rate"] for r in rows if r["category"] == "total"] == [pytest.approx(rate)]
    assert record["output"]["files"] == [
        "realization_rates.csv",
        "realization_components.csv",
        "realization_definition.csv",
        "realization.xlsx",
    ]

    # a second run replaces the record; the report does not depend on when it is rendered
    invoke("realization", "--account", account, "--realized", realized, "--out", tmp_path / "X")
    assert len(list((account / "uses").iterdir())) == 2
    again = render_html(Account.load(account), "zh")
    assert again == (account / "report.html").read_text(encoding="utf-8")


def test_no_attach_leaves_the_account_alone(inputs, tmp_path):
    account = inputs / "out"
    report = (account / "report.html").read_bytes()
    invoke(
        "realization",
        "--account",
        account,
        "--realized",
        realized_csv(tmp_path),
        "--out",
        tmp_path / "X",
        "--no-attach",
    )
    invoke("procure", YUNHE, "--account", account, "--out", tmp_path / "Y", "--no-attach")
    assert not (account / "uses").exists()
    assert (account / "report.html").read_bytes() == report
    assert (tmp_path / "X" / "realization_rates.csv").is_file() and (tmp_path / "Y" / "procurement.xlsx").is_file()


def test_english_report_gets_english_titles(inputs, tmp_path):
    account = inputs / "out"
    write_html_report(account, account / "report.html", lang="en")
    invoke("realization", "--account", account, "--realized", realized_csv(tmp_path), "--out", tmp_path / "X")
    invoke("procure", YUNHE, "--account", account, "--out", tmp_path / "Y", "--lang", "zh")
    html = (account / "report.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html  # re-rendered in the report's own language, not the command's
    uses = section(html)
    assert "<h2>Uses of the account</h2>" in uses
    assert "Realization rate of ecological product value" in uses and "Payment schedule" in uses
    assert "Contract total (yuan)" in uses and "Rates by category" in uses
    assert "生态产品价值实现与应用" not in html and "付款计划" not in uses


def test_impact_recorded_in_the_spec_output_account(inputs, tmp_path):
    account = inputs / "out"
    before = digests(account)
    footprint = tmp_path / "fp.geojson"
    # a 3 × 3 block of forest in county A (rows 2-4, columns 2-4) turned into water (class 2)
    block = box(X0 + 2 * RES, Y0 - 5 * RES, X0 + 5 * RES, Y0 - 2 * RES)
    gpd.GeoDataFrame(geometry=[block], crs="EPSG:4549").to_file(footprint, driver="GeoJSON")
    args = ["impact", inputs / "spec.toml", "--footprint", footprint, "--to-class", "2", "--quiet"]
    invoke(*args, "--out", tmp_path / "M")
    assert [u["command"] for u in read_uses(account)] == ["impact"]
    assert digests(account) == before
    compensation = pd.read_csv(tmp_path / "M" / "impact_compensation.csv", encoding="utf-8-sig")
    water = compensation.set_index("item").loc["water_conservation"]
    # water conservation, forest → water: per pixel (1500 − 45 − 800) × 10 = 6550 m³ becomes
    # (1500 − 0 − 900) × 10 = 6000 m³; 9 pixels lose 9 × 550 = 4950 m³, × 7.06 yuan/m³ = 34 947 yuan
    assert water["physical_loss"] == pytest.approx(4950)
    assert water["value_loss_yuan"] == pytest.approx(34_947)
    uses = section((account / "report.html").read_text(encoding="utf-8"))
    assert "建设项目生态影响（生态占补平衡）" in uses and "34,947.00" in uses
    # --no-attach; an explicit --account takes the record instead of the spec's output folder
    shutil.rmtree(account / "uses")
    invoke(*args, "--out", tmp_path / "M", "--no-attach")
    assert not (account / "uses").exists()
    other = Path(shutil.copytree(account, tmp_path / "other"))
    invoke(*args, "--out", tmp_path / "M", "--account", other)
    assert not (account / "uses").exists() and (other / "uses" / "impact.json").is_file()


def test_indicators_and_audit_views(inputs, tmp_path):
    account = inputs / "out"
    invoke("indicators", "--account", account, "--out", tmp_path / "I")
    indicators = pd.read_csv(tmp_path / "I" / "indicators.csv", encoding="utf-8-sig")
    gep_row = indicators.set_index("indicator_id").loc["gep"]
    uses = section((account / "report.html").read_text(encoding="utf-8"))
    assert "规划指标进展与预测" in uses and "目标年预测（Holt）" in uses
    # GEP in 亿元 = gep_yuan / 1e8, shown with 4 significant digits
    assert f"{gep_row['value']:.4g}" in uses and "滞后" in uses  # status off_track, in Chinese

    # audit: a hand-made result; flagged shown as 是, the driver by its catalogue name
    summary = pd.DataFrame(
        [
            {
                "official": "",
                "region_code": "C",
                "region_name": "城市",
                "start_year": 2015,
                "end_year": 2020,
                "gep_start_yuan": 2.0e7,
                "gep_end_comparable_yuan": 1.8e7,
                "change_rate": -0.1,  # (1.8e7 − 2.0e7) / 2.0e7
                "threshold": 0.05,
                "flagged": True,
                "main_driver": "water_conservation",
            }
        ]
    )
    payload = use_payload("audit", {"audit_summary": summary}, inputs={"--account": [account]})
    assert payload["headline"][0]["value"] == 1  # one tenure flagged
    attach_use(account, "audit", payload)
    uses = section((account / "report.html").read_text(encoding="utf-8"))
    audit = uses[uses.index('id="use-audit"') : uses.index('id="use-indicators"')]
    assert "-10.00%" in audit and "<td>是</td>" in audit and "水源涵养" in audit


def test_attach_use_guards(inputs, tmp_path):
    account = inputs / "out"
    payload = use_payload("realization", {})
    with pytest.raises(ValueError):
        attach_use(account, "../summary", payload)
    with pytest.raises(ValueError):
        attach_use(tmp_path, "realization", payload)  # not an account folder
    with pytest.raises(ValueError):
        use_payload("unknown", {})
    assert not (account / "uses").exists()
    attach_use(account, "realization", payload)
    (account / "uses" / "broken.json").write_text("{not json", encoding="utf-8")
    uses = read_uses(account)
    assert [u["command"] for u in uses] == ["broken", "realization"] and "error" in uses[0]
    html = render_html(Account.load(account), "en")
    assert "Cannot read uses/broken.json" in section(html)


def test_report_that_cannot_be_rendered_gives_a_warning(inputs, tmp_path):
    account = inputs / "out"
    summary = json.loads((account / "summary.json").read_text(encoding="utf-8"))
    (account / "summary.json").write_text(json.dumps({**summary, "regions": []}), encoding="utf-8")
    report = (account / "report.html").read_bytes()
    result = invoke(
        "realization",
        "--account",
        account,
        "--realized",
        realized_csv(tmp_path),
        "--out",
        tmp_path / "X",
        "--lang",
        "en",
    )
    assert (account / "uses" / "realization.json").is_file()
    assert "could not be re-rendered" in result.output and (account / "report.html").read_bytes() == report


def test_format_use_value():
    assert format_use_value(0.0550873931095, "percent", "zh") == "5.51"  # 0.05509 × 100
    assert format_use_value(50865.3669544, "yuan", "en") == "50,865.37"
    assert format_use_value(1.135296e20, "number", "en") == "1.135e+20"
    assert format_use_value(0.27229, "number", "en") == "0.2723"
    assert format_use_value(None, "yuan", "en") == "—" and format_use_value(None, "text", "en") == ""
    assert format_use_value(True, "bool", "en") == "yes" and format_use_value("pending", "status", "zh") == "待考核"
    assert format_use_value("total", "category", "en") == "Total"
    assert format_use_value("regulating", "category", "zh") == "调节服务"
