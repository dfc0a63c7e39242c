"""Analysis results kept by the API for the map: ``/api/analysis/results/{id}`` (GeoJSON),
``…/{id}/{z}/{x}/{y}.mvt`` and ``…/{id}/tiles.json`` (a temporary vector tile layer) and, for
coverage runs, ``…/{id}/coverage.tif`` (the 5 m count raster). A planner key is needed for each.

An analysis returns frames and values; keeping them to serve them is this module's job: the
last 32 results are kept in memory by a random id (:class:`ResultStore`, created in the app's
lifespan) and an expired id answers 404.

One tile holds one MVT layer per result layer (``white_spots``, ``coverage``, ``cameras``,
``proposed`` — those the result has, or those named by ``?layer=``), with the properties of
the GeoJSON at ``/api/analysis/results/{id}`` (its ``layer`` property included) and the
feature's position in that layer's GeoJSON features as its id. Tiles are drawn in this
process from geometries indexed when the result was kept (:mod:`tiles.adhoc`) and are not
cached: a result is private to planners and lives only until 32 newer ones push it out,
so the answer is ``private`` with a short ``max-age`` and an ETag.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import geopandas as gpd
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from tiles.adhoc import FrameTiles
from tiles.grid import Tile
from tiles.service import etag_of
from twin.analyses.coverage.results import feature_collection
from twin.api.deps import RoleDep
from twin.api.mvt import TILE_RESPONSES, mvt_response
from twin.api.urls import public_base
from twin.core.access import Role, require_planner
from twin.core.errors import BadInput, NotFound

router = APIRouter(prefix="/api/analysis", tags=["analysis"])

#: The layers a kept result may have, in the order they are drawn and returned.
LAYERS = ("white_spots", "coverage", "cameras", "proposed")
#: Seconds a browser may reuse a result tile without asking again (results are immutable
#: while kept, but expire).
MAX_AGE = 300


@dataclass
class StoredResult:
    """One analysis result kept for the map: GeoJSON layers, the same layers indexed for
    vector tiles and, for coverage runs, a way to render the count raster."""

    kind: str
    layers: dict[str, dict[str, Any]]
    tiles: FrameTiles | None = None
    geotiff: Callable[[], bytes] | None = None


class ResultStore:
    """The last ``size`` results by id."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._items: OrderedDict[str, StoredResult] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, result: StoredResult) -> str:
        """Keep ``result``; return its new id."""
        rid = uuid.uuid4().hex
        with self._lock:
            self._items[rid] = result
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return rid

    def get(self, rid: str) -> StoredResult | None:
        """Return the result ``rid`` (None when unknown or dropped)."""
        with self._lock:
            return self._items.get(rid)


def keep(
    request: Request,
    kind: str,
    frames: dict[str, gpd.GeoDataFrame],
    geotiff: Callable[[], bytes] | None = None,
) -> str:
    """Keep a result's layers as GeoJSON and indexed for tiles (reprojected to lon/lat once
    for both); return its id."""
    wgs = {name: frame.to_crs(4326) for name, frame in frames.items()}
    result = StoredResult(
        kind=kind,
        layers={name: feature_collection(frame) for name, frame in wgs.items()},
        tiles=FrameTiles.from_frames(wgs, name_property="layer"),
        geotiff=geotiff,
    )
    store: ResultStore = request.app.state.results
    return store.put(result)


def links(rid: str) -> dict[str, str]:
    """Return the links of a kept result (GeoJSON, tiles, TileJSON)."""
    base = f"/api/analysis/results/{rid}"
    return {
        "results": base,
        "tiles": base + "/{z}/{x}/{y}.mvt",
        "tilejson": base + "/tiles.json",
    }


def _planner(role: Role) -> None:
    require_planner(role, "run coverage analyses")


def kept_result(request: Request, rid: str) -> StoredResult:
    """Return the kept result ``rid``; raise :class:`NotFound` when unknown or dropped."""
    store: ResultStore = request.app.state.results
    stored = store.get(rid)
    if stored is None:
        raise NotFound(f"no result {rid!r} (results are kept in memory, the last 32)")
    return stored


def selected_layers(stored: StoredResult, layer: list[str] | None) -> list[str]:
    """Return the asked-for layer names once each, in the order asked (default: every layer
    of ``stored``); raise :class:`BadInput` for a name that is no result layer."""
    wanted = layer or [name for name in LAYERS if name in stored.layers]
    unknown = sorted(set(wanted) - set(LAYERS))
    if unknown:
        raise BadInput(f"layer: unknown {unknown}; one of {', '.join(LAYERS)}")
    return list(dict.fromkeys(wanted))


LayerQuery = Annotated[
    list[str] | None, Query(description=f"layers to draw: {', '.join(LAYERS)} (default: all)")
]


@router.get("/results/{rid}")
def result_layers(
    rid: str,
    role: RoleDep,
    request: Request,
    layer: Annotated[
        list[str] | None, Query(description=f"layers to return: {', '.join(LAYERS)}")
    ] = None,
) -> JSONResponse:
    """Return a kept result as one GeoJSON FeatureCollection; each feature's ``layer``
    property says what it is (white_spots, coverage, cameras, proposed)."""
    _planner(role)
    stored = kept_result(request, rid)
    features: list[dict[str, Any]] = []
    for name in selected_layers(stored, layer):
        for feat in stored.layers.get(name, {}).get("features", []):
            features.append({**feat, "properties": {**feat["properties"], "layer": name}})
    return JSONResponse(
        {"type": "FeatureCollection", "id": rid, "kind": stored.kind, "features": features}
    )


@router.get("/results/{rid}/coverage.tif")
def result_geotiff(rid: str, role: RoleDep, request: Request) -> Response:
    """Return the kept coverage run's count raster: cameras seeing each 5 m cell (GeoTIFF,
    EPSG:32643)."""
    _planner(role)
    store: ResultStore = request.app.state.results
    stored = store.get(rid)
    if stored is None or stored.geotiff is None:
        raise NotFound(f"no coverage result {rid!r} with a raster")
    return Response(
        stored.geotiff(),
        media_type="image/tiff",
        headers={"Content-Disposition": f'attachment; filename="coverage-{rid[:8]}.tif"'},
    )


def _tiles_of(request: Request, rid: str, layer: list[str] | None) -> FrameTiles:
    """Return the tile set of the kept result ``rid`` restricted to the asked layers."""
    stored = kept_result(request, rid)
    if stored.tiles is None:
        raise NotFound(f"result {rid!r} has no tile layer")
    names = selected_layers(stored, layer)
    chosen = [t for t in stored.tiles.layers if t.name in names]
    chosen.sort(key=lambda t: names.index(t.name))
    if len(chosen) == len(stored.tiles.layers):
        return stored.tiles
    return FrameTiles(chosen, maxzoom=stored.tiles.maxzoom)


@router.get(
    "/results/{rid}/{z}/{x}/{y}.mvt",
    response_class=Response,
    responses=TILE_RESPONSES,
)
def result_tile(
    rid: str,
    z: int,
    x: int,
    y: int,
    role: RoleDep,
    request: Request,
    layer: LayerQuery = None,
    if_none_match: Annotated[str | None, Header()] = None,
    accept_encoding: Annotated[str | None, Header()] = None,
) -> Response:
    """Return one vector tile of a kept coverage or placement result."""
    _planner(role)
    tile = Tile(z, x, y)
    raw = _tiles_of(request, rid, layer).render(tile)
    headers = {
        "Cache-Control": f"private, max-age={MAX_AGE}",
        "Vary": "Accept-Encoding, Authorization",
    }
    etag = etag_of(raw) if raw else None
    return mvt_response(raw, etag, headers, if_none_match, accept_encoding, gzipped=False)


@router.get("/results/{rid}/tiles.json")
def result_tilejson(
    rid: str, role: RoleDep, request: Request, layer: LayerQuery = None
) -> dict[str, Any]:
    """Return the TileJSON 3.0 of a kept result's tile layer: the tile URL template, the
    result's bounds and each layer's fields."""
    _planner(role)
    tiles = _tiles_of(request, rid, layer)
    url = public_base(request).rstrip("/") + f"/api/analysis/results/{rid}/{{z}}/{{x}}/{{y}}.mvt"
    if layer:
        url += "?" + urlencode([("layer", t.name) for t in tiles.layers])
    kind = kept_result(request, rid).kind
    return tiles.tilejson(
        url,
        name=f"{kind} result {rid[:8]}",
        description=f"Almaty City Twin: a {kind} analysis result, kept in memory for a while",
    )
