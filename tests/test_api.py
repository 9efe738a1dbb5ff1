"""The REST API with FastAPI's TestClient on a SQLite store, plus one real uvicorn server.

The account is the two-county fixture (tests/account_fixture.py); see tests/test_store.py for the
hand-worked water conservation figures of county A (655,000 m³, 4,624,300 yuan).
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import socket
import threading
import time
import warnings
from datetime import UTC
from pathlib import Path

import httpx
import numpy as np
import pytest
from tests.account_fixture import build, write_raster

from gep.api.app import create_app
from gep.api.auth import create_token
from gep.api.settings import DEFAULT_ADMIN_TOKEN, Settings
from gep.store import repository as repo
from gep.store.models import AuditEntry

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's notice that its TestClient will move off httpx
    from fastapi.testclient import TestClient

ADMIN = "admin-token-for-the-tests-0123456789"
API = "/api/v1"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def account_dir(tmp_path_factory) -> Path:
    from gep.engine.run import run_account
    from gep.spec import load_spec

    spec, problems = load_spec(build(tmp_path_factory.mktemp("fixture")))
    assert spec is not None, problems
    return run_account(spec).out_dir


@pytest.fixture
def app(tmp_path):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'api.db'}", data_dir=tmp_path / "data", admin_token=ADMIN, run_workers=1
    )
    application = create_app(settings)
    yield application
    application.state.runs.shutdown()
    application.state.engine.dispose()


@pytest.fixture
def tokens(app) -> dict[str, str]:
    with app.state.sessions() as session:
        out = {role: create_token(session, f"{role}-user", role) for role in ("viewer", "analyst")}
        session.commit()
    return {**out, "admin": ADMIN}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(app) -> TestClient:
    return TestClient(app)


@pytest.fixture
def account_id(app, account_dir) -> int:
    """An unpublished account in the store."""
    with app.state.sessions() as session:
        account = repo.import_account(session, account_dir)
        session.commit()
        return account.id


def publish(client: TestClient, account_id: int) -> None:
    response = client.post(f"{API}/accounts/{account_id}/publish", headers=auth(ADMIN))
    assert response.status_code == 200, response.text


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code and error["status"] == status
    assert error["message_en"] and error["message_zh"] and error["message"] == error["message_zh"]
    return error


def test_openapi_lists_the_paths(client):
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    for path in (
        "/regions",
        "/regions.geojson",
        "/items",
        "/accounts",
        "/accounts/latest",
        "/accounts/{account_id}",
        "/accounts/{account_id}/regions/{code}",
        "/accounts/{account_id}/table",
        "/accounts/{account_id}/maps",
        "/accounts/{account_id}/maps/{item}.png",
        "/accounts/{account_id}/publish",
        "/indicators",
        "/evaluations",
        "/runs",
        "/runs/{run_id}",
        "/uploads",
    ):
        assert API + path in paths, path
    assert client.get("/docs").status_code == 200


def test_published_account_is_readable_without_a_token(client, account_id, account_dir):
    publish(client, account_id)
    listed = client.get(f"{API}/accounts").json()
    assert [a["id"] for a in listed] == [account_id]
    assert set(listed[0]) == {"id", "name", "year", "profile", "synthetic", "published", "created_at"}
    body = client.get(f"{API}/accounts/{account_id}").json()
    assert body["id"] == account_id and body["name"] == "fixture" and body["year"] == 2020
    assert client.get(f"{API}/accounts/latest").json()["id"] == account_id
    regions = client.get(f"{API}/regions").json()
    assert {r["code"]: r["parent"] for r in regions} == {"A": "C", "B": "C", "C": None}
    geojson = client.get(f"{API}/regions.geojson").json()
    assert geojson["type"] == "FeatureCollection" and len(geojson["features"]) == 3


def test_unpublished_account_needs_a_token(client, account_id, tokens):
    assert client.get(f"{API}/accounts").json() == []
    error = assert_error(client.get(f"{API}/accounts/{account_id}"), 401, "api_auth_required")
    assert "token" in error["message_en"] and "令牌" in error["message_zh"]
    assert_error(client.get(f"{API}/accounts/{account_id}/table"), 401, "api_auth_required")
    assert_error(client.get(f"{API}/accounts/latest"), 404, "api_no_published_account")
    assert_error(client.get(f"{API}/accounts/{account_id}", headers=auth("wrong")), 401, "api_token_invalid")
    response = client.get(f"{API}/accounts/{account_id}", headers=auth(tokens["viewer"]))
    assert response.status_code == 200 and response.json()["id"] == account_id
    assert len(client.get(f"{API}/accounts", headers=auth(tokens["viewer"])).json()) == 1
    english = client.get(f"{API}/accounts/{account_id}?lang=en").json()["error"]
    assert english["message"] == english["message_en"]


def test_roles(client, account_id, tokens, account_dir):
    spec = {"spec_path": str(account_dir.parent / "spec.toml")}
    error = assert_error(client.post(f"{API}/runs", json=spec, headers=auth(tokens["viewer"])), 403, "api_forbidden")
    assert "viewer" in error["message_en"] and "analyst" in error["message_en"]
    assert_error(client.post(f"{API}/runs", json=spec), 401, "api_auth_required")
    assert_error(
        client.post(f"{API}/accounts/{account_id}/publish", headers=auth(tokens["analyst"])), 403, "api_forbidden"
    )
    assert_error(client.get(f"{API}/audit", headers=auth(tokens["analyst"])), 403, "api_forbidden")


def test_publish_is_audited(app, client, account_id):
    before = time.time()
    publish(client, account_id)
    with app.state.sessions() as session:
        (entry,) = session.query(AuditEntry).all()
        assert (entry.actor, entry.role, entry.action, entry.target) == (
            "admin",
            "admin",
            "account.publish",
            f"account:{account_id}",
        )
        at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)  # SQLite drops the zone; it is UTC
        moment = at.timestamp()
        assert before - 2 <= moment <= time.time() + 2
    log = client.get(f"{API}/audit", headers=auth(ADMIN)).json()
    assert log[0]["action"] == "account.publish" and log[0]["actor"] == "admin" and log[0]["at"]


def test_region_detail(client, account_id, tokens):
    body = client.get(f"{API}/accounts/{account_id}/regions/A", headers=auth(tokens["viewer"])).json()
    assert (body["region_code"], body["level"], body["area_km2"]) == ("A", "county", pytest.approx(1.0, rel=1e-6))
    items = {i["item"]: i for i in body["items"]}
    # hand-worked: 655,000 m3 of water conservation valued at 7.06 yuan/m3 = 4,624,300 yuan
    assert items["water_conservation"]["physical_quantity"] == pytest.approx(655_000.0)
    assert items["water_conservation"]["value_yuan"] == pytest.approx(4_624_300.0)
    assert body["gep_yuan"] == pytest.approx(sum(i["value_yuan"] for i in items.values()), rel=1e-12)
    assert body["gep_yuan"] == pytest.approx(body["material_yuan"] + body["regulating_yuan"] + body["cultural_yuan"])
    missing = client.get(f"{API}/accounts/{account_id}/regions/ZZ", headers=auth(tokens["viewer"]))
    assert "ZZ" in assert_error(missing, 404, "api_region_not_found")["message_en"]


def test_csv_table_is_account_csv_for_a_region(client, account_id, account_dir):
    publish(client, account_id)
    response = client.get(f"{API}/accounts/{account_id}/table", params={"format": "csv", "region": "A"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    got = response.content.decode("utf-8-sig").splitlines()
    lines = (account_dir / "account.csv").read_text(encoding="utf-8-sig").splitlines()
    header = lines[0]
    region_column = header.split(",").index("region_code")
    expected = [header] + [line for line in lines[1:] if next(csv.reader([line]))[region_column] == "A"]
    assert got == expected
    assert len(got) > 1
    rows = client.get(f"{API}/accounts/{account_id}/table", params={"region": "A", "item": "water_conservation"})
    (row,) = [r for r in rows.json() if r["component"] == ""]
    assert row["value_yuan"] == pytest.approx(4_624_300.0)
    assert_error(client.get(f"{API}/accounts/{account_id}/table?format=xml"), 422, "api_validation")


def test_map_png(client, account_id, tokens):
    maps = client.get(f"{API}/accounts/{account_id}/maps", headers=auth(tokens["viewer"])).json()
    assert {(m["item"], m["kind"]) for m in maps} >= {
        ("water_conservation", "value"),
        ("water_conservation", "physical"),
    }
    west, south, east, north = maps[0]["bounds_lonlat"]
    assert west == pytest.approx(120.0, abs=1e-9) and west < east and south < north
    response = client.get(f"{API}/accounts/{account_id}/maps/water_conservation.png", headers=auth(tokens["viewer"]))
    assert response.status_code == 200, response.text
    assert response.content[:8] == PNG_MAGIC
    assert response.headers["content-type"] == "image/png"
    bounds = [float(v) for v in response.headers["X-Bounds-LonLat"].split(",")]
    assert bounds == pytest.approx([west, south, east, north], abs=1e-7)
    again = client.get(f"{API}/accounts/{account_id}/maps/water_conservation.png?kind=physical", headers=auth(ADMIN))
    assert again.content[:8] == PNG_MAGIC
    from PIL import Image

    image = Image.open(io.BytesIO(response.content))
    assert image.mode == "RGBA"
    missing = client.get(f"{API}/accounts/{account_id}/maps/no_such_item.png", headers=auth(ADMIN))
    assert_error(missing, 404, "api_map_not_found")


def test_upload_with_negative_precipitation_names_the_value(app, client, tokens, tmp_path):
    data = np.full((4, 4), 1500.0, dtype=np.float32)
    data[1, 2] = -5.0
    path = write_raster(tmp_path / "rain.tif", data)
    with path.open("rb") as handle:
        response = client.post(
            f"{API}/uploads",
            files={"file": ("rain.tif", handle, "image/tiff")},
            data={"layer": "precipitation", "unit": "mm/a"},
            headers=auth(tokens["analyst"]),
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is False and body["dataset"] is None
    (problem,) = body["problems"]
    assert {k: problem[k] for k in ("severity", "code", "source", "field")} == {
        "severity": "error",
        "code": "raster_below_min",
        "source": "rain.tif",
        "field": "precipitation",
    }
    assert problem["params"]["count"] == 1 and problem["params"]["value"] == -5.0 and problem["params"]["expected"] == 0
    assert "-5" in problem["message_en"] and "-5" in problem["message_zh"]
    with app.state.sessions() as session:
        (entry,) = session.query(AuditEntry).filter_by(action="upload").all()
        assert entry.actor == "analyst-user" and entry.target == "file:rain.tif"
        assert entry.details["ok"] is False and entry.details["layer"] == "precipitation" and entry.at is not None


def test_upload_of_a_good_raster_becomes_a_dataset(client, tokens, tmp_path):
    path = write_raster(tmp_path / "et.tif", np.full((4, 4), 800.0, dtype=np.float32))
    response = client.post(
        f"{API}/uploads",
        files={"file": ("et.tif", path.read_bytes(), "image/tiff")},
        data={"layer": "evapotranspiration", "source": "test", "year": "2020", "licence": "CC-BY-4.0"},
        headers=auth(tokens["analyst"]),
    )
    body = response.json()
    assert body["ok"] is True and body["problems"] == []
    dataset = body["dataset"]
    assert dataset["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (dataset["crs"], dataset["unit"], dataset["year"], dataset["licence"]) == (
        "EPSG:4549",
        "mm/a",
        2020,
        "CC-BY-4.0",
    )
    assert Path(dataset["path"]).is_file()
    unknown = client.post(
        f"{API}/uploads",
        files={"file": ("x.tif", path.read_bytes(), "image/tiff")},
        data={"layer": "rainfall"},
        headers=auth(tokens["analyst"]),
    ).json()
    assert unknown["ok"] is False and unknown["problems"][0]["code"] == "api_upload_unknown_name"
    assert "rainfall" in unknown["problems"][0]["message_en"]
    broken = client.post(
        f"{API}/uploads",
        files={"file": ("bad.tif", b"not a tiff", "image/tiff")},
        data={"layer": "dem"},
        headers=auth(tokens["analyst"]),
    ).json()
    assert broken["problems"][0]["code"] == "file_unreadable"


def test_background_run_finishes_and_its_account_appears(client, tokens, tmp_path):
    spec_path = build(tmp_path / "inputs")
    started = client.post(f"{API}/runs", json={"spec_path": str(spec_path)}, headers=auth(tokens["analyst"]))
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    deadline = time.time() + 120
    while True:
        status = client.get(f"{API}/runs/{run_id}", headers=auth(tokens["viewer"])).json()
        if status["status"] in ("done", "failed") or time.time() > deadline:
            break
        assert 0.0 <= status["progress"] <= 1.0
        time.sleep(0.1)
    assert status["status"] == "done", status
    assert status["progress"] == 1.0 and status["error"] is None and status["account_id"]
    listed = client.get(f"{API}/accounts", headers=auth(tokens["viewer"])).json()
    assert status["account_id"] in [a["id"] for a in listed]
    assert client.get(f"{API}/accounts").json() == []  # a run's account starts unpublished
    detail = client.get(f"{API}/accounts/{status['account_id']}/regions/A", headers=auth(tokens["viewer"])).json()
    assert detail["gep_yuan"] > 0


def test_run_with_a_bad_spec_is_refused_with_problems(client, tokens, tmp_path):
    bad = tmp_path / "spec.toml"
    bad.write_text("[account]\nyear = 'soon'\n", encoding="utf-8")
    error = assert_error(
        client.post(f"{API}/runs", json={"spec_path": str(bad)}, headers=auth(tokens["analyst"])),
        422,
        "api_spec_invalid",
    )
    assert error["details"] and error["details"][0]["code"] == "spec_field"
    assert_error(client.get(f"{API}/runs/nope", headers=auth(tokens["viewer"])), 404, "api_run_not_found")


def test_items_indicators_evaluations(client, tokens):
    items = client.get(f"{API}/items?lang=en").json()
    water = next(i for i in items if i["id"] == "water_conservation")
    assert water["name"] == water["name_en"] and water["category"] == "regulating"
    assert client.get(f"{API}/items?lang=zh").json()[0]["name"] == items[0]["name_zh"]
    assert client.get(f"{API}/indicators").json() == []
    series = {
        "code": "gep_yuan",
        "region_code": "A",
        "unit": "yuan",
        "values": [
            {"kind": "observed", "year": 2020, "value": 1.0e7},
            {"kind": "forecast", "year": 2021, "value": 1.1e7, "lower": 1.0e7, "upper": 1.2e7},
        ],
    }
    assert client.post(f"{API}/indicators", json=series, headers=auth(tokens["viewer"])).status_code == 403
    assert client.post(f"{API}/indicators", json=series, headers=auth(tokens["analyst"])).status_code == 201
    (stored,) = client.get(f"{API}/indicators").json()
    assert stored["observed"] == [{"year": 2020, "value": 1.0e7}]
    assert stored["forecast"][0]["upper"] == 1.2e7
    evaluation = {"region_code": "A", "year": 2020, "method": "county_assessment", "score": 91.0}
    assert client.post(f"{API}/evaluations", json=evaluation, headers=auth(tokens["analyst"])).status_code == 201
    assert client.get(f"{API}/evaluations").json()[0]["score"] == 91.0
    assert_error(client.get(f"{API}/no/such/path"), 404, "api_not_found")


def test_production_mode_refuses_the_default_admin_token():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="GEP_ADMIN_TOKEN"):
        Settings(mode="production", admin_token=DEFAULT_ADMIN_TOKEN)
    with pytest.raises(ValidationError):
        Settings(mode="production", admin_token="short")
    assert Settings(mode="production", admin_token="x" * 32).mode == "production"
    assert Settings(mode="production", admin_token=None).admin_token is None
    assert Settings().admin_token == DEFAULT_ADMIN_TOKEN  # development keeps the convenient default


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_real_server(app, account_id):
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.time() + 20
        while not server.started and time.time() < deadline:
            time.sleep(0.05)
        assert server.started
        response = httpx.get(f"http://127.0.0.1:{port}{API}/regions", timeout=10)
        assert response.status_code == 200
        assert {r["code"] for r in response.json()} == {"A", "B", "C"}
    finally:
        server.should_exit = True
        thread.join(timeout=20)
    assert not thread.is_alive()


def test_cli_token_db_and_seed(tmp_path, account_dir, monkeypatch):
    from typer.testing import CliRunner

    from gep.api.auth import authenticate
    from gep.api.cli import app as cli_app
    from gep.api.cli import seed_store
    from gep.store.db import make_engine, session_factory

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    result = runner.invoke(cli_app, ["db", "upgrade", "--db", url])
    assert result.exit_code == 0, result.output
    assert "0001" in result.output
    result = runner.invoke(cli_app, ["token", "alice", "--role", "analyst", "--db", url])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    sessions = session_factory(make_engine(url))
    with sessions() as session:
        user = authenticate(session, token)
        assert (user.name, user.role) == ("alice", "analyst")
    assert runner.invoke(cli_app, ["token", "bob", "--role", "boss", "--db", url]).exit_code != 0
    # `gep serve` on an empty store imports ./gep-output when it holds an account (published)
    shutil.copytree(account_dir, tmp_path / "cwd" / "gep-output")
    account_id = seed_store(sessions, tmp_path / "data", 1000.0, cwd=tmp_path / "cwd")
    assert account_id is not None
    with sessions() as session:
        assert repo.get_account(session, account_id).published
    assert seed_store(sessions, tmp_path / "data", 1000.0, cwd=tmp_path / "cwd") is None
