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

A body must also keep coming: the gate waits at most ``TWIN_LIMITS_BODY_IDLE_SECONDS`` for
its next piece, and past that time its average rate must be at least
``TWIN_LIMITS_BODY_MIN_BYTES_PER_S``; a slower body is answered 408 and its connection closed.
And a process reads or holds at most ``TWIN_LIMITS_BODY_INFLIGHT_BYTES`` of bodies at once (a
declared length is reserved when the endpoint starts reading): one more is a 503 with
``Retry-After``. Before, twenty planner connections each trickling a 5 MB edit and then
stalling held their 100 MB, and their connections, for as long as they liked
(``tests/api/test_slow_bodies.py``).

The same gate refuses a NUL character anywhere in the path or the query (a store or the file
system would choke on it: ``/assets/%00`` was a 500).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import Path, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twin.analyses.budget import Budget, Cancelled, OverMemory
from twin.analyses.workers import Worker
from twin.api.openapi import error
from twin.core.access import Role
from twin.core.errors import Busy, Unauthorized, Unavailable

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


class BodyTooSlow(HTTPException):
    """Raised from ``receive`` when a body stops coming or comes too slowly (408)."""

    def __init__(self, why: str) -> None:
        super().__init__(
            status_code=408, detail=f"request body too slow: {why}", headers={"Connection": "close"}
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
        idle_seconds: float = 20.0,
        min_bytes_per_s: int = 8_000,
        inflight_bytes: int = 200_000_000,
    ) -> None:
        self.app = app
        self.default_bytes = default_bytes
        self.role_of = role_of
        self.idle_seconds = idle_seconds
        self.min_bytes_per_s = min_bytes_per_s
        self.inflight_bytes = inflight_bytes
        #: bytes of bodies being read or held now (the event loop's only: no lock)
        self.inflight = 0

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
        # An answer given before the whole body has arrived (a 401 or 413 at the door) closes
        # the connection: kept alive, uvicorn would read the rest of the body and throw it
        # away on the event loop. Measured with the bench's eight anonymous 112 MB uploads:
        # tiles' p99 708 ms and /healthz's 1.9 s while the server drained them, its CPU
        # time spent in HTTP parsing (py-spy of the server; bench.abuse).
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        body = _BodyState(done=not chunked and not length)
        try:
            await self.app(
                scope, self._limited(scope, headers, length, receive, body), _closing(send, body)
            )
        finally:
            self.inflight -= body.held

    def _hold(self, body: _BodyState, nbytes: int) -> None:
        """Count ``nbytes`` more of a body against the process' budget, or refuse it (503)."""
        if self.inflight + nbytes > self.inflight_bytes:
            raise HTTPException(
                503,
                f"the server is reading its limit of {self.inflight_bytes:,} bytes of request"
                " bodies; retry",
                headers={"Retry-After": "5", "Connection": "close"},
            )
        self.inflight += nbytes
        body.held += nbytes

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
        self,
        scope: Scope,
        headers: Headers,
        length: int | None,
        receive: Receive,
        body: _BodyState,
    ) -> Receive:
        """Return ``receive`` that checks the limit before the first byte and counts after."""
        limit: int | None = None
        total = 0
        started = 0.0

        async def receive_limited() -> Message:
            nonlocal limit, total, started
            if limit is None:
                limit = self._limit(scope, headers)
                if length is not None and length > limit:
                    raise BodyTooLarge(limit, length)
                self._hold(body, length or 0)
                started = time.monotonic()
            if body.done:  # after the body: a wait for the client to go away, unbounded
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.idle_seconds)
            except TimeoutError:
                raise BodyTooSlow(f"no part of the body came for {self.idle_seconds:g} s") from None
            if message["type"] == "http.request":
                n = len(message.get("body", b""))
                total += n
                if total > limit:
                    raise BodyTooLarge(limit)
                if length is None:
                    self._hold(body, n)
                body.done = body.done or not message.get("more_body", False)
                spent = time.monotonic() - started
                if (
                    not body.done
                    and spent > self.idle_seconds
                    and total < self.min_bytes_per_s * spent
                ):
                    raise BodyTooSlow(
                        f"the body came at {total / spent:,.0f} bytes/s, under the least"
                        f" of {self.min_bytes_per_s:,} bytes/s"
                    )
            else:
                body.done = True  # the client went away
            return message

        return receive_limited


@dataclass
class _BodyState:
    """Whether a request's body has been read to its end, and the bytes of it counted
    against the process' budget."""

    done: bool
    held: int = 0


def _closing(send: Send, body: _BodyState) -> Send:
    """Return ``send`` that adds ``Connection: close`` to an answer started before the
    request's body was read to its end."""

    async def send_closing(message: Message) -> None:
        if message["type"] == "http.response.start" and not body.done:
            raw = list(message.get("headers", []))
            if not any(k.lower() == b"connection" for k, _ in raw):
                message = {**message, "headers": [*raw, (b"connection", b"close")]}
        await send(message)

    return send_closing


T = TypeVar("T")
log = logging.getLogger("twin.api")


#: The refusals of a heavy analysis, for its route's ``responses=`` (OpenAPI).
ANALYSIS_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: error("The request is malformed or out of range (the detail names the field)"),
    401: error("No key, or an unknown one"),
    403: error("The key's role may not run this analysis"),
    413: error("The body, or the analysis' estimated cost, run time or memory, is over its limit"),
    503: {
        **error("The analysis' worker process stopped unexpectedly; retry"),
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
    },
    429: {
        **error("As many analyses are running as the server runs at once"),
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
    },
}


class AnalysisGate:
    """At most ``slots`` heavy analyses at once, each in its own worker process
    (:mod:`twin.analyses.workers`) under a :class:`~twin.analyses.budget.Budget` and a memory
    limit; one more is refused at once with 429 and ``Retry-After`` rather than queued.

    The event loop only waits on the worker's future, so ``/healthz``, tiles and features keep
    answering. The worker is killed (its memory returned at once) when the client goes away,
    when the run passes its time limit by ``grace`` seconds (the run's own check answers
    first, naming the limit), or when its resident set has grown by more than ``memory_bytes``
    since it started.
    """

    #: seconds between two looks at the client, the clock and the worker's memory
    POLL = 0.2

    def __init__(
        self,
        slots: int,
        limits: Budget,
        *,
        memory_bytes: int = 0,
        grace: float = 5.0,
        setup: Callable[..., None] | None = None,
        setup_args: tuple[Any, ...] = (),
    ) -> None:
        self.slots = slots
        self.limits = limits
        self.memory_bytes = memory_bytes
        self.grace = grace
        self.workers = [Worker(memory_bytes, setup, setup_args) for _ in range(slots)]
        self._idle = list(self.workers)
        self._free = threading.BoundedSemaphore(slots)

    def close(self) -> None:
        """Stop every worker (the app's shutdown)."""
        for worker in self.workers:
            worker.close()

    async def run(self, request: Request, job: Callable[..., T], *args: Any) -> T:
        """Return ``job(limits, *args)`` run in a worker process (``limits``: the budget's
        :meth:`~twin.analyses.budget.Budget.limits`; ``job`` and ``args`` must pickle);
        raise :class:`Busy` when every slot is taken."""
        if not self._free.acquire(blocking=False):
            raise Busy(
                f"{self.slots} analyses are running, the most this server runs at once; "
                "retry in a few seconds",
                retry_after=5,
            )
        worker = self._idle.pop()
        try:
            return await self._run(worker, request, job, args)
        finally:
            self._idle.append(worker)
            self._free.release()

    def _memory_message(self) -> str:
        return (
            f"the analysis needed more than the memory limit of "
            f"{self.memory_bytes / 2**20:,.0f} MB per analysis and was stopped; "
            "use a smaller scope, coarser cells or fewer candidates"
        )

    async def _run(
        self, worker: Worker, request: Request, job: Callable[..., T], args: tuple[Any, ...]
    ) -> T:
        await anyio.to_thread.run_sync(worker.start)
        future = worker.submit(job, self.limits.limits(), *args)
        waiting = asyncio.wrap_future(future)
        deadline = time.monotonic() + self.limits.seconds + self.grace
        reason: Exception | None = None
        try:
            while reason is None:
                done, _ = await asyncio.wait({waiting}, timeout=self.POLL)
                if done:
                    break
                if await request.is_disconnected():
                    reason = Cancelled("the analysis was stopped: its client went away")
                elif time.monotonic() > deadline:
                    reason = Cancelled(
                        f"the analysis ran over the time limit of {self.limits.seconds:g} s "
                        "and was stopped; use a smaller scope or fewer candidates"
                    )
                elif self.memory_bytes and worker.grown() > self.memory_bytes:
                    reason = OverMemory(self._memory_message())
        finally:
            if not future.done():  # stopped here, or this request itself was cancelled
                reason = reason or Cancelled("the analysis was stopped")
                waiting.cancel()  # nobody reads its outcome
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(worker.kill)
        if reason is not None:
            log.warning("analysis worker %s killed: %s", worker.pid, reason)
            raise reason
        try:
            return waiting.result()
        except BrokenProcessPool:
            await anyio.to_thread.run_sync(worker.kill)
            raise Unavailable(
                "the analysis' worker process stopped unexpectedly (it is being replaced); "
                "retry in a few seconds"
            ) from None
        except Exception as exc:
            if not out_of_memory(exc):
                raise
            await anyio.to_thread.run_sync(worker.kill)  # give its memory back
            raise OverMemory(self._memory_message()) from None


def out_of_memory(exc: BaseException) -> bool:
    """Return whether ``exc`` says an allocation failed: Python's and NumPy's
    ``MemoryError``, GDAL's (rasterio's ``CPLE_OutOfMemoryError``), C++'s ``bad_alloc``
    (GEOS through shapely)."""
    return (
        isinstance(exc, MemoryError)
        or "OutOfMemory" in type(exc).__name__
        or "bad_alloc" in str(exc)
    )
