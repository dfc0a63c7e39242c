"""The one HTTP answer for a vector tile, for catalog tiles and kept results' tiles alike:
204 when empty, 304 when the ETag matches, else the MVT (gzip when the client takes it)."""

from __future__ import annotations

import gzip
from typing import Any

from fastapi import Response

from tiles.compress import gzip_tile

MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
#: The answers of a tile route, for the OpenAPI document.
TILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {MVT_MEDIA_TYPE: {}}, "description": "Mapbox Vector Tile"},
    204: {"description": "Empty tile"},
    304: {"description": "Not modified (If-None-Match)"},
}


def etag_matches(if_none_match: str | None, etag: str | None) -> bool:
    """Return whether an ``If-None-Match`` header names ``etag`` (or ``*``)."""
    if not if_none_match or etag is None:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Return whether an ``Accept-Encoding`` header takes gzip (not refused with ``q=0``)."""
    for part in (accept_encoding or "").split(","):
        coding, _, q = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            return q.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def mvt_response(
    body: bytes,
    etag: str | None,
    headers: dict[str, str],
    if_none_match: str | None,
    accept_encoding: str | None,
    *,
    gzipped: bool,
) -> Response:
    """Return the answer for a tile whose bytes are ``body`` (gzip already when ``gzipped``,
    as kept by the tile cache; plain otherwise); ``headers`` are sent with every answer."""
    headers = dict(headers)
    if not body or etag is None:
        return Response(status_code=204, headers=headers)
    headers["ETag"] = etag
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    if accepts_gzip(accept_encoding):
        headers["Content-Encoding"] = "gzip"
        body = body if gzipped else gzip_tile(body)
    elif gzipped:
        body = gzip.decompress(body)
    return Response(body, media_type=MVT_MEDIA_TYPE, headers=headers)
