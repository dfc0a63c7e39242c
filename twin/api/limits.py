"""What a request may carry, decided before its body is read.

A body is limited while it streams in (``TWIN_LIMITS_BODY_BYTES``, 1 MB by default): a
``Content-Length`` over the limit is answered 413 at once, and a chunked body is cut off with
a 413 as soon as it passes the limit, so a slow or huge upload never sits in memory. A route
that needs more declares it next to its path::

    @router.post("/photos")
    @body_limit(10 * MB)                       # anyone may send up to 10 MB here
    def upload(...): ...

    @router.post("/collections/{collectionId}/items")
    @body_limit(10 * MB, roles=STAFF)          # planners and admins; others keep the default
    def create_item(...): ...

With ``roles``, the caller's key is checked first: an anonymous caller is refused (401) before
a byte of the body is read, and a caller of another role keeps the default limit.

The same gate refuses a NUL character anywhere in the path or the query (a store or the file
system would choke on it: ``/assets/%00`` was a 500).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import Path, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twin.analyses.budget import Budget
from twin.api.openapi import error
from twin.core.access import Role
from twin.core.errors import Busy, Unauthorized

MB = 1_000_000
#: The largest id an ``Integer`` key holds on both stores (PostgreSQL's int4); a bigger one
#: in a path is a 400, not a 500.
ID_MAX = 2**31 - 1
#: A row id in a path (``/things/{id}``): declare ``thing_id: RowId`` so FastAPI bounds it.
RowId = Annotated[int, Path(ge=1, le=ID_MAX, description="An id (1 … 2³¹−1).")]
#: Roles that edit the city's layers.
STAFF = (Role.PLANNER, Role.ADMIN)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_ATTR = "__twin_body_limit__"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class BodyLimit:
    """A route's body limit, and the roles it applies to (``None``: every caller)."""

    nbytes: int
    roles: frozenset[Role] | None = None


def body_limit(nbytes: int, roles: Iterable[Role] | None = None) -> Callable[[F], F]:
    """Declare that the decorated endpoint takes bodies up to ``nbytes`` (from ``roles``)."""
    limit = BodyLimit(nbytes, None if roles is None else frozenset(roles))

    def mark(endpoint: F) -> F:
        setattr(endpoint, _ATTR, limit)
        return endpoint

    return mark


def declared_limit(endpoint: Any) -> BodyLimit | None:
    """Return the body limit declared on ``endpoint``, if any."""
    return getattr(endpoint, _ATTR, None)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes its limit (the app answers 413)."""

    def __init__(self, limit: int, size: int | None = None) -> None:
        super().__init__(
            status_code=413, detail=too_large_message(limit, size), headers={"Connection": "close"}
        )


def too_large_message(limit: int, size: int | None = None) -> str:
    """Return the 413 message naming the limit."""
    got = f" ({size:,} bytes)" if size is not None else ""
    return f"the request body is over the limit of {limit:,} bytes{got} for this route"


def _answer(status: int, code: str, detail: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"error": code, "detail": detail},
        status_code=status,
        headers={"Connection": "close", **headers} if status == 413 else headers,
    )


class RequestGuard:
    """ASGI middleware: refuses NUL characters at once, and limits a body as it is read.

    The limit is decided when the endpoint first asks for the body (the router has found it by
    then, and not a byte has been read): the endpoint's declared limit if it has one and the
    caller may use it, else ``default_bytes``. ``role_of`` returns the role of an
    ``Authorization`` value or raises :class:`Unauthorized` (only asked for endpoints whose
    limit names roles).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        default_bytes: int,
        role_of: Callable[[str | None], Role],
    ) -> None:
        self.app = app
        self.default_bytes = default_bytes
        self.role_of = role_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query: bytes = scope.get("query_string", b"")
        if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
            await _answer(400, "bad_input", "the path or query contains a NUL character")(
                scope, receive, send
            )
            return
        if scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length: int | None = None
        if "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                length = -1
            if length < 0:
                await _answer(400, "bad_input", "Content-Length is not a byte count")(
                    scope, receive, send
                )
                return
        await self.app(scope, self._limited(scope, headers, length, receive), send)

    def _limit(self, scope: Scope, headers: Headers) -> int:
        """Return the body limit of the endpoint the router chose; raise 401 for an anonymous
        caller of an endpoint whose larger limit is for some roles only."""
        declared = declared_limit(scope.get("endpoint"))
        if declared is None:
            return self.default_bytes
        if declared.roles is None:
            return declared.nbytes
        authorization = headers.get("authorization")
        if not authorization and not headers.get("cookie"):
            roles = " or ".join(r.value for r in sorted(declared.roles))
            raise HTTPException(
                401,
                f"a {roles} key is needed here (Authorization: Bearer <key>)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        try:
            allowed = self.role_of(authorization) in declared.roles
        except Unauthorized:
            allowed = False  # the endpoint says why; its body gets the default limit
        return declared.nbytes if allowed else self.default_bytes

    def _limited(
        self, scope: Scope, headers: Headers, length: int | None, receive: Receive
    ) -> Receive:
        """Return ``receive`` that checks the limit before the first byte and counts after."""
        limit: int | None = None
        total = 0

        async def receive_limited() -> Message:
            nonlocal limit, total
            if limit is None:
                limit = self._limit(scope, headers)
                if length is not None and length > limit:
                    raise BodyTooLarge(limit, length)
            message = await receive()
            if message["type"] == "http.request":
                total += len(message.get("body", b""))
                if total > limit:
                    raise BodyTooLarge(limit)
            return message

        return receive_limited


T = TypeVar("T")


#: The refusals of a heavy analysis, for its route's ``responses=`` (OpenAPI).
ANALYSIS_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: error("The request is malformed or out of range (the detail names the field)"),
    401: error("No key, or an unknown one"),
    403: error("The key's role may not run this analysis"),
    413: error("The body, or the analysis' estimated cost or run time, is over its limit"),
    429: {
        **error("As many analyses are running as the server runs at once"),
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
    },
}


class AnalysisGate:
    """At most ``slots`` heavy analyses at once, each in a worker thread under a
    :class:`~twin.analyses.budget.Budget`; one more is refused at once with 429 and
    ``Retry-After`` rather than queued. The event loop only waits, so ``/healthz``, tiles and
    features keep answering, and when the client goes away the run's budget is cancelled so
    the work stops at its next check.
    """

    def __init__(self, slots: int, limits: Budget) -> None:
        self.slots = slots
        self.limits = limits
        self._free = threading.BoundedSemaphore(slots)

    def budget(self) -> Budget:
        """Return a fresh budget with the configured limits, its clock started now."""
        return dataclasses.replace(
            self.limits, cancelled=threading.Event(), started=time.monotonic()
        )

    async def run(self, request: Request, work: Callable[[Budget], T]) -> T:
        """Run ``work(budget)`` in a thread; raise :class:`Busy` when every slot is taken."""
        if not self._free.acquire(blocking=False):
            raise Busy(
                f"{self.slots} analyses are running, the most this server runs at once; "
                "retry in a few seconds",
                retry_after=5,
            )
        budget = self.budget()
        outcome: list[T] = []
        failure: list[Exception] = []

        async def watch() -> None:
            while not await request.is_disconnected():
                await anyio.sleep(0.5)
            budget.cancelled.set()

        try:
            async with anyio.create_task_group() as group:
                group.start_soon(watch)
                try:
                    # The thread is not abandoned when the request is cancelled: the slot is
                    # held until the work has really stopped.
                    outcome.append(await anyio.to_thread.run_sync(work, budget))
                except Exception as exc:  # re-raised below, outside the task group
                    failure.append(exc)
                finally:
                    group.cancel_scope.cancel()
        finally:
            self._free.release()
        if failure:
            raise failure[0]
        return outcome[0]
