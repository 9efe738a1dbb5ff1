"""API tokens and roles.

A token is ``gep_`` plus 43 random URL-safe characters; the store keeps only its SHA-256, so a
leaked database does not leak tokens. Roles are ordered viewer < analyst < admin: viewers read
unpublished accounts, analysts also start runs and upload files, admins also publish accounts and
read the audit log. Published results need no token at all.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gep.store.models import ApiToken

ROLES = ("viewer", "analyst", "admin")
TOKEN_PREFIX = "gep_"
_TOUCH_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class User:
    """Who made a request: the token's name and role."""

    name: str
    role: str
    token_id: int | None = None

    def has_role(self, required: str) -> bool:
        return role_rank(self.role) >= role_rank(required)


def role_rank(role: str) -> int:
    """0 for viewer, 1 for analyst, 2 for admin; ValueError naming the roles for anything else."""
    try:
        return ROLES.index(role)
    except ValueError:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}") from None


def hash_token(token: str) -> str:
    """SHA-256 of the token, hex. Tokens are random (256 bits), so no salt or slow hash is needed."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_token(session: Session, name: str, role: str, token: str | None = None) -> str:
    """Store a new token for ``name`` with ``role``; returns the token text (shown once, never stored)."""
    role_rank(role)
    token = token or new_token()
    session.add(ApiToken(name=name, token_hash=hash_token(token), role=role))
    session.flush()
    return token


def ensure_token(session: Session, token: str, name: str, role: str) -> None:
    """Make ``token`` valid with ``name`` and ``role`` (used for the bootstrap admin token)."""
    digest = hash_token(token)
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == digest)).first()
    if row is None:
        session.add(ApiToken(name=name, token_hash=digest, role=role))
    else:
        row.name, row.role, row.revoked = name, role, False
    session.flush()


def revoke_token(session: Session, name: str) -> int:
    """Revoke every token called ``name``; returns how many were revoked."""
    rows = list(session.scalars(select(ApiToken).where(ApiToken.name == name, ApiToken.revoked.is_(False))))
    for row in rows:
        row.revoked = True
    session.flush()
    return len(rows)


def authenticate(session: Session, token: str) -> User | None:
    """The user a token belongs to, or None if it is unknown or revoked."""
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
    if row is None or row.revoked:
        return None
    now = datetime.now(UTC)
    last = row.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    if last is None or now - last > _TOUCH_EVERY:
        row.last_used_at = now
        session.commit()
    return User(row.name, row.role, row.id)
