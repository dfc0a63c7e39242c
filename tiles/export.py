"""Export public tiles to one PMTiles v3 archive, for a CDN or for offline use.

The archive holds what a caller without a key sees (planner-only layers are refused;
residents' appeals go in as their public H3 counts), gzip-compressed MVT, every zoom from
``minzoom`` to ``maxzoom`` over the extent of the chosen layers; empty tiles are left out.
At the archive's ``maxzoom`` no feature is dropped for size, because clients overzoom it.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer

from tiles.access import LayerAccess, visible_accesses
from tiles.grid import MAX_ZOOM, Tile, tiles_covering
from tiles.service import TileService
from tiles.tilejson import tilejson, union_bounds
from twin.core.access import Role
from twin.core.errors import BadInput

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote."""

    path: Path
    layers: tuple[str, ...]
    minzoom: int
    maxzoom: int
    tiles: int
    bytes: int
    largest_tile: int


def public_layers(layer_ids: Sequence[str] | None) -> list[LayerAccess]:
    """Return the public view of the chosen layers (all public layers when None).

    Raises :class:`BadInput` naming any id that is unknown or planner-only.
    """
    public = visible_accesses(Role.ANONYMOUS)
    if not layer_ids:
        return public
    by_id = {a.layer.id: a for a in public}
    wrong = [i for i in layer_ids if i not in by_id]
    if wrong:
        raise BadInput(
            f"not a public layer: {', '.join(wrong)} (public layers: {', '.join(by_id)})"
        )
    return [by_id[i] for i in dict.fromkeys(layer_ids)]


def plan(
    service: TileService, accesses: Sequence[LayerAccess], minzoom: int, maxzoom: int
) -> list[Tile]:
    """Return the tiles to render, in PMTiles tile-id order: at each zoom, those covering the
    extent of the layers that are drawn at that zoom."""
    out: list[Tile] = []
    for z in range(minzoom, maxzoom + 1):
        bounds = union_bounds([service.bounds(a.layer) for a in accesses if a.layer.minzoom <= z])
        if bounds is not None:
            out.extend(tiles_covering(bounds, z))
    out.sort(key=lambda t: zxy_to_tileid(t.z, t.x, t.y))
    return out


def export_pmtiles(
    service: TileService,
    path: Path,
    *,
    layer_ids: Sequence[str] | None = None,
    minzoom: int = 0,
    maxzoom: int = 14,
    progress: Progress | None = None,
) -> ExportSummary:
    """Write the public tiles of the chosen layers to ``path``; return what was written.

    ``progress(done, total)`` is called after every tile.
    """
    if not 0 <= minzoom <= maxzoom <= MAX_ZOOM:
        raise BadInput(f"zooms must satisfy 0 <= minzoom <= maxzoom <= {MAX_ZOOM}")
    accesses = public_layers(layer_ids)
    tiles = plan(service, accesses, minzoom, maxzoom)
    written = size = largest = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        writer = Writer(f)
        for i, tile in enumerate(tiles, 1):
            raw, _ = service.render(accesses, tile, maxzoom=maxzoom)
            if raw:
                data = gzip.compress(raw, compresslevel=9, mtime=0)
                writer.write_tile(zxy_to_tileid(tile.z, tile.x, tile.y), data)
                written += 1
                size += len(data)
                largest = max(largest, len(raw))
            if progress is not None:
                progress(i, len(tiles))
        if not written:
            raise BadInput("no tile has any feature: is the store loaded?")
        bounds = union_bounds([service.bounds(a.layer) for a in accesses])
        meta = tilejson(accesses, "", bounds)
        west, south, east, north = meta["bounds"]
        writer.finalize(
            {
                "tile_type": TileType.MVT,
                "tile_compression": Compression.GZIP,
                "min_lon_e7": int(west * 1e7),
                "min_lat_e7": int(south * 1e7),
                "max_lon_e7": int(east * 1e7),
                "max_lat_e7": int(north * 1e7),
                "center_zoom": max(minzoom, min(12, maxzoom)),
                "center_lon_e7": int(meta["center"][0] * 1e7),
                "center_lat_e7": int(meta["center"][1] * 1e7),
            },
            {
                "name": "Almaty City Twin",
                "format": "pbf",
                "type": "overlay",
                "attribution": meta["attribution"],
                "vector_layers": meta["vector_layers"],
                "description": json.dumps(
                    {"layers": [a.layer.id for a in accesses], "public": True}
                ),
            },
        )
    return ExportSummary(
        path,
        tuple(a.layer.id for a in accesses),
        minzoom,
        maxzoom,
        written,
        path.stat().st_size,
        largest,
    )
