"""Security headers on every answer.

The map promises that nothing loads from another host, so the Content-Security-Policy says
so: scripts, styles, images, fonts and fetches from this origin only (plus ``blob:`` for
MapLibre's workers and ``data:`` images), no framing by other sites (``frame-ancestors``, the
clickjacking guard), no plugins. A glyphs server configured in ``TWIN_TILES_GLYPHS_URL`` is
the one other origin the map may fetch from. ``X-Content-Type-Options: nosniff`` keeps a
browser from running a download as a script; ``Referrer-Policy`` keeps map positions in URLs
from leaking to other sites.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def content_security_policy(glyphs_url: str | None = None) -> str:
    """Return the CSP of every answer (``glyphs_url``'s origin may be fetched from)."""
    connect = "'self'"
    if glyphs_url:
        parts = urlsplit(glyphs_url)
        if parts.scheme in ("http", "https") and parts.netloc:
            connect += f" {parts.scheme}://{parts.netloc}"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            # MapLibre sets element styles; the app's CSS is a file
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            f"connect-src {connect}",
            "worker-src 'self' blob:",
            "child-src 'self' blob:",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "object-src 'none'",
        ]
    )


class SecurityHeaders:
    """ASGI middleware adding the security headers to every HTTP answer (not overriding a
    header an endpoint set itself)."""

    def __init__(self, app: ASGIApp, *, csp: str) -> None:
        self.app = app
        self.headers = {
            "Content-Security-Policy": csp,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "strict-origin-when-cross-origin",
            "Cross-Origin-Opener-Policy": "same-origin",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


#: The open data: features, tiles, the style, the catalog (public to any site's map).
OPEN_DATA_PREFIXES = ("/collections", "/conformance", "/tiles/", "/style.json", "/catalog")


class OpenDataCORS:
    """CORS (Starlette's ``CORSMiddleware``) for GET on the open-data routes only.

    Another site's map may read our features and tiles from the browser; nothing else (the
    staff, account and participation routes) is opened, no credentials are allowed, and a
    preflight for any method other than GET/HEAD is refused.
    """

    def __init__(self, app: ASGIApp, origins: str) -> None:
        self.app = app
        allowed = [o.strip() for o in origins.split(",") if o.strip()]
        self.cors = (
            CORSMiddleware(app, allow_origins=allowed, allow_methods=["GET", "HEAD"])
            if allowed
            else app
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(OPEN_DATA_PREFIXES):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
