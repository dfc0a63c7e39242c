"""The participatory budget's process over the store: cycles and their phases, residents'
applications and staff review, ballots, counting and the works winners become.

Every write happens in one store write transaction that first re-reads the cycle, so a phase
change and a ballot cannot interleave: a ballot is either in before voting closed, or refused.
Residents are identified by ``account_id`` (from ``twin.core.access.require_account``); staff
actions carry a ``reviewer`` string for the record (an API key id or an account).

Secrecy: a ballot is only ever returned to its own account; project vote counts are returned
only once voting is over (``see the counts``); staff see turnout (how many ballots), never
who approved what.
"""

from __future__ import annotations

import datetime
import json
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import shapely
import sqlalchemy as sa
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

import layers
from etl import budget_layer as map_layer
from twin.core import budget_counting as counting
from twin.core.budget_phases import Phase, at_least, next_phase, require
from twin.core.errors import BadInput, Conflict, NotFound
from twin.live import publish
from twin.store import Store

#: the categories of projects residents may propose (id -> ru, kk, en titles)
CATEGORIES: dict[str, tuple[str, str, str]] = {
    "yards": ("Благоустройство дворов", "Аулаларды абаттандыру", "Courtyards"),
    "playgrounds": ("Детские площадки", "Балалар алаңдары", "Playgrounds"),
    "lighting": ("Освещение", "Жарықтандыру", "Lighting"),
    "sport": ("Спорт", "Спорт", "Sport"),
    "greening": ("Озеленение", "Көгалдандыру", "Greening"),
    "sidewalks": ("Тротуары", "Тротуарлар", "Sidewalks"),
    "accessibility": ("Доступная среда", "Қолжетімді орта", "Accessibility"),
    "safety": ("Безопасность", "Қауіпсіздік", "Safety"),
}

#: the largest district budget accepted (1 trillion tenge: anything above is a typo)
MAX_BUDGET_KZT = 10**12
MAX_TITLE, MAX_DESCRIPTION = 200, 5000
#: the most vertices an application's area may have (bounded work per request)
MAX_VERTICES = 500
#: an application's area: at most 1 km² (a park's scale; a yard, a square or a street's
#: stretch is far less), at least 10 m² (less is a slip of the mouse, not a place)
MAX_AREA_M2, MIN_AREA_M2 = 1_000_000, 10
#: how far beyond its district's boundary an area may reach (a yard drawn over the boundary
#: street; the district boundaries are not surveyed to the metre)
DISTRICT_MARGIN_M = 50
METRIC_CRS = "EPSG:32643"
#: the city's box (lon/lat): a project outside it is a mistake
ALMATY_BOX = (76.6, 43.0, 77.4, 43.5)


def _tables(store: Store) -> tuple[sa.Table, sa.Table, sa.Table, sa.Table]:
    t = store.metadata.tables
    return (
        t["budget_cycles"],
        t["budget_applications"],
        t["budget_ballots"],
        t["budget_ballot_items"],
    )


def _date(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value[:10]
    return str(value.isoformat())[:10]


def _stamp(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC).isoformat(timespec="seconds")


def _cycle_dict(
    row: Mapping[Any, Any], changes: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """A cycle as the API gives it; ``changes`` are its phase changes by phase (``at``,
    ``by``): ``phases`` lists every phase with its planned start and, once staff moved the
    cycle into it, when (UTC) and who."""
    done = changes or {}
    return {
        "id": row["id"],
        "year": row["year"],
        "district": row["district"],
        "budget_kzt": int(row["budget_kzt"]),
        "rule": row["rule"],
        "phase": row["phase"],
        "schedule": {p.value: _date(row[f"{p.value}_from"]) for p in Phase},
        "phases": [
            {
                "phase": p.value,
                "planned": _date(row[f"{p.value}_from"]),
                "started_at": _stamp(done[p.value]["at"]) if p.value in done else None,
                "started_by": done[p.value]["by"] if p.value in done else None,
            }
            for p in Phase
        ],
        "synthetic": bool(row["synthetic"]),
        "counted_at": row["counted_at"],
    }


def _changes(
    conn: sa.Connection, store: Store, cycle_ids: Sequence[int] | None = None
) -> dict[int, dict[str, dict[str, Any]]]:
    """Return the recorded phase changes by cycle and phase."""
    t = store.metadata.tables["budget_phase_changes"]
    q = sa.select(t)
    if cycle_ids is not None:
        q = q.where(t.c.cycle_id.in_(list(cycle_ids)))
    out: dict[int, dict[str, dict[str, Any]]] = {}
    for r in conn.execute(q).mappings():
        out.setdefault(int(r["cycle_id"]), {})[r["phase"]] = {"at": r["at"], "by": r["by"]}
    return out


def _money(value: Any, what: str, upper: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadInput(f"{what} must be a whole number of tenge")
    if isinstance(value, float) and (not math.isfinite(value) or value != int(value)):
        raise BadInput(f"{what} must be a whole number of tenge")
    amount = int(value)
    if amount <= 0:
        raise BadInput(f"{what} must be more than 0 tenge, not {amount}")
    if amount > upper:
        raise BadInput(f"{what} of {amount} tenge is more than the limit of {upper} tenge")
    return amount


def default_schedule(year: int) -> dict[str, datetime.date]:
    """Return the usual calendar of a cycle in ``year`` (applications from 15 January, review
    in April, voting in May, results in June, works from July, done at the end of next year)."""
    return {
        "applications": datetime.date(year, 1, 15),
        "review": datetime.date(year, 4, 1),
        "voting": datetime.date(year, 5, 1),
        "results": datetime.date(year, 6, 1),
        "implementation": datetime.date(year, 7, 1),
        "done": datetime.date(year + 1, 12, 31),
    }


# -- cycles ------------------------------------------------------------------------------
def create_cycle(
    store: Store,
    *,
    year: int,
    district: str,
    budget_kzt: int,
    rule: str = "greedy",
    schedule: Mapping[str, datetime.date] | None = None,
    synthetic: bool = False,
) -> dict[str, Any]:
    """Create a cycle in its applications phase; :class:`Conflict` when the district already
    has one for ``year``."""
    if not 2000 <= year <= 2100:
        raise BadInput(f"year must be between 2000 and 2100, not {year}")
    district = district.strip()
    if not district or len(district) > 100:
        raise BadInput("district must be a name of 1-100 characters")
    budget = _money(budget_kzt, "budget_kzt", MAX_BUDGET_KZT)
    if rule not in counting.RULES:
        raise BadInput(f"rule must be one of {', '.join(counting.RULES)}, not {rule!r}")
    plan = dict(default_schedule(year))
    unknown = set(schedule or {}) - set(plan)
    if unknown:
        raise BadInput(f"schedule has no phase {sorted(unknown)[0]!r}; phases: {', '.join(plan)}")
    plan.update(schedule or {})
    dates = [plan[p.value] for p in Phase]
    if dates != sorted(dates):
        raise BadInput("the phases' dates must follow the phases' order")
    cycles, *_ = _tables(store)
    with store.write_transaction() as conn:
        exists = conn.execute(
            sa.select(cycles.c.id).where(cycles.c.year == year, cycles.c.district == district)
        ).first()
        if exists:
            raise Conflict(f"{district} already has a budget cycle for {year} (#{exists[0]})")
        values = {f"{p.value}_from": plan[p.value] for p in Phase}
        new_id = conn.execute(
            cycles.insert().values(
                year=year,
                district=district,
                budget_kzt=budget,
                rule=rule,
                phase=Phase.APPLICATIONS.value,
                synthetic=synthetic,
                created_at=time.time(),
                **values,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    return get_cycle(store, int(new_id))


def _cycle_row(conn: sa.Connection, store: Store, cycle_id: int) -> Mapping[Any, Any]:
    cycles, *_ = _tables(store)
    row = conn.execute(sa.select(cycles).where(cycles.c.id == cycle_id)).mappings().first()
    if row is None:
        raise NotFound(f"no budget cycle {cycle_id}")
    return row


def _cycle_row_now(store: Store, cycle_id: int) -> Mapping[Any, Any]:
    with store.engine.connect() as conn:
        return _cycle_row(conn, store, cycle_id)


def get_cycle(store: Store, cycle_id: int) -> dict[str, Any]:
    """Return a cycle; :class:`NotFound` when there is none."""
    with store.engine.connect() as conn:
        row = _cycle_row(conn, store, cycle_id)
        return _cycle_dict(row, _changes(conn, store, [cycle_id]).get(cycle_id))


def list_cycles(
    store: Store, *, district: str | None = None, year: int | None = None
) -> list[dict[str, Any]]:
    """Return the cycles (newest year first), optionally of one district or year."""
    cycles, *_ = _tables(store)
    q = sa.select(cycles).order_by(cycles.c.year.desc(), cycles.c.district)
    if district is not None:
        q = q.where(cycles.c.district == district)
    if year is not None:
        q = q.where(cycles.c.year == year)
    with store.engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
        changes = _changes(conn, store)
    return [_cycle_dict(r, changes.get(int(r["id"]))) for r in rows]


def set_rules(
    store: Store, cycle_id: int, *, rule: str | None = None, budget_kzt: int | None = None
) -> dict[str, Any]:
    """Change a cycle's counting rule or budget: only before the first ballot is cast, so the
    rule a resident voted under is the rule that counts (CONSUL #5321)."""
    cycles, _, ballots, _ = _tables(store)
    values: dict[str, Any] = {}
    if rule is not None:
        if rule not in counting.RULES:
            raise BadInput(f"rule must be one of {', '.join(counting.RULES)}, not {rule!r}")
        values["rule"] = rule
    if budget_kzt is not None:
        values["budget_kzt"] = _money(budget_kzt, "budget_kzt", MAX_BUDGET_KZT)
    if not values:
        raise BadInput("nothing to change: give rule or budget_kzt")
    with store.write_transaction() as conn:
        row = _cycle_row(conn, store, cycle_id)
        require(row["phase"], "change the voting rule or budget")
        cast = conn.execute(
            sa.select(sa.func.count()).select_from(ballots).where(ballots.c.cycle_id == cycle_id)
        ).scalar_one()
        if cast:
            raise Conflict(
                f"{cast} ballots are already cast in cycle {cycle_id}: its rule and budget "
                "can no longer change"
            )
        conn.execute(cycles.update().where(cycles.c.id == cycle_id).values(**values))
    return get_cycle(store, cycle_id)


def advance(store: Store, cycle_id: int, *, by: str = "staff") -> dict[str, Any]:
    """Move a cycle to its next phase, recording when and who (``by``: the staff key or
    account). Voting opens only when every application is reviewed and at least one was
    accepted; when voting closes the ballots are counted and the winners become works."""
    cycles, apps, _, _ = _tables(store)
    changes = store.metadata.tables["budget_phase_changes"]
    with store.write_transaction() as conn:
        row = _cycle_row(conn, store, cycle_id)
        phase = Phase(row["phase"])
        target = next_phase(phase)
        if target is Phase.VOTING:
            pending, accepted = conn.execute(
                sa.select(
                    sa.func.count().filter(apps.c.status == "submitted"),
                    sa.func.count().filter(apps.c.status == "accepted"),
                ).where(apps.c.cycle_id == cycle_id)
            ).one()
            if pending:
                raise BadInput(f"{pending} applications still await review; voting cannot open")
            if not accepted:
                raise BadInput("no application was accepted; there is nothing to vote on")
        conn.execute(cycles.update().where(cycles.c.id == cycle_id).values(phase=target.value))
        conn.execute(
            changes.insert().values(cycle_id=cycle_id, phase=target.value, at=time.time(), by=by)
        )
        if target is Phase.RESULTS:
            map_layer.count_into(conn, store, cycle_id)
        map_layer.project(store, conn)
    out = get_cycle(store, cycle_id)
    # open maps redraw the cycle's projects in their new phase (nothing secret: no counts)
    publish("budget.cycle", {k: out[k] for k in ("id", "year", "district", "phase")})
    return out


# -- applications ---------------------------------------------------------------------------
def _metric(geom: BaseGeometry) -> BaseGeometry:
    """Return ``geom`` (EPSG:4326) in metres (UTM 43N)."""
    return gpd.GeoSeries([geom], crs=4326).to_crs(METRIC_CRS).iloc[0]


def _geometry(value: Any) -> tuple[BaseGeometry, float, float]:
    """Return a checked GeoJSON Point or Polygon (one ring, at most ``MAX_VERTICES``
    vertices, ``MIN_AREA_M2``-``MAX_AREA_M2``, in Almaty) and its centre."""
    if not isinstance(value, Mapping) or value.get("type") not in ("Point", "Polygon"):
        raise BadInput("location must be a GeoJSON Point or Polygon")
    coords = value.get("coordinates")
    if value["type"] == "Polygon":
        if not isinstance(coords, list) or len(coords) != 1 or not isinstance(coords[0], list):
            raise BadInput("a location Polygon must have exactly one ring (no holes)")
        if len(coords[0]) > MAX_VERTICES:
            raise BadInput(
                f"a location Polygon may have at most {MAX_VERTICES} vertices, not {len(coords[0])}"
            )
    try:
        geom = shape({"type": value["type"], "coordinates": coords})
    except Exception as exc:  # shapely's errors vary by shape; any is the caller's mistake
        raise BadInput(f"location is not a valid GeoJSON {value['type']}: {exc}") from exc
    if geom.is_empty or not geom.is_valid:
        raise BadInput("location is empty or not a valid geometry (a self-crossing area?)")
    minx, miny, maxx, maxy = geom.bounds
    bx0, by0, bx1, by1 = ALMATY_BOX
    if not all(math.isfinite(v) for v in geom.bounds) or not (
        bx0 <= minx and maxx <= bx1 and by0 <= miny and maxy <= by1
    ):
        raise BadInput("location must be in Almaty (longitude, latitude in EPSG:4326)")
    if geom.geom_type == "Polygon":
        area = _metric(geom).area
        if area > MAX_AREA_M2:
            raise BadInput(
                f"location area of {round(area):,} m² is more than the limit of {MAX_AREA_M2:,} m²"
            )
        if area < MIN_AREA_M2:
            raise BadInput(
                f"location area of {area:.1f} m² is less than {MIN_AREA_M2} m²: draw the "
                "project's ground, or pick a point"
            )
    centre = geom.representative_point()
    return geom, float(centre.x), float(centre.y)


def _check_district(
    store: Store, district: str, geom: BaseGeometry, lon: float, lat: float
) -> None:
    """A project is for its cycle's district: raise :class:`BadInput` when a point (or an
    area's centre) lies outside the district's boundary, or an area reaches more than
    ``DISTRICT_MARGIN_M`` beyond it. A store without that district's boundary (none loaded,
    or a cycle named otherwise) cannot tell, and the location is not refused."""
    frame = store.read_frame(layers.get("districts"))
    own = frame[frame["name"] == district]
    if own.empty:
        return
    point = shapely.Point(lon, lat)
    if not own.geometry.covers(point).any():
        other = frame[frame.geometry.covers(point)]["name"].tolist()
        where = f"; it is in {other[0]}" if other else ""
        raise BadInput(f"location must be in {district}, the cycle's district{where}")
    if geom.geom_type != "Polygon":
        return
    allowed = shapely.union_all(own.to_crs(METRIC_CRS).geometry.values).buffer(DISTRICT_MARGIN_M)
    outside = _metric(geom).difference(allowed).area
    if outside > 0.5:  # under a square metre is rounding of the drawn vertices
        raise BadInput(
            f"location area must lie in {district}, the cycle's district (up to "
            f"{DISTRICT_MARGIN_M} m beyond its boundary): {round(outside):,} m² of it is outside"
        )


def _text(value: Any, what: str, limit: int, *, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise BadInput(f"{what} must be text")
    value = value.strip()
    if (not value and not empty) or len(value) > limit:
        raise BadInput(f"{what} must be 1-{limit} characters")
    return value


def _app_dict(row: Mapping[Any, Any], *, counts: bool) -> dict[str, Any]:
    cost = row["checked_cost_kzt"] if row["checked_cost_kzt"] is not None else row["cost_kzt"]
    out = {
        "id": row["id"],
        "cycle_id": row["cycle_id"],
        "title": row["title"],
        "description": row["description"],
        "category": row["category"],
        "cost_kzt": int(cost),
        "estimated_cost_kzt": int(row["cost_kzt"]),
        "location": json.loads(row["geometry"]),
        "lon": row["lon"],
        "lat": row["lat"],
        "status": row["status"],
        "review_reason": row["review_reason"],
        "synthetic": bool(row["synthetic"]),
    }
    if counts:
        out.update(
            votes=row["votes"],
            selected=row["selected"],
            progress=row["progress"],
            work_started=_date(row["work_started"]),
            work_finished=_date(row["work_finished"]),
        )
    return out


def submit_application(
    store: Store,
    cycle_id: int,
    account_id: int,
    *,
    title: Any,
    description: Any,
    category: Any,
    cost_kzt: Any,
    location: Any,
) -> dict[str, Any]:
    """Submit a resident's project to a cycle in its applications phase, located in the
    cycle's district."""
    title = _text(title, "title", MAX_TITLE)
    description = _text(description, "description", MAX_DESCRIPTION)
    if category not in CATEGORIES:
        raise BadInput(f"category must be one of {', '.join(CATEGORIES)}")
    geom, lon, lat = _geometry(location)
    _check_district(store, _cycle_row_now(store, cycle_id)["district"], geom, lon, lat)
    geometry = json.dumps(geom.__geo_interface__)
    _, apps, _, _ = _tables(store)
    with store.write_transaction() as conn:
        row = _cycle_row(conn, store, cycle_id)
        require(row["phase"], "submit an application")
        cost = _money(cost_kzt, "cost_kzt", int(row["budget_kzt"]))
        new_id = conn.execute(
            apps.insert().values(
                cycle_id=cycle_id,
                account_id=account_id,
                title=title,
                description=description,
                category=category,
                cost_kzt=cost,
                geometry=geometry,
                lon=lon,
                lat=lat,
                status="submitted",
                submitted_at=time.time(),
                synthetic=False,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        app = conn.execute(sa.select(apps).where(apps.c.id == new_id)).mappings().one()
        out = _app_dict(app, counts=False)
        map_layer.project(store, conn)
    _announce_application("submitted", out)
    return out


def _announce_application(action: str, app: Mapping[str, Any]) -> None:
    """Tell open maps that an application was submitted or reviewed (the staff panel's list of
    applications to review, the residents' list): its id, cycle and status only — applications
    are public anyway, and the event carries no text or author."""
    publish(
        "budget.application",
        {"action": action, "id": app["id"], "cycle_id": app["cycle_id"], "status": app["status"]},
    )


def review_application(
    store: Store,
    application_id: int,
    *,
    feasible: bool,
    reason: Any,
    reviewer: str,
    checked_cost_kzt: Any = None,
) -> dict[str, Any]:
    """Record staff's technical review: feasible (accepted to the ballot, optionally at a
    checked cost) or not, always with a reason residents can read."""
    reason = _text(reason, "reason", MAX_DESCRIPTION)
    _, apps, _, _ = _tables(store)
    with store.write_transaction() as conn:
        app = conn.execute(sa.select(apps).where(apps.c.id == application_id)).mappings().first()
        if app is None:
            raise NotFound(f"no budget application {application_id}")
        cycle = _cycle_row(conn, store, app["cycle_id"])
        require(cycle["phase"], "review an application")
        checked = (
            None
            if checked_cost_kzt is None
            else _money(checked_cost_kzt, "checked_cost_kzt", int(cycle["budget_kzt"]))
        )
        conn.execute(
            apps.update()
            .where(apps.c.id == application_id)
            .values(
                status="accepted" if feasible else "rejected",
                review_reason=reason,
                checked_cost_kzt=checked,
                reviewed_by=reviewer,
                reviewed_at=time.time(),
            )
        )
        row = conn.execute(sa.select(apps).where(apps.c.id == application_id)).mappings().one()
        out = _app_dict(row, counts=False)
        map_layer.project(store, conn)
    _announce_application("reviewed", out)
    return out


def list_applications(
    store: Store, cycle_id: int, *, status: str | None = None
) -> list[dict[str, Any]]:
    """Return a cycle's applications (public: residents see every proposal and its review);
    votes and winners only once voting is over."""
    _, apps, _, _ = _tables(store)
    _ensure_counted(store, cycle_id)
    with store.engine.connect() as conn:
        cycle = _cycle_row(conn, store, cycle_id)
        q = sa.select(apps).where(apps.c.cycle_id == cycle_id).order_by(apps.c.id)
        if status is not None:
            q = q.where(apps.c.status == status)
        rows = conn.execute(q).mappings().all()
    counts = at_least(cycle["phase"], Phase.RESULTS)
    return [_app_dict(r, counts=counts) for r in rows]


# -- ballots ----------------------------------------------------------------------------------
def _check_choice(
    conn: sa.Connection, store: Store, cycle: Mapping[Any, Any], project_ids: Any
) -> list[int]:
    """Return the checked, distinct project ids of a ballot: accepted projects of this cycle
    whose costs together fit the budget (the knapsack rule)."""
    if not isinstance(project_ids, list | tuple) or not all(
        isinstance(p, int) and not isinstance(p, bool) for p in project_ids
    ):
        raise BadInput("projects must be a list of project ids")
    if any(not 1 <= p < 2**31 for p in project_ids):
        raise BadInput("project ids are positive 32-bit numbers")
    chosen = sorted(set(project_ids))
    if len(chosen) != len(project_ids):
        raise BadInput("a project may be chosen only once")
    if not chosen:
        raise BadInput("a ballot must approve at least one project")
    _, apps, _, _ = _tables(store)
    if len(chosen) > 1000:
        raise BadInput("a ballot may approve at most 1000 projects")
    rows = (
        conn.execute(
            sa.select(
                apps.c.id, apps.c.cycle_id, apps.c.status, apps.c.cost_kzt, apps.c.checked_cost_kzt
            ).where(apps.c.id.in_(chosen))
        )
        .mappings()
        .all()
    )
    found = {r["id"]: r for r in rows}
    for pid in chosen:
        r = found.get(pid)
        if r is None:
            raise BadInput(f"project {pid} does not exist")
        if r["cycle_id"] != cycle["id"]:
            raise BadInput(
                f"project {pid} belongs to another cycle (another district or year), not to "
                f"{cycle['district']} {cycle['year']}"
            )
        if r["status"] != "accepted":
            raise BadInput(f"project {pid} is not on the ballot (its review: {r['status']})")
    total = sum(
        int(r["checked_cost_kzt"] if r["checked_cost_kzt"] is not None else r["cost_kzt"])
        for r in rows
    )
    budget = int(cycle["budget_kzt"])
    if total > budget:
        raise BadInput(
            f"the chosen projects cost {total} tenge together, more than the district's budget "
            f"of {budget} tenge; leave some out"
        )
    return chosen


def _ballot_dict(
    cycle: Mapping[Any, Any], ballot: Mapping[Any, Any], chosen: Sequence[int], spent: int
) -> dict[str, Any]:
    return {
        "cycle_id": cycle["id"],
        "projects": list(chosen),
        "spent_kzt": spent,
        "left_kzt": int(cycle["budget_kzt"]) - spent,
        "created_at": ballot["created_at"],
        "updated_at": ballot["updated_at"],
    }


def cast_ballot(store: Store, cycle_id: int, account_id: int, project_ids: Any) -> dict[str, Any]:
    """Cast the resident's ballot in a cycle's voting phase; :class:`Conflict` when the
    resident already has one there (change it with :func:`change_ballot`). The store's unique
    constraint on (cycle, account) is the guarantee, whatever races."""
    _, _, ballots, items = _tables(store)
    try:
        with store.write_transaction() as conn:
            cycle = _cycle_row(conn, store, cycle_id)
            require(cycle["phase"], "vote")
            chosen = _check_choice(conn, store, cycle, project_ids)
            now = time.time()
            ballot_id = conn.execute(
                ballots.insert().values(
                    cycle_id=cycle_id,
                    account_id=account_id,
                    created_at=now,
                    updated_at=now,
                    synthetic=False,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            conn.execute(
                items.insert(), [{"ballot_id": ballot_id, "application_id": p} for p in chosen]
            )
    except sa.exc.IntegrityError as exc:
        raise Conflict(
            f"you have already voted in cycle {cycle_id}; change your ballot instead"
        ) from exc
    found = my_ballot(store, cycle_id, account_id)
    assert found is not None
    return found


def change_ballot(store: Store, cycle_id: int, account_id: int, project_ids: Any) -> dict[str, Any]:
    """Replace the resident's ballot while voting is open; :class:`NotFound` without one."""
    _, _, ballots, items = _tables(store)
    with store.write_transaction() as conn:
        cycle = _cycle_row(conn, store, cycle_id)
        require(cycle["phase"], "vote")
        chosen = _check_choice(conn, store, cycle, project_ids)
        ballot_id = conn.execute(
            sa.select(ballots.c.id).where(
                ballots.c.cycle_id == cycle_id, ballots.c.account_id == account_id
            )
        ).scalar_one_or_none()
        if ballot_id is None:
            raise NotFound(f"you have no ballot in cycle {cycle_id} yet; cast one first")
        conn.execute(items.delete().where(items.c.ballot_id == ballot_id))
        conn.execute(
            items.insert(), [{"ballot_id": ballot_id, "application_id": p} for p in chosen]
        )
        conn.execute(
            ballots.update().where(ballots.c.id == ballot_id).values(updated_at=time.time())
        )
    found = my_ballot(store, cycle_id, account_id)
    assert found is not None
    return found


def my_ballot(store: Store, cycle_id: int, account_id: int) -> dict[str, Any] | None:
    """Return the resident's own ballot in a cycle, or None."""
    _, apps, ballots, items = _tables(store)
    with store.engine.connect() as conn:
        cycle = _cycle_row(conn, store, cycle_id)
        ballot = (
            conn.execute(
                sa.select(ballots).where(
                    ballots.c.cycle_id == cycle_id, ballots.c.account_id == account_id
                )
            )
            .mappings()
            .first()
        )
        if ballot is None:
            return None
        rows = conn.execute(
            sa.select(apps.c.id, apps.c.cost_kzt, apps.c.checked_cost_kzt)
            .join(items, items.c.application_id == apps.c.id)
            .where(items.c.ballot_id == ballot["id"])
            .order_by(apps.c.id)
        ).all()
    spent = sum(int(c if k is None else k) for _, c, k in rows)
    return _ballot_dict(cycle, ballot, [r[0] for r in rows], spent)


def turnout(store: Store) -> list[dict[str, Any]]:
    """Return each cycle's number of ballots (staff's view; never who voted for what)."""
    cycles, _, ballots, _ = _tables(store)
    q = (
        sa.select(
            cycles.c.id,
            cycles.c.year,
            cycles.c.district,
            cycles.c.phase,
            sa.func.count(ballots.c.id),
        )
        .select_from(cycles.outerjoin(ballots, ballots.c.cycle_id == cycles.c.id))
        .group_by(cycles.c.id, cycles.c.year, cycles.c.district, cycles.c.phase)
        .order_by(cycles.c.year.desc(), cycles.c.district)
    )
    with store.engine.connect() as conn:
        return [
            {"cycle_id": i, "year": y, "district": d, "phase": p, "ballots": n}
            for i, y, d, p, n in conn.execute(q)
        ]


# -- counting ---------------------------------------------------------------------------------
def outcome_of(store: Store, cycle_id: int) -> counting.Outcome:
    """Return the outcome kept when the cycle was counted (counting it first if it never was:
    a generated cycle is loaded so). Only once voting is over."""
    with store.engine.connect() as conn:
        cycle = _cycle_row(conn, store, cycle_id)
    require(cycle["phase"], "see the counts")
    _ensure_counted(store, cycle_id)
    kept = store.metadata.tables["budget_outcomes"]
    with store.engine.connect() as conn:
        text = conn.execute(
            sa.select(kept.c.outcome).where(kept.c.cycle_id == cycle_id)
        ).scalar_one()
    return counting.from_json(text)


def _ensure_counted(store: Store, cycle_id: int) -> None:
    """Count a cycle past voting that was never counted (a generated cycle is loaded so)."""
    with store.engine.connect() as conn:
        cycle = _cycle_row(conn, store, cycle_id)
    if cycle["counted_at"] is None and at_least(cycle["phase"], Phase.RESULTS):
        with store.write_transaction() as conn:
            if _cycle_row(conn, store, cycle_id)["counted_at"] is None:
                map_layer.count_into(conn, store, cycle_id)
                map_layer.project(store, conn)


def results(store: Store, cycle_id: int) -> dict[str, Any]:
    """Return a counted cycle's results: winners in the rule's order with cost and votes, the
    money left, every project's votes and, for each loser, why it lost. Only once voting is
    over; a generated cycle loaded uncounted is counted here once."""
    outcome = outcome_of(store, cycle_id)
    cycle = _cycle_row_now(store, cycle_id)
    projects = {p["id"]: p for p in list_applications(store, cycle_id, status="accepted")}
    winners = [
        {
            "id": pid,
            "title": projects[pid]["title"],
            "cost_kzt": projects[pid]["cost_kzt"],
            "votes": outcome.votes[pid],
            "by": "equal shares" if pid in outcome.proportional else "votes",
        }
        for pid in outcome.winners
    ]
    spent = sum(w["cost_kzt"] for w in winners)
    losers = sorted(
        (p for p in projects.values() if p["id"] not in set(outcome.winners)),
        key=lambda p: (-outcome.votes[p["id"]], p["id"]),
    )
    return {
        "cycle": get_cycle(store, cycle_id),
        "rule": cycle["rule"],
        "rule_title": counting.RULE_TITLES[cycle["rule"]],
        "ballots": outcome.ballots,
        "budget_kzt": int(cycle["budget_kzt"]),
        "spent_kzt": spent,
        "left_kzt": int(cycle["budget_kzt"]) - spent,
        "winners": winners,
        "losers": [
            {
                "id": p["id"],
                "title": p["title"],
                "cost_kzt": p["cost_kzt"],
                "votes": outcome.votes[p["id"]],
                "why": outcome.reasons[p["id"]],
                # the same reason as data (the map says it in ru/kk/en); {} if kept before
                "why_facts": outcome.facts.get(p["id"], {}),
            }
            for p in losers
        ],
    }


def count_cycle(store: Store, cycle_id: int) -> counting.Outcome:
    """Count a cycle's current ballots without storing anything (for checks: the kept
    outcome, :func:`outcome_of`, is what results and exports show)."""
    with store.engine.connect() as conn:
        cycle = _cycle_row(conn, store, cycle_id)
        costs = map_layer.costs_of(conn, store, cycle_id)
        ballots = map_layer.ballots_of(conn, store, cycle_id)
    return counting.count(costs, ballots, int(cycle["budget_kzt"]), cycle["rule"])


# -- works ------------------------------------------------------------------------------------
def report_progress(
    store: Store,
    application_id: int,
    *,
    progress: Any,
    started: datetime.date | None = None,
    finished: datetime.date | None = None,
) -> dict[str, Any]:
    """Record a winning project's works: progress in per cent and its dates."""
    if isinstance(progress, bool) or not isinstance(progress, int) or not 0 <= progress <= 100:
        raise BadInput("progress must be a whole per cent from 0 to 100")
    _, apps, _, _ = _tables(store)
    with store.write_transaction() as conn:
        app = conn.execute(sa.select(apps).where(apps.c.id == application_id)).mappings().first()
        if app is None:
            raise NotFound(f"no budget application {application_id}")
        cycle = _cycle_row(conn, store, app["cycle_id"])
        require(cycle["phase"], "report progress of works")
        if not app["selected"]:
            raise BadInput(f"project {application_id} did not win; it has no works")
        values: dict[str, Any] = {"progress": progress}
        if started is not None:
            values["work_started"] = started
        if finished is not None:
            values["work_finished"] = finished
        conn.execute(apps.update().where(apps.c.id == application_id).values(**values))
        row = conn.execute(sa.select(apps).where(apps.c.id == application_id)).mappings().one()
        map_layer.project(store, conn)
    return _app_dict(row, counts=True)


def sync_layer(store: Store) -> bool:
    """Count every cycle past voting that never was and bring the map's
    ``budget_cycle_projects`` layer in line with the cycles (:func:`etl.budget_layer.settle`);
    return whether the layer was written (a store whose cycles predate the layer gets it now)."""
    return map_layer.settle(store)
