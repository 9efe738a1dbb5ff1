"""The gep store: accounts, regions, datasets, indicators and evaluations in SQLite or PostgreSQL."""

from gep.store.db import default_url, make_engine, session_factory, upgrade

__all__ = ["default_url", "make_engine", "session_factory", "upgrade"]
