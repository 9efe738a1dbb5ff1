"""A live HTTP server for the browser tests: the real API app (gep.api.app.create_app) on a temporary
SQLite store holding the two-county fixture account (tests/account_fixture.py), published.

While gep.api.app does not exist yet, a small stub app serves the same endpoints from the account
folder, so the pages can be developed; the stub is never used once the real app is importable.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import struct
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tests.account_fixture import build

from gep.engine.run import run_account
from gep.spec import load_spec


@dataclass(frozen=True)
class LiveServer:
    url: str  # e.g. http://127.0.0.1:54321
    account_dir: Path
    real_app: bool  # False while the stub app stands in for gep.api.app


def build_account(directory: Path) -> Path:
    """The fixture account computed into ``directory / "out"``; returns that folder."""
    spec_path = build(directory / "acc")
    spec, problems = load_spec(spec_path)
    assert spec is not None, problems
    out = directory / "out"
    run_account(spec, out)
    return out


def real_app_available() -> bool:
    return importlib.util.find_spec("gep.api.app") is not None


def make_real_app(directory: Path, account_dir: Path):
    """create_app on a fresh SQLite store in ``directory`` with the fixture account imported and published."""
    from gep.api.app import create_app
    from gep.api.settings import Settings
    from gep.store import make_engine, session_factory, upgrade
    from gep.store.repository import import_account

    url = f"sqlite:///{directory / 'gep.db'}"
    settings = Settings(database_url=url, data_dir=directory / "data", mode="development")
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine)() as session:
        import_account(session, account_dir, published=True)
        session.commit()
    engine.dispose()
    app = create_app(settings)
    if not serves_web(app):  # until create_app mounts the pages itself (test_web checks that it does)
        from gep.web import mount_web

        mount_web(app)
    return app


def serves_web(app) -> bool:
    """Whether ``app`` has the dashboard's static mount (gep.web.mount_web) at "/"."""
    from starlette.routing import Mount

    return any(isinstance(route, Mount) and route.name == "web" for route in app.routes)


# ------------------------------------------------------------------------------------------- stub app


def _png(rgba: np.ndarray) -> bytes:
    """An RGBA uint8 array (rows, cols, 4) as PNG bytes (no compression filter)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows, cols, _ = rgba.shape
    raw = b"".join(b"\x00" + rgba[r].tobytes() for r in range(rows))
    header = struct.pack(">IIBBBBB", cols, rows, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _colour(values: np.ndarray) -> np.ndarray:
    """Values (NaN = nodata) on a white-to-green ramp; nodata transparent."""
    valid = np.isfinite(values)
    top = float(np.nanmax(values)) if valid.any() else 0.0
    share = np.where(valid, values / top if top > 0 else 0.0, 0.0)
    rgba = np.zeros((*values.shape, 4), dtype=np.uint8)
    rgba[..., 0] = (240 - 200 * share).astype(np.uint8)
    rgba[..., 1] = (250 - 110 * share).astype(np.uint8)
    rgba[..., 2] = (240 - 180 * share).astype(np.uint8)
    rgba[..., 3] = np.where(valid, 220, 0).astype(np.uint8)
    return rgba


def make_stub_app(account_dir: Path, spec_dir: Path):
    """The dashboard's endpoints served straight from an account folder (development only)."""
    import geopandas as gpd
    import rasterio
    from fastapi import FastAPI, HTTPException, Response
    from rasterio.warp import transform_bounds

    from gep.account import Account
    from gep.web import mount_web

    account = Account.load(account_dir)
    regions = json.loads((account_dir / "regions.json").read_text(encoding="utf-8"))
    frame = gpd.read_file(spec_dir / "regions.gpkg").to_crs("EPSG:4326")
    items = account.items()
    app = FastAPI()

    def maps() -> dict[str, Path]:
        return {p.name[: -len("_value.tif")]: p for p in sorted((account_dir / "maps").glob("*_value.tif"))}

    @app.get("/api/v1/regions")
    def get_regions():
        return regions

    @app.get("/api/v1/regions.geojson")
    def get_geojson():
        features = json.loads(frame.to_json())["features"]
        by_code = {r["code"]: r for r in regions}
        for f in features:
            f["properties"]["name_en"] = by_code.get(f["properties"]["code"], {}).get("name_en", "")
        return {"type": "FeatureCollection", "features": features}

    @app.get("/api/v1/items")
    def get_items(lang: str = "zh"):
        rows = items.drop_duplicates("item")
        return [
            {"id": r.item, "name": r.item_name_en if lang == "en" else r.item_name_zh, "category": r.category}
            for r in rows.itertuples()
        ]

    record = {"id": 1, "name": account.summary["name"], "year": account.year, "profile": account.profile}
    record |= {"synthetic": account.synthetic, "published": True, "created_at": "2024-01-01T00:00:00Z"}

    @app.get("/api/v1/accounts")
    def get_accounts():
        return [record]

    @app.get("/api/v1/accounts/latest")
    def get_latest():
        return {**account.summary, "id": 1}

    @app.get("/api/v1/accounts/{account_id}/regions/{code}")
    def get_region(account_id: int, code: str):
        try:
            region = account.region(code)
        except KeyError as err:
            raise HTTPException(404, str(err)) from None
        rows = items[items["region_code"] == code]
        keys = ("region_code", "region_name", "level", "gep_yuan", "material_yuan", "regulating_yuan")
        keys += ("cultural_yuan", "area_km2", "gep_per_km2_yuan", "gep_to_gdp")
        return {k: region[k] for k in keys} | {
            "items": [
                {
                    "item": r.item,
                    "name_zh": r.item_name_zh,
                    "name_en": r.item_name_en,
                    "category": r.category,
                    "physical_quantity": r.physical_quantity,
                    "physical_unit": r.physical_unit,
                    "value_yuan": r.value_yuan,
                }
                for r in rows.itertuples()
            ]
        }

    def bounds(path: Path) -> list[float]:
        with rasterio.open(path) as src:
            return list(transform_bounds(src.crs, "EPSG:4326", *src.bounds))

    @app.get("/api/v1/accounts/{account_id}/maps")
    def get_maps(account_id: int):
        found = maps()
        if not found:
            return []
        first = bounds(next(iter(found.values())))
        entries = [{"item": "gep_density", "kind": "value", "bounds_lonlat": first}]
        return entries + [{"item": item, "kind": "value", "bounds_lonlat": bounds(p)} for item, p in found.items()]

    @app.get("/api/v1/accounts/{account_id}/maps/{item}.png")
    def get_map_png(account_id: int, item: str, kind: str = "value"):
        found = maps()
        paths = list(found.values()) if item == "gep_density" else [found[item]] if item in found else []
        if not paths:
            raise HTTPException(404, f"no map {item}")
        total = None
        for path in paths:
            with rasterio.open(path) as src:
                data = src.read(1, masked=True).astype("float64").filled(np.nan)
            total = data if total is None else np.where(np.isnan(total), data, total + np.nan_to_num(data))
        return Response(_png(_colour(total)), media_type="image/png")

    @app.get("/api/v1/indicators")
    def get_indicators():
        return []

    @app.get("/api/v1/evaluations")
    def get_evaluations():
        return []

    mount_web(app)
    return app


# ------------------------------------------------------------------------------------------- serving


class ServerThread:
    """uvicorn serving ``app`` on 127.0.0.1 (a free port) in a daemon thread."""

    def __init__(self, app) -> None:
        import uvicorn

        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test web server did not start")
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()


def make_app(directory: Path) -> tuple[object, Path, bool]:
    """(app, account folder, whether it is the real API app)."""
    account_dir = build_account(directory)
    if real_app_available():
        return make_real_app(directory, account_dir), account_dir, True
    return make_stub_app(account_dir, directory / "acc"), account_dir, False
