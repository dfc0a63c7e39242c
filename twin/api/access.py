"""``/api/analysis/access``, ``/isochrone``, ``/schools``: walking access, isochrones and
school load over the street network.

All three are GET: they read public layers and change nothing, their parameters are a few
scalars (a click on the map is a lon/lat pair), and their answers are cacheable for as long
as the store does not change. Results are computed with pgRouting on PostGIS and with scipy
on the embedded store (same answers), and cached in process per store version.

Role rules: these are public analyses over public layers; each route still asks the access
rules for every layer it reads, so a layer made planner-only would disappear from them too.
"""

from __future__ import annotations

from typing import Annotated, Any

import geopandas as gpd
from fastapi import APIRouter, Query

from twin.analyses.access.isochrone import DEFAULT_MINUTES, check_minutes
from twin.analyses.access.output import (
    district_rows,
    feature_collection,
    hexagons,
    parse_bbox,
    parse_floats,
    records,
)
from twin.analyses.access.profiles import (
    ACCESSIBLE,
    CATEGORIES,
    CITY_MINUTES,
    SHARE_MINUTES,
    WALK,
    Mode,
    categories,
    profile,
)
from twin.analyses.access.schools import catchment_shapes, check_kind
from twin.analyses.access.service import INPUT_LAYERS, AccessService
from twin.api.deps import RoleDep, StoreDep
from twin.core.access import Role, require_layer
from twin.core.errors import BadInput
from twin.events.model import to_utc
from twin.events.service import road_closures

router = APIRouter(prefix="/api/analysis", tags=["analysis"])


def _service(store: Any, at: str | None = None) -> AccessService:
    """The access service over the street graph as it is at ``at`` (default: now): the road
    closures in force then (city events of kind road_closure) are left out of every mode."""
    when = to_utc(at, "at") if at else None
    closures = [geom for _, geom in road_closures(store, when)]
    return AccessService(store, closures=closures)


def prepare(store: Any) -> None:
    """Build what a walking isochrone needs (the city, the street graph of the roads open
    now, its walking graph and the search engine) now: a server does so as it starts
    (``TWIN_PREBUILD``)."""
    svc = _service(store)
    walk = svc.graph.for_profile(profile("walk"))
    _ = walk.matrix, walk.tree, svc.engine  # the first isochrone's own 2.7 s on the city x 100


def _require_inputs(role: Role) -> None:
    for layer_id in INPUT_LAYERS:
        require_layer(role, layer_id)


def _walking(name: str) -> Any:
    prof = profile(name)
    if prof.mode is Mode.DRIVE:
        raise BadInput("profile must be walk or wheelchair (driving is for isochrones)")
    return prof


@router.get("/access")
def access(
    store: StoreDep,
    role: RoleDep,
    view: Annotated[str, Query(description="districts, cells (H3 res 9) or buildings")] = (
        "districts"
    ),
    profile_name: Annotated[str, Query(alias="profile", description="walk or wheelchair")] = (
        "walk"
    ),
    category: Annotated[
        str | None, Query(description="comma list of " + ", ".join(CATEGORIES) + " (default all)")
    ] = None,
    minutes: Annotated[
        str | None, Query(description="district share thresholds, default 10,15")
    ] = None,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy (cells, buildings)")] = (
        None
    ),
    district: Annotated[str | None, Query(description="only this district")] = None,
) -> dict[str, Any]:
    """Return walking times to the nearest facility of each category.

    * ``view=districts``: per district (and ``city``), the share of residents within each
      threshold of each category, the mean 15-minute score and ``accessible_clinic_15``
      (share with a wheelchair-accessible clinic or hospital within 15 minutes, step-free).
    * ``view=cells``: GeoJSON of populated H3 res-9 hexagons with ``population``,
      ``<category>_min``, ``<category>_fid`` and ``score15`` (categories within 15 minutes).
    * ``view=buildings``: GeoJSON of building points with ``residents`` and the same times.
    """
    _require_inputs(role)
    prof = _walking(profile_name)
    cats = categories(category)
    steps = check_minutes(parse_floats(minutes, "minutes") or list(SHARE_MINUTES))
    box = parse_bbox(bbox)
    svc = _service(store)
    meta = {
        "profile": prof.mode.value,
        "walk_kmh": prof.speed_kmh,
        "categories": [c.name for c in cats],
        "score_minutes": CITY_MINUTES,
        "engine": svc.engine.name,
        "accessible": sorted(ACCESSIBLE) if prof.mode is Mode.WHEELCHAIR else None,
    }
    if view == "districts":
        table = svc.districts(prof, cats, steps)
        if district:
            table = table[table["district"].str.lower() == district.lower()]
        rows = district_rows(table, meta["categories"], steps)
        return {**meta, "minutes": steps, "districts": rows}
    if view == "cells":
        cells = svc.cells(prof, cats)
        if district:
            cells = cells[cells["district"].fillna("").str.lower() == district.lower()]
        if box is not None:
            cells = cells[
                cells["lon"].between(box[0], box[2]) & cells["lat"].between(box[1], box[3])
            ]
        return feature_collection(hexagons(cells), **meta)
    if view == "buildings":
        return feature_collection(svc.buildings(prof, cats, box), **meta)
    raise BadInput(f"unknown view {view!r}; use districts, cells or buildings")


@router.get("/isochrone")
def isochrone(
    store: StoreDep,
    role: RoleDep,
    lon: Annotated[float | None, Query(description="start longitude")] = None,
    lat: Annotated[float | None, Query(description="start latitude")] = None,
    layer: Annotated[str | None, Query(description="start at a feature of this layer …")] = None,
    fid: Annotated[int | None, Query(description="… with this fid")] = None,
    minutes: Annotated[str | None, Query(description="comma list, each in (0, 60]")] = None,
    mode: Annotated[str, Query(description="walk, wheelchair or drive")] = "walk",
    at: Annotated[
        str | None,
        Query(description="ISO date-time: the network with the road closures then (default now)"),
    ] = None,
) -> dict[str, Any]:
    """Return isochrone polygons (largest first) as GeoJSON: ``minutes``, ``mode``,
    ``area_km2``, ``streets_km`` and ``snap_m`` (the walk from the point to its street).
    Roads closed at ``at`` (default now) are not used."""
    require_layer(role, "roads")
    prof = profile(mode)
    steps = check_minutes(parse_floats(minutes, "minutes") or list(DEFAULT_MINUTES))
    svc = _service(store, at)
    if layer is not None or fid is not None:
        if layer is None or fid is None:
            raise BadInput("give both layer and fid, or lon and lat")
        require_layer(role, layer)
        lon, lat = svc.feature_point(layer, fid)
    if lon is None or lat is None:
        raise BadInput("give lon and lat (or layer and fid) of the start")
    frame = svc.isochrone(prof, lon, lat, steps)
    closed = {} if svc.graph.closed is None else {"closed_edges": int(svc.graph.closed.sum())}
    return feature_collection(
        frame, origin=[lon, lat], mode=prof.mode.value, engine=svc.engine.name, **closed
    )


@router.get("/schools")
def schools(
    store: StoreDep,
    role: RoleDep,
    kind: Annotated[str, Query(description="school or kindergarten")] = "school",
    age_share: Annotated[
        float | None, Query(description="share of residents of that age (0.16 / 0.09)")
    ] = None,
    overload_at: Annotated[float, Query(description="load above which it is overloaded")] = 1.0,
    geometry: Annotated[str, Query(description="point or catchment")] = "point",
    district: Annotated[str | None, Query(description="only this district")] = None,
    overloaded_only: Annotated[bool, Query(description="only overloaded schools")] = False,
) -> dict[str, Any]:
    """Return each school's catchment residents, pupils estimate and load as GeoJSON, with
    the assumptions and the overloaded schools (most loaded first) as foreign members."""
    for layer_id in ("schools", "roads", "population_grid"):
        require_layer(role, layer_id)
    check_kind(kind)
    if geometry not in ("point", "catchment"):
        raise BadInput(f"unknown geometry {geometry!r}; use point or catchment")
    svc = _service(store)
    result = svc.schools(kind, age_share, overload_at)
    frame = result.schools
    if district:
        frame = frame[frame["district"].fillna("").str.lower() == district.lower()]
    if overloaded_only:
        frame = frame[frame["overloaded"]]
    over = frame[frame["overloaded"]].sort_values("load", ascending=False)
    if geometry == "catchment":
        shapes = catchment_shapes(result.cells).set_index("school_fid")
        hulls = frame["fid"].map(shapes.geometry).to_numpy()
        frame = gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=hulls, crs=4326)
        frame = frame[frame.geometry.notna()]
    return feature_collection(
        frame,
        assumptions=result.assumptions,
        walk_kmh=WALK.speed_kmh,
        engine=svc.engine.name,
        overloaded=records(over[["fid", "name", "district", "capacity", "load"]]),
    )
