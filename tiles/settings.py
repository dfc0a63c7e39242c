"""Tile serving settings, read from ``TWIN_TILES_*`` variables when the app starts."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TileSettings(BaseSettings):
    """How tiles are encoded, cached and told to HTTP caches."""

    model_config = SettingsConfigDict(env_prefix="TWIN_TILES_", extra="ignore")

    #: "auto": ST_AsMVT on PostGIS, the in-process encoder on the GeoPackage store.
    encoder: Literal["auto", "postgis", "embedded"] = "auto"
    #: Budget of the in-process LRU of gzip-compressed tiles.
    cache_mb: float = Field(default=256.0, ge=0)
    #: Budget of the tiles kept in the embedded store's file (:mod:`tiles.stored`) by tiles
    #: drawn on demand; ``twin tiles warm`` keeps what it is asked for. 0 keeps and reads none.
    store_mb: float = Field(default=1024.0, ge=0)
    #: Seconds between two looks at the store's change log. 0 looks before every tile, so a
    #: tile is never served from cache after a write committed; raise it to trade that for
    #: one query less per request.
    poll_interval: float = Field(default=0.0, ge=0)
    #: ``Cache-Control: max-age`` of tiles. 0 makes clients revalidate every time (a cheap
    #: 304 thanks to the ETag), so an edit shows on the next map move.
    max_age: int = Field(default=0, ge=0)
    #: MapLibre ``glyphs`` URL template (``…/{fontstack}/{range}.pbf``). Without it the style
    #: has no label layers, because MapLibre cannot draw text without glyphs.
    glyphs_url: str | None = None
    #: Font stack the label layers ask the glyphs server for.
    font: str = "Noto Sans Regular"
