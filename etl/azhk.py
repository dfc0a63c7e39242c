"""Reader of the planned power outages published by АО «Алатау Жарық Компаниясы» (AZhK), as
the GeoJSON of njuorju/almaty-planned-outages-map: one feature per outage with ``event_id``,
``utility_type``, ``date`` (dd.mm.yyyy), ``time`` ("08:00–17:00", local), ``res`` (district
grid unit), ``equip``, ``repair``, ``address``, ``zone``, ``confidence`` and ``source_url``.

It only turns the file into event records (the fields of :mod:`twin.events`) and names what it
cannot read; checking and loading are the events domain's. A file that is not such a GeoJSON
is refused as a whole (:class:`SourceError`); a feature with a bad date or time is rejected
with its row and reason, and the rest load.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twin.core.errors import SourceError

SOURCE = "azhk"
LICENCE = (
    "schedule: АО «Алатау Жарық Компаниясы» (azhk.kz); areas derived from OpenStreetMap "
    "(© OpenStreetMap contributors, ODbL) by njuorju/almaty-planned-outages-map (MIT)"
)
REQUIRED = ("event_id", "date", "time", "utility_type")
_KIND = {
    "electricity": "outage_electricity",
    "water": "outage_water",
    "heating": "outage_heating",
    "gas": "outage_gas",
}
_NAME = {
    "outage_electricity": "электроэнергии",
    "outage_water": "воды",
    "outage_heating": "отопления",
    "outage_gas": "газа",
}
_TIME = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*[–—-]\s*(\d{1,2})[:.](\d{2})\s*$")
#: The source's own fields kept on the event (public).
KEPT = ("provider", "res", "equip", "repair", "zone", "method", "confidence", "day_label")


@dataclass
class RejectedRow:
    """A feature that could not be read, and why."""

    row: int
    source_id: str | None
    reason: str
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class AzhkFile:
    """The records read from one file, and the rows that could not be."""

    records: list[dict[str, Any]]
    rejected: list[RejectedRow]
    raw: bytes


def _times(date_text: str, time_text: str) -> tuple[str, str]:
    try:
        day = dt.datetime.strptime(date_text.strip(), "%d.%m.%Y").date()
    except ValueError:
        raise ValueError(f"date {date_text!r} is not dd.mm.yyyy") from None
    m = _TIME.match(time_text)
    if not m:
        raise ValueError(f"time {time_text!r} is not 'HH:MM–HH:MM'")
    h0, m0, h1, m1 = (int(g) for g in m.groups())
    try:
        start = dt.datetime.combine(day, dt.time(h0, m0))
        end = dt.datetime.combine(day, dt.time(h1, m1)) if h1 < 24 else None
    except ValueError:
        raise ValueError(f"time {time_text!r} is not a time of day") from None
    if end is None:
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
    # local (Asia/Almaty) times without an offset: the events domain reads them as local
    return start.isoformat(), end.isoformat()


def read_azhk(path: Path) -> AzhkFile:
    """Read an AZhK outage GeoJSON into event records (``row`` counts features from 1)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"{path.name}: not JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise SourceError(f"{path.name}: not a GeoJSON FeatureCollection")
    features = doc.get("features")
    if not isinstance(features, list):
        raise SourceError(f"{path.name}: 'features' is not a list")
    records: list[dict[str, Any]] = []
    rejected: list[RejectedRow] = []
    for row, feature in enumerate(features, start=1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict):
            raise SourceError(f"{path.name} row {row}: not a GeoJSON feature with properties")
        missing = [k for k in REQUIRED if not props.get(k)]
        if missing:
            raise SourceError(
                f"{path.name} row {row}: no {', '.join(missing)} — not an AZhK outage file"
            )
        sid = str(props["event_id"])
        kind = _KIND.get(str(props["utility_type"]))
        try:
            if kind is None:
                raise ValueError(f"utility_type {props['utility_type']!r} is unknown")
            starts, ends = _times(str(props["date"]), str(props["time"]))
        except ValueError as exc:
            rejected.append(RejectedRow(row, sid, f"{path.name} row {row} ({sid}): {exc}", props))
            continue
        zone = str(props.get("zone") or "").strip()
        details = ", ".join(
            str(props[k]).strip() for k in ("res", "equip", "repair") if props.get(k)
        )
        records.append(
            {
                "row": row,
                "source_id": sid,
                "kind": kind,
                "severity": "minor",
                "status": "planned" if props.get("status", "planned") == "planned" else "active",
                "title": f"Плановое отключение {_NAME[kind]}" + (f": {zone}" if zone else ""),
                "description": details,
                "address": str(props.get("address") or "").strip(),
                "starts_at": starts,
                "ends_at": ends,
                "geometry": feature.get("geometry"),
                "properties": {k: props[k] for k in KEPT if props.get(k) not in (None, "")},
                "source_url": str(props.get("source_url") or ""),
            }
        )
    return AzhkFile(records, rejected, raw)
