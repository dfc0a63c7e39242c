"""The tile service: which layers a caller gets, how each is drawn at a zoom, the cache in
front and the store's change log behind it. No web framework here; the router is thin.

A request is a straight line: validate the tile, resolve the layer names against the
caller's role, look at the change log (dropping touched tiles), answer from the cache or
render every layer (PostGIS ``ST_AsMVT`` or the in-process encoder; H3 hexagons for dense
points), gzip once and cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from collections import deque
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import sqlalchemy as sa

import layers
from layers import LAYERS, Access, GeomType, Layer
from tiles.cache import Bounds, CachedTile, TileCache, touched
from tiles.compress import gzip_tile
from tiles.grid import Tile
from tiles.hexbin import HexIndex, margin_deg
from tiles.stored import KeptTile, StoredTiles
from tiles.zoom import (
    MAX_TILE_BYTES,
    PUBLIC_MAX_RES,
    Mode,
    ZoomRules,
    coarser,
    h3_resolution,
    mode_at,
    zoom_rules,
)
from twin.core.access import Role, can_see, can_see_aggregate
from twin.core.errors import BadInput, NotFound, StoreError
from twin.core.settings import TileSettings
from twin.store import Store

Change = tuple[str, tuple[float, ...]]
#: A rendered tile: the uncompressed MVT, and per drawn layer the margin beyond the tile within
#: which a change alters it.
Rendered = tuple[bytes, dict[str, tuple[float, float]]]
log = logging.getLogger("twin.tiles")


class LayerSource(Protocol):
    """Something that encodes one layer's features in one tile (PostGIS or in-process)."""

    kind: str

    def layer_tile(self, layer: Layer, tile: Tile, rules: ZoomRules) -> bytes:
        """Return the MVT layer (a ``Tile`` message) or ``b""`` when it has no feature."""
        ...


@dataclass(frozen=True)
class LayerAccess:
    """A layer as one caller may see it: every feature, or only its public H3 counts."""

    layer: Layer
    aggregate_only: bool = False

    @property
    def key(self) -> tuple[str, bool]:
        """Return the part of a cache key this access contributes."""
        return (self.layer.id, self.aggregate_only)


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


def parse_names(names: str) -> list[str]:
    """Return the distinct layer names of ``a``, ``a,b,c`` or ``{a,b,c}``, in order.

    >>> parse_names("{roads, buildings,roads}")
    ['roads', 'buildings']
    """
    names = names.strip()
    if names.startswith("{") and names.endswith("}"):
        names = names[1:-1]
    out = list(dict.fromkeys(n.strip() for n in names.split(",") if n.strip()))
    if len(out) > len(LAYERS):
        raise BadInput(f"a composite tile takes at most {len(LAYERS)} layers")
    return out


def resolve(role: Role, names: str) -> list[LayerAccess]:
    """Return how ``role`` may see each named layer; unknown and invisible names are left out
    alike (a composite silently drops them), and :class:`NotFound` is raised when nothing is
    left, with the same words whether the layer is missing or hidden."""
    out = []
    for name in parse_names(names):
        try:
            access = access_of(role, layers.get(name))
        except layers.UnknownLayer:
            continue
        if access is not None:
            out.append(access)
    if not out:
        raise NotFound(f"no layer {names[:100]!r}")
    return out


def access_of(role: Role, layer: Layer) -> LayerAccess | None:
    """Return how ``role`` may see ``layer``: all of it, its public counts, or not at all."""
    if can_see(role, layer):
        return LayerAccess(layer)
    if can_see_aggregate(role, layer):
        return LayerAccess(layer, aggregate_only=True)
    return None


def visible_accesses(role: Role) -> list[LayerAccess]:
    """Return every layer ``role`` may see, in catalog order (public counts included)."""
    return [a for a in (access_of(role, layer) for layer in LAYERS) if a is not None]


def make_source(store: Store, encoder: str = "auto") -> LayerSource:
    """Return the feature encoder for ``store``: ``ST_AsMVT`` on PostGIS, else in-process."""
    if encoder == "postgis" or (encoder == "auto" and store.kind == "postgis"):
        from tiles.postgis import PostGISSource

        return PostGISSource(store)
    from tiles.embedded import EmbeddedSource

    return EmbeddedSource(store)


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


def _draws_hexagons(accesses: Sequence[LayerAccess], z: int) -> bool:
    """Return whether any of ``accesses`` is drawn as H3 hexagons at zoom ``z``."""
    return any(
        mode_at(a.layer, z, aggregate_only=a.aggregate_only) is Mode.HEXAGONS for a in accesses
    )


def etag_of(raw: bytes) -> str:
    """Return a strong ETag for tile bytes (the same in every worker process)."""
    return '"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"'


def _packed(raw: bytes) -> tuple[bytes, str | None]:
    """Return a rendered tile as it is served: gzip body and ETag (``b""``, None when empty)."""
    return (gzip_tile(raw), etag_of(raw)) if raw else (b"", None)


class SlowLook(Exception):
    """A quick look at the change log (:meth:`TileService.poll`) would have to wait longer."""


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
        self.source = source or make_source(store, self.settings.encoder)
        self.hexes = HexIndex(store)
        self.cache = TileCache(int(self.settings.cache_mb * 2**20))
        self._last_id = store.last_change_id()
        # recent change batches (id before, id after, changes), to refuse caching a tile
        # that was rendered from data a concurrent write has since replaced
        self._recent: deque[tuple[int, int, list[Change]]] = deque(maxlen=256)
        self._poll_lock = threading.Lock()
        self._polled_at = -float("inf")
        self._bounds: dict[str, Bounds | None] = {}
        self._head_conn: Any = None
        # On PostGIS the fast path reads the log's head in the event loop (tiles.postgis.LogHead)
        self._log_head_async: Any = None
        # Tiles kept in the GeoPackage itself, so that in-process drawing (GIL-bound) is
        # mostly done once; PostGIS draws a tile as fast as it would read one.
        self.stored: StoredTiles | None = None
        if store.kind == "geopackage" and self.settings.store_mb > 0:
            from twin.store.geopackage import GeoPackageStore

            assert isinstance(store, GeoPackageStore)
            self.stored = StoredTiles(store.path, int(self.settings.store_mb * 2**20))
        if store.kind == "postgis":
            from tiles.postgis import LogHead, libpq_url

            self._log_head_async = LogHead(libpq_url(store.url))

    # -- changes -----------------------------------------------------------------------
    def poll(self, *, force: bool = False, quick: bool = False) -> int:
        """Read the store's change log since the last look and drop what it touched; return
        how many cached tiles were dropped.

        ``quick`` (for the event loop): only the one ``max(id)`` query on the connection kept
        for it; :class:`SlowLook` when more is needed (no such connection yet, or new changes
        to read), leaving the look to a thread.
        """
        arrived = time.monotonic()
        if not force and arrived - self._polled_at < self.settings.poll_interval:
            return 0
        with self._poll_lock:
            if self._polled_at >= arrived:
                return 0  # a look that began after this request arrived has seen its writes
            began = time.monotonic()
            before = self._last_id
            if quick and self._head_conn is None:
                raise SlowLook
            head = self._log_head()
            if quick and (head is None or head > before):
                raise SlowLook
            self._polled_at = began
            if head is not None and head <= before:
                return 0
            last, changes = self.store.changes_since(before)
            if not changes:
                return 0
            for layer_id in {layer_id for layer_id, _ in changes}:
                self.hexes.invalidate(layer_id)
                self._bounds.pop(layer_id, None)
            dropped = self.cache.invalidate(changes)
            self._recent.append((before, last, changes))
            self._last_id = last
            return dropped

    def _log_head(self) -> int | None:
        """Return the newest change id, or None when it cannot be read cheaply.

        Most looks find nothing new, so they ask only for ``max(id)`` on one connection kept
        for it, outside the pool and in autocommit (no pool checkout, no pre-ping, no open
        transaction): tens of microseconds instead of a pooled ``changes_since`` query.
        """
        try:
            if self._head_conn is None:
                raw = self.store.engine.raw_connection()
                dbapi = raw.driver_connection
                raw.detach()
                if self.store.kind == "postgis":
                    dbapi.rollback()  # type: ignore[union-attr]
                    dbapi.autocommit = True  # type: ignore[union-attr]
                self._head_conn = dbapi
            cursor = self._head_conn.cursor()
            cursor.execute("SELECT max(id) FROM twin_changes")
            row = cursor.fetchone()
            cursor.close()
            return int(row[0] or 0) if row else 0
        except Exception:  # a dropped connection: fall back to the pooled query
            log.warning("change log head unreadable; reading the log instead", exc_info=True)
            self._close_head()
            return None

    def _close_head(self) -> None:
        conn, self._head_conn = self._head_conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def close(self) -> None:
        """Release the connection kept for looking at the change log, and the source's pool."""
        with self._poll_lock:
            self._close_head()
        stored, self.stored = self.stored, None  # a closed service draws on, keeping nothing
        if stored is not None:
            stored.close()
        close_source = getattr(self.source, "close", None)
        if close_source is not None:
            close_source()

    async def aclose(self) -> None:
        """Do what :meth:`close` does, and close the source's asynchronous connections (in
        the event loop that used them)."""
        aclose_source = getattr(self.source, "aclose", None)
        if aclose_source is not None:
            await aclose_source()
        if self._log_head_async is not None:
            await self._log_head_async.aclose()
        self.close()

    def _changed_since(self, seen: int, entry: CachedTile) -> bool:
        """Return whether a change logged after ``seen`` touches ``entry``."""
        if self._last_id == seen:
            return False
        batches = list(self._recent)
        if not batches or batches[0][0] > seen:
            return True  # history too short to tell: be safe
        changes = [c for before, _, cs in batches if before >= seen for c in cs]
        bounds = np.array([entry.bounds], dtype=float)
        for layer_id, env in changes:
            margin = entry.margins.get(layer_id)
            if margin is not None and touched(bounds, np.array([margin]), np.array([env]))[0]:
                return True
        return False

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
        loop, see :meth:`poll`) it raises :class:`SlowLook` when the look needs more than one
        ``max(id)`` query; then :meth:`tile` in a thread does it all, and after a None
        :meth:`draw` does the rest.
        """
        accesses, key = self._keyed(names, z, x, y, role)
        # Only a cached tile needs the look at the change log first; a miss goes on to draw(),
        # which reads the store as it is and caches nothing a change it has not seen touched
        # (a query less per cold tile).
        if key in self.cache:
            try:
                self.poll(quick=quick)
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
        """Do what ``cached(quick=True)`` does, for the event loop: on PostGIS the look at the
        change log waits for PostgreSQL without blocking the loop, and concurrent requests
        share its query (:class:`tiles.postgis.LogHead`). Raises :class:`SlowLook` when there
        are changes to read, or the read failed: :meth:`tile` in a thread does the rest."""
        if self._log_head_async is None:
            return self.cached(names, z, x, y, role, quick=True)
        accesses, key = self._keyed(names, z, x, y, role)
        if key in self.cache:
            arrived = time.monotonic()
            if arrived - self._polled_at >= self.settings.poll_interval:
                try:
                    head = await self._log_head_async.read(arrived)
                except Exception as exc:
                    log.warning("change log head unreadable in the event loop: %s", exc)
                    raise SlowLook from None
                if head > self._last_id:
                    raise SlowLook
                # a look sent at or after ``arrived`` found nothing new
                self._polled_at = max(self._polled_at, arrived)
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
            if _draws_hexagons(accesses, z):
                self.poll()  # hexagons are counted from an index that the change log updates
            seen = self._last_id
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
        if fetch is None or _draws_hexagons(accesses, z):
            return None
        seen = self._last_id
        steps = self._render(accesses, tile, None)
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
            if _draws_hexagons(accesses, tile.z):
                self.poll()
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
        if not self._changed_since(seen, entry):
            self.cache.put(_cache_key(accesses, tile.z, tile.x, tile.y), entry)
        return TileResult(body, etag, False, accesses)

    def render(
        self, accesses: Sequence[LayerAccess], tile: Tile, *, maxzoom: int | None = None
    ) -> Rendered:
        """Return the uncompressed MVT of ``accesses`` in ``tile`` (no cache), and per drawn
        layer the margin beyond the tile within which a change alters it.

        Layers below their ``minzoom`` are left out; layers are concatenated in order.
        ``maxzoom`` is the last zoom a client will fetch (an archive's), where nothing may be
        dropped for size. A tile over :data:`~tiles.zoom.MAX_TILE_BYTES` has its biggest
        polygon or line layer redrawn with :func:`~tiles.zoom.coarser` rules until it fits.
        """
        steps = self._render(accesses, tile, maxzoom)
        try:
            layer, rules = next(steps)
            while True:
                layer, rules = steps.send(self.source.layer_tile(layer, tile, rules))
        except StopIteration as done:
            return done.value

    def _render(
        self, accesses: Sequence[LayerAccess], tile: Tile, maxzoom: int | None
    ) -> Generator[tuple[Layer, ZoomRules], bytes, Rendered]:
        """The steps of :meth:`render`: yields each (layer, rules) to draw with the feature
        source and is sent the bytes, so that one body serves the blocking and the
        asynchronous caller alike; returns what :meth:`render` returns."""
        parts: list[bytes] = []
        rules: list[ZoomRules | None] = []
        drawn: list[Layer] = []
        margins: dict[str, tuple[float, float]] = {}
        for access in accesses:
            layer = access.layer
            if tile.z < layer.minzoom:
                continue
            drawn.append(layer)
            if mode_at(layer, tile.z, aggregate_only=access.aggregate_only) is Mode.HEXAGONS:
                cap = PUBLIC_MAX_RES if access.aggregate_only else 15
                res = h3_resolution(tile.z, cap=cap)
                parts.append(self.hexes.tile(layer, tile, res))
                rules.append(None)
                _, south, _, north = tile.bounds_lonlat()
                margins[layer.id] = margin_deg(res, (south + north) / 2)
            else:
                r = zoom_rules(layer, tile.z, maxzoom=maxzoom)
                parts.append((yield layer, r))
                rules.append(r)
                margins[layer.id] = (0.0, 0.0)
        for _ in range(12):
            if sum(map(len, parts)) <= MAX_TILE_BYTES:
                break
            shrinkable = [
                i
                for i, (layer, r) in enumerate(zip(drawn, rules, strict=True))
                if r is not None and layer.geometry is not GeomType.POINT and parts[i]
            ]
            if not shrinkable:
                break
            i = max(shrinkable, key=lambda k: len(parts[k]))
            r = coarser(rules[i] or ZoomRules(), drawn[i], tile.z)
            rules[i] = r
            parts[i] = yield drawn[i], r
        size = sum(map(len, parts))
        if size > MAX_TILE_BYTES:
            log.warning("tile %s of %s is %d bytes", tile, [d.id for d in drawn], size)
        return b"".join(parts), margins

    # -- metadata ----------------------------------------------------------------------
    def bounds(self, layer: Layer) -> Bounds | None:
        """Return the lon/lat extent of ``layer``'s data (None when it is empty)."""
        if layer.id not in self._bounds:
            if self.store.kind == "postgis":
                sql = (
                    "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                    f'FROM (SELECT ST_Extent(geom) AS e FROM "{layer.table}") b'
                )
            else:
                sql = (
                    "SELECT min(minx), min(miny), max(maxx), max(maxy) "
                    f'FROM "rtree_{layer.table}_geom"'
                )
            with self.store.engine.connect() as conn:
                row = conn.execute(sa.text(sql)).one()
            self._bounds[layer.id] = None if row[0] is None else tuple(map(float, row))  # type: ignore[assignment]
        return self._bounds[layer.id]
