"""Alembic migrations of the gep store (run with :func:`gep.store.db.upgrade`)."""
