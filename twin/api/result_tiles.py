"""A kept analysis result as a temporary vector tile layer (planner key required):
``/api/analysis/results/{id}/{z}/{x}/{y}.mvt`` and its TileJSON ``…/{id}/tiles.json``.

One tile holds one MVT layer per result layer (``white_spots``, ``coverage``, ``cameras``,
``proposed`` — those the result has, or those named by ``?layer=``), with the properties of
the GeoJSON at ``/api/analysis/results/{id}`` (its ``layer`` property included) and the
feature's position in that layer's GeoJSON features as its id. Tiles are drawn in this
process from geometries indexed when the result was kept (:mod:`tiles.adhoc`) and are not
cached here: a result is private to planners and lives only until 32 newer ones push it out,
so the answer is ``private`` with a short ``max-age`` and an ETag.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Header, Query, Request, Response

from tiles.adhoc import FrameTiles
from tiles.compress import gzip_tile
from tiles.grid import Tile
from tiles.service import etag_of
from twin.api.coverage import LAYERS, kept_result, require_planner, selected_layers
from twin.api.deps import RoleDep
from twin.api.tiles import MVT_MEDIA_TYPE, TILE_RESPONSES, accepts_gzip, etag_matches
from twin.errors import NotFound

router = APIRouter(prefix="/api/analysis", tags=["analysis"])

#: Seconds a browser may reuse a result tile without asking again (results are immutable
#: while kept, but expire).
MAX_AGE = 300

LayerQuery = Annotated[
    list[str] | None, Query(description=f"layers to draw: {', '.join(LAYERS)} (default: all)")
]


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


def _headers() -> dict[str, str]:
    return {
        "Cache-Control": f"private, max-age={MAX_AGE}",
        "Vary": "Accept-Encoding, Authorization",
    }


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
    require_planner(role)
    tile = Tile(z, x, y)
    raw = _tiles_of(request, rid, layer).render(tile)
    headers = _headers()
    if not raw:
        return Response(status_code=204, headers=headers)
    headers["ETag"] = etag_of(raw)
    if etag_matches(if_none_match, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    body = raw
    if accepts_gzip(accept_encoding):
        body = gzip_tile(raw)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=MVT_MEDIA_TYPE, headers=headers)


@router.get("/results/{rid}/tiles.json")
def result_tilejson(
    rid: str, role: RoleDep, request: Request, layer: LayerQuery = None
) -> dict[str, Any]:
    """Return the TileJSON 3.0 of a kept result's tile layer: the tile URL template, the
    result's bounds and each layer's fields."""
    require_planner(role)
    tiles = _tiles_of(request, rid, layer)
    url = str(request.base_url).rstrip("/") + f"/api/analysis/results/{rid}/{{z}}/{{x}}/{{y}}.mvt"
    if layer:
        url += "?" + urlencode([("layer", t.name) for t in tiles.layers])
    kind = kept_result(request, rid).kind
    return tiles.tilejson(
        url,
        name=f"{kind} result {rid[:8]}",
        description=f"Almaty City Twin: a {kind} analysis result, kept in memory for a while",
    )
