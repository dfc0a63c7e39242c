"""What a city event is, and the checks every event passes whether it comes from a file or from
staff through the API: kind, severity, status, times, geometry inside the city.

Times: the city lives in Asia/Almaty (UTC+5 since March 2024). An input time without an offset
is local; everything is stored in UTC; a day ("what affects my address today") is a local day.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from layers.events import EVENT_KINDS, EVENT_SEVERITIES, EVENT_STATUSES
from twin.core.errors import BadInput

CITY_TZ = ZoneInfo("Asia/Almaty")

#: The vocabularies are the catalog's (:mod:`layers.events`: the event layers' choices).
KINDS: tuple[str, ...] = EVENT_KINDS
SEVERITIES: tuple[str, ...] = EVENT_SEVERITIES
#: planned: announced, not begun; active: going on; resolved: over (possibly early);
#: cancelled: will not happen. Only planned and active events are "on".
STATUSES: tuple[str, ...] = EVENT_STATUSES
LIVE_STATUSES: tuple[str, ...] = ("planned", "active")
GEOMETRY_TYPES = ("Point", "LineString", "MultiLineString", "Polygon", "MultiPolygon")
LINE_TYPES = ("LineString", "MultiLineString")
#: Longest event (a closure for road works may last a season, not a decade).
MAX_DURATION = dt.timedelta(days=3 * 366)
MAX_TEXT = 2000
MAX_TITLE = 200
#: Most vertices a posted geometry may have (bounded work per request).
MAX_VERTICES = 20_000
#: Years an event's times and a queried day may fall in.
MIN_YEAR, MAX_YEAR = 1900, 2200


def now_utc() -> dt.datetime:
    """The current time, UTC, without a zone (as stored)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def to_utc(value: dt.datetime | str, what: str) -> dt.datetime:
    """Return ``value`` as naive UTC; a naive input is local Almaty time."""
    if isinstance(value, str):
        text = value
        try:
            value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise BadInput(f"{what}: {text[:40]!r} is not an ISO date-time") from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise BadInput(f"{what}: the year must be between {MIN_YEAR} and {MAX_YEAR}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=CITY_TZ)
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def iso(value: dt.datetime | None) -> str | None:
    """Return a stored (naive UTC) time as ISO 8601 in Almaty time, with its offset."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC).astimezone(CITY_TZ).isoformat()


def local_day(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Return the UTC bounds [start, end) of the Almaty day ``day``."""
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise BadInput(f"the day must be in the years {MIN_YEAR} to {MAX_YEAR}")
    start = dt.datetime.combine(day, dt.time(), CITY_TZ)
    end = start + dt.timedelta(days=1)
    return (
        start.astimezone(dt.UTC).replace(tzinfo=None),
        end.astimezone(dt.UTC).replace(tzinfo=None),
    )


def today() -> dt.date:
    """Today in Almaty."""
    return dt.datetime.now(CITY_TZ).date()


def check_choice(value: Any, allowed: tuple[str, ...], what: str) -> str:
    """Return ``value`` if it is one of ``allowed``; else raise :class:`BadInput` naming them."""
    if value not in allowed:
        raise BadInput(f"{what} {str(value)[:40]!r} is unknown; use one of: {', '.join(allowed)}")
    return str(value)


def check_geometry(value: Any, what: str = "geometry") -> BaseGeometry:
    """Return a valid shapely geometry from a GeoJSON geometry object (EPSG:4326)."""
    if isinstance(value, BaseGeometry):
        geom = value
    else:
        if not isinstance(value, dict) or "type" not in value:
            raise BadInput(f"{what} must be a GeoJSON geometry object")
        if value.get("type") not in GEOMETRY_TYPES:
            raise BadInput(
                f"{what} type {str(value.get('type'))[:30]!r} is not allowed; use one of: "
                + ", ".join(GEOMETRY_TYPES)
            )
        try:
            geom = shape(value)
        except Exception as exc:  # shapely raises several types on malformed coordinates
            raise BadInput(f"{what} is not a valid GeoJSON geometry ({exc})") from None
    if geom.geom_type not in GEOMETRY_TYPES:
        raise BadInput(f"{what} type {geom.geom_type} is not allowed")
    if geom.is_empty:
        raise BadInput(f"{what} is empty")
    if shapely.get_num_coordinates(geom) > MAX_VERTICES:
        raise BadInput(f"{what} has more than {MAX_VERTICES} vertices")
    coords = shapely.get_coordinates(geom)
    if not ((abs(coords[:, 0]) <= 180).all() and (abs(coords[:, 1]) <= 90).all()):
        raise BadInput(f"{what} is not in longitude/latitude (EPSG:4326)")
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
        if geom.geom_type not in GEOMETRY_TYPES:  # a collection after repair: keep its areas
            polys = [
                p
                for g in shapely.get_parts(geom)
                for p in shapely.get_parts(g)
                if p.geom_type == "Polygon"
            ]
            if not polys:
                raise BadInput(f"{what} is not a valid geometry and cannot be repaired")
            geom = shapely.MultiPolygon(polys)
    return geom


@dataclass
class CityEvent:
    """One city event as stored (times naive UTC)."""

    id: int
    source: str
    source_id: str
    kind: str
    severity: str
    status: str
    title: str
    description: str
    address: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    geometry: BaseGeometry
    properties: dict[str, Any]
    source_url: str
    licence: str
    note: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: str
    updates: list[dict[str, Any]] = field(default_factory=list)

    def is_on(self, start: dt.datetime, end: dt.datetime) -> bool:
        """Whether the event is live (planned or active) at some time in [start, end)."""
        return (
            self.status in LIVE_STATUSES
            and self.starts_at < end
            and (self.ends_at is None or self.ends_at > start)
        )

    def phase(self, at: dt.datetime) -> str:
        """``upcoming``, ``current`` or ``past`` at ``at`` (cancelled events are ``past``)."""
        if self.status in ("resolved", "cancelled") or (
            self.ends_at is not None and self.ends_at <= at
        ):
            return "past"
        return "upcoming" if self.starts_at > at else "current"

    def summary(self) -> dict[str, Any]:
        """What the live stream says about the event: small, public, no geometry."""
        x0, y0, x1, y1 = self.geometry.bounds
        return {
            "id": self.id,
            "kind": self.kind,
            "severity": self.severity,
            "status": self.status,
            "title": self.title,
            "starts_at": iso(self.starts_at),
            "ends_at": iso(self.ends_at),
            "bbox": [round(v, 6) for v in (x0, y0, x1, y1)],
            "version": self.version,
        }

    def as_properties(self, *, staff: bool, at: dt.datetime | None = None) -> dict[str, Any]:
        """The event's fields for an answer; ``note`` only for staff."""
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "severity": self.severity,
            "status": self.status,
            "phase": self.phase(at or now_utc()),
            "title": self.title,
            "description": self.description,
            "address": self.address,
            "starts_at": iso(self.starts_at),
            "ends_at": iso(self.ends_at),
            "source": self.source,
            "source_url": self.source_url,
            "licence": self.licence,
            "properties": self.properties,
            "version": self.version,
            "updated_at": iso(self.updated_at),
        }
        if self.updates:
            out["updates"] = self.updates
        if staff:
            out["note"] = self.note
            out["created_by"] = self.created_by
        return out

    def feature(self, *, staff: bool, at: dt.datetime | None = None) -> dict[str, Any]:
        """The event as a GeoJSON feature."""
        return {
            "type": "Feature",
            "id": self.id,
            "geometry": mapping(self.geometry),
            "properties": self.as_properties(staff=staff, at=at),
        }


def dumps(value: Any) -> str:
    """JSON for the text columns."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
