"""The one mapping from domain errors to HTTP statuses, and the JSON error shape
``{"error": code, "detail": message}`` — on the Open311 routes (``/open311/``) the GeoReport
v2 shape instead, ``[{"code": status, "description": message}]`` (XML for ``….xml``), which
Open311 clients read. A 500 is always a bug."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from twin.appeals.georeport import errors_xml
from twin.core.errors import (
    BadInput,
    Busy,
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    StoreError,
    TooLarge,
    TwinError,
    Unauthorized,
    Unavailable,
)

STATUS: dict[type[TwinError], int] = {
    TooLarge: 413,
    Busy: 429,
    BadInput: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    RateLimited: 429,
    StoreError: 503,
    Unavailable: 503,
}

_HTTP_CODES = {
    400: "bad_input",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "too_slow",
    413: "too_large",
    429: "busy",
    503: "busy",
}

log = logging.getLogger("twin.api")

#: seconds a client is asked to wait when the database cannot be reached (a primary restarting
#: comes back within seconds; the pool's pre-ping reconnects on the next request)
STORE_RETRY_AFTER = 5
#: what the database driver raises, through SQLAlchemy, when it cannot be reached
_UNREACHABLE = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.DisconnectionError,
    sa.exc.TimeoutError,
)


def error_response(status: int, code: str, detail: str) -> JSONResponse:
    """Return the JSON error response."""
    return JSONResponse({"error": code, "detail": detail}, status_code=status)


OPEN311_PREFIX = "/open311/"


def _for(request: Request, status: int, code: str, detail: str) -> Response:
    """Return the error in the shape the route's clients read."""
    path = request.url.path
    if not path.startswith(OPEN311_PREFIX):
        return error_response(status, code, detail)
    if path.endswith(".xml"):
        return Response(
            errors_xml(status, detail), status_code=status, media_type="text/xml; charset=utf-8"
        )
    return JSONResponse([{"code": status, "description": detail}], status_code=status)


def _status_of(exc: TwinError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def install(app: FastAPI) -> None:
    """Register the exception handlers on ``app``."""

    @app.exception_handler(TwinError)
    async def _twin(request: Request, exc: TwinError) -> Response:
        response = _for(request, _status_of(exc), exc.code, exc.detail)
        if response.status_code == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, Busy):
            response.headers["Retry-After"] = str(exc.retry_after)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
            response.headers.update(exc.headers)
        if isinstance(exc, Unavailable):
            response.headers["Retry-After"] = str(exc.retry_after)
        if isinstance(exc, StoreError):
            response.headers["Retry-After"] = str(STORE_RETRY_AFTER)
        return response

    async def _unreachable(request: Request, exc: Exception) -> JSONResponse:
        # The database went away (restarting, failing over): a clean 503 the client may
        # retry, not a 500 — the code is not at fault.
        # the driver's first line says which connection failed and how (refused, closed, the
        # database starting up): what an operator needs to tell a restart from a lost replica
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[:1]
        log.warning(
            "store unreachable on %s: %s: %s",
            request.url.path,
            type(exc).__name__,
            first[0][:200] if first else "",
        )
        response = error_response(503, "store_unavailable", "the store is unavailable; retry")
        response.headers["Retry-After"] = str(STORE_RETRY_AFTER)
        return response

    for cls in _UNREACHABLE:
        app.add_exception_handler(cls, _unreachable)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for err in exc.errors():
            where = ".".join(
                str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body")
            )
            parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
        return _for(request, 400, "bad_input", "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "error")
        response = _for(request, exc.status_code, code, str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return error_response(500, "internal", "internal error (a bug; it has been logged)")
