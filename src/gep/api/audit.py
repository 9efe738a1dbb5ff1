"""The audit log: every write through the API is recorded with who, when and what.

:func:`record` adds the entry to the request's session, so it is committed together with the change
it describes (or rolled back with it). Admins read the log at ``GET /api/v1/audit``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from gep.api.auth import User
from gep.api.deps import AdminUser, SessionDep
from gep.store.models import AuditEntry
from gep.store.repository import iso

router = APIRouter(tags=["audit"])


def record(
    session: Session,
    user: User,
    action: str,
    target: str,
    details: dict[str, Any] | None = None,
    request: Request | None = None,
) -> AuditEntry:
    """Add an audit entry: ``action`` (e.g. ``account.publish``) on ``target`` by ``user``, now (UTC)."""
    client = request.client.host if request is not None and request.client is not None else ""
    entry = AuditEntry(
        actor=user.name, role=user.role, action=action, target=target, details=details or {}, client=client
    )
    session.add(entry)
    session.flush()
    return entry


def entry_dict(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": iso(entry.at),
        "actor": entry.actor,
        "role": entry.role,
        "action": entry.action,
        "target": entry.target,
        "details": entry.details,
        "client": entry.client,
    }


@router.get("/audit", summary="Audit log, newest first (admin)")
def list_audit(
    session: SessionDep,
    _user: AdminUser,
    action: str | None = None,
    limit: int = Query(default=100, ge=1, le=10000),
) -> list[dict[str, Any]]:
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return [entry_dict(e) for e in session.scalars(query)]
