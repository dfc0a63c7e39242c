"""The public face of the budget cycles on the map: every application of every cycle as a
feature of the ``budget_cycle_projects`` layer (:data:`layers.programme.BUDGET_CYCLE_PROJECTS`).

Why a layer and not an endpoint the map reads: a layer is what the map, the time slider, the
feature card, search, ratings, tiles and the OGC collection all derive from; writing the cycles'
projects into one gets every one of them unchanged, the way the city events do
(:mod:`twin.events.service`). The cycles stay the record (``budget_*`` tables); this layer is
written from them in the same transaction as every change that moves a project — a
submission, a review, a phase change (counting included), progress of works — through the
store's ordinary load (source ``budget_cycles``, ``source_id`` = the application id), so the
change log moves and cached tiles under the project drop.

What a project's ``status`` is, from its cycle's phase and its own review and count:

============================  ========================================================
application                   submitted, the cycle still takes applications
review                        submitted, the cycle in technical review
rejected                      failed the technical review
ballot                        accepted to the ballot (until the votes are counted)
won / lost                    counted: a winner in the results phase / not funded
implementation                a winner while its works run (progress below 100 %)
done                          a winner whose works are finished, or whose cycle is done
============================  ========================================================

The stage dates (``applied_on`` … ``done_on``) are the cycle's planned phase dates, set only
for the stages a project has reached, so the time slider replays a cycle: at a date a project
shows the latest stage it had reached by then. Votes appear only once counted (the count is
public then, never before). The account that applied is never copied here.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import sqlalchemy as sa
from shapely.geometry import Point

from etl.transform import conform
from layers.programme import BUDGET_CYCLE_PROJECTS as LAYER
from layers.programme import BUDGET_STAGE_DATES
from twin.budget.phases import Phase, at_least
from twin.core.errors import StoreError
from twin.store import Batch, Store
from twin.store.loading import row_hashes

#: the layer's source: the rows written from the cycles
SOURCE = "budget_cycles"


def _day(value: Any) -> datetime.date | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def _clip(day: datetime.date | None, low: datetime.date, high: datetime.date) -> datetime.date:
    """Return ``day`` within [low, high] (low when unknown): a demo row written at load time,
    or a review recorded outside its phase, still lands in the right stage."""
    if day is None or day < low:
        return low
    return min(day, high)


def _stamp_day(seconds: Any) -> datetime.date | None:
    if seconds is None:
        return None
    return datetime.datetime.fromtimestamp(float(seconds), tz=datetime.UTC).date()


def project_state(
    cycle: Mapping[Any, Any], app: Mapping[Any, Any]
) -> tuple[str, dict[str, datetime.date | None]]:
    """Return a project's status (see the module's table) and its stage dates.

    >>> cycle = {"phase": "implementation", **{f"{p}_from": datetime.date(2025, m, 1)
    ...          for p, m in [("applications", 1), ("review", 4), ("voting", 5),
    ...                       ("results", 6), ("implementation", 7), ("done", 12)]}}
    >>> app = {"status": "accepted", "selected": False, "progress": None,
    ...        "work_finished": None, "work_started": None, "submitted_at": None,
    ...        "reviewed_at": None}
    >>> status, dates = project_state(cycle, app)
    >>> status, str(dates["ballot_on"]), str(dates["lost_on"]), dates["won_on"]
    ('lost', '2025-05-01', '2025-06-01', None)
    """
    phase = cycle["phase"]
    plan = {p: _day(cycle[f"{p.value}_from"]) for p in Phase}
    dates: dict[str, datetime.date | None] = dict.fromkeys(p for _, p in BUDGET_STAGE_DATES)
    first, review, voting = plan[Phase.APPLICATIONS], plan[Phase.REVIEW], plan[Phase.VOTING]
    assert first is not None and review is not None and voting is not None
    # a submission is dated within the call (a day before review at the latest, so the slider
    # shows the application before its review even for a cycle whose calendar is past)
    last_day = max(first, review - datetime.timedelta(days=1))
    dates["applied_on"] = _clip(_stamp_day(app["submitted_at"]), first, last_day)
    if at_least(phase, Phase.REVIEW):
        dates["review_on"] = review
    review_status = app["status"]
    if review_status == "rejected":
        dates["rejected_on"] = _clip(_stamp_day(app["reviewed_at"]), review, voting)
        return "rejected", dates
    if review_status == "submitted":
        return ("review" if at_least(phase, Phase.REVIEW) else "application"), dates
    # accepted: on the ballot from the vote's opening (or now, when accepted before it)
    dates["ballot_on"] = voting
    if not at_least(phase, Phase.RESULTS) or app["selected"] is None:
        return "ballot", dates
    if not app["selected"]:
        dates["lost_on"] = plan[Phase.RESULTS]
        return "lost", dates
    dates["won_on"] = plan[Phase.RESULTS]
    if not at_least(phase, Phase.IMPLEMENTATION):
        return "won", dates
    dates["works_on"] = _day(app["work_started"]) or plan[Phase.IMPLEMENTATION]
    finished = _day(app["work_finished"])
    if finished is not None or (app["progress"] or 0) >= 100 or phase == Phase.DONE.value:
        dates["done_on"] = finished or plan[Phase.DONE]
        return "done", dates
    return "implementation", dates


def _features(conn: sa.Connection, store: Store) -> tuple[list[dict[str, Any]], list[Point]]:
    t = store.metadata.tables
    cycles, apps = t["budget_cycles"], t["budget_applications"]
    by_id = {r["id"]: r for r in conn.execute(sa.select(cycles)).mappings()}
    rows: list[dict[str, Any]] = []
    points: list[Point] = []
    for app in conn.execute(sa.select(apps).order_by(apps.c.id)).mappings():
        cycle = by_id[app["cycle_id"]]
        status, dates = project_state(cycle, app)
        counted = at_least(cycle["phase"], Phase.RESULTS) and app["votes"] is not None
        cost = app["checked_cost_kzt"] if app["checked_cost_kzt"] is not None else app["cost_kzt"]
        rows.append(
            {
                "source_id": str(app["id"]),
                "synthetic": bool(app["synthetic"]),
                "title": app["title"],
                "status": status,
                "category": app["category"],
                "district": cycle["district"],
                "year": int(cycle["year"]),
                "cost_kzt": int(cost),
                "votes": int(app["votes"]) if counted else None,
                "progress": app["progress"] if status in ("implementation", "done") else None,
                "description": app["description"],
                "review_reason": app["review_reason"],
                **{k: (None if v is None else v.isoformat()) for k, v in dates.items()},
                "cycle_id": int(cycle["id"]),
                "project_id": int(app["id"]),
            }
        )
        points.append(Point(float(app["lon"]), float(app["lat"])))
    return rows, points


def project(store: Store, conn: sa.Connection) -> bool:
    """Write every cycle's projects into the layer in the caller's write transaction; return
    whether anything changed (an equal layer is not written: no provenance line, no change-log
    entry). Every cycle is read each time (a city has a few hundred projects a year; a few
    milliseconds) and the load keeps only what differs."""
    rows, points = _features(conn, store)
    raw = gpd.GeoDataFrame(rows or {"source_id": []}, geometry=points or [], crs=4326)
    flags = raw.pop("synthetic").astype(bool) if len(raw) else False
    result = conform(raw, LAYER, origin=SOURCE, id_column="source_id", synthetic=flags)
    if result.rejected:  # the budget's own checks are stricter: a bug, not bad input
        bad = result.rejected[0]
        raise StoreError(f"budget project {bad.source_id}: {bad.reason}")
    frame = result.frame
    hashes = row_hashes(frame, LAYER) if len(frame) else []
    stored: dict[str, str] = dict(
        conn.execute(
            sa.text(f'SELECT source_id, row_hash FROM "{LAYER.table}" WHERE source = :s'),
            {"s": SOURCE},
        ).fetchall()
    )
    if stored == dict(zip(frame["source_id"].astype(str), hashes, strict=True)):
        return False
    digest = hashlib.sha256(json.dumps(hashes).encode()).hexdigest()
    batch = Batch(LAYER, SOURCE, frame, "budget_cycles", digest, LAYER.licence, replace=True)
    store.load_in(conn, [batch])
    return True
