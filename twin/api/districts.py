"""``/api/districts``: district indicators for dashboards and choropleths."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

import layers
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
def district_indicators(
    district: str, store: StoreDep, role: RoleDep, request: Request
) -> dict[str, Any]:
    """Return one district's indicators: history, city average, the other districts and the
    latest year's rank; and residents' best- and worst-rated works there, by contractor too
    (``works_rating``)."""
    require_layer(role, "district_indicators")
    out = district_dashboard(store, district)
    out["works_rating"] = request.app.state.ratings.district_ranking(
        layers.get("works"), out["district"]
    )
    return out
