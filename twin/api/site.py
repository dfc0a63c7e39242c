"""``/api/analysis/site``, ``/niches``, ``/catchments``, ``/site/categories``: site selection
for businesses — where demand is high and competitors are few.

GET, public: they read public layers only (each route still asks the access rules for every
layer it reads) and change nothing. The first request of a category at a resolution builds
the city's cells and walks (~2 s); later ones are answered from the per-store cache, and a
change in the store drops it.
"""

from __future__ import annotations

from typing import Annotated, Any

import geopandas as gpd
from fastapi import APIRouter, Query, Request, Response

from twin.analyses.access.output import feature_collection, records
from twin.analyses.site.categories import categories, category
from twin.analyses.site.cells import RES_DEFAULT
from twin.analyses.site.model import INPUT_LAYERS
from twin.analyses.site.output import cells_geojson, describe_factors
from twin.analyses.site.scoring import DEFAULT_WEIGHTS
from twin.analyses.site.service import MAX_TOP, SiteService
from twin.api.deps import CallerDep, StoreDep
from twin.api.metering import QUOTA_HEADERS, metered
from twin.core.access import Role, require_layer
from twin.core.errors import BadInput

router = APIRouter(prefix="/api/analysis", tags=["analysis"])

CategoryQ = Annotated[str, Query(description="business category: " + ", ".join(categories()))]
ResQ = Annotated[int, Query(description="H3 resolution, 8–10")]
DistrictQ = Annotated[
    str | None, Query(description="only this district (English, Russian or Kazakh name)")
]
WeightsQ = Annotated[
    str | None,
    Query(
        description="factor weights, e.g. demand:1,competition:1,access:0.5 (unnamed "
        "factors keep their defaults; each >= 0)"
    ),
]


def _require_inputs(role: Role, category_name: str) -> None:
    for layer_id in INPUT_LAYERS:
        require_layer(role, layer_id)
    require_layer(role, category(category_name).layer)


@router.get("/site/categories")
def site_categories() -> dict[str, Any]:
    """Return the business categories (name, titles, outlet layer and values, walking
    minutes) and the default weights."""
    return {
        "categories": [c.summary() for c in categories().values()],
        "weights": DEFAULT_WEIGHTS,
        "resolutions": [8, 9, 10],
    }


#: a metered route's answer, documented with its quota headers
METERED: dict[int | str, dict[str, Any]] = {200: {"headers": QUOTA_HEADERS}}


@router.get("/site", responses=METERED)
def site(
    store: StoreDep,
    caller: CallerDep,
    request: Request,
    response: Response,
    category_name: Annotated[str, Query(alias="category", description="business category")],
    top: Annotated[int, Query(description=f"how many cells, 1..{MAX_TOP}")] = 20,
    res: ResQ = RES_DEFAULT,
    weights: WeightsQ = None,
    district: DistrictQ = None,
) -> dict[str, Any]:
    """Return the best H3 cells to open an outlet of ``category``, ranked, as GeoJSON.

    Each feature carries ``rank`` (city-wide), ``score`` (0–100), the factors ``demand``,
    ``competition``, ``access`` (0–1) and their contributions ``<factor>_pts`` (which add up
    to the score), the figures behind them (``residents_within``, ``captured``,
    ``outlets_within``, ``nearest_min``, ``bus_stops_within``, ``road_class``,
    ``pois_within`` …), a ``why`` sentence and ``factors`` (a list for a panel). Foreign
    members: ``category``, ``res``, ``weights``, ``factors`` (what each measures),
    ``district``, ``total`` (cells ranked).
    """
    _require_inputs(caller.role, category_name)
    with metered(request, caller, "site", response):
        result = SiteService(store).site(
            category_name, top=top, res=res, weights=weights, district=district
        )
    return cells_geojson(
        result.cells,
        result.category,
        result.weights,
        category=result.category.summary(),
        res=result.res,
        weights=result.weights,
        factors=describe_factors(result.category, result.weights),
        district=result.district,
        total=result.total,
    )


@router.get("/niches", responses=METERED)
def site_niches(
    store: StoreDep,
    caller: CallerDep,
    request: Request,
    response: Response,
    category_name: Annotated[str, Query(alias="category", description="business category")],
    res: ResQ = RES_DEFAULT,
    weights: WeightsQ = None,
    district: DistrictQ = None,
) -> dict[str, Any]:
    """Return niches as GeoJSON: clusters of adjacent cells in the top decile of the score
    with no outlet of the category within its walking minutes — ``niche`` (1 = largest
    expected customers), ``cells``, ``residents``, ``best_h3``, ``best_rank``,
    ``best_score``, ``captured`` (Huff-expected customers of the best cell)."""
    _require_inputs(caller.role, category_name)
    with metered(request, caller, "niches", response):
        frame = SiteService(store).niches(
            category_name, res=res, weights=weights, district=district
        )
    cat = category(category_name)
    return feature_collection(
        frame,
        category=cat.summary(),
        res=res,
        score_cut=frame.attrs.get("score_cut"),
        minutes=cat.minutes,
    )


@router.get("/catchments", responses=METERED)
def site_catchments(
    store: StoreDep,
    caller: CallerDep,
    request: Request,
    response: Response,
    category_name: Annotated[str, Query(alias="category", description="business category")],
    res: ResQ = RES_DEFAULT,
    district: DistrictQ = None,
    geometry: Annotated[
        str, Query(description="catchment (polygon), point (the outlets) or buildings")
    ] = "catchment",
) -> dict[str, Any]:
    """Return every existing outlet of ``category`` with its network catchment as GeoJSON:
    the H3 cells for which it is the nearest outlet by walking (not a circle), their
    ``residents``, ``cells``, ``mean_walk_min`` and ``max_walk_min``. Foreign members:
    ``outlets``, ``residents``, ``unassigned_residents`` (farther than an hour's walk from
    every outlet), ``largest`` (the ten most populous catchments).

    ``geometry=buildings``: every building (a point) with ``outlet_fid`` (its nearest
    outlet, ``-1`` past an hour), ``walk_min`` and its dasymetric ``residents``."""
    _require_inputs(caller.role, category_name)
    if geometry not in ("catchment", "point", "buildings"):
        raise BadInput(f"unknown geometry {geometry!r}; use catchment, point or buildings")
    if geometry == "buildings":
        with metered(request, caller, "catchments", response):
            frame = SiteService(store).building_catchments(category_name)
        return feature_collection(frame, category=category(category_name).summary())
    with metered(request, caller, "catchments", response):
        frame, summary = SiteService(store).catchments(category_name, res=res, district=district)
    largest = frame.sort_values(["residents", "fid"], ascending=[False, True]).head(10)
    if geometry == "point":
        frame = frame.set_geometry(gpd.points_from_xy(frame["lon"], frame["lat"], crs=4326))
    else:
        frame = frame[frame.geometry.notna()]
    return feature_collection(
        frame.drop(columns=["lon", "lat"]),
        category=category(category_name).summary(),
        res=res,
        largest=records(largest[["fid", "name", "residents", "cells"]]),
        **summary,
    )
