"""The tile service: which layers a caller gets, the caches in front and the store's change
log behind. No web framework here; the router is thin.

A request is a straight line: validate the tile, resolve the layer names against the
caller's role (:mod:`tiles.access`), look at the change log (:mod:`tiles.changes`, dropping
touched tiles), answer from the memory cache (:mod:`tiles.cache`) or from the tiles kept in
the store's file (:mod:`tiles.stored`), or draw every layer (:mod:`tiles.render`, over the
source :mod:`tiles.sources` picks for the store), gzip once and cache.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from layers import Access, Layer
from tiles.access import LayerAccess, resolve
from tiles.cache import Bounds, CachedTile, TileCache
from tiles.changes import Change, ChangeWatch, SlowLook
from tiles.compress import gzip_tile
from tiles.grid import Tile
from tiles.hexbin import HexIndex
from tiles.render import Rendered, Renderer, draws_hexagons
from tiles.sources import LayerSource, make_source
from tiles.stored import KeptTile, StoredTiles
from twin.core.access import Role
from twin.core.errors import StoreError
from twin.core.privacy import public_k
from twin.core.settings import TileSettings
from twin.store import Store

__all__ = ["SlowLook", "TileResult", "TileService", "etag_of", "stored_key"]
log = logging.getLogger("twin.tiles")


@dataclass(frozen=True)
class TileResult:
    """A rendered or cached tile: gzip body (``b""`` when empty) and its ETag."""

    body: bytes
    etag: str | None
    cache_hit: bool
    layers: tuple[LayerAccess, ...]
    #: read from the tiles kept in the embedded store's file (:mod:`tiles.stored`)
    stored: bool = False

    @property
    def empty(self) -> bool:
        """Return whether no layer has a feature in this tile."""
        return not self.body

    @property
    def public(self) -> bool:
        """Return whether every caller gets these bytes (no planner-only content)."""
        return all(a.layer.access is Access.PUBLIC or a.aggregate_only for a in self.layers)


def _cache_key(accesses: Sequence[LayerAccess], z: int, x: int, y: int) -> tuple[Any, ...]:
    """Return the cache key of a tile as these accesses see it."""
    return (tuple(a.key for a in accesses), z, x, y)


def stored_key(accesses: Sequence[LayerAccess], z: int, x: int, y: int) -> str:
    """Return the key of a tile kept in the store's file (:mod:`tiles.stored`).

    >>> import layers
    >>> stored_key([LayerAccess(layers.get("roads")), LayerAccess(layers.get("appeals"), True)],
    ...            14, 5, 6)
    'roads,appeals~/14/5/6'
    """
    names = ",".join(a.layer.id + ("~" if a.aggregate_only else "") for a in accesses)
    return f"{names}/{z}/{x}/{y}"


def etag_of(raw: bytes) -> str:
    """Return a strong ETag for tile bytes (the same in every worker process)."""
    return '"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"'


def _packed(raw: bytes) -> tuple[bytes, str | None]:
    """Return a rendered tile as it is served: gzip body and ETag (``b""``, None when empty)."""
    return (gzip_tile(raw), etag_of(raw)) if raw else (b"", None)


class TileService:
    """Tiles of one store, cached, with invalidation from the store's change log."""

    def __init__(
        self,
        store: Store,
        settings: TileSettings | None = None,
        *,
        source: LayerSource | None = None,
    ) -> None:
        self.store = store
        self.settings = settings or TileSettings()
        # never below 5, whatever is configured (twin.core.privacy)
        self.hexes = HexIndex(store, public_k(self.settings.public_min_count))
        self.renderer = Renderer(source or make_source(store, self.settings.encoder), self.hexes)
        self.cache = TileCache(int(self.settings.cache_mb * 2**20))
        self.watch = ChangeWatch(store, self._dropped, poll_interval=self.settings.poll_interval)
        self._bounds: dict[str, Bounds | None] = {}
        # Tiles kept in the store's own file where it offers one (the GeoPackage), so that
        # in-process drawing (GIL-bound) is mostly done once; PostGIS draws a tile as fast as
        # it would read one.
        self.stored: StoredTiles | None = None
        kept = store.tiles_file()
        if kept is not None and self.settings.store_mb > 0:
            self.stored = StoredTiles(kept, int(self.settings.store_mb * 2**20))

    @property
    def source(self) -> LayerSource:
        """Return the feature source tiles are drawn from."""
        return self.renderer.source

    @source.setter
    def source(self, source: LayerSource) -> None:
        self.renderer.source = source

    # -- changes -----------------------------------------------------------------------
    def poll(self, *, force: bool = False, quick: bool = False) -> int:
        """Look at the store's change log and drop what it touched (:meth:`ChangeWatch.poll`);
        return how many cached tiles were dropped."""
        return self.watch.poll(force=force, quick=quick)

    def _dropped(self, changes: list[Change]) -> int:
        """Drop what ``changes`` touched: hexagon counts, extents and cached tiles."""
        for layer_id in {layer_id for layer_id, _ in changes}:
            self.hexes.invalidate(layer_id)
            self._bounds.pop(layer_id, None)
        return self.cache.invalidate(changes)

    def close(self) -> None:
        """Release the connection kept for the change log, the kept tiles and the source's
        pool."""
        self.watch.close()
        stored, self.stored = self.stored, None  # a closed service draws on, keeping nothing
        if stored is not None:
            stored.close()
        close_source = getattr(self.source, "close", None)
        if close_source is not None:
            close_source()

    async def aclose(self) -> None:
        """Do what :meth:`close` does, and close the asynchronous connections (in the event
        loop that used them)."""
        aclose_source = getattr(self.source, "aclose", None)
        if aclose_source is not None:
            await aclose_source()
        await self.watch.aclose()
        self.close()

    # -- tiles -------------------------------------------------------------------------
    def tile(self, names: str, z: int, x: int, y: int, role: Role) -> TileResult:
        """Return the tile ``z/x/y`` of the named layers (``a`` or ``a,b,c``) for ``role``.

        Raises :class:`~twin.core.errors.BadInput` for a tile outside the grid and
        :class:`~twin.core.errors.NotFound` when no named layer is visible to ``role``.
        """
        return self.cached(names, z, x, y, role) or self.draw(names, z, x, y, role)

    def cached(
        self, names: str, z: int, x: int, y: int, role: Role, *, quick: bool = False
    ) -> TileResult | None:
        """Return the tile from the cache after a look at the change log, or None.

        Raises as :meth:`tile` does. With ``quick`` (the HTTP fast path calls it in the event
        loop, see :meth:`ChangeWatch.poll`) it raises :class:`SlowLook` when the look needs
        more than one ``max(id)`` query; then :meth:`tile` in a thread does it all, and after
        a None :meth:`draw` does the rest.
        """
        accesses, key = self._keyed(names, z, x, y, role)
        # Only a cached tile needs the look at the change log first; a miss goes on to draw(),
        # which reads the store as it is and caches nothing a change it has not seen touched
        # (a query less per cold tile).
        if key in self.cache:
            try:
                self.watch.poll(quick=quick)
            except sa.exc.OperationalError as exc:  # the database went away
                log.warning("store unavailable while looking at the change log: %s", exc)
                raise StoreError("the store is unavailable; try again shortly") from None
        hit = self._hit(accesses, key)
        if hit is None and self.stored is not None:
            # current without a look at the log: a write deletes the kept tiles it touches
            kept = self.stored.get(stored_key(accesses, z, x, y))
            if kept is not None:
                return TileResult(kept[0], kept[1], False, accesses, stored=True)
        return hit

    async def cached_async(
        self, names: str, z: int, x: int, y: int, role: Role
    ) -> TileResult | None:
        """Do what ``cached(quick=True)`` does, for the event loop: where the store reads the
        change log asynchronously (PostGIS), the look waits without blocking the loop, and
        concurrent requests share its query. Raises :class:`SlowLook` when there are changes
        to read, or the read failed: :meth:`tile` in a thread does the rest."""
        if self.watch.head_async is None:
            return self.cached(names, z, x, y, role, quick=True)
        accesses, key = self._keyed(names, z, x, y, role)
        if key in self.cache:
            await self.watch.look_async()
        return self._hit(accesses, key)

    def _keyed(
        self, names: str, z: int, x: int, y: int, role: Role
    ) -> tuple[tuple[LayerAccess, ...], tuple[Any, ...]]:
        """Return what ``role`` sees of the named layers and the tile's cache key; raises
        :class:`BadInput` for a tile outside the grid, :class:`NotFound` as :func:`resolve`."""
        Tile(z, x, y)
        accesses = tuple(resolve(role, names))
        return accesses, _cache_key(accesses, z, x, y)

    def _hit(self, accesses: tuple[LayerAccess, ...], key: tuple[Any, ...]) -> TileResult | None:
        """Return the cached tile under ``key`` (counted as a hit or a miss), or None."""
        entry = self.cache.get(key)
        return None if entry is None else TileResult(entry.body, entry.etag, True, accesses)

    def draw(self, names: str, z: int, x: int, y: int, role: Role) -> TileResult:
        """Render the tile (after :meth:`cached` found nothing), gzip it and cache it unless a
        write since the last look at the change log touched it."""
        tile = Tile(z, x, y)
        accesses = tuple(resolve(role, names))
        try:
            # what a kept tile is current to: read before anything is drawn
            head = self.stored.head() if self.stored is not None else 0
            if draws_hexagons(accesses, z):
                self.watch.poll()  # hexagons are counted from an index the change log updates
            seen = self.watch.last_id
            raw, margins = self.render(accesses, tile)
        except sa.exc.OperationalError as exc:  # the database went away: not the caller's fault
            log.warning("store unavailable while drawing tile %s: %s", tile, exc)
            raise StoreError("the store is unavailable; try again shortly") from None
        result = self._keep(accesses, tile, seen, raw, margins)
        if self.stored is not None:
            key = stored_key(accesses, z, x, y)
            kept = KeptTile(key, result.body, result.etag, tile.bounds_lonlat(), margins)
            self.stored.put([kept], head)
        return result

    async def draw_async(self, names: str, z: int, x: int, y: int, role: Role) -> TileResult | None:
        """Do what :meth:`draw` does, in the event loop, waiting for the database without a
        thread; None when this tile cannot be drawn so (the source has no asynchronous path,
        or the tile has hexagons, whose index is built by blocking queries): then call
        :meth:`draw` in a thread.

        A thread's round trip cost ~0.5 ms per cold tile on this 2-core machine, as much as a
        small tile's SQL (measured with ``bench.tiles``' tile list: 4.6 ms per tile through
        a thread, 4.0 ms without).
        """
        tile = Tile(z, x, y)
        accesses = tuple(resolve(role, names))
        fetch = getattr(self.source, "layer_tile_async", None)
        if fetch is None or draws_hexagons(accesses, z):
            return None
        seen = self.watch.last_id
        steps = self.renderer.steps(accesses, tile, None)
        try:
            layer, rules = next(steps)
            while True:
                layer, rules = steps.send(await fetch(layer, tile, rules))
        except StopIteration as done:
            raw, margins = done.value
        return self._keep(accesses, tile, seen, raw, margins)

    def warm_tiles(self, run: Sequence[tuple[tuple[str, ...], Tile]]) -> tuple[int, int]:
        """Draw ``(layer ids, tile)`` pairs as a resident sees them and keep them in the store's
        file (:mod:`tiles.warm`), in one transaction; return (tiles kept, their bytes)."""
        if self.stored is None:
            return 0, 0
        head = self.stored.head()
        drawn = []
        for ids, tile in run:
            accesses = tuple(resolve(Role.ANONYMOUS, ",".join(ids)))
            if draws_hexagons(accesses, tile.z):
                self.watch.poll()
            raw, margins = self.render(accesses, tile)
            body, etag = _packed(raw)
            key = stored_key(accesses, tile.z, tile.x, tile.y)
            drawn.append(KeptTile(key, body, etag, tile.bounds_lonlat(), margins))
        return self.stored.put(drawn, head, wait=True), sum(len(t.body) for t in drawn)

    def _keep(
        self,
        accesses: tuple[LayerAccess, ...],
        tile: Tile,
        seen: int,
        raw: bytes,
        margins: dict[str, tuple[float, float]],
    ) -> TileResult:
        """Gzip a rendered tile and cache it unless a change logged after ``seen`` (the last
        change id known when rendering began) touched it."""
        body, etag = _packed(raw)
        entry = CachedTile(body, etag, tile.bounds_lonlat(), margins)
        if not self.watch.changed_since(seen, entry):
            self.cache.put(_cache_key(accesses, tile.z, tile.x, tile.y), entry)
        return TileResult(body, etag, False, accesses)

    def render(
        self, accesses: Sequence[LayerAccess], tile: Tile, *, maxzoom: int | None = None
    ) -> Rendered:
        """Return the uncompressed MVT of ``accesses`` in ``tile`` (:meth:`Renderer.render`)."""
        return self.renderer.render(accesses, tile, maxzoom=maxzoom)

    # -- metadata ----------------------------------------------------------------------
    def bounds(self, layer: Layer) -> Bounds | None:
        """Return the lon/lat extent of ``layer``'s data (None when it is empty)."""
        if layer.id not in self._bounds:
            with self.store.reading() as conn:
                row = conn.execute(sa.text(self.store.sql.extent(layer))).one()
            self._bounds[layer.id] = None if row[0] is None else tuple(map(float, row))  # type: ignore[assignment]
        return self._bounds[layer.id]
