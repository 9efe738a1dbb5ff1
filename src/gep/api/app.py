"""The FastAPI application: ``create_app(settings)`` builds one, ready to serve.

All routes are under ``/api/v1``; the OpenAPI document is at ``/openapi.json``, interactive docs at
``/docs`` and the dashboard (:mod:`gep.web`) at ``/``. The app owns its engine, session factory and
run pool (in ``app.state``), so tests build apps on throw-away SQLite files without environment
variables.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from gep import __version__
from gep.api import accounts, audit, evaluations, indicators, items, maps, regions, runs, uploads
from gep.api.auth import ensure_token
from gep.api.errors import install_handlers
from gep.api.settings import Settings
from gep.store.db import make_engine, session_factory, upgrade

API_PREFIX = "/api/v1"
log = logging.getLogger("gep.api")

DESCRIPTION = """
GEP (生态系统生产总值, Gross Ecosystem Product) accounts, maps, indicators and evaluations.

Published accounts are readable without a token. Unpublished accounts, runs and uploads need an API
token (`Authorization: Bearer <token>`; roles viewer < analyst < admin; create one with
`gep token NAME --role ROLE`). Errors are JSON: `{"error": {"code", "message", "message_zh",
"message_en", "status", "details"}}`. Money is yuan, areas km².
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new application for ``settings`` (default: from ``GEP_*`` environment variables).

    Applies the database migrations (unless ``auto_upgrade`` is off), stores the bootstrap admin
    token if one is set, and marks runs left unfinished by an earlier server as failed.
    """
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    if settings.auto_upgrade:
        upgrade(engine)
    sessions = session_factory(engine)
    if settings.admin_token:
        with sessions() as session:
            ensure_token(session, settings.admin_token, "admin", "admin")
            session.commit()
    run_manager = runs.RunManager(sessions, settings.data_path, settings.run_workers)
    interrupted = run_manager.mark_interrupted()
    if interrupted:
        log.warning("%d unfinished run(s) from an earlier server marked failed", interrupted)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        run_manager.shutdown()
        engine.dispose()

    app = FastAPI(
        title="gep",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.runs = run_manager
    install_handlers(app)
    for module in (regions, items, accounts, maps, indicators, evaluations, runs, uploads, audit):
        app.include_router(module.router, prefix=API_PREFIX)

    @app.get(f"{API_PREFIX}/health", tags=["meta"], summary="Liveness: version and database backend")
    def health() -> dict[str, Any]:
        return {"status": "ok", "gep_version": __version__, "database": engine.dialect.name}

    if settings.web:
        from gep.web import mount_web

        mount_web(app)  # last: its mount at "/" would shadow routes registered after it
    return app
