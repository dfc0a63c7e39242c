"""``/api/city-events``: emergencies, outages, road closures and planned works.

Everyone reads the events (as GeoJSON, for the map and the list) — the current and upcoming
ones by default, or those of a chosen day (the map's time slider) — and asks "what affects my
address today" with an address (found by the twin's search) or a point. An address that
search finds only as a street ("Сатпаева 30", the house not in the data) is placed on the
street from its known numbered houses (:mod:`twin.business.addresses`); one that cannot be
placed, or a street without a number, is checked along the whole street, and the answer says
which (``place.precision``: feature, interpolated or street) — never at the street's middle,
which on a long avenue is kilometres from the house. Planner and admin keys
post and change events; each change reaches open maps through the live stream (``/api/events``,
topic ``events``). The staff note of an event is shown to planner and admin keys only.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any

import shapely
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

import layers
from layers import GeomType
from twin.api.deps import CallerDep, StoreDep
from twin.api.limits import RowId
from twin.business.addresses import interpolate, street_line
from twin.core.access import Caller, Role, require_planner, visible_layers
from twin.core.errors import BadInput, NotFound
from twin.events import service
from twin.events.model import (
    KINDS,
    LIVE_STATUSES,
    STATUSES,
    local_day,
    now_utc,
    today,
)
from twin.search import MAX_QUERY, SearchHit, search, split_house
from twin.store import Store

router = APIRouter(prefix="/api/city-events", tags=["city events"])

_STAFF = {Role.PLANNER, Role.ADMIN}
#: Default window of "current and upcoming".
UPCOMING_DAYS = 30


class EventFields(BaseModel):
    """The fields of an event a planner sets (all optional on a change)."""

    model_config = ConfigDict(extra="forbid")

    kind: str | None = Field(default=None, description=f"one of: {', '.join(KINDS)}")
    severity: str | None = Field(default=None, description="info, minor, major or critical")
    status: str | None = Field(default=None, description="planned, active, resolved or cancelled")
    title: str | None = None
    description: str | None = None
    address: str | None = None
    starts_at: str | None = Field(
        default=None, description="ISO 8601; without an offset, Almaty local time"
    )
    ends_at: str | None = Field(default=None, description="ISO 8601, or null: open-ended")
    geometry: dict[str, Any] | None = Field(
        default=None, description="GeoJSON geometry in EPSG:4326: an area, a line or a point"
    )
    note: str | None = Field(default=None, description="staff-only remark (never public)")


class EventChange(EventFields):
    """A change to an event, with an optional public update text."""

    text: str | None = Field(default=None, description="public update, e.g. 'crews on site'")
    version: int | None = Field(
        default=None, description="the version the change is based on (refused if it moved)"
    )


def _author(caller: Caller) -> str:
    who = caller.key_id or (f"account:{caller.account_id}" if caller.account_id else "")
    return f"{caller.role.value}:{who}" if who else caller.role.value


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in text.split(","))
    except ValueError:
        raise BadInput("bbox must be minLon,minLat,maxLon,maxLat") from None
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)) or not (x0 <= x1 and y0 <= y1):
        raise BadInput("bbox must be minLon,minLat,maxLon,maxLat with min <= max")
    return x0, y0, x1, y1


def _collection(events: list[Any], staff: bool, **extra: Any) -> dict[str, Any]:
    at = now_utc()
    return {
        "type": "FeatureCollection",
        **extra,
        "count": len(events),
        "features": [e.feature(staff=staff, at=at) for e in events],
    }


@router.get("", summary="City events (GeoJSON): current and upcoming, or on a day")
def list_events(
    store: StoreDep,
    caller: CallerDep,
    on: Annotated[
        dt.date | None, Query(description="the events on this (Almaty) day; the time slider")
    ] = None,
    kind: Annotated[list[str] | None, Query(description="only these kinds")] = None,
    status: Annotated[
        list[str] | None, Query(description="only these statuses (default planned, active)")
    ] = None,
    bbox: Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat")] = None,
    days: Annotated[
        int, Query(ge=1, le=366, description="without `on`: how many days ahead")
    ] = UPCOMING_DAYS,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIST)] = 500,
) -> dict[str, Any]:
    """Return the events live on day ``on``, or (without it) those going on now and starting
    within ``days``; each with its phase (current, upcoming, past) at the time of asking."""
    if on is not None:
        start, end = local_day(on)
    else:
        start = now_utc()
        end = start + dt.timedelta(days=days)
    statuses = status or list(LIVE_STATUSES)
    for s in statuses:
        if s not in STATUSES:
            raise BadInput(f"status {s[:30]!r} is unknown; use one of: {', '.join(STATUSES)}")
    events = service.find(
        store, start=start, end=end, kinds=kind, statuses=statuses, bbox=_bbox(bbox), limit=limit
    )
    return _collection(
        events,
        caller.role in _STAFF,
        on=on.isoformat() if on else None,
        window={"from": _iso(start), "to": _iso(end)},
    )


def _iso(value: dt.datetime) -> str:
    return value.replace(tzinfo=dt.UTC).isoformat().replace("+00:00", "Z")


@router.get("/affecting", summary="What affects this address or point on a day")
def affecting(
    store: StoreDep,
    caller: CallerDep,
    address: Annotated[
        str | None, Query(max_length=MAX_QUERY, description="an address or place, found by search")
    ] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    on: Annotated[dt.date | None, Query(description="the (Almaty) day; default today")] = None,
) -> dict[str, Any]:
    """Return the events live on the day whose area or line reaches the place (within
    30 m), nearest first, and the place that was understood."""
    if address and (lon is not None or lat is not None):
        raise BadInput("give either an address or lon and lat, not both")
    if address:
        # in the city only: "Абая 10" must not land on a village's street of that name
        area = service.city_area(store)
        hits = search(store, address, visible_layers(caller.role), limit=1, within=area)
        if not hits:
            raise NotFound(f"no place found in the city for {address[:60]!r}")
        where, place = _placed(store, address, hits[0], area)
    elif lon is not None and lat is not None:
        where, place = shapely.Point(lon, lat), {"label": None, "point": [lon, lat]}
    else:
        raise BadInput("give an address, or lon and lat")
    day = on or today()
    events = service.affecting_place(store, where, *local_day(day))
    return {"place": place, **_collection(events, caller.role in _STAFF, on=day.isoformat())}


def _placed(
    store: Store, address: str, hit: SearchHit, area: shapely.Geometry
) -> tuple[shapely.Geometry, dict[str, Any]]:
    """Return where an address's search hit is checked and the place as answered: the
    feature's point; for a street, the house number placed on it, else the whole street."""
    lon, lat = hit.point
    place: dict[str, Any] = {"label": hit.label, "detail": hit.detail, "layer": hit.layer,
                             "point": [lon, lat], "precision": "feature"}  # fmt: skip
    if layers.get(hit.layer).geometry is not GeomType.LINE:
        return shapely.Point(lon, lat), place
    _, house = split_house(address)
    placed = interpolate(store, hit, house, area) if house is not None else None
    if placed is not None:
        place.update(point=list(placed.point), precision="interpolated", house=house,
                     from_houses=placed.from_houses, detail=None)  # fmt: skip
        return shapely.Point(*placed.point), place
    line = street_line(store, hit, area)
    if line is None:
        return shapely.Point(lon, lat), place
    # the house is not placeable (or none was given): everything along the street is listed
    place.update(precision="street", house=house, detail=None)
    return line, place


@router.get("/{event_id}", summary="One city event with its updates")
def get_event(store: StoreDep, caller: CallerDep, event_id: RowId) -> dict[str, Any]:
    """Return the event as a GeoJSON feature with its updates."""
    return service.get(store, event_id).feature(staff=caller.role in _STAFF)


@router.post("", status_code=201, summary="Post a city event (planner or admin)")
async def create_event(store: StoreDep, caller: CallerDep, body: EventFields) -> dict[str, Any]:
    """Create an event; it is published on the live stream."""
    require_planner(caller.role, "post city events")
    fields = body.model_dump(exclude_unset=True)
    event = await run_in_threadpool(service.create, store, fields, author=_author(caller))
    return event.feature(staff=True)


@router.patch("/{event_id}", summary="Change a city event (planner or admin)")
async def change_event(
    store: StoreDep, caller: CallerDep, event_id: RowId, body: EventChange
) -> dict[str, Any]:
    """Change an event's fields and/or add a public update; published on the live stream."""
    require_planner(caller.role, "change city events")
    fields = body.model_dump(exclude_unset=True)
    text = fields.pop("text", None) or ""
    version = fields.pop("version", None)
    event = await run_in_threadpool(
        service.update,
        store,
        event_id,
        fields,
        author=_author(caller),
        text=text,
        expect_version=version,
    )
    return event.feature(staff=True)
