"""``/api/districts``: district indicators for dashboards and choropleths."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from twin.api.deps import RoleDep, StoreDep
from twin.core.access import require_layer
from twin.dashboard import district_dashboard, overview

router = APIRouter(prefix="/api/districts", tags=["districts"])


@router.get("")
def districts_overview(store: StoreDep, role: RoleDep) -> dict[str, Any]:
    """Return every district's indicators for every year with the city average (the mean of
    the districts), for choropleths."""
    require_layer(role, "district_indicators")
    return overview(store)


@router.get("/{district}")
def district_indicators(district: str, store: StoreDep, role: RoleDep) -> dict[str, Any]:
    """Return one district's indicators: history, city average, the other districts and the
    latest year's rank."""
    require_layer(role, "district_indicators")
    return district_dashboard(store, district)
