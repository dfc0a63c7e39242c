"""``POST /api/analysis/site/batch``: a business's own candidate sites, scored, and
``GET /api/analysis/site/report``: the market report of one site (issue 21).

The body is the file itself (``text/csv`` or ``application/geo+json``), at most
:data:`~twin.business.candidates.MAX_BYTES`, read in chunks and refused with 413 as soon as
it is larger, before anything is parsed. The answer is GeoJSON: one Point per scored site in
the file's order, with its cell's rank, score and factor points, its own residents within
5/10/15 minutes and nearest competitors; ``unresolved`` lists the rows that could not be
placed in the city (no match, a spelling-tolerant guess only, a match or coordinates outside
the city, a house on a street with too few numbered houses), each with its reason; an address
is searched inside the city only, and a house number the data lacks is placed on its street
from its numbered neighbours (``resolved_as.precision`` says ``interpolated``).

Both are for business accounts (an organisation key or a signed-in member) and staff; an
organisation's calls are metered (:mod:`twin.api.metering`): a batch costs its plan's weight
per row, refunded if it fails; the same file for the same category again the same UTC day,
or a site's report again in another language or format, is free.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from twin.analyses.access.output import rounded
from twin.analyses.site.cells import RES_DEFAULT
from twin.analyses.site.output import explanation
from twin.analyses.site.scoring import FACTORS, parse_weights
from twin.api.deps import CallerDep, StoreDep
from twin.api.limits import body_limit
from twin.api.metering import QUOTA_HEADERS, metered_async, require_business, set_quota_headers
from twin.api.openapi import error
from twin.api.site import _require_inputs
from twin.business.candidates import MAX_BYTES, TooManySites, read_candidates
from twin.business.report import market_report, report_html, report_pdf
from twin.business.sites import score_candidates
from twin.core.access import visible_layers

router = APIRouter(prefix="/api/analysis", tags=["analysis"])


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BYTES:
        raise TooManySites(f"the file is larger than {MAX_BYTES:,} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BYTES:
            raise TooManySites(f"the file is larger than {MAX_BYTES:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


#: what a metered business route may answer besides its result (OpenAPI)
BUSINESS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"headers": QUOTA_HEADERS},
    400: error("The file or a parameter is malformed (the detail names the row or field), "
               "or no row of the batch can be placed in the city (the detail names each "
               "row's reason)"),
    401: error("No business account or organisation key, or a revoked or unknown key"),
    403: error("A resident's account, or an analysis the organisation's plan does not include "
               "(the detail names the plan)"),
    413: error("More rows than the plan allows in one batch, or a file over the byte limit"),
    429: {**error("The organisation's daily or monthly quota is used up"),
          "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"},
                      **QUOTA_HEADERS}},
}  # fmt: skip


@router.post("/site/batch", responses=BUSINESS_RESPONSES)
@body_limit(MAX_BYTES)
async def site_batch(
    request: Request,
    response: Response,
    store: StoreDep,
    caller: CallerDep,
    category_name: Annotated[str, Query(alias="category", description="business category")],
    res: Annotated[int, Query(description="H3 resolution, 8–10")] = RES_DEFAULT,
    weights: Annotated[str | None, Query(description="factor weights")] = None,
    lang: Annotated[str, Query(pattern="^(ru|kk|en)$")] = "ru",
    filename: Annotated[
        str, Query(description="the file's name (its ending tells the format)")
    ] = "",
) -> dict[str, Any]:
    """Score the candidate sites in the body (CSV with lon/lat or address columns, or a
    GeoJSON FeatureCollection of Points or address properties) for ``category``.

    Rows that cannot be placed in the city are listed in ``unresolved`` with their reason and
    the others scored; 400 only when no row is left. For business accounts and staff. An
    organisation is charged the batch weight per row (resolved or not), refunded if the batch
    fails; the same file again the same UTC day is free."""
    require_business(caller, "scoring your own sites")
    _require_inputs(caller.role, category_name)
    data = await _body(request)
    cands = read_candidates(data, filename, request.headers.get("content-type", ""))
    async with metered_async(request, caller, "batch", rows=len(cands), body=data) as charge:
        result = await run_in_threadpool(
            score_candidates, store, cands, category_name, visible_layers(caller.role),
            res=res, weights=weights, lang=lang,
        )  # fmt: skip
    set_quota_headers(response, charge)
    features = []
    used = parse_weights(weights)
    # rounded as /api/analysis/site rounds, so a site and its cell answer the same figures
    for rec in rounded(result.scored).to_dict("records"):
        lon, lat = rec.pop("lon"), rec.pop("lat")
        props = {str(k): _clean(v) for k, v in rec.items()}
        if props["inside"]:
            props["factors"] = explanation(props, used)
        features.append(
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
             "properties": props}
        )  # fmt: skip
    return {
        "type": "FeatureCollection",
        "features": features,
        "category": category_name,
        "res": res,
        "factors": list(FACTORS),
        "scored": len(features),
        "unresolved": result.unresolved,
    }


@router.get("/site/report", response_model=None, responses=BUSINESS_RESPONSES)
async def site_report(
    request: Request,
    store: StoreDep,
    caller: CallerDep,
    category_name: Annotated[str, Query(alias="category", description="business category")],
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    label: Annotated[str, Query(max_length=120, description="what to call the site")] = "",
    lang: Annotated[str, Query(pattern="^(ru|kk|en)$")] = "ru",
    format: Annotated[str, Query(pattern="^(html|pdf)$")] = "html",
) -> Response:
    """Return the market report of one site for ``category``: the score and rank, residents
    within 5/10/15 min, the walking catchment and competitors on a map, the district's
    indicators, each input's source, age and completeness, and the method — as a printable
    HTML page or a PDF (printed by Chromium). For business accounts and staff."""
    require_business(caller, "the market report")
    _require_inputs(caller.role, category_name)
    async with metered_async(request, caller, "report") as charge:
        rep = await run_in_threadpool(
            market_report, store, lon, lat, category_name, label=label, lang=lang
        )
        page = report_html(rep)
        if format == "pdf":
            pdf = await run_in_threadpool(report_pdf, page)
    answer: Response
    if format == "html":
        answer = HTMLResponse(page)
    else:
        name = f"report-{category_name}-{lat:.4f}-{lon:.4f}.pdf"
        disposition = f'attachment; filename="{name}"'
        answer = Response(
            pdf, media_type="application/pdf", headers={"Content-Disposition": disposition}
        )
    set_quota_headers(answer, charge)
    return answer
