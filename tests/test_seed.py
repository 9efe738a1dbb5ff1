"""Seeding plan indicators and the county evaluation from an account (gep.api.seed), read back through
the API, the CLI and (when Chromium is installed) the dashboard's Indicators page.

The account is the two-county fixture (tests/account_fixture.py: city C = counties A + B), marked
synthetic here as the demo is. Its figures (summary.json, yuan): city C GEP 27,229,460.60;
A GEP 10,285,150.45 on 1 km², B GEP 16,944,310.14 on 1 km². No GDP or population: GEP/GDP and GEP
per capita are absent from the evaluation.
"""

from __future__ import annotations

import json
import shutil
import tomllib
import warnings
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
from tests.account_fixture import build

from gep.analytics.evaluation import evaluate_counties, load_evaluation_config, weight_problems
from gep.api.app import create_app
from gep.api.seed import account_evaluation_config, evaluation_method, seed_analytics
from gep.api.settings import Settings
from gep.store import repository as repo
from gep.store.models import Account

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's notice that its TestClient will move off httpx
    from fastapi.testclient import TestClient

API = "/api/v1"
PLAN_TOML = resources.files("gep.analytics").joinpath("data", "indicators_lishui_2025.toml")
PLAN = tomllib.loads(PLAN_TOML.read_text(encoding="utf-8"))
EVALUATION_TOML = tomllib.loads(
    resources.files("gep.analytics").joinpath("data", "evaluation_lishui_2019.toml").read_text(encoding="utf-8")
)


@pytest.fixture(scope="module")
def account_dir(tmp_path_factory) -> Path:
    """The fixture account, computed, with ``synthetic = true`` in its summary (like the demo)."""
    from gep.engine.run import run_account
    from gep.spec import load_spec

    root = tmp_path_factory.mktemp("seed")
    spec, problems = load_spec(build(root / "acc"))
    assert spec is not None, problems
    out = root / "out"
    run_account(spec, out, reports=False)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    summary["synthetic"] = True
    (out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def summary(account_dir) -> dict:
    return json.loads((account_dir / "summary.json").read_text(encoding="utf-8"))


def make_app(directory: Path, database: str = "gep.db"):
    url = f"sqlite:///{directory / database}"
    settings = Settings(database_url=url, data_dir=directory / "data", run_workers=1)
    return create_app(settings)


def close(app) -> None:
    app.state.runs.shutdown()
    app.state.engine.dispose()


def import_and_seed(app, account_dir: Path) -> int:
    with app.state.sessions() as session:
        account = repo.import_account(session, account_dir, published=True)
        seed_analytics(session, account)
        session.commit()
        return account.id


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, account_dir):
    """A store holding the account, seeded once: (TestClient, account id)."""
    app = make_app(tmp_path_factory.mktemp("store"))
    account_id = import_and_seed(app, account_dir)
    yield TestClient(app), account_id
    close(app)


def plan_indicators() -> dict[str, dict]:
    return {raw["id"]: raw for raw in PLAN["indicator"]}


# ------------------------------------------------------------------------------------------- indicators


def test_indicators_have_the_plan_targets_and_the_account_gep(seeded, summary):
    client, account_id = seeded
    series = client.get(f"{API}/indicators").json()
    plan = plan_indicators()
    assert len(plan) == 14
    assert sorted(s["code"] for s in series) == sorted(plan)
    for s in series:
        raw = plan[s["code"]]
        assert s["region_code"] == "C"  # the account's top region (the city)
        assert (s["name_zh"], s["name_en"], s["unit"]) == (raw["name_zh"], raw["name_en"], raw["unit"])
        assert raw["source"] in s["source"]  # the plan's own source is kept
        # targets: the plan's number for 2025; none for the three qualitative targets (达标)
        expected = [{"year": 2025, "value": raw["target"]}] if "target" in raw else []
        assert s["targets"] == expected, s["code"]
        assert s["forecast"] == [], s["code"]  # at most two observed years: too few to fit
    assert sum(1 for s in series if s["targets"]) == 11
    by_code = {s["code"]: s for s in series}
    gep = by_code["gep"]
    city = next(r for r in summary["regions"] if r["region_code"] == "C")
    # 2019: the plan's base (5314.43 亿元); 2020: the account's city GEP in 亿元 = yuan / 1e8
    assert gep["observed"] == [{"year": 2019, "value": 5314.43}, {"year": 2020, "value": city["gep_yuan"] / 1e8}]
    assert "[synthetic]" in gep["source"] and f"#{account_id}" in gep["source"]
    assert "5000" in gep["source"] and "5314.43" in gep["source"]
    # indicators the account does not provide carry only the plan's base, and are not tagged synthetic
    assert by_code["pm25"]["observed"] == [{"year": 2020, "value": 21.0}]
    assert "[synthetic]" not in by_code["pm25"]["source"]
    assert by_code["eco_agriculture_value_added"]["observed"] == []
    assert (
        by_code["co2_intensity_reduction"]["targets"] == [] and "达标" in by_code["co2_intensity_reduction"]["source"]
    )


def test_forecasts_once_the_series_is_long_enough(tmp_path, account_dir):
    """With 2017-2019 already observed at 98.9 %, AQI's series 2017-2020 is constant at 98.9 (the plan's
    2020 base is 98.9): simple exponential smoothing forecasts the last level, 98.9, for 2021-2025
    whatever its parameter. Seeding twice leaves one evaluation per county and 14 series."""
    app = make_app(tmp_path)
    try:
        with app.state.sessions() as session:
            repo.save_indicator_series(
                session,
                code="aqi_good_rate",
                region_code="C",
                values=[{"kind": "observed", "year": y, "value": 98.9} for y in (2017, 2018, 2019)],
            )
            session.commit()
        account_id = import_and_seed(app, account_dir)
        with app.state.sessions() as session:
            report = seed_analytics(session, session.get(Account, account_id))
            session.commit()
        assert report.forecasts == 5
        client = TestClient(app)
        series = client.get(f"{API}/indicators").json()
        assert len(series) == 14
        aqi = next(s for s in series if s["code"] == "aqi_good_rate")
        assert [p["year"] for p in aqi["observed"]] == [2017, 2018, 2019, 2020]
        assert [p["year"] for p in aqi["forecast"]] == [2021, 2022, 2023, 2024, 2025]
        for point in aqi["forecast"]:
            assert point["value"] == pytest.approx(98.9, abs=1e-9)
            assert point["method"].startswith("ses")
        others = [s for s in series if s["code"] != "aqi_good_rate"]
        assert all(s["forecast"] == [] for s in others)
        assert len(client.get(f"{API}/evaluations").json()) == 2
    finally:
        close(app)


def test_accounts_of_several_years_build_the_series_and_its_forecast(tmp_path, account_dir, summary):
    """A second account for 2021 (the same figures) gives GEP 2019 (plan base 5314.43), 2020 and 2021
    (g = 0.2722946 亿元 both): three consecutive years, enough to estimate SES. Its least squares:
    e(2020) = g − 5314.43 whatever a; ŷ(2021) = a·g + (1 − a)·5314.43, so e(2021) = (1 − a)(g − 5314.43),
    smallest at a = 1; the forecast is then the last level, g, for 2022-2025."""
    later = tmp_path / "later"
    shutil.copytree(account_dir, later)
    moved = dict(summary, year=2021)
    (later / "summary.json").write_text(json.dumps(moved), encoding="utf-8")
    app = make_app(tmp_path)
    try:
        first = import_and_seed(app, account_dir)
        second = import_and_seed(app, later)
        client = TestClient(app)
        gep = next(s for s in client.get(f"{API}/indicators").json() if s["code"] == "gep")
        g = next(r["gep_yuan"] for r in summary["regions"] if r["region_code"] == "C") / 1e8
        assert gep["observed"] == [
            {"year": 2019, "value": 5314.43},
            {"year": 2020, "value": g},
            {"year": 2021, "value": g},
        ]
        assert [p["year"] for p in gep["forecast"]] == [2022, 2023, 2024, 2025]
        for point in gep["forecast"]:
            assert point["value"] == pytest.approx(g, rel=1e-6)
            assert point["method"].startswith("ses a=1.000")
        assert f"#{first}" in gep["source"] and f"#{second}" in gep["source"]  # both accounts named
        years = sorted({e["year"] for e in client.get(f"{API}/evaluations").json()})
        assert years == [2020, 2021]
    finally:
        close(app)


# ------------------------------------------------------------------------------------------- evaluation


def test_county_evaluation_matches_evaluate_counties(seeded, summary):
    client, account_id = seeded
    rows = client.get(f"{API}/evaluations").json()
    assert sorted(r["region_code"] for r in rows) == ["A", "B"]
    # the same inputs, built here from summary.json: GEP in 亿元 and GEP per km² in 万元/km²
    counties = [r for r in summary["regions"] if r["level"] == "county"]
    values = pd.DataFrame(
        [
            {"region_code": r["region_code"], "region_name": r["region_name"], "indicator_id": i, "value": v}
            for r in counties
            for i, v in (("gep", r["gep_yuan"] / 1e8), ("gep_per_km2", r["gep_per_km2_yuan"] / 1e4))
        ]
    )
    config = account_evaluation_config()
    direct = evaluate_counties(values, config).scores.set_index("region_code")
    # min-max over two counties: B has more GEP (16.94 > 10.29 million yuan) and more GEP per km²,
    # so B scores 1 on both indicators -> 100, A scores 0 -> 0
    assert direct.loc["B", "score"] == pytest.approx(100.0) and direct.loc["A", "score"] == pytest.approx(0.0)
    plan_ids = [raw["id"] for raw in EVALUATION_TOML["indicator"]]
    assert len(plan_ids) == 15
    for row in rows:
        assert row["score"] == pytest.approx(direct.loc[row["region_code"], "score"], abs=1e-9)
        assert row["year"] == 2020 and row["account_id"] == account_id
        assert row["method"] == evaluation_method(config)
        details = row["details"]
        assert details["rank"] == direct.loc[row["region_code"], "rank"]
        assert details["indicators_used"] == ["gep", "gep_per_km2"]
        absent = [a["id"] for a in details["indicators_absent"]]
        assert sorted(absent) == sorted([*plan_ids, "gep_to_gdp", "gep_per_capita"])
        assert details["synthetic"] is True and "合成数据" in details["data_note_zh"]
        county = next(r for r in counties if r["region_code"] == row["region_code"])
        gep = next(i for i in details["indicators"] if i["id"] == "gep")
        assert gep["value"] == pytest.approx(county["gep_yuan"] / 1e8) and gep["unit"] == "亿元"


def test_evaluation_config_is_the_plans_plus_the_account_indicators():
    plan = load_evaluation_config()
    config = account_evaluation_config()
    assert config.ids()[: len(plan.ids())] == plan.ids()
    assert config.ids()[len(plan.ids()) :] == ["gep", "gep_per_km2", "gep_to_gdp", "gep_per_capita"]
    assert {i.group for i in config.indicators[len(plan.ids()) :]} == {"gep"}
    assert config.normalization == "minmax" and config.tag == "unverified"
    # the weights still sum to one: the group GEP考核 now has 5 + 4 = 9 indicators at 1/9 each
    assert weight_problems(config, "seed") == []
    assert [i.weight for i in config.indicators if i.group == "gep"] == [1 / 9] * 9
    assert [g.weight for g in config.groups] == [g.weight for g in plan.groups]


# ------------------------------------------------------------------------------------------- CLI and serve


def test_cli_seed_analytics(tmp_path, account_dir):
    from typer.testing import CliRunner

    from gep.api.cli import app as cli_app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    # the fixture's city is not Lishui (331100): without --indicators only the evaluation is stored
    result = runner.invoke(cli_app, ["db", "seed-analytics", str(account_dir), "--db", url])
    assert result.exit_code == 0, result.output
    assert "imported account" in result.output and "indicators not stored" in result.output
    assert "county evaluation of 2 counties" in result.output
    result = runner.invoke(
        cli_app, ["db", "seed-analytics", str(account_dir), "--db", url, "--indicators", str(PLAN_TOML)]
    )
    assert result.exit_code == 0, result.output
    assert "imported account" not in result.output  # found in the store by its folder
    assert "14 plan indicators" in result.output
    app = make_app(tmp_path, "cli.db")
    try:
        client = TestClient(app)
        assert len(client.get(f"{API}/indicators").json()) == 14
        assert len(client.get(f"{API}/evaluations").json()) == 2  # replaced, not added twice
        with app.state.sessions() as session:
            assert len(repo.list_accounts(session, include_unpublished=True)) == 1
    finally:
        close(app)
    result = runner.invoke(cli_app, ["db", "seed-analytics", str(tmp_path), "--db", url])
    assert result.exit_code == 1 and "no account.csv" in result.output


def test_serve_first_start_seeds_the_demo_analytics(tmp_path, account_dir, monkeypatch):
    """seed_store (``gep serve`` on an empty store) imports ./gep-output and seeds both pages; the
    fixture city stands in for Lishui."""
    from gep.api import seed
    from gep.api.cli import seed_store

    monkeypatch.setattr(seed, "LISHUI_CITY_CODE", "C")
    shutil.copytree(account_dir, tmp_path / "cwd" / "gep-output")
    app = make_app(tmp_path)
    try:
        assert seed_store(app.state.sessions, tmp_path / "data", 1000.0, cwd=tmp_path / "cwd") is not None
        client = TestClient(app)
        assert len(client.get(f"{API}/indicators").json()) == 14
        assert len(client.get(f"{API}/evaluations").json()) == 2
    finally:
        close(app)


# ------------------------------------------------------------------------------------------- browser


def test_indicators_page_shows_the_gep_target(tmp_path, account_dir):
    """The dashboard's Indicators page lists the GEP card with its 2025 target, 5,000.00 亿元, and
    marks the synthetic observation; the Evaluation page ranks B above A."""
    pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    from selenium.webdriver.common.by import By
    from tests.test_web import make_driver, open_page, severe_logs
    from tests.web_server import ServerThread

    app = make_app(tmp_path)
    import_and_seed(app, account_dir)
    browser = make_driver(webgl=False)
    try:
        with ServerThread(app) as url:
            open_page(browser, url, "indicators")
            card = browser.find_element(By.CSS_SELECTOR, '#indicator-list [data-id="gep"]')
            assert "2025: 5,000.00 亿元" in card.text
            assert card.find_elements(By.CSS_SELECTOR, ".synthetic-badge")
            assert len(browser.find_elements(By.CSS_SELECTOR, "#indicator-list .indicator")) == 14
            open_page(browser, url, "evaluation")
            codes = [
                r.get_attribute("data-code")
                for r in browser.find_elements(By.CSS_SELECTOR, "#evaluation-table tbody tr")
            ]
            assert codes == ["B", "A"]
            note = browser.find_element(By.ID, "evaluation-note")
            assert note.find_elements(By.CSS_SELECTOR, ".synthetic-badge") and "单位面积GEP" in note.text
            assert severe_logs(browser) == []
    finally:
        browser.quit()
        close(app)
