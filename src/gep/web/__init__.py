"""The web dashboard: static pages (HTML, ES modules, CSS) that call the REST API under ``/api/v1``.

Nothing is built and nothing is fetched from the internet at run time: ECharts and MapLibre GL JS are
vendored under ``static/vendor`` (versions and licences in ``static/vendor/README.md``). The API's app
factory calls :func:`mount_web` after registering its routes, so ``/`` serves ``index.html``.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

__all__ = ["mount_web", "static_dir"]

# Browsers refuse ES modules (and module workers) served with a non-JavaScript MIME type; the
# platform's mime.types may not know ".mjs", so register it explicitly.
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/css", ".css")


def static_dir() -> Path:
    """The folder holding ``index.html``, ``app.js``, ``i18n.js``, ``app.css`` and ``vendor/``."""
    return Path(__file__).resolve().parent / "static"


def mount_web(app: FastAPI) -> None:
    """Serve the dashboard at ``/`` (``index.html`` for directory requests).

    Call it last: a mount at ``/`` matches every path, so the API routes must be registered before it.
    """
    app.mount("/", StaticFiles(directory=static_dir(), html=True), name="web")
