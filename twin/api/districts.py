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
def districts_overview(store: StoreDep, role: RoleDep, request: Request) -> dict[str, Any]:
    """Return every district's indicators for every year with the city average (the mean of
    the districts), for choropleths. A rate of residents' appeals standing for fewer than k
    appeals (``TWIN_LIMITS_MIN_COUNT``, at least 5) is null."""
    require_layer(role, "district_indicators")
    return overview(store, request.app.state.settings.limits.min_count)


@router.get("/{district}")
def district_indicators(
    district: str, store: StoreDep, role: RoleDep, request: Request
) -> dict[str, Any]:
    """Return one district's indicators: history, city average, the other districts and the
    latest year's rank; and residents' best- and worst-rated works there, by contractor too
    (``works_rating``)."""
    require_layer(role, "district_indicators")
    out = district_dashboard(store, district, request.app.state.settings.limits.min_count)
    out["works_rating"] = request.app.state.ratings.district_ranking(
        layers.get("works"), out["district"]
    )
    return out
