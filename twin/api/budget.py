"""HTTP routes of the participatory budget (:mod:`twin.budget`), thin over its service.

Residents (signed-in accounts: a session cookie with its CSRF token, or a bearer token) apply
and vote; staff (planner or admin) create cycles, review applications, advance phases and
report works; everyone reads cycles, projects and — once voting is over — results and open
data. A ballot is only ever shown to its own account.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from twin.api.deps import CallerDep, StoreDep
from twin.budget import export, service
from twin.core.access import Caller, require_account, require_planner

#: ids are 32-bit in the store: a larger one is a 400 rather than a database error
_Id = Annotated[int, Path(ge=1, le=2_147_483_647)]
_ProjectId = Annotated[StrictInt, Field(ge=1, le=2_147_483_647)]

router = APIRouter(prefix="/api/budget", tags=["participatory budget"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CycleIn(_Body):
    year: StrictInt
    district: str = Field(max_length=100)
    budget_kzt: StrictInt
    rule: str = "greedy"
    #: planned start of each phase (applications, review, voting, results, implementation, done)
    schedule: dict[str, datetime.date] | None = None


class RulesIn(_Body):
    rule: str | None = None
    budget_kzt: StrictInt | None = None


class ApplicationIn(_Body):
    title: str = Field(max_length=service.MAX_TITLE)
    description: str = Field(max_length=service.MAX_DESCRIPTION)
    category: str = Field(max_length=40)
    cost_kzt: StrictInt
    #: a GeoJSON Point or Polygon in EPSG:4326
    location: dict[str, Any]


class ReviewIn(_Body):
    feasible: StrictBool
    reason: str = Field(max_length=service.MAX_DESCRIPTION)
    checked_cost_kzt: StrictInt | None = None


class BallotIn(_Body):
    projects: list[_ProjectId] = Field(max_length=1000)


class ProgressIn(_Body):
    progress: StrictInt
    started: datetime.date | None = None
    finished: datetime.date | None = None


def _staff(caller: Caller, action: str) -> str:
    """Require planner or admin; return who it is for the record."""
    require_planner(caller.role, action)
    if caller.key_id is not None:
        return f"key {caller.key_id}"
    if caller.account_id is not None:
        return f"account {caller.account_id}"
    return caller.role.value


@router.get("/cycles")
def cycles(
    store: StoreDep,
    district: Annotated[str | None, Query(max_length=100)] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> list[dict[str, Any]]:
    """The budget cycles, newest first (optionally one district's or one year's)."""
    return service.list_cycles(store, district=district, year=year)


@router.post("/cycles", status_code=201)
def create_cycle(body: CycleIn, store: StoreDep, caller: CallerDep) -> dict[str, Any]:
    """Create a district's cycle for a year (staff)."""
    _staff(caller, "create a budget cycle")
    plan = None if body.schedule is None else dict(body.schedule)
    return service.create_cycle(
        store,
        year=body.year,
        district=body.district,
        budget_kzt=body.budget_kzt,
        rule=body.rule,
        schedule=plan,
    )


@router.get("/cycles/{cycle_id}")
def cycle(cycle_id: _Id, store: StoreDep) -> dict[str, Any]:
    """One cycle: district, year, budget, rule, phase and its calendar."""
    return service.get_cycle(store, cycle_id)


@router.patch("/cycles/{cycle_id}")
def set_rules(cycle_id: _Id, body: RulesIn, store: StoreDep, caller: CallerDep) -> dict[str, Any]:
    """Change the counting rule or budget (staff; only before the first ballot)."""
    _staff(caller, "change a budget cycle")
    return service.set_rules(store, cycle_id, rule=body.rule, budget_kzt=body.budget_kzt)


@router.post("/cycles/{cycle_id}/advance")
def advance(cycle_id: _Id, store: StoreDep, caller: CallerDep) -> dict[str, Any]:
    """Move the cycle to its next phase (staff); closing the vote counts it."""
    who = _staff(caller, "advance a budget cycle")
    return service.advance(store, cycle_id, by=who)


@router.get("/cycles/{cycle_id}/projects")
def projects(
    cycle_id: _Id,
    store: StoreDep,
    status: Annotated[str | None, Query(pattern="^(submitted|accepted|rejected)$")] = None,
) -> list[dict[str, Any]]:
    """The cycle's applications with their review (votes and winners once voting is over)."""
    return service.list_applications(store, cycle_id, status=status)


@router.post("/cycles/{cycle_id}/projects", status_code=201)
def apply(cycle_id: _Id, body: ApplicationIn, store: StoreDep, caller: CallerDep) -> dict[str, Any]:
    """Submit a project (signed-in resident, applications phase)."""
    account = require_account(caller, "submit a budget project")
    return service.submit_application(store, cycle_id, account, **body.model_dump())


@router.post("/projects/{project_id}/review")
def review(project_id: _Id, body: ReviewIn, store: StoreDep, caller: CallerDep) -> dict[str, Any]:
    """Record the technical review of an application (staff)."""
    who = _staff(caller, "review budget projects")
    return service.review_application(
        store,
        project_id,
        feasible=body.feasible,
        reason=body.reason,
        reviewer=who,
        checked_cost_kzt=body.checked_cost_kzt,
    )


@router.post("/projects/{project_id}/progress")
def progress(
    project_id: _Id, body: ProgressIn, store: StoreDep, caller: CallerDep
) -> dict[str, Any]:
    """Report a winning project's works: progress and dates (staff)."""
    _staff(caller, "report works")
    return service.report_progress(
        store, project_id, progress=body.progress, started=body.started, finished=body.finished
    )


@router.get("/cycles/{cycle_id}/ballot")
def my_ballot(cycle_id: _Id, store: StoreDep, caller: CallerDep) -> dict[str, Any] | None:
    """The signed-in resident's own ballot in the cycle, or null when they have none yet (the
    map asks without provoking an error)."""
    account = require_account(caller, "see your ballot")
    return service.my_ballot(store, cycle_id, account)


@router.post("/cycles/{cycle_id}/ballot", status_code=201)
def cast(cycle_id: _Id, body: BallotIn, store: StoreDep, caller: CallerDep) -> dict[str, Any]:
    """Cast the resident's ballot (voting phase; a second one is 409: change it with PUT)."""
    account = require_account(caller, "vote")
    return service.cast_ballot(store, cycle_id, account, body.projects)


@router.put("/cycles/{cycle_id}/ballot")
def change(cycle_id: _Id, body: BallotIn, store: StoreDep, caller: CallerDep) -> dict[str, Any]:
    """Replace the resident's ballot while voting is open."""
    account = require_account(caller, "vote")
    return service.change_ballot(store, cycle_id, account, body.projects)


@router.get("/cycles/{cycle_id}/results")
def results(cycle_id: _Id, store: StoreDep) -> dict[str, Any]:
    """Winners with cost and votes, money left, and why each other project lost."""
    return service.results(store, cycle_id)


@router.get("/turnout")
def turnout(store: StoreDep, caller: CallerDep) -> list[dict[str, Any]]:
    """Ballots per cycle (staff)."""
    _staff(caller, "see turnout")
    return service.turnout(store)


@router.get("/cycles/{cycle_id}/export.pb")
def export_pb(cycle_id: _Id, store: StoreDep) -> Response:
    """The counted cycle in the Pabulib format (read by pabutools)."""
    return Response(
        export.pabulib(store, cycle_id),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="almaty-pb-{cycle_id}.pb"'},
    )


@router.get("/cycles/{cycle_id}/export.geojson")
def export_geojson(cycle_id: _Id, store: StoreDep) -> Response:
    """The cycle's projects as GeoJSON."""
    return Response(
        export.dumps(export.geojson(store, cycle_id)), media_type="application/geo+json"
    )


@router.get("/cycles/{cycle_id}/export.csv")
def export_csv(cycle_id: _Id, store: StoreDep) -> Response:
    """The cycle's projects as CSV."""
    return Response(
        export.csv_text(store, cycle_id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="almaty-pb-{cycle_id}.csv"'},
    )
