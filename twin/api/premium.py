"""Premium site analytics (issue 21, part 5), for organisations whose plan unlocks them and
for staff:

* ``POST /api/analysis/site/custom`` — the city ranked for a business's own category: its
  competitor set as point-of-interest categories and its outlet's own Huff attraction;
* ``GET /api/analysis/site/footfall`` — the access factor's parts at a site, separately:
  transit (bus stops within 5 min), road class, points of interest within 5 min, and the
  residents' appeals around it (counted only when at least 5, as the public hexagons are);
* ``GET /api/analysis/site/dynamics`` — a category's outlets over time, as far as the data
  has dates.

Each is metered as its plan's ``custom``, ``footfall`` or ``dynamics`` analysis; a plan
without it is refused with 403 naming the plan.
"""

from __future__ import annotations

from typing import Annotated, Any

import h3
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from twin.analyses.site.categories import category, custom_category
from twin.analyses.site.cells import RES_DEFAULT
from twin.analyses.site.output import cells_geojson, describe_factors
from twin.analyses.site.service import MAX_TOP, SiteService
from twin.api.appeal_analysis import insights
from twin.api.business import BUSINESS_RESPONSES
from twin.api.deps import CallerDep, StoreDep
from twin.api.metering import metered_async, require_business, set_quota_headers
from twin.api.site import _require_inputs
from twin.appeals.insights import PUBLIC_K
from twin.core.access import Caller, Role, can_see_aggregate
from twin.core.errors import BadInput

router = APIRouter(prefix="/api/analysis", tags=["analysis"])


class CustomCategory(BaseModel):
    pois: list[str] = Field(
        max_length=20, description="the competitors' point-of-interest categories (OSM values)"
    )
    minutes: float = Field(default=10.0, ge=1, le=30, description="walking reach, minutes")
    attraction: float = Field(
        default=1.0, ge=0.1, le=10, description="the new outlet's pull against one competitor's 1"
    )
    title: str | None = Field(default=None, max_length=80)
    top: int = Field(default=20, ge=1, le=MAX_TOP)
    res: int = Field(default=RES_DEFAULT, ge=8, le=10)
    weights: str | None = Field(default=None, max_length=200)
    district: str | None = Field(default=None, max_length=200)


def _premium(caller: Caller, what: str) -> None:
    require_business(caller, what)


@router.post("/site/custom", responses=BUSINESS_RESPONSES)
async def site_custom(
    body: CustomCategory, request: Request, response: Response, store: StoreDep,
    caller: CallerDep,
) -> dict[str, Any]:  # fmt: skip
    """Rank the city's cells for a business's own category (premium): competitors are the
    points of interest of ``pois``, the new outlet pulls ``attraction`` times one of them."""
    _premium(caller, "a custom category")
    cat = custom_category(body.pois, body.minutes, body.attraction, body.title)
    _require_inputs(caller.role, "pharmacy")  # the inputs every category reads
    svc = SiteService(store)
    svc.check_custom(cat)
    # the same category and inputs asked again today is free (``top`` only lists)
    asked = body.model_dump_json(exclude={"top"}).encode()
    async with metered_async(request, caller, "custom", body=asked) as charge:
        result = await run_in_threadpool(
            lambda: svc.ranked(cat, top=body.top, res=body.res, weights=body.weights,
                               district=body.district)
        )  # fmt: skip
    set_quota_headers(response, charge)
    return cells_geojson(
        result.cells, result.category, result.weights,
        category=cat.summary(), res=result.res, weights=result.weights,
        factors=describe_factors(cat, result.weights), district=result.district,
        total=result.total,
    )  # fmt: skip


def _appeals_near(request: Request, store: Any, role: Role, lon: float, lat: float) -> Any:
    """Appeals within the res-8 cell of the site and its neighbours, when at least 5."""
    import layers

    if not any(can_see_aggregate(role, x) for x in layers.LAYERS if x.id.startswith("appeal")):
        return None
    frame = insights(request).frame(store)
    cells = h3.grid_disk(h3.latlng_to_cell(lat, lon, 8), 1)
    n = sum(
        1
        for lo, la in zip(frame["lon"].tolist(), frame["lat"].tolist(), strict=True)
        if h3.latlng_to_cell(la, lo, 8) in cells
    )
    return {"cells": sorted(cells), "appeals": n if n >= PUBLIC_K else None,
            "k": PUBLIC_K, "shown": n >= PUBLIC_K}  # fmt: skip


@router.get("/site/footfall", responses=BUSINESS_RESPONSES)
async def site_footfall(
    request: Request, response: Response, store: StoreDep, caller: CallerDep,
    category_name: Annotated[str, Query(alias="category", description="business category")],
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    res: Annotated[int, Query(ge=8, le=10)] = RES_DEFAULT,
) -> dict[str, Any]:  # fmt: skip
    """The footfall proxy's parts at a site, each separately (premium): transit, road, points
    of interest, and appeals activity around it."""
    _premium(caller, "the footfall parts")
    _require_inputs(caller.role, category_name)
    cat = category(category_name)
    async with metered_async(request, caller, "footfall") as charge:
        parts = await run_in_threadpool(SiteService(store).footfall, cat, lon, lat, res)
        appeals = await run_in_threadpool(_appeals_near, request, store, caller.role, lon, lat)
    set_quota_headers(response, charge)
    return {"category": cat.summary(), "lon": lon, "lat": lat, "res": res, **parts,
            "appeals": appeals}  # fmt: skip


@router.get("/site/dynamics", responses=BUSINESS_RESPONSES)
async def site_dynamics(
    request: Request, response: Response, store: StoreDep, caller: CallerDep,
    category_name: Annotated[str, Query(alias="category", description="business category")],
) -> dict[str, Any]:  # fmt: skip
    """A category's outlets over time, as far as the data has dates (premium)."""
    _premium(caller, "competitor dynamics")
    _require_inputs(caller.role, category_name)
    cat = category(category_name)
    if cat.layer not in store.tables:
        raise BadInput(f"no layer {cat.layer!r} in this store")
    async with metered_async(request, caller, "dynamics") as charge:
        out = await run_in_threadpool(SiteService(store).dynamics, cat)
    set_quota_headers(response, charge)
    return {"category": cat.summary(), **out}
