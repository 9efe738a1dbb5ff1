"""The store on SQLite and PostgreSQL: migrations from empty, account import and read-back.

PostgreSQL tests run when GEP_TEST_POSTGRES_URL is set (CI: `eval "$(bash .ci/postgres.sh)"`); each
test gets its own schema, dropped afterwards. The account is the two-county fixture
(tests/account_fixture.py): county A = 100 forest pixels of 1 ha, P = 1500 mm, ET = 800 mm,
runoff coefficient 0.03, reservoir cost 7.06 yuan/m³ (zj_db33_2274_2020).
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url
from tests.account_fixture import build

from gep.store import repository as repo
from gep.store.db import (
    current_revision,
    default_url,
    head_revision,
    make_engine,
    normalize_url,
    session_factory,
    upgrade,
)
from gep.store.models import ApiToken, Base, Dataset

PG_ENV = "GEP_TEST_POSTGRES_URL"
TABLES = {
    "regions",
    "datasets",
    "accounts",
    "account_regions",
    "account_rows",
    "account_maps",
    "account_datasets",
    "indicator_series",
    "indicator_values",
    "evaluations",
    "api_tokens",
    "audit_log",
    "run_jobs",
}


@pytest.fixture(scope="session")
def account_dir(tmp_path_factory) -> Path:
    """The fixture account computed once: tmp/out holds account.csv, summary.json, maps/..."""
    from gep.engine.run import run_account
    from gep.spec import load_spec

    spec, problems = load_spec(build(tmp_path_factory.mktemp("fixture")))
    assert spec is not None, problems
    return run_account(spec).out_dir


def postgres_schema_url(base: str) -> tuple[str, str]:
    """(URL whose connections use a fresh schema, schema name) on the test PostgreSQL server."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    url = make_url(normalize_url(base)).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


def drop_postgres_schema(base: str, schema: str) -> None:
    admin = make_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f'{PG_ENV} is not set (run: eval "$(bash .ci/postgres.sh)")')
    url, schema = postgres_schema_url(base)
    try:
        yield url
    finally:
        drop_postgres_schema(base, schema)


@pytest.fixture
def sessions(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


def test_migrations_upgrade_from_empty(db_url):
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert set(inspect(engine).get_table_names()) >= TABLES
        upgrade(engine)  # a second upgrade is a no-op
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_models_match_migrations(db_url):
    """Autogenerate finds nothing to add: the migrations build exactly the models' schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(db_url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    finally:
        engine.dispose()


def test_import_reads_back_the_same_numbers(sessions, account_dir):
    expected = pd.read_csv(
        account_dir / "account.csv", dtype={"region_code": str, "component": str}, keep_default_na=False
    )
    expected.columns = [c.lstrip("\ufeff") for c in expected.columns]
    with sessions() as session:
        account = repo.import_account(session, account_dir)
        session.commit()
        account_id = account.id
    with sessions() as session:
        stored = repo.rows_frame(repo.account_rows(session, account_id))
        assert list(stored.columns) == list(expected.columns)
        assert len(stored) == len(expected)
        for column in expected.columns:
            if column in repo.NUMERIC_COLUMNS:
                assert stored[column].tolist() == pd.to_numeric(expected[column]).tolist(), column
            else:
                assert stored[column].astype(str).tolist() == expected[column].astype(str).tolist(), column

        # county A, water conservation, worked by hand:
        # Q = (P - alpha*P - ET) * area = (1500 - 0.03*1500 - 800) mm * 1 km2 = 0.655 m * 1e6 m2 = 655,000 m3
        # value = 655,000 m3 * 7.06 yuan/m3 = 4,624,300 yuan
        (row,) = repo.account_rows(session, account_id, region="A", item="water_conservation", main_only=True)
        assert row.physical_quantity == pytest.approx(655_000.0, rel=1e-12)
        assert row.physical_unit == "m3"
        assert row.value_yuan == pytest.approx(4_624_300.0, rel=1e-12)

        summary = json.loads((account_dir / "summary.json").read_text(encoding="utf-8"))
        account = repo.get_account(session, account_id)
        assert account.summary == summary
        assert account.year == 2020 and account.profile == "zj_db33_2274_2020" and not account.published
        for region in summary["regions"]:
            stored_region = repo.account_region(session, account_id, region["region_code"])
            assert stored_region.gep_yuan == region["gep_yuan"]
            assert stored_region.regulating_yuan == region["regulating_yuan"]
            assert stored_region.area_km2 == region["area_km2"]
        # the city is the sum of its two counties (C = A + B)
        city, a, b = (repo.account_region(session, account_id, c) for c in ("C", "A", "B"))
        assert city.gep_yuan == pytest.approx(a.gep_yuan + b.gep_yuan, rel=1e-9)


def test_import_stores_maps_provenance_and_regions(sessions, account_dir):
    with sessions() as session:
        account = repo.import_account(session, account_dir)
        session.commit()
        maps = repo.account_maps(session, account.id)
        assert len(maps) == len(list((account_dir / "maps").glob("*.tif")))
        water = repo.account_map(session, account.id, "water_conservation", "value")
        assert Path(water.path) == account_dir / "maps" / "water_conservation_value.tif"
        # grid: x 500,000-502,000 m, y 3,099,000-3,100,000 m in EPSG:4549 (central meridian 120°E,
        # false easting 500 km), so the west edge is 120°E exactly; 2 km east at about 28.01°N is
        # 2000 / (111,320 m * cos 28.01°) = 2000 / 98,290 = 0.02035° of longitude.
        assert water.west == pytest.approx(120.0, abs=1e-9)
        assert water.east - water.west == pytest.approx(0.02035, rel=5e-3)
        assert 28.0 < water.south < water.north < 28.02

        provenance = json.loads((account_dir / "provenance.json").read_text(encoding="utf-8"))
        links = dict(repo.account_datasets(session, account.id))
        assert set(links) == set(provenance["inputs"])
        dem = links["layers.dem"]
        assert dem.sha256 == provenance["inputs"]["layers.dem"]["sha256"]
        assert (dem.kind, dem.unit, dem.crs, dem.year) == ("layer", "m", "EPSG:4549", 2020)

        regions = {r.code: r for r in repo.list_regions(session)}
        assert set(regions) == {"A", "B", "C"}
        assert (regions["A"].parent, regions["A"].level, regions["C"].parent) == ("C", "county", None)
        geometry = json.loads(regions["A"].geometry_geojson)
        lons = [x for x, _ in geometry["coordinates"][0]]
        assert geometry["type"] == "Polygon"
        assert min(lons) == pytest.approx(120.0, abs=1e-6)
        collection = repo.regions_feature_collection(session)
        assert len(collection["features"]) == 3
        assert collection["features"][0]["properties"]["code"] == "A"

        # a second import of the same folder reuses the datasets (same path and hash)
        again = repo.import_account(session, account_dir)
        session.commit()
        assert again.id != account.id
        count = len(session.scalars(select(Dataset)).all())
        assert count == len(provenance["inputs"])


def test_published_filter_and_latest(sessions, account_dir):
    with sessions() as session:
        first = repo.import_account(session, account_dir, name="first")
        second = repo.import_account(session, account_dir, name="second")
        session.commit()
        assert repo.list_accounts(session) == []
        assert repo.latest_account(session) is None
        assert [a.name for a in repo.list_accounts(session, include_unpublished=True)] == ["second", "first"]
        repo.set_published(session, first)
        session.commit()
        assert [a.name for a in repo.list_accounts(session)] == ["first"]
        assert repo.latest_account(session).id == first.id
        assert repo.latest_account(session, published_only=False).id == second.id


def test_indicators_and_evaluations_round_trip(sessions):
    with sessions() as session:
        repo.save_indicator_series(
            session,
            code="gep_yuan",
            region_code="331100",
            unit="yuan",
            values=[
                {"kind": "observed", "year": 2020, "value": 5.0e11},
                {"kind": "target", "year": 2025, "value": 6.0e11},
                {"kind": "forecast", "year": 2021, "value": 5.2e11, "lower": 5.0e11, "upper": 5.4e11},
            ],
        )
        session.commit()
        # replacing the series replaces its values
        repo.save_indicator_series(
            session, code="gep_yuan", region_code="331100", values=[{"year": 2019, "value": 4.5e11}]
        )
        repo.add_evaluation(session, region_code="331102", year=2020, method="county_assessment", score=87.5)
        session.commit()
    with sessions() as session:
        (series,) = repo.list_indicators(session, code="gep_yuan")
        data = repo.indicator_dict(series)
        assert data["observed"] == [{"year": 2019, "value": 4.5e11}]
        assert data["forecast"] == [] and data["targets"] == []
        (evaluation,) = repo.list_evaluations(session, region="331102")
        assert evaluation.score == 87.5 and evaluation.details == {}


def test_tokens_are_stored_hashed(sessions):
    from gep.api.auth import authenticate, create_token, hash_token

    with sessions() as session:
        token = create_token(session, "ana", "analyst")
        session.commit()
        (row,) = session.scalars(select(ApiToken)).all()
        assert row.token_hash == hash_token(token) != token
        assert token not in json.dumps([row.name, row.token_hash, row.role])
        user = authenticate(session, token)
        assert (user.name, user.role) == ("ana", "analyst")
        assert authenticate(session, token + "x") is None


def test_default_url_is_a_sqlite_file_under_gep_home(monkeypatch, tmp_path):
    monkeypatch.setenv("GEP_HOME", str(tmp_path / "home"))
    assert default_url() == f"sqlite:///{tmp_path / 'home' / 'gep.db'}"
    assert normalize_url(None) == default_url()
    engine = make_engine(None)
    upgrade(engine)
    engine.dispose()
    assert (tmp_path / "home" / "gep.db").is_file()


def test_postgres_urls_get_the_psycopg_driver():
    assert normalize_url("postgresql://u:p@h:5432/d") == "postgresql+psycopg://u:p@h:5432/d"
    assert normalize_url("postgresql+psycopg://u:p@h/d") == "postgresql+psycopg://u:p@h/d"


def test_map_names():
    assert repo.parse_map_name("soil_retention_physical.tif") == ("soil_retention", "physical")
    assert repo.parse_map_name("water_conservation_value.tif") == ("water_conservation", "value")
    assert repo.parse_map_name("gep_density.tif") == ("gep_density", "value")
    assert repo.parse_map_name("notes.tif") == (None, "")
