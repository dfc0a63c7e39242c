"""The public base URL of links (``/style.json``, TileJSON, OGC API links, Open311 media).

Links were built from the ``Host`` header, so ``Host: evil.example`` went into the style,
TileJSON and OGC links (and from there into any cache in between). Now they come from
``TWIN_PUBLIC_URL`` when set (a deployment behind a proxy sets its public address), else from
the address the connection really reached (ASGI ``server``: the socket's own address, which
no client header changes) — never from ``Host``.
"""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import URL

_DEFAULT_PORTS = {"http": 80, "https": 443}


def public_base(request: Request) -> str:
    """Return the public base URL, ending in ``/``."""
    configured: str | None = request.app.state.settings.public_url
    if configured:
        return configured.rstrip("/") + "/"
    scheme = request.scope.get("scheme", "http")
    host, port = request.scope.get("server") or ("127.0.0.1", None)
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    root = request.scope.get("root_path", "").rstrip("/")
    return f"{scheme}://{netloc}{root}/"


def public_url(request: Request) -> URL:
    """Return the request's own URL under :func:`public_base` (path and query kept)."""
    base = public_base(request).rstrip("/")
    query = request.url.query
    return URL(base + request.url.path + (f"?{query}" if query else ""))
