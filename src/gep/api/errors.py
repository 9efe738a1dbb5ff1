"""JSON errors with stable codes and zh/en messages.

Every error response has the body ``{"error": {"code", "status", "message", "message_zh",
"message_en", "details"}}``. ``code`` is a message key of ``gep/messages/api.toml`` (stable, for
programs); ``message`` is in the language asked for (``?lang=`` or ``Accept-Language``, zh by
default). Raise :class:`ApiError` in a route; the handlers here also turn FastAPI's own validation
errors, unknown paths and unexpected exceptions into that shape.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gep.i18n import DEFAULT_LANG, message

log = logging.getLogger("gep.api")


class ApiError(Exception):
    """An error answer: HTTP ``status``, message key ``code`` and the message's parameters."""

    def __init__(
        self,
        status: int,
        code: str,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> None:
        self.status = status
        self.code = code
        self.params = params
        self.details = details
        self.headers = headers
        super().__init__(f"{status} {code}: {self.render('en', '')}")

    def render(self, lang: str, source: str) -> str:
        params = dict(self.params)
        field = params.pop("field", None)
        return message(self.code, lang, source=source, field=field, **params)


def request_lang(request: Request) -> str:
    """``?lang=zh|en`` if given, else the first of zh/en in ``Accept-Language``, else zh."""
    lang = request.query_params.get("lang")
    if lang in ("zh", "en"):
        return lang
    accept = request.headers.get("accept-language", "").lower()
    positions = {code: accept.find(code) for code in ("zh", "en") if code in accept}
    if positions:
        return min(positions, key=positions.__getitem__)
    return DEFAULT_LANG


def error_body(error: ApiError, request: Request) -> dict[str, Any]:
    source = request.url.path
    en = error.render("en", source)
    zh = error.render("zh", source)
    return {
        "error": {
            "code": error.code,
            "status": error.status,
            "message": zh if request_lang(request) == "zh" else en,
            "message_zh": zh,
            "message_en": en,
            "details": error.details,
        }
    }


def error_response(error: ApiError, request: Request) -> JSONResponse:
    return JSONResponse(error_body(error, request), status_code=error.status, headers=error.headers)


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    return error_response(exc, request)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    details = [
        {
            "location": ".".join(str(part) for part in err.get("loc", ())),
            "reason": err.get("msg", ""),
            "value": _plain(err.get("input")),
        }
        for err in exc.errors()
    ]
    reason = "; ".join(f"{d['location']}: {d['reason']}" for d in details) or "malformed request"
    return error_response(ApiError(422, "api_validation", reason=reason, details=details), request)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 404:
        error = ApiError(404, "api_not_found")
    elif exc.status_code == 405:
        error = ApiError(405, "api_method_not_allowed", method=request.method)
    else:
        error = ApiError(exc.status_code, "api_validation", reason=str(exc.detail))
    error.headers = getattr(exc, "headers", None)
    return error_response(error, request)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(ApiError(500, "api_internal", kind=type(exc).__name__), request)


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "no or invalid API token (JSON error)"},
    403: {"description": "the token's role is too low (JSON error)"},
    404: {"description": "not found (JSON error)"},
}
"""OpenAPI ``responses`` shared by the routers."""
