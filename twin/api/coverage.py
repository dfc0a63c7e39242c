"""``/api/analysis/coverage`` and ``/placement``: camera coverage, white spots and placement
of new cameras (planner key required), and the public per-district shares.

Roles: without a key the analyses answer 401, with a resident key 403; planner and admin
keys may run them. ``GET /api/analysis/coverage/districts`` is public and carries only the
per-district percentages (no camera, no geometry).

Bodies are validated with pydantic; every problem answers 400 ``{"error", "detail"}`` naming
the field. Results are kept in memory by id (the last 32; an expired id answers 404) and each
answer's ``links`` point to them: GeoJSON at ``GET /api/analysis/results/{id}``, a temporary
vector tile layer at ``/api/analysis/results/{id}/{z}/{x}/{y}.mvt`` with its TileJSON at
``/api/analysis/results/{id}/tiles.json`` (:mod:`twin.api.results`; the map draws
coverage and white spots from these) and, for coverage runs, the 5 m count raster at
``/api/analysis/results/{id}/coverage.tif``. Every result endpoint needs a planner key.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio.to_thread
import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from twin.analyses.budget import Budget
from twin.analyses.coverage import estimate, jobs
from twin.analyses.coverage.analysis import CoverageResult, PlacementResult
from twin.analyses.coverage.cameras import MAX_RANGE_M, CameraEdits, to_metric
from twin.analyses.coverage.placement import DEMAND_CELL_M, MAX_K, Template
from twin.analyses.coverage.results import feature_collection
from twin.analyses.coverage.scope import Scope
from twin.analyses.coverage.session import ScopeCache
from twin.analyses.coverage.targets import Weights
from twin.analyses.memo import StoreMemo
from twin.api.deps import RoleDep, StoreDep
from twin.api.limits import ANALYSIS_RESPONSES, AnalysisGate
from twin.api.results import keep, links
from twin.core import access
from twin.core.access import Role
from twin.core.errors import BadInput
from twin.store import Store

router = APIRouter(prefix="/api/analysis", tags=["analysis"])


class _Body(BaseModel):
    # JSON's 1e999 and Python's NaN are not numbers an analysis can use.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


#: Weights are relative; a bound keeps their products finite (1e308 made a 500).
MAX_WEIGHT = 1000.0


class ScopeIn(_Body):
    """Where to analyse: the city, a district, a bbox or a drawn polygon."""

    kind: Literal["city", "district", "bbox", "polygon"] = "city"
    district: str | None = Field(default=None, description="English, Russian or Kazakh name")
    bbox: list[float] | None = Field(
        default=None, min_length=4, max_length=4, description="west, south, east, north (degrees)"
    )
    polygon: dict[str, Any] | None = Field(
        default=None, description="GeoJSON Polygon or MultiPolygon"
    )

    def scope(self) -> Scope:
        if self.kind == "district" and not self.district:
            raise BadInput("scope: kind 'district' needs a district name")
        if self.kind == "polygon" and self.polygon is None:
            raise BadInput("scope: kind 'polygon' needs a GeoJSON polygon")
        bbox = None
        if self.bbox is not None:
            bbox = (self.bbox[0], self.bbox[1], self.bbox[2], self.bbox[3])
        return Scope(kind=self.kind, district=self.district, bbox=bbox, polygon=self.polygon)


class WeightsIn(_Body):
    """Weight of a square metre of street space: base + each factor × its normalised density."""

    base: float = Field(default=1.0, ge=0, le=MAX_WEIGHT)
    population: float = Field(default=1.0, ge=0, le=MAX_WEIGHT)
    pois: float = Field(default=0.5, ge=0, le=MAX_WEIGHT)
    appeals: float = Field(default=0.5, ge=0, le=MAX_WEIGHT)

    def weights(self) -> Weights:
        return Weights(self.base, self.population, self.pois, self.appeals)


Fov = Annotated[float, Field(gt=0, le=360)]
Range = Annotated[float, Field(gt=0, le=MAX_RANGE_M)]
Mount = Annotated[float, Field(ge=0, le=100)]
Lon = Annotated[float, Field(ge=-180, le=180)]
Lat = Annotated[float, Field(ge=-90, le=90)]


class CameraChange(_Body):
    """Fields of a camera; all optional in an update."""

    kind: Literal["fixed", "ptz"] | None = None
    status: Literal["working", "broken", "planned"] | None = None
    heading_deg: float | None = Field(default=None, ge=-360, le=720)
    fov_deg: Fov | None = None
    range_m: Range | None = None
    mount_height_m: Mount | None = None


class CameraAdd(CameraChange):
    """A camera added for this request only."""

    id: str | None = Field(default=None, max_length=64)
    lon: Lon
    lat: Lat


class CameraUpdate(CameraChange):
    """A stored camera changed or moved for this request only."""

    id: str = Field(max_length=64)
    lon: Lon | None = None
    lat: Lat | None = None


class EditsIn(_Body):
    """What-if changes to the cameras, never saved."""

    add: list[CameraAdd] = Field(default_factory=list, max_length=1000)
    update: list[CameraUpdate] = Field(default_factory=list, max_length=5000)
    remove: list[str] = Field(default_factory=list, max_length=20000)

    def edits(self) -> CameraEdits:
        return CameraEdits(
            add=[a.model_dump(exclude_none=True) for a in self.add],
            update=[u.model_dump(exclude_none=True) for u in self.update],
            remove=list(self.remove),
        )


class CoverageIn(_Body):
    """A coverage request."""

    scope: ScopeIn = Field(default_factory=ScopeIn)
    weights: WeightsIn = Field(default_factory=WeightsIn)
    cameras: EditsIn = Field(default_factory=EditsIn)
    include_planned: bool = False
    min_spot_m2: float = Field(default=25.0, ge=0, le=1e6)
    limit: int = Field(default=500, ge=0, le=100000, description="white spots returned inline")


class TemplateIn(_Body):
    """The kind of camera to place."""

    kind: Literal["fixed", "ptz"] = "fixed"
    fov_deg: Fov = 90.0
    range_m: Range = 100.0
    mount_height_m: Mount = 6.0


class CandidatesIn(_Body):
    """Where new cameras may go: along the streets, or given points."""

    mode: Literal["streets", "points"] = "streets"
    spacing_m: float = Field(default=50.0, ge=5, le=5000)
    intersections: bool = True
    points: dict[str, Any] | None = Field(
        default=None, description="GeoJSON FeatureCollection of Points (optional heading_deg)"
    )


class PlacementIn(CoverageIn):
    """A placement request."""

    k: int = Field(ge=1, le=MAX_K)
    camera: TemplateIn = Field(default_factory=TemplateIn)
    candidates: CandidatesIn = Field(default_factory=CandidatesIn)
    demand_cell_m: float = Field(default=DEMAND_CELL_M, ge=1, le=50)


def require_planner(role: Role) -> None:
    """Raise 401 without a key and 403 for a role other than planner or admin."""
    access.require_planner(role, "run coverage analyses")


def _scopes(request: Request) -> ScopeCache:
    scopes: ScopeCache = request.app.state.coverage_scopes
    return scopes


def _given_points(fc: dict[str, Any] | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return metric x, y and heading (NaN where absent) of a FeatureCollection of points."""
    if not isinstance(fc, dict) or fc.get("type") != "FeatureCollection":
        raise BadInput("candidates.points must be a GeoJSON FeatureCollection of points")
    lon, lat, head = [], [], []
    for i, feat in enumerate(fc.get("features") or []):
        geom = feat.get("geometry") if isinstance(feat, dict) else None
        coords = geom.get("coordinates") if isinstance(geom, dict) else None
        if (
            not isinstance(geom, dict)
            or geom.get("type") != "Point"
            or not isinstance(coords, list)
        ):
            raise BadInput(f"candidates.points: feature {i} is not a GeoJSON Point")
        try:
            x, y = float(coords[0]), float(coords[1])
        except (TypeError, ValueError, IndexError):
            raise BadInput(f"candidates.points: feature {i} has malformed coordinates") from None
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            raise BadInput(f"candidates.points: feature {i} is not a lon/lat position")
        props = feat.get("properties") or {}
        h = props.get("heading_deg") if isinstance(props, dict) else None
        lon.append(x)
        lat.append(y)
        head.append(float(h) if isinstance(h, int | float) else np.nan)
    if not lon:
        raise BadInput("candidates.points has no features")
    mx, my = to_metric(lon, lat)
    return mx, my, np.asarray(head, float)


def _coverage_payload(result: CoverageResult, rid: str, limit: int) -> dict[str, Any]:
    spots = result.white_spots
    return {
        "id": rid,
        "scope": result.scope_label,
        "summary": result.summary,
        "districts": result.districts.to_dict("records"),
        "white_spots": feature_collection(spots.head(limit), total=len(spots)),
        "links": {**links(rid), "geotiff": f"/api/analysis/results/{rid}/coverage.tif"},
        "timings": {k: round(v, 3) for k, v in result.timings.items()},
    }


def _gate(request: Request) -> AnalysisGate:
    gate: AnalysisGate = request.app.state.analysis_gate
    return gate


@router.post("/coverage", responses=ANALYSIS_RESPONSES)
async def coverage(
    body: CoverageIn, store: StoreDep, role: RoleDep, request: Request
) -> JSONResponse:
    """Return coverage of street space in percent (whole scope and per district) and the
    white spots ranked by weight, with any what-if camera edits applied."""
    require_planner(role)
    gate = _gate(request)
    kwargs = await anyio.to_thread.run_sync(_coverage_kwargs, body, gate.limits)
    result: CoverageResult = await gate.run(
        request, jobs.coverage, body.scope.scope(), body.include_planned, kwargs
    )
    return await anyio.to_thread.run_sync(_coverage_answer, request, result, body.limit)


def _coverage_kwargs(body: CoverageIn, limits: Budget) -> dict[str, Any]:
    """Return the worker's arguments, refusing (413) edits surely over the limits first (in a
    thread: thousands of edited cameras take milliseconds to read)."""
    edits = body.cameras.edits()
    estimate.check_coverage(limits, edits)
    return {"weights": body.weights.weights(), "edits": edits, "min_spot_m2": body.min_spot_m2}


def _coverage_answer(request: Request, result: CoverageResult, limit: int) -> JSONResponse:
    """Keep the result and answer (in a thread: encoding a city's answer takes a while)."""
    frames = {
        "white_spots": result.white_spots,
        "coverage": result.coverage,
        "cameras": result.cameras,
    }
    rid = keep(request, "coverage", frames, result.geotiff)
    return JSONResponse(_coverage_payload(result, rid, limit))


def _placement_payload(result: PlacementResult, rid: str, limit: int) -> dict[str, Any]:
    spots = result.white_spots_after
    return {
        "id": rid,
        "scope": result.scope_label,
        "before": result.before,
        "after": result.after,
        "districts_after": result.districts_after.to_dict("records"),
        "proposed": feature_collection(result.proposed),
        "white_spots": feature_collection(spots.head(limit), total=len(spots)),
        "stats": result.stats,
        "links": links(rid),
    }


@router.post("/placement", responses=ANALYSIS_RESPONSES)
async def placement(
    body: PlacementIn, store: StoreDep, role: RoleDep, request: Request
) -> JSONResponse:
    """Return ``k`` proposed cameras (GeoJSON points with each one's gain) chosen greedily to
    cover the most uncovered weight, and coverage before and after adding them."""
    require_planner(role)
    gate = _gate(request)
    kwargs = await anyio.to_thread.run_sync(_placement_kwargs, request, store, body, gate.limits)
    result: PlacementResult = await gate.run(
        request, jobs.placement, body.scope.scope(), body.include_planned, kwargs
    )
    return await anyio.to_thread.run_sync(_placement_answer, request, result, body.limit)


def _placement_kwargs(
    request: Request, store: Store, body: PlacementIn, limits: Budget
) -> dict[str, Any]:
    """Return the worker's arguments, refusing (413) a placement surely over the limits
    first (:mod:`twin.analyses.coverage.estimate`; in a thread: the street table is read
    from the store once per version)."""
    given = _given_points(body.candidates.points) if body.candidates.mode == "points" else None
    edits = body.cameras.edits()
    kwargs = {
        "k": body.k,
        "template": Template(**body.camera.model_dump()),
        "weights": body.weights.weights(),
        "edits": edits,
        "spacing_m": body.candidates.spacing_m,
        "intersections": body.candidates.intersections,
        "given": given,
        "demand_cell_m": body.demand_cell_m,
        "min_spot_m2": body.min_spot_m2,
    }
    cells: StoreMemo[estimate.StreetCells] = request.app.state.street_cells
    size = cells.get(store).size(body.scope.scope())
    estimate.check_placement(limits, size, kwargs, edits)
    return kwargs


def _placement_answer(request: Request, result: PlacementResult, limit: int) -> JSONResponse:
    """Keep the result and answer (in a thread, as :func:`_coverage_answer`)."""
    frames = {"proposed": result.proposed, "white_spots": result.white_spots_after}
    rid = keep(request, "placement", frames)
    return JSONResponse(_placement_payload(result, rid, limit))


@router.get("/coverage/districts")
def district_shares(store: StoreDep, request: Request) -> JSONResponse:
    """Return, per district, the share of street length, street area and weighted street
    area that working cameras cover, in percent (public: no camera data)."""
    cache: dict[Any, Any] = request.app.state.coverage_public
    key = (store.url, store.last_change_id())
    if key not in cache:
        with _scopes(request).use(store, Scope(), False) as prepared:
            result = prepared.coverage()
        keep = ("district", "street_pct", "area_pct", "weighted_pct")
        cache.clear()
        cache[key] = {
            "districts": [{k: r[k] for k in keep} for r in result.districts.to_dict("records")],
            "city": {k: result.summary[k] for k in keep[1:]},
            "weights": "default (base 1, population 1, POIs 0.5, appeals 0.5)",
            "synthetic": True,
        }
    return JSONResponse(cache[key])
