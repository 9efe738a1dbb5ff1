"""API settings from ``GEP_*`` environment variables (or passed in code, as the tests do).

``GEP_DATABASE_URL`` (default: the SQLite file of :func:`gep.store.db.default_url`),
``GEP_MODE`` (development or production), ``GEP_ADMIN_TOKEN`` (a bootstrap admin token; in
development it defaults to a well-known value, which production mode refuses), ``GEP_DATA_DIR``
(run outputs, uploads, map cache; default ``$GEP_HOME``), ``GEP_RUN_WORKERS``, ``GEP_MAX_UPLOAD_MB``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gep.i18n import message
from gep.store.db import gep_home

DEFAULT_ADMIN_TOKEN = "gep-dev-admin-token"
"""The development admin token: known to everyone, so production mode refuses it."""

MIN_PRODUCTION_TOKEN_LENGTH = 24


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GEP_", extra="ignore")

    database_url: str | None = Field(default=None, description="SQLAlchemy URL; None = the default SQLite file")
    mode: Literal["development", "production"] = "development"
    admin_token: str | None = Field(
        default=DEFAULT_ADMIN_TOKEN, description="bootstrap admin token, stored hashed at start; None = none"
    )
    data_dir: Path | None = Field(default=None, description="run outputs, uploads and map cache; None = $GEP_HOME")
    run_workers: int = Field(default=2, ge=1, le=32, description="account runs at the same time")
    max_upload_mb: float = Field(default=512.0, gt=0)
    auto_upgrade: bool = Field(default=True, description="apply database migrations when the app starts")
    web: bool = Field(default=True, description="serve the dashboard (gep.web) at /")
    map_max_size: int = Field(default=1024, ge=64, le=8192, description="longest side of a rendered map, pixels")

    @model_validator(mode="after")
    def _no_default_token_in_production(self) -> Settings:
        if (
            self.mode == "production"
            and self.admin_token is not None
            and (self.admin_token == DEFAULT_ADMIN_TOKEN or len(self.admin_token) < MIN_PRODUCTION_TOKEN_LENGTH)
        ):
            raise ValueError(message("api_admin_token_default", "en", source="GEP_ADMIN_TOKEN", field=None))
        return self

    @property
    def data_path(self) -> Path:
        return (self.data_dir or gep_home()).expanduser()
