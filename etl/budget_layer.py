"""The public face of the budget cycles on the map: every application of every cycle as a
feature of the ``budget_cycle_projects`` layer (:data:`layers.programme.BUDGET_CYCLE_PROJECTS`),
a point at its place's centre, and the applications located by an area (a yard, a square) also
as polygons of ``budget_cycle_areas`` with the same properties (one layer per geometry type,
as the city events have: the points carry ratings, search and the card at every zoom, the
areas show the ground a project covers).

Why a layer and not an endpoint the map reads: a layer is what the map, the time slider, the
feature card, search, ratings, tiles and the OGC collection all derive from; writing the cycles'
projects into one gets every one of them unchanged, the way the city events do
(:mod:`twin.events.service`). The cycles stay the record (``budget_*`` tables); this layer is
written from them in the same transaction as every change that moves a project — a
submission, a review, a phase change (counting included), progress of works — through the
store's ordinary load (source ``budget_cycles``, ``source_id`` = the application id; the load
is the city events' too, :func:`etl.derived.derived_batch`), so the change log moves and cached
tiles under the project drop.

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

The stage dates (``applied_on`` … ``done_on``) are the days the cycle's phases began — the day
staff moved it on where recorded (``budget_phase_changes``), the planned day otherwise — set
only for the stages a project has reached, so the time slider replays a cycle: at a date a project
shows the latest stage it had reached by then. Votes appear only once counted (the count is
public then, never before). The account that applied is never copied here.
"""

from __future__ import annotations

import datetime
import json
import time
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from etl.derived import derived_batch
from layers.programme import BUDGET_CYCLE_AREAS as AREAS
from layers.programme import BUDGET_CYCLE_PROJECTS as LAYER
from layers.programme import BUDGET_STAGE_DATES
from twin.core import budget_counting as counting
from twin.core.budget_phases import Phase, at_least
from twin.store import Store

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


def phase_dates(
    cycle: Mapping[Any, Any], started: Mapping[str, datetime.date] | None = None
) -> dict[Phase, datetime.date]:
    """Return the day each phase of ``cycle`` began: the day staff moved the cycle into it
    where recorded (``started``), else the planned day — never before the phase before it (a
    phase moved early or late does not reorder the calendar).

    >>> cycle = {f"{p}_from": datetime.date(2025, m, 1) for p, m in [("applications", 1),
    ...          ("review", 4), ("voting", 5), ("results", 6), ("implementation", 7),
    ...          ("done", 12)]}
    >>> days = phase_dates(cycle, {"review": datetime.date(2025, 5, 20)})
    >>> str(days[Phase.REVIEW]), str(days[Phase.VOTING]), str(days[Phase.RESULTS])
    ('2025-05-20', '2025-05-20', '2025-06-01')
    """
    out: dict[Phase, datetime.date] = {}
    before: datetime.date | None = None
    for p in Phase:
        day = (started or {}).get(p.value) or _day(cycle[f"{p.value}_from"])
        assert day is not None
        if before is not None and day < before:
            day = before
        out[p] = before = day
    return out


def project_state(
    cycle: Mapping[Any, Any],
    app: Mapping[Any, Any],
    started: Mapping[str, datetime.date] | None = None,
) -> tuple[str, dict[str, datetime.date | None]]:
    """Return a project's status (see the module's table) and its stage dates (from
    :func:`phase_dates`: the days staff moved the cycle on where recorded in ``started``,
    the planned ones otherwise).

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
    plan = phase_dates(cycle, started)
    dates: dict[str, datetime.date | None] = dict.fromkeys(p for _, p in BUDGET_STAGE_DATES)
    first, review, voting = plan[Phase.APPLICATIONS], plan[Phase.REVIEW], plan[Phase.VOTING]
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


def _features(
    conn: sa.Connection, store: Store
) -> tuple[list[dict[str, Any]], list[Point], list[tuple[int, BaseGeometry]]]:
    """Return every project's properties and point, and (row index, area) of those located by
    an area."""
    t = store.metadata.tables
    cycles, apps = t["budget_cycles"], t["budget_applications"]
    by_id = {r["id"]: r for r in conn.execute(sa.select(cycles)).mappings()}
    started: dict[int, dict[str, datetime.date]] = {}
    changes = t["budget_phase_changes"]
    for cycle_id, phase, at in conn.execute(
        sa.select(changes.c.cycle_id, changes.c.phase, changes.c.at)
    ):
        day = _stamp_day(at)
        assert day is not None
        started.setdefault(int(cycle_id), {})[phase] = day
    rows: list[dict[str, Any]] = []
    points: list[Point] = []
    areas: list[tuple[int, BaseGeometry]] = []
    for app in conn.execute(sa.select(apps).order_by(apps.c.id)).mappings():
        cycle = by_id[app["cycle_id"]]
        status, dates = project_state(cycle, app, started.get(int(cycle["id"])))
        counted = at_least(cycle["phase"], Phase.RESULTS) and app["votes"] is not None
        cost = app["checked_cost_kzt"] if app["checked_cost_kzt"] is not None else app["cost_kzt"]
        if '"Polygon"' in app["geometry"]:
            areas.append((len(rows), shape(json.loads(app["geometry"]))))
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
    return rows, points, areas


def project(store: Store, conn: sa.Connection) -> bool:
    """Write every cycle's projects into the layers in the caller's write transaction — each
    project's point into ``budget_cycle_projects``, the area of one located by an area also
    into ``budget_cycle_areas`` — and return whether anything changed (an equal layer is not
    written: no provenance line, no change-log entry). Every cycle is read each time (a city
    has a few hundred projects a year; a few milliseconds) and the load keeps only what
    differs."""
    rows, points, areas = _features(conn, store)
    batches = []
    for layer, layer_rows, geoms in (
        (LAYER, rows, points),
        (AREAS, [rows[i] for i, _ in areas], [g for _, g in areas]),
    ):
        batch = derived_batch(conn, layer, layer_rows, geoms, source=SOURCE, what="budget project")
        if batch is not None:
            batches.append(batch)
    if not batches:
        return False
    store.load_in(conn, batches)
    return True


# -- counting into the store ------------------------------------------------------------------
# Here and not in twin.budget: a load through the etl alone (the generated past cycles) must
# leave the map's layer drawn with who won, so the etl counts what it loads (the rules are the
# core's, twin.core.budget_counting); the service counts through the same functions.
def ballots_of(conn: sa.Connection, store: Store, cycle_id: int) -> list[frozenset[int]]:
    """Return a cycle's ballots as sets of project ids (no account: for counting and export)."""
    t = store.metadata.tables
    ballots, items = t["budget_ballots"], t["budget_ballot_items"]
    groups: dict[int, set[int]] = defaultdict(set)
    rows = conn.execute(
        sa.select(items.c.ballot_id, items.c.application_id)
        .join(ballots, ballots.c.id == items.c.ballot_id)
        .where(ballots.c.cycle_id == cycle_id)
    )
    for ballot_id, app_id in rows:
        groups[ballot_id].add(app_id)
    return [frozenset(s) for s in groups.values()]


def costs_of(conn: sa.Connection, store: Store, cycle_id: int) -> dict[int, int]:
    """Return the checked (else estimated) cost of each accepted project of a cycle."""
    apps = store.metadata.tables["budget_applications"]
    rows = conn.execute(
        sa.select(apps.c.id, apps.c.cost_kzt, apps.c.checked_cost_kzt).where(
            apps.c.cycle_id == cycle_id, apps.c.status == "accepted"
        )
    )
    return {i: int(c if k is None else k) for i, c, k in rows}


def count_into(conn: sa.Connection, store: Store, cycle_id: int) -> counting.Outcome:
    """Count a cycle's ballots and store each project's votes, whether it won, and a work at 0%
    for each winner; keep the outcome (results are read, never recounted)."""
    t = store.metadata.tables
    cycles, apps, kept = t["budget_cycles"], t["budget_applications"], t["budget_outcomes"]
    cycle = conn.execute(sa.select(cycles).where(cycles.c.id == cycle_id)).mappings().one()
    costs = costs_of(conn, store, cycle_id)
    ballots = ballots_of(conn, store, cycle_id)
    outcome = counting.count(costs, ballots, int(cycle["budget_kzt"]), cycle["rule"])
    won = set(outcome.winners)
    for pid in costs:
        conn.execute(
            apps.update()
            .where(apps.c.id == pid)
            .values(
                votes=outcome.votes[pid],
                selected=pid in won,
                progress=sa.func.coalesce(apps.c.progress, 0) if pid in won else None,
            )
        )
    conn.execute(
        cycles.update()
        .where(cycles.c.id == cycle_id)
        .values(counted_at=time.time(), ballots_counted=outcome.ballots)
    )
    conn.execute(kept.delete().where(kept.c.cycle_id == cycle_id))
    conn.execute(kept.insert().values(cycle_id=cycle_id, outcome=counting.to_json(outcome)))
    return outcome


def settle(store: Store) -> bool:
    """Count every cycle past voting that never was (a generated cycle is written uncounted)
    and bring the ``budget_cycle_projects`` layer in line with the cycles, in one write
    transaction; return whether the layer was written."""
    cycles = store.metadata.tables["budget_cycles"]
    with store.write_transaction() as conn:
        uncounted = conn.execute(
            sa.select(cycles.c.id, cycles.c.phase).where(cycles.c.counted_at.is_(None))
        ).all()
        for cycle_id, phase in uncounted:
            if at_least(phase, Phase.RESULTS):
                count_into(conn, store, int(cycle_id))
        return project(store, conn)
