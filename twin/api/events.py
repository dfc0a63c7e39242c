"""``GET /api/events``: the live stream every open map listens to (server-sent events).

One stream for the whole twin (city events, residents' contributions …); a client narrows it
with ``?topic=events,appeals``. Each event is sent as ``id: <n>``, ``event: <topic>`` and
``data: {"topic", "at", "data"}``. A browser that loses the connection reconnects by itself
and sends ``Last-Event-ID``; what it missed is replayed while this process still holds it, and
otherwise the stream starts with a ``reset`` event (the client reloads what it shows). Idle
streams carry a heartbeat comment; a client that cannot keep up is dropped (the broker's
bounded queue) and simply reconnects. Staff-only events reach planner and admin keys only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from sse_starlette import EventSourceResponse

from twin.api.deps import CallerDep
from twin.core.access import Role
from twin.core.errors import BadInput
from twin.live import Broker, Subscription, check_topic

router = APIRouter(prefix="/api", tags=["live"])

_STAFF = {Role.PLANNER, Role.ADMIN}
MAX_TOPICS = 20


def _topics(values: list[str] | None) -> frozenset[str] | None:
    if not values:
        return None
    names = {t.strip() for v in values for t in v.split(",") if t.strip()}
    if len(names) > MAX_TOPICS:
        raise BadInput(f"at most {MAX_TOPICS} topics may be asked for, not {len(names)}")
    return frozenset(check_topic(n) for n in names) or None


def _last_id(header: str | None, query: int | None) -> int | None:
    if header is None or not header.strip():
        return query
    try:
        value = int(header.strip())
    except ValueError:
        raise BadInput(f"Last-Event-ID {header[:40]!r} is not an event id") from None
    if value < 0:
        raise BadInput("Last-Event-ID must not be negative")
    return value


async def _frames(
    broker: Broker, topics: frozenset[str] | None, staff: bool, after: int | None
) -> AsyncIterator[bytes]:
    # Subscribed here, in the generator, so that whatever ends the response (the client
    # going away, a send timeout, shutdown) also ends the subscription.
    sub: Subscription = broker.subscribe(topics, staff=staff, last_id=after)
    try:
        # The first bytes tell the client it is subscribed (and how soon to come back).
        yield f"retry: 2000\n: ready {broker.last_id}\n\n".encode()
        if sub.reset:
            yield f"id: {broker.last_id}\nevent: reset\ndata: {{}}\n\n".encode()
        async for event in sub:
            yield event.frame
    finally:
        sub.close()


@router.get(
    "/events",
    summary="The live stream (server-sent events)",
    response_description="text/event-stream: one event per change, heartbeat comments",
)
async def events_stream(
    request: Request,
    caller: CallerDep,
    topic: Annotated[
        list[str] | None,
        Query(description="topics to receive, comma-separated or repeated (default: all)"),
    ] = None,
    last_event_id: Annotated[
        int | None,
        Query(ge=0, description="resume after this id (browsers send the Last-Event-ID header)"),
    ] = None,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> EventSourceResponse:
    """Stream the twin's live events as they happen."""
    broker: Broker = request.app.state.live
    wanted = _topics(topic)
    after = _last_id(last_event_id_header, last_event_id)
    settings = broker.settings
    return EventSourceResponse(
        _frames(broker, wanted, caller.role in _STAFF, after),
        ping=settings.heartbeat,
        send_timeout=settings.send_timeout,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
