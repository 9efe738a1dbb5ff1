"""FastAPI dependencies: the database session, the settings and the calling user.

``SessionDep`` is a session per request. ``CurrentUser`` is the token's user or None when no token
was sent (a token that is sent but invalid is a 401). ``ViewerUser``, ``AnalystUser`` and
``AdminUser`` require a token of at least that role: 401 without a token, 403 with a lower role.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from gep.api.auth import User, authenticate
from gep.api.errors import ApiError
from gep.api.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="API token: 'Authorization: Bearer gep_...'")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def get_session(request: Request) -> Iterator[Session]:
    session = request.app.state.sessions()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def current_user(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User | None:
    if credentials is None:
        return None
    user = authenticate(session, credentials.credentials)
    if user is None:
        raise ApiError(401, "api_token_invalid", headers=_CHALLENGE)
    return user


CurrentUser = Annotated[User | None, Depends(current_user)]


def require_role(role: str) -> Callable[[User | None], User]:
    """A dependency that returns the user if its role is ``role`` or higher."""

    def dependency(user: CurrentUser) -> User:
        if user is None:
            raise ApiError(401, "api_auth_required", role=role, headers=_CHALLENGE)
        if not user.has_role(role):
            raise ApiError(403, "api_forbidden", role=user.role, required=role)
        return user

    return dependency


ViewerUser = Annotated[User, Depends(require_role("viewer"))]
AnalystUser = Annotated[User, Depends(require_role("analyst"))]
AdminUser = Annotated[User, Depends(require_role("admin"))]
