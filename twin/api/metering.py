"""Metered analyses at the HTTP edge: who must be a business, and the charge around the work.

A call by an organisation (its key, or a member's session or token) is checked against the
plan and charged before the work (:meth:`twin.business.metering.Meter.start`), refunded if
the work fails — a batch that fails in the middle bills nothing — and recorded as usage when
it has answered; the answer carries ``X-RateLimit-Limit/Remaining/Reset``. Staff and the
public map's anonymous callers are not metered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

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
    charge = meter.start(caller.org_id, caller.key_id, analysis)
    try:
        yield charge
    except BaseException:
        meter.refund(charge)
        raise
    meter.settle(charge)
    set_quota_headers(response, charge)


@asynccontextmanager
async def metered_async(
    request: Request, caller: Caller, analysis: str, rows: int | None = None
) -> AsyncIterator[Charge | None]:
    """Charge an organisation's call of ``analysis`` (``rows`` for a batch) around the block
    (async routes: the store and Redis are asked in a worker thread)."""
    if caller.org_id is None:
        yield None
        return
    meter = meter_of(request)
    charge = await run_in_threadpool(meter.start, caller.org_id, caller.key_id, analysis, rows)
    try:
        yield charge
    except BaseException:
        meter.refund(charge)  # quick, and it must happen even when the request is cancelled
        raise
    await run_in_threadpool(meter.settle, charge)
