"""``/api/seismic``: the scenario earthquakes (public city totals) and the planner's per-district
view of one scenario (:mod:`twin.seismic.service`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from twin.api.deps import RoleDep, StoreDep
from twin.core.access import require_planner
from twin.core.settings import DATA_DIR
from twin.seismic import service

router = APIRouter(prefix="/api/seismic", tags=["seismic"])


@router.get("/scenarios")
async def scenarios() -> dict[str, Any]:
    """Return the scenario earthquakes with their city totals (mean ± sd) and the citation."""
    found = await run_in_threadpool(service.scenarios, DATA_DIR)
    return {"scenarios": found, "citation": service.SEISMIC_CITATION}


@router.get("/scenarios/{scenario_id}")
async def scenario(scenario_id: str, store: StoreDep, role: RoleDep) -> dict[str, Any]:
    """Planners: "if this scenario happened" — city totals and, per district, buildings and
    people exposed, those on soft ground, and the schools and clinics on soft ground."""
    require_planner(role, "see the seismic scenario view")
    return await run_in_threadpool(service.scenario_view, store, DATA_DIR, scenario_id)
