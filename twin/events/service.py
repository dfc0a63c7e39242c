"""City events in a store: post, change, list by place and time, load from files.

Every change is committed first and then published on the live stream (topic ``events``) as a
small public summary (no geometry, no staff note): open maps show a notice and re-read the
layer. File loads are all-or-nothing per file, upsert on (source, source_id) so a re-load
changes nothing, and keep each rejected row with its reason in the quarantine.

The record of an event is the ``city_events`` row (with its versions and updates); its public
face is a feature of the catalog's event layer of its geometry kind (:mod:`layers.events`),
written in the same transaction as every post, change and load (:func:`_project`), so tiles,
the OGC collections, the style, the legend and search treat events like any layer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyproj
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry

import layers
import twin.live
from etl.derived import derived_batch
from layers import GeomType
from layers.events import EVENT_LAYERS
from twin.analyses.memo import StoreMemo
from twin.core.errors import BadInput, NotFound
from twin.events.model import (
    KINDS,
    LINE_TYPES,
    LIVE_STATUSES,
    MAX_DURATION,
    MAX_TEXT,
    MAX_TITLE,
    SEVERITIES,
    STATUSES,
    CityEvent,
    check_choice,
    check_geometry,
    dumps,
    iso,
    now_utc,
    to_utc,
)
from twin.store import Store

TOPIC = "events"
#: An address this close (metres) to an event's area or line is affected by it.
NEAR_M = 30.0
#: Rough box of Almaty, the city check of a store without a boundary loaded.
ALMATY_BOX = (76.60, 43.00, 77.30, 43.50)
#: How far outside the city boundary an event may reach (degrees, about 2 km).
CITY_MARGIN = 0.02
MAX_LIST = 2000
STAFF_SOURCE = "staff"
EDITABLE = (
    "kind",
    "severity",
    "status",
    "title",
    "description",
    "address",
    "starts_at",
    "ends_at",
    "geometry",
    "note",
)

_TO_METRIC = pyproj.Transformer.from_crs(4326, 32643, always_xy=True)


def _tables(store: Store) -> tuple[sa.Table, sa.Table]:
    return store.metadata.tables["city_events"], store.metadata.tables["city_event_updates"]


def _read_city(store: Store) -> BaseGeometry:
    for layer_id in ("city_boundary", "districts"):
        frame = store.read_frame(layers.get(layer_id))
        if len(frame):
            return shapely.buffer(shapely.union_all(frame.geometry.values), CITY_MARGIN)
    return shapely.box(*ALMATY_BOX)


_CITY: StoreMemo[BaseGeometry] = StoreMemo(_read_city, size=4)


def city_area(store: Store) -> BaseGeometry:
    """The area events may be in: the city boundary (or districts) with a 2 km margin, or a
    rough box of Almaty when the store has neither."""
    return _CITY.get(store)


# -- checking input ------------------------------------------------------------------------


def _text(value: Any, what: str, limit: int = MAX_TEXT) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadInput(f"{what} must be text")
    value = value.strip()
    if len(value) > limit:
        raise BadInput(f"{what} is longer than {limit} characters")
    return value


def clean(
    fields: Mapping[str, Any],
    *,
    city: BaseGeometry,
    base: Mapping[str, Any] | None = None,
    where: str = "",
) -> dict[str, Any]:
    """Return column values from raw ``fields`` (a new event, or a change to ``base``, the
    stored row); raise :class:`BadInput` naming the field (prefixed by ``where``, e.g. a row)."""
    pre = f"{where}: " if where else ""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise BadInput(f"{pre}unknown field(s): {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {}
    try:
        for name in ("kind", "severity", "status"):
            if name in fields:
                allowed = {"kind": KINDS, "severity": SEVERITIES, "status": STATUSES}[name]
                out[name] = check_choice(fields[name], allowed, name)
        if "title" in fields:
            out["title"] = _text(fields["title"], "title", MAX_TITLE)
        for name in ("description", "address", "note"):
            if name in fields:
                out[name] = _text(fields[name], name)
        if "starts_at" in fields:
            if fields["starts_at"] is None:
                raise BadInput("starts_at is required")
            out["starts_at"] = to_utc(fields["starts_at"], "starts_at")
        if "ends_at" in fields:
            value = fields["ends_at"]
            out["ends_at"] = None if value in (None, "") else to_utc(value, "ends_at")
        if "geometry" in fields:
            geom = check_geometry(fields["geometry"])
            if not geom.intersects(city):
                raise BadInput("geometry is outside the city")
            out["geometry"] = geom
        merged = {**(base or {}), **out}
        for name in ("kind", "title", "starts_at", "geometry"):
            if merged.get(name) in (None, ""):
                raise BadInput(f"{name} is required")
        merged.setdefault("severity", "minor")
        merged.setdefault("status", "planned")
        start, end = merged["starts_at"], merged.get("ends_at")
        if end is not None and end <= start:
            raise BadInput(f"ends_at ({iso(end)}) is not after starts_at ({iso(start)})")
        if end is not None and end - start > MAX_DURATION:
            raise BadInput("an event may last at most three years; leave ends_at open instead")
        if merged["kind"] == "road_closure" and merged["geometry"].geom_type not in (
            *LINE_TYPES,
            "Polygon",
            "MultiPolygon",
        ):
            raise BadInput("a road_closure needs a line (the closed road) or an area")
    except BadInput as exc:
        raise BadInput(f"{pre}{exc.detail}") from None
    if base is None:
        out.setdefault("severity", "minor")
        out.setdefault("status", "planned")
    return out


def _columns(values: Mapping[str, Any]) -> dict[str, Any]:
    """Turn cleaned values into table columns (geometry → WKB and box)."""
    out = {k: v for k, v in values.items() if k != "geometry"}
    if "geometry" in values:
        geom: BaseGeometry = values["geometry"]
        out["geom_wkb"] = shapely.to_wkb(geom, output_dimension=2)
        out["geom_type"] = geom.geom_type
        out["minx"], out["miny"], out["maxx"], out["maxy"] = (float(v) for v in geom.bounds)
    return out


def _event(row: Any) -> CityEvent:
    return CityEvent(
        id=int(row["id"]),
        source=row["source"],
        source_id=row["source_id"],
        kind=row["kind"],
        severity=row["severity"],
        status=row["status"],
        title=row["title"],
        description=row["description"] or "",
        address=row["address"] or "",
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        geometry=shapely.from_wkb(bytes(row["geom_wkb"])),
        properties=json.loads(row["properties"] or "{}"),
        source_url=row["source_url"] or "",
        licence=row["licence"] or "",
        note=row["note"] or "",
        version=int(row["version"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        created_by=row["created_by"] or "",
    )


# -- the public face of the events in the catalog's layers -----------------------------------

#: the ``source`` of every event layer feature (its ``source_id`` is the event id)
LAYER_SOURCE = "city_events"
_GEOM_KIND = {
    "Point": GeomType.POINT,
    "LineString": GeomType.LINE,
    "MultiLineString": GeomType.LINE,
    "Polygon": GeomType.POLYGON,
    "MultiPolygon": GeomType.POLYGON,
}


def geometry_kind(geom_type: str) -> GeomType:
    """Return the kind of event layer a geometry type is drawn in."""
    return _GEOM_KIND[geom_type]


def _utc_text(value: dt.datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _project(
    store: Store, conn: sa.Connection, kinds: Iterable[GeomType] | None = None
) -> list[str]:
    """Write the public face of every event into the event layer of its geometry kind (only
    the layers of ``kinds``, when given) in the caller's transaction; return the ids of the
    layers written.

    Every event of a kind is written each time and the store's load keeps only what differs
    (rows hashed; the features of events gone from the kind deleted), so the layers mirror
    ``city_events`` exactly. The whole table is read: the city has hundreds of events at a
    time (the AZhK week: 86), a few milliseconds. A layer already equal is not written at
    all (no provenance line, no change-log entry).
    """
    events, _ = _tables(store)
    rows = conn.execute(sa.select(events)).mappings().all()
    wanted = set(EVENT_LAYERS) if kinds is None else set(kinds)
    by_kind: dict[GeomType, list[dict[str, Any]]] = {k: [] for k in wanted}
    geoms: dict[GeomType, list[BaseGeometry]] = {k: [] for k in wanted}
    for r in rows:
        kind = geometry_kind(r["geom_type"])
        if kind not in wanted:
            continue
        by_kind[kind].append(
            {
                "source_id": str(r["id"]),
                "event_id": int(r["id"]),
                "kind": r["kind"],
                "severity": r["severity"],
                "status": r["status"],
                "title": r["title"],
                "address": r["address"] or None,
                "description": r["description"] or None,
                "starts_at": _utc_text(r["starts_at"]),
                "ends_at": _utc_text(r["ends_at"]),
                "provider": r["source"],
                "source_url": r["source_url"] or None,
            }
        )
        geoms[kind].append(shapely.from_wkb(bytes(r["geom_wkb"])))
    batches = []
    for kind in sorted(wanted, key=lambda k: k.value):
        batch = derived_batch(
            conn, EVENT_LAYERS[kind], by_kind[kind], geoms[kind], source=LAYER_SOURCE, what="event"
        )
        if batch is not None:
            batches.append(batch)
    store.load_in(conn, batches)
    return [b.layer.id for b in batches]


def sync_layers(store: Store) -> list[str]:
    """Bring the event layers in line with ``city_events`` (a store whose events were
    written before the layers existed); return the ids of the layers written."""
    with store.write_transaction() as conn:
        return _project(store, conn)


def _publish(action: str, event: CityEvent) -> None:
    twin.live.publish(TOPIC, {"action": action, "event": event.summary()})


# -- staff writes ----------------------------------------------------------------------------


def create(store: Store, fields: Mapping[str, Any], *, author: str) -> CityEvent:
    """Post a new event (staff); publish it; return it."""
    values = clean(fields, city=city_area(store))
    events, updates = _tables(store)
    now = now_utc()
    with store.write_transaction() as conn:
        row = {
            "source": STAFF_SOURCE,
            "source_id": "",
            "description": "",
            "address": "",
            "note": "",
            "ends_at": None,
            **_columns(values),
            "properties": "{}",
            "source_url": "",
            "licence": "",
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "created_by": author,
        }
        new_id = conn.execute(sa.insert(events).values(**row).returning(events.c.id)).scalar_one()
        # staff events are their own source; the id is the stable key
        conn.execute(
            sa.update(events).where(events.c.id == new_id).values(source_id=f"staff-{new_id}")
        )
        conn.execute(
            sa.insert(updates).values(
                event_id=new_id,
                at=now,
                status=values["status"],
                text="",
                changed=dumps(sorted(values)),
                author=author,
            )
        )
        _project(store, conn, [geometry_kind(values["geometry"].geom_type)])
    event = get(store, int(new_id))
    _publish("created", event)
    return event


def update(
    store: Store,
    event_id: int,
    fields: Mapping[str, Any],
    *,
    author: str,
    text: str = "",
    expect_version: int | None = None,
) -> CityEvent:
    """Change an event (staff), with an optional public update ``text``; publish it."""
    text = _text(text, "text")
    if not fields and not text:
        raise BadInput("nothing to change: give fields to change or an update text")
    events, updates = _tables(store)
    now = now_utc()
    city = city_area(store)
    with store.write_transaction() as conn:
        row = conn.execute(sa.select(events).where(events.c.id == event_id)).mappings().first()
        if row is None:
            raise NotFound(f"no event {event_id}")
        if expect_version is not None and int(row["version"]) != expect_version:
            raise BadInput(
                f"event {event_id} changed meanwhile (version {row['version']}, not "
                f"{expect_version}): reload it and try again"
            )
        base = dict(row)
        base["geometry"] = shapely.from_wkb(bytes(row["geom_wkb"]))
        values = clean(fields, city=city, base=base)
        if (
            values.get("status") == "resolved"
            and base["ends_at"] is None
            and ("ends_at" not in values)
        ):
            values["ends_at"] = max(now, base["starts_at"] + dt.timedelta(seconds=1))
        changed = sorted(k for k, v in values.items() if base.get(k) != v)
        conn.execute(
            sa.update(events)
            .where(events.c.id == event_id)
            .values(**_columns(values), version=events.c.version + 1, updated_at=now)
        )
        conn.execute(
            sa.insert(updates).values(
                event_id=event_id,
                at=now,
                status=values.get("status", row["status"]),
                text=text,
                changed=dumps(changed),
                author=author,
            )
        )
        new_geom = values.get("geometry", base["geometry"])
        _project(store, conn, {geometry_kind(base["geom_type"]), geometry_kind(new_geom.geom_type)})
    event = get(store, event_id)
    _publish("changed", event)
    return event


# -- reading ---------------------------------------------------------------------------------


def get(store: Store, event_id: int) -> CityEvent:
    """Return one event with its updates (oldest first)."""
    events, updates = _tables(store)
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(events).where(events.c.id == event_id)).mappings().first()
        if row is None:
            raise NotFound(f"no event {event_id}")
        event = _event(row)
        for u in conn.execute(
            sa.select(updates).where(updates.c.event_id == event_id).order_by(updates.c.id)
        ).mappings():
            event.updates.append(
                {
                    "at": iso(u["at"]),
                    "status": u["status"],
                    "text": u["text"],
                    "changed": json.loads(u["changed"] or "[]"),
                }
            )
    return event


def find(
    store: Store,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    kinds: Iterable[str] | None = None,
    statuses: Iterable[str] | None = LIVE_STATUSES,
    bbox: tuple[float, float, float, float] | None = None,
    limit: int = MAX_LIST,
) -> list[CityEvent]:
    """Return the events live at some time in [start, end) (either bound may be open),
    optionally of ``kinds``/``statuses`` and meeting ``bbox``, by start time."""
    events, _ = _tables(store)
    q = sa.select(events)
    if start is not None:
        q = q.where(sa.or_(events.c.ends_at.is_(None), events.c.ends_at > start))
    if end is not None:
        q = q.where(events.c.starts_at < end)
    if kinds is not None:
        q = q.where(events.c.kind.in_([check_choice(k, KINDS, "kind") for k in kinds]))
    if statuses is not None:
        q = q.where(events.c.status.in_([check_choice(s, STATUSES, "status") for s in statuses]))
    if bbox is not None:
        x0, y0, x1, y1 = bbox
        q = q.where(
            events.c.maxx >= x0, events.c.minx <= x1, events.c.maxy >= y0, events.c.miny <= y1
        )
    q = q.order_by(events.c.starts_at, events.c.id).limit(limit)
    with store.engine.connect() as conn:
        return [_event(r) for r in conn.execute(q).mappings()]


def affecting(
    store: Store, lon: float, lat: float, start: dt.datetime, end: dt.datetime
) -> list[CityEvent]:
    """Return the events live in [start, end) whose area or line is within :data:`NEAR_M`
    metres of (lon, lat), nearest first."""
    if not (np.isfinite(lon) and np.isfinite(lat)) or abs(lon) > 180 or abs(lat) > 90:
        raise BadInput(f"({lon}, {lat}) is not a longitude/latitude pair")
    return affecting_place(store, shapely.Point(lon, lat), start, end)


def affecting_place(
    store: Store, place: shapely.Geometry, start: dt.datetime, end: dt.datetime
) -> list[CityEvent]:
    """Return the events live in [start, end) whose area or line is within :data:`NEAR_M`
    metres of ``place`` (a point, or a whole street), nearest first."""
    pad = 0.001  # ~80 m either way: the box prefilter, then exact metres
    x0, y0, x1, y1 = shapely.bounds(place).tolist()
    found = find(store, start=start, end=end, bbox=(x0 - pad, y0 - pad, x1 + pad, y1 + pad))
    here = shapely.transform(place, _metric_coords)
    near: list[tuple[float, CityEvent]] = []
    for event in found:
        metric = shapely.transform(event.geometry, _metric_coords)
        d = float(metric.distance(here))
        if d <= NEAR_M:
            near.append((d, event))
    near.sort(key=lambda p: (p[0], p[1].starts_at))
    return [e for _, e in near]


def _metric_coords(coords: np.ndarray) -> np.ndarray:
    x, y = _TO_METRIC.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def road_closures(store: Store, at: dt.datetime | None = None) -> list[tuple[int, BaseGeometry]]:
    """Return (id, geometry) of the road closures in force at ``at`` (default: now)."""
    at = at or now_utc()
    closures = find(
        store,
        start=at,
        end=at + dt.timedelta(microseconds=1),
        kinds=["road_closure"],
        statuses=LIVE_STATUSES,
    )
    return [(e.id, e.geometry) for e in closures if e.starts_at <= at]


# -- loading files -----------------------------------------------------------------------------


@dataclass
class Rejected:
    """A row of a source file that was not loaded, and why."""

    row: int
    source_id: str | None
    reason: str
    properties: dict[str, Any] = field(default_factory=dict)
    wkt: str | None = None


@dataclass
class LoadResult:
    """What a load of one file did."""

    source: str
    rows: int
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)


def load_records(
    store: Store,
    records: Sequence[Mapping[str, Any]],
    *,
    source: str,
    file: str,
    sha256: str,
    licence: str,
    rejected: Sequence[Rejected] = (),
) -> LoadResult:
    """Load event records read from a file (see :mod:`etl.azhk`) in one transaction.

    Each record has ``row``, ``source_id``, the editable fields, and optionally
    ``properties`` (the source's own public fields) and ``source_url``. Records failing the
    checks are quarantined with their row and reason, as are the reader's ``rejected``; the
    rest are inserted, or updated where the same (source, source_id) changed.
    """
    events, updates = _tables(store)
    city = city_area(store)
    result = LoadResult(source=source, rows=len(records) + len(rejected))
    result.rejected.extend(rejected)
    now = now_utc()
    good: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    for rec in records:
        sid = str(rec.get("source_id") or "")
        where = f"{file} row {rec.get('row')}" + (f" ({sid})" if sid else "")
        try:
            if not sid:
                raise BadInput(f"{where}: no id")
            if sid in seen:
                raise BadInput(f"{where}: id {sid!r} appears twice")
            fields = {k: rec[k] for k in EDITABLE if k in rec}
            values = clean(fields, city=city, where=where)
        except BadInput as exc:
            result.rejected.append(
                Rejected(int(rec.get("row") or 0), sid or None, exc.detail, _plain(rec))
            )
            continue
        seen.add(sid)
        cols = _columns(values)
        cols["properties"] = dumps(rec.get("properties") or {})
        cols["source_url"] = str(rec.get("source_url") or "")
        cols["licence"] = licence
        good.append((sid, cols))
    with store.write_transaction() as conn:
        existing = {
            r.source_id: r for r in conn.execute(sa.select(events).where(events.c.source == source))
        }
        for sid, cols in good:
            old = existing.get(sid)
            if old is None:
                new_id = conn.execute(
                    sa.insert(events)
                    .values(
                        {
                            "description": "",
                            "address": "",
                            "note": "",
                            "ends_at": None,
                            **cols,
                            "source": source,
                            "source_id": sid,
                            "version": 1,
                            "created_at": now,
                            "updated_at": now,
                            "created_by": f"load:{file}",
                        }
                    )
                    .returning(events.c.id)
                ).scalar_one()
                conn.execute(
                    sa.insert(updates).values(
                        event_id=new_id, at=now, status=cols["status"], text="",
                        changed="[]", author=f"load:{file}",
                    )
                )  # fmt: skip
                result.inserted += 1
                continue
            old_map = old._mapping
            changed = sorted(k for k, v in cols.items() if k in old_map and _differs(old_map[k], v))
            if not changed:
                result.unchanged += 1
                continue
            conn.execute(
                sa.update(events)
                .where(events.c.id == old.id)
                .values(**cols, version=events.c.version + 1, updated_at=now)
            )
            conn.execute(
                sa.insert(updates).values(
                    event_id=old.id, at=now, status=cols["status"], text="",
                    changed=dumps(changed), author=f"load:{file}",
                )
            )  # fmt: skip
            result.updated += 1
        q = store.quarantine_table
        conn.execute(sa.delete(q).where(q.c.source == source, q.c.layer == "city_events"))
        stamp = now.isoformat(timespec="seconds") + "Z"
        if result.rejected:
            conn.execute(
                sa.insert(q),
                [
                    {
                        "source": source,
                        "layer": "city_events",
                        "file": file,
                        "row": r.row,
                        "source_id": r.source_id,
                        "reason": r.reason,
                        "properties": dumps(r.properties),
                        "wkt": r.wkt,
                        "loaded_at": stamp,
                    }
                    for r in result.rejected
                ],
            )
        conn.execute(
            sa.insert(store.provenance_table).values(
                source=source,
                layer="city_events",
                file=file,
                sha256=sha256,
                rows_loaded=result.inserted + result.updated + result.unchanged,
                rows_rejected=len(result.rejected),
                inserted=result.inserted,
                updated=result.updated,
                deleted=0,
                licence=licence,
                loaded_at=stamp,
            )
        )
        _project(store, conn)
    if result.inserted or result.updated:
        twin.live.publish(
            TOPIC,
            {"action": "loaded", "source": source, "inserted": result.inserted,
             "updated": result.updated},
        )  # fmt: skip
    return result


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, memoryview):
        old = bytes(old)
    if isinstance(old, float) or isinstance(new, float):
        return bool(old is None or new is None or abs(float(old) - float(new)) > 1e-12)
    return bool(old != new)


def _plain(rec: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in rec.items():
        if k == "geometry":
            continue
        out[k] = v if isinstance(v, str | int | float | bool | type(None)) else str(v)
    return out


def file_sha256(data: bytes) -> str:
    """The checksum recorded in the provenance of a load."""
    return hashlib.sha256(data).hexdigest()
