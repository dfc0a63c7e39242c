"""Metered analyses at the HTTP edge: who must be a business, and the charge around the work.

A call by an organisation (its key, or a member's session or token) is checked against the
plan and charged before the work (:meth:`twin.business.metering.Meter.start`), refunded if
the work fails — a batch that fails in the middle bills nothing — and recorded as usage when
it has answered; the answer carries ``X-RateLimit-Limit/Remaining/Reset``. Staff and the
public map's anonymous callers are not metered; the map's business panel asks for the public
ranking, niches and catchments as the public map does (no key, no cookie), so a business
signed in to the map pays nothing for what every visitor sees, and an organisation's repeat
of a request charged today costs nothing (:func:`fingerprint`).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from urllib.parse import urlencode

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from twin.business.metering import Charge, Meter
from twin.core.access import Caller, Role
from twin.core.errors import Forbidden, Unauthorized

#: the HTTP headers of a metered answer, for the routes' OpenAPI ``responses``
QUOTA_HEADERS = {
    "X-RateLimit-Limit": {
        "schema": {"type": "integer"},
        "description": "units of the organisation's plan in the window closest to its quota "
        "(the UTC day, or the UTC month)",
    },
    "X-RateLimit-Remaining": {
        "schema": {"type": "integer"},
        "description": "units left in that window",
    },
    "X-RateLimit-Reset": {
        "schema": {"type": "integer"},
        "description": "seconds until that window starts again",
    },
}


#: query parameters that only shape an answer, not what is computed (how many of the ranked
#: cells are listed, the language, HTML or PDF, the site's printed name, the file's name)
PRESENTATION = frozenset({"top", "lang", "format", "label", "filename"})


def fingerprint(request: Request, analysis: str, body: bytes | None = None) -> str:
    """Return what makes two calls the same analysis: the path, the query without
    :data:`PRESENTATION` (sorted) and the body's SHA-256 — a repeat within the day is free
    (:mod:`twin.business.metering`). Empty (every call charged) for a request with a body
    that was not given: what it computes is not known here."""
    if body is None and request.method not in ("GET", "HEAD"):
        return ""
    query = sorted((k, v) for k, v in request.query_params.multi_items() if k not in PRESENTATION)
    h = hashlib.sha256(f"{analysis}\n{request.url.path}\n{urlencode(query)}\n".encode())
    if body is not None:
        h.update(hashlib.sha256(body).digest())
    return h.hexdigest()[:32]


def meter_of(request: Request) -> Meter:
    """Return the app's meter."""
    meter: Meter = request.app.state.meter
    return meter


def require_business(caller: Caller, what: str) -> None:
    """Let a business (organisation key or member) or staff through; 401 for an anonymous
    caller, 403 for a resident."""
    if caller.org_id is not None or caller.role in (Role.PLANNER, Role.ADMIN):
        return
    if caller.role is Role.ANONYMOUS:
        raise Unauthorized(
            f"{what} is for business accounts: sign up at /api/business/signup, then sign in "
            "or send an organisation key (Authorization: Bearer twb_…)"
        )
    raise Forbidden(f"{what} is for business accounts; a {caller.role} account may not")


def set_quota_headers(response: Response, charge: Charge | None) -> None:
    """Put the charge's ``X-RateLimit-*`` on ``response``."""
    if charge is not None:
        response.headers.update(charge.headers)


@contextmanager
def metered(
    request: Request, caller: Caller, analysis: str, response: Response
) -> Iterator[Charge | None]:
    """Charge an organisation's call of ``analysis`` around the block (sync routes)."""
    if caller.org_id is None:
        yield None
        return
    meter = meter_of(request)
    charge = meter.start(
        caller.org_id, caller.key_id, analysis, None, fingerprint(request, analysis)
    )
    try:
        yield charge
    except BaseException:
        meter.refund(charge)
        raise
    meter.settle(charge)
    set_quota_headers(response, charge)


@asynccontextmanager
async def metered_async(
    request: Request,
    caller: Caller,
    analysis: str,
    rows: int | None = None,
    body: bytes | None = None,
) -> AsyncIterator[Charge | None]:
    """Charge an organisation's call of ``analysis`` (``rows`` for a batch, ``body`` its
    file) around the block (async routes: the store and Redis are asked in a worker thread)."""
    if caller.org_id is None:
        yield None
        return
    meter = meter_of(request)
    charge = await run_in_threadpool(
        meter.start, caller.org_id, caller.key_id, analysis, rows,
        fingerprint(request, analysis, body),
    )  # fmt: skip
    try:
        yield charge
    except BaseException:
        meter.refund(charge)  # quick, and it must happen even when the request is cancelled
        raise
    await run_in_threadpool(meter.settle, charge)
