"""Engine and session factory from a database URL, and schema upgrades through Alembic.

Without a URL the store is a SQLite file, ``$GEP_HOME/gep.db`` or ``~/.local/share/gep/gep.db``,
created on first use: nothing to set up. A PostgreSQL URL (``postgresql://user:pw@host/db``) uses the
psycopg 3 driver. :func:`upgrade` runs the packaged migrations with a configuration built in code, so
no ``alembic.ini`` is needed in the working folder.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

DB_FILE = "gep.db"


def gep_home() -> Path:
    """``$GEP_HOME`` if set, else ``~/.local/share/gep``: where the default store and data live."""
    env = os.environ.get("GEP_HOME")
    return Path(env).expanduser() if env else Path.home() / ".local" / "share" / "gep"


def default_url() -> str:
    """The SQLite URL of the default store file."""
    return f"sqlite:///{gep_home() / DB_FILE}"


def normalize_url(url: str | None) -> str:
    """The URL SQLAlchemy gets: default SQLite file for None; ``postgresql://`` gets the psycopg driver."""
    if not url:
        return default_url()
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str | None = None, *, echo: bool = False) -> Engine:
    """An engine for ``url`` (default SQLite file; its folder is created). SQLite connections may be
    shared between threads (the API's background runs) and enforce foreign keys."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def migrations_dir() -> Path:
    """The packaged Alembic script folder."""
    return Path(str(resources.files("gep.store").joinpath("migrations")))


def alembic_config(engine: Engine):
    """An Alembic ``Config`` built in code for ``engine`` (no ini file)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema of ``engine``'s database to ``revision`` (default: the newest)."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision shipped with gep."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(migrations_dir())).get_current_head()
