"""The map for browsers: the built web app (``web/dist``) at ``/`` and its assets; the API's
viewers (Swagger UI at ``/docs``, ReDoc at ``/redoc``) built beside it.

``/`` is shared with the OGC API landing page (JSON). A small ASGI middleware answers ``GET /``
with the map's HTML when the caller asks for HTML (a browser's ``Accept``, or ``?f=html``) and
lets everything else through to the JSON landing, so the two do not depend on router order.

Assets are built by ``npm run build`` with content hashes in their names, so they are cached
for a year; the build also writes ``.gz``/``.br`` siblings, served when the browser takes them.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from twin.core.settings import PROJECT_ROOT

DIST = PROJECT_ROOT / "web" / "dist"
_IMMUTABLE = "public, max-age=31536000, immutable"
_ENCODINGS = (("br", ".br"), ("gzip", ".gz"))
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
    ".map": "application/json",
}

NOT_BUILT = """<!doctype html><html lang="en"><meta charset="utf-8">
<title>Almaty City Twin</title><body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>The map is not built yet</h1>
<p>Run <code>scripts/setup</code> (or
<code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>) and reload.
The API works meanwhile: <a href="/catalog">/catalog</a>,
<a href="/openapi.json">/openapi.json</a>.</p></body></html>"""


def _q(part: str) -> float:
    for param in part.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def wants_html(accept: str, query: str) -> bool:
    """Return whether a request for ``/`` should get the map rather than the JSON landing.

    ``?f=html`` / ``?f=json`` decide outright; otherwise HTML wins only when the ``Accept``
    header names ``text/html`` at least as strongly as JSON (``*/*`` alone means JSON).

    >>> wants_html("text/html,application/xhtml+xml,*/*;q=0.8", "")
    True
    >>> wants_html("application/json", ""), wants_html("*/*", ""), wants_html("*/*", "f=html")
    (False, False, True)
    """
    f = parse_qs(query).get("f", [""])[0].lower()
    if f in ("html", "json"):
        return f == "html"
    weights: dict[str, float] = {}
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        if media:
            weights[media] = max(weights.get(media, 0.0), _q(part))
    html = max(weights.get("text/html", 0.0), weights.get("application/xhtml+xml", 0.0))
    json = max(weights.get("application/json", 0.0), weights.get("application/geo+json", 0.0))
    return html > 0 and html >= json


class MapAtRoot:
    """ASGI middleware: ``GET /`` from a browser gets the map's ``index.html``."""

    def __init__(self, app: ASGIApp, dist: Path) -> None:
        self.app = app
        self.dist = dist

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] in ("/", "/index.html")
            and scope["method"] in ("GET", "HEAD")
        ):
            headers = Headers(scope=scope)
            query = scope.get("query_string", b"").decode("latin-1")
            if scope["path"] == "/index.html" or wants_html(headers.get("accept", ""), query):
                await self._index()(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _index(self) -> Response:
        index = self.dist / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503, headers={"Cache-Control": "no-store"})
        # The HTML names the hashed assets of the current build: always revalidate it.
        return FileResponse(
            index,
            media_type="text/html; charset=utf-8",
            headers={"Cache-Control": "no-cache", "Vary": "Accept"},
        )


def _asset_response(root: Path, rel: str, accept_encoding: str) -> Response:
    """Return the asset ``rel`` under ``root`` (pre-compressed if the browser takes it)."""
    base = root.resolve()
    path = (base / rel).resolve()
    if base not in path.parents or not path.is_file():
        return Response(
            '{"error": "not_found", "detail": "no such asset"}',
            status_code=404,
            media_type="application/json",
        )
    media = _TYPES.get(path.suffix, "application/octet-stream")
    headers = {"Cache-Control": _IMMUTABLE, "Vary": "Accept-Encoding"}
    accepted = {e.split(";")[0].strip() for e in accept_encoding.lower().split(",")}
    for encoding, suffix in _ENCODINGS:
        packed = path.with_name(path.name + suffix)
        if encoding in accepted and packed.is_file():
            headers["Content-Encoding"] = encoding
            return FileResponse(packed, media_type=media, headers=headers)
    return FileResponse(path, media_type=media, headers=headers)


def _page(dist: Path, name: str) -> Response:
    page = dist / name
    if not page.is_file():
        return HTMLResponse(NOT_BUILT, status_code=503, headers={"Cache-Control": "no-store"})
    return FileResponse(
        page, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"}
    )


#: The API viewers, built with the map from npm packages (swagger-ui-dist, redoc): FastAPI's
#: own pages load their scripts from a CDN, which the map's CSP forbids.
VIEWERS = {"/docs": "docs.html", "/redoc": "redoc.html"}


def install(app: FastAPI, dist: Path = DIST) -> None:
    """Serve the built map on ``app``: ``/`` for browsers and ``/assets/…``; and the API's
    viewers, Swagger UI at ``/docs`` and ReDoc at ``/redoc``, from the same build."""

    async def asset(request: Request) -> Response:
        return _asset_response(
            dist / "assets",
            request.path_params["rel"],
            request.headers.get("accept-encoding", ""),
        )

    app.router.routes.append(Route("/assets/{rel:path}", asset, methods=["GET", "HEAD"]))
    for path, name in VIEWERS.items():

        async def viewer(request: Request, name: str = name) -> Response:
            return _page(dist, name)

        app.router.routes.append(Route(path, viewer, methods=["GET", "HEAD"]))
    app.add_middleware(MapAtRoot, dist=dist)
