"""``twin tiles warm``: draw tiles ahead of time into the embedded store's kept tiles
(:mod:`tiles.stored`), on every core, so that the map is served from disk from its first view.

What is warmed is what a resident's map asks for — the sources of the public style (the
composite source and each thematic layer) — or the given layers, each on its own. Tiles
already kept are skipped, so running it again after an edit draws only what the edit
dropped. Empty tiles are kept too (a 204 answered from disk).

Drawing holds the GIL, so the work is spread over processes (one per core), each with its own
connection to the store, drawing a run of tiles and keeping them in one transaction.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

from tiles.access import LayerAccess, visible_accesses
from tiles.export import plan, public_layers
from tiles.grid import MAX_ZOOM, Tile
from tiles.service import TileService, stored_key
from tiles.style import COMPOSITE
from twin.core.access import Role
from twin.core.errors import BadInput

Progress = Callable[[int, int], None]
#: Tiles one process draws and keeps in one transaction.
RUN = 64


@dataclass(frozen=True)
class WarmSummary:
    """What a warm did."""

    sets: tuple[tuple[str, ...], ...]
    minzoom: int
    maxzoom: int
    planned: int
    drawn: int
    kept: int
    bytes: int


def style_sets(layer_ids: Sequence[str] | None) -> list[list[LayerAccess]]:
    """Return the tile sets to warm: with ``layer_ids`` each public layer on its own, else the
    sources of the public style (the composite source, then each thematic layer)."""
    if layer_ids:
        return [[a] for a in public_layers(layer_ids)]
    public = visible_accesses(Role.ANONYMOUS)
    composite = [a for a in public if a.layer.id in COMPOSITE]
    thematic = [[a] for a in public if a.layer.id not in COMPOSITE]
    return ([composite] if composite else []) + thematic


def warm(
    service: TileService,
    *,
    layer_ids: Sequence[str] | None = None,
    minzoom: int = 0,
    maxzoom: int = 14,
    processes: int | None = None,
    progress: Progress | None = None,
) -> WarmSummary:
    """Draw and keep the tiles of the chosen sets at ``minzoom``–``maxzoom`` over the extent of
    their layers that are not kept yet; return what was done."""
    if service.stored is None:
        raise BadInput(
            "tiles are kept only in the embedded store (TWIN_DATABASE_URL=gpkg:///…) with "
            "TWIN_TILES_STORE_MB above 0; PostGIS draws tiles as fast as it would read them"
        )
    if not 0 <= minzoom <= maxzoom <= MAX_ZOOM:
        raise BadInput(f"zooms must satisfy 0 <= minzoom <= maxzoom <= {MAX_ZOOM}")
    sets = style_sets(layer_ids)
    have = service.stored.keys()
    todo: list[tuple[tuple[str, ...], Tile]] = []
    planned = 0
    for accesses in sets:
        ids = tuple(a.layer.id for a in accesses)
        tiles = plan(service, accesses, minzoom, maxzoom)
        planned += len(tiles)
        todo += [(ids, t) for t in tiles if stored_key(accesses, t.z, t.x, t.y) not in have]
    runs = [todo[i : i + RUN] for i in range(0, len(todo), RUN)]
    kept = size = done = 0
    n = min(processes or os.cpu_count() or 1, max(len(runs), 1))
    if progress is not None:
        progress(0, len(todo))
    if n <= 1:
        results = (service.warm_tiles(run) for run in runs)
        for run, (k, b) in zip(runs, results, strict=True):
            kept, size, done = kept + k, size + b, done + len(run)
            if progress is not None:
                progress(done, len(todo))
    else:
        # spawned, not forked: a fork would share the parent's database connections
        with ProcessPoolExecutor(
            n, mp_context=get_context("spawn"), initializer=_start, initargs=(service.store.url,)
        ) as pool:
            futures = [(run, pool.submit(_warm_run, run)) for run in runs]
            for run, future in futures:
                k, b = future.result()
                kept, size, done = kept + k, size + b, done + len(run)
                if progress is not None:
                    progress(done, len(todo))
    return WarmSummary(
        tuple(tuple(a.layer.id for a in s) for s in sets),
        minzoom,
        maxzoom,
        planned,
        len(todo),
        kept,
        size,
    )


_worker: TileService | None = None


def _start(url: str) -> None:
    """Open the store at ``url`` and a tile service on it, in a warming process."""
    import pyogrio  # noqa: F401  (before the first SpatiaLite connection)

    from twin.store import open_store

    global _worker
    _worker = TileService(open_store(url, create=False))


def _warm_run(run: Sequence[tuple[tuple[str, ...], Tile]]) -> tuple[int, int]:
    assert _worker is not None
    return _worker.warm_tiles(run)
