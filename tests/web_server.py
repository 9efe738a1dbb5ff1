"""A live HTTP server for the browser tests: the real API app (gep.api.app.create_app, which mounts the
dashboard) on a temporary SQLite store holding the two-county fixture account
(tests/account_fixture.py), published.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from tests.account_fixture import build

from gep.engine.run import run_account
from gep.spec import load_spec


def build_account(directory: Path) -> Path:
    """The fixture account computed into ``directory / "out"``; returns that folder."""
    spec_path = build(directory / "acc")
    spec, problems = load_spec(spec_path)
    assert spec is not None, problems
    out = directory / "out"
    run_account(spec, out)
    return out


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
    return create_app(settings)


def serves_web(app) -> bool:
    """Whether ``app`` has the dashboard's static mount (gep.web.mount_web) at "/"."""
    from starlette.routing import Mount

    return any(isinstance(route, Mount) and route.name == "web" for route in app.routes)


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


def make_app(directory: Path):
    """The API app serving the fixture account, built in ``directory``."""
    return make_real_app(directory, build_account(directory))
