"""Vector tiles over HTTP: ``/tiles/{layers}/{z}/{x}/{y}.mvt``, ``/tiles/{layers}.json``
(TileJSON 3.0) and ``/style.json``. ``{layers}`` is one layer id or several, comma-separated
(a composite tile: layers the caller may not see are left out; 404 only if none is left).

An empty tile — no feature in any layer, e.g. below every layer's ``minzoom`` — answers
``204 No Content``, which MapLibre treats as an empty tile.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from tiles.access import resolve, visible_accesses
from tiles.changes import SlowLook
from tiles.service import TileResult, TileService
from tiles.style import build_style
from tiles.tilejson import tilejson, union_bounds
from twin.api.deps import RoleDep
from twin.api.mvt import TILE_RESPONSES, mvt_response
from twin.api.urls import public_base
from twin.core.access import role_for
from twin.core.errors import TwinError

router = APIRouter(tags=["tiles"])

#: Threads of the fast path for drawing tiles (and slow looks at the change log). Its own
#: executor, called through ``loop.run_in_executor``: Starlette's ``run_in_threadpool``
#: (anyio's thread pool, capacity limiter and cancel scope) cost ~0.5 ms more per cold tile
#: (measured with ``bench.tiles``' tile list: 5.8-6.2 ms against 5.3 ms per tile at c=1).
TILE_THREADS = 16


async def get_tiles(request: Request) -> TileService:
    """Return the tile service created in the app's lifespan."""
    service: TileService = request.app.state.tiles
    return service


TilesDep = Annotated[TileService, Depends(get_tiles)]


def _headers(result: TileResult, max_age: int) -> dict[str, str]:
    scope = "public" if result.public else "private"
    control = f"{scope}, max-age={max_age}" + (", must-revalidate" if max_age == 0 else "")
    return {
        "Cache-Control": control,
        # the same URL answers differently with a planner key, and in gzip or not
        "Vary": "Accept-Encoding, Authorization",
        # hit: from memory; stored: kept in the embedded store's file; miss: drawn now
        "X-Tile-Cache": "hit" if result.cache_hit else "stored" if result.stored else "miss",
    }


@router.get(
    "/tiles/{layers}/{z}/{x}/{y}.mvt",
    response_class=Response,
    responses=TILE_RESPONSES,
)
def tile(
    layers: str,
    z: int,
    x: int,
    y: int,
    service: TilesDep,
    role: RoleDep,
    if_none_match: Annotated[str | None, Header()] = None,
    accept_encoding: Annotated[str | None, Header()] = None,
) -> Response:
    """Return one vector tile of one layer or of several (``a,b,c``)."""
    result = service.tile(layers, z, x, y, role)
    return tile_response(result, service.settings.max_age, if_none_match, accept_encoding)


def tile_response(
    result: TileResult, max_age: int, if_none_match: str | None, accept_encoding: str | None
) -> Response:
    """Return the HTTP answer for a catalog tile (:func:`twin.api.mvt.mvt_response`)."""
    headers = _headers(result, max_age)
    return mvt_response(
        result.body, result.etag, headers, if_none_match, accept_encoding, gzipped=True
    )


_TILE_PATH = re.compile(r"^/tiles/([^/]+)/([0-9]{1,2})/([0-9]{1,10})/([0-9]{1,10})\.mvt$")


def _in_thread(
    threads: ThreadPoolExecutor, fn: Callable[..., TileResult], *args: Any
) -> Awaitable[TileResult]:
    """Run ``fn(*args)`` on the fast path's executor (see :data:`TILE_THREADS`)."""
    return asyncio.get_running_loop().run_in_executor(threads, fn, *args)


class TileFastPath:
    """ASGI middleware: ``GET /tiles/{layers}/{z}/{x}/{y}.mvt`` answered straight from the tile
    service, without FastAPI's routing, dependency solving and validation, which cost more than
    answering a cached tile (measured: a cached tile 0.61 ms through the route, a bare ASGI
    answer 0.18 ms).

    It answers exactly as :func:`tile` does (same service call, same :func:`tile_response`).
    Anything it cannot answer — a bad key, an unknown layer, a tile outside the grid, a store
    error — goes on to the FastAPI route, which answers it with the documented error.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = (
            _TILE_PATH.match(scope["path"])
            if scope["type"] == "http" and scope["method"] == "GET"
            else None
        )
        if match is None:
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        service: TileService = state.tiles
        threads: ThreadPoolExecutor = state.tile_threads
        headers = Headers(scope=scope)
        names, z, x, y = match.group(1), *map(int, match.groups()[1:])
        try:
            role = role_for(headers.get("authorization"), state.settings.auth)
            # A cached tile is answered here, in the event loop, when one quick query of the
            # change log says it is current (shared by concurrent requests on PostGIS);
            # anything more goes to a thread.
            try:
                result = await service.cached_async(names, z, x, y, role)
            except SlowLook:
                result = await _in_thread(threads, service.tile, names, z, x, y, role)
            if result is None:
                result = await service.draw_async(names, z, x, y, role)
            if result is None:
                result = await _in_thread(threads, service.draw, names, z, x, y, role)
        except TwinError:
            await self.app(scope, receive, send)
            return
        response = tile_response(
            result,
            service.settings.max_age,
            headers.get("if-none-match"),
            headers.get("accept-encoding"),
        )
        await response(scope, receive, send)


@router.get("/tiles/{layers}.json")
def tile_json(layers: str, request: Request, service: TilesDep, role: RoleDep) -> dict[str, Any]:
    """Return the TileJSON 3.0 of one layer or of several (``a,b,c``)."""
    accesses = resolve(role, layers)
    bounds = union_bounds([service.bounds(a.layer) for a in accesses])
    return tilejson(accesses, public_base(request), bounds)


@router.get("/style.json")
def style(request: Request, service: TilesDep, role: RoleDep) -> dict[str, Any]:
    """Return the MapLibre style of every layer the caller may see, generated from the
    catalog (no external source)."""
    base = public_base(request)
    glyphs = service.settings.glyphs_url
    if glyphs and glyphs.startswith("/"):
        glyphs = base.rstrip("/") + glyphs
    return build_style(visible_accesses(role), base, glyphs_url=glyphs, font=service.settings.font)
