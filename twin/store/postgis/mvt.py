"""PostGIS draws a layer's tile itself with ``ST_AsMVT``: one SQL text per layer, built once
when the encoder is created; a request only binds numbers.

Each layer's statement is prepared on the server the first time a pooled connection runs it
(a psycopg pool of the encoder's own), so the steady state is a prepared plan per layer and
connection. The tile service (:mod:`tiles.sources`) asks the store for this encoder
(``PostGISStore.tile_encoder``) and gives it what tiles decide: which properties a tile
carries, the tile extent and buffer, and when simplification pays.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import psycopg
import sqlalchemy as sa

from layers import GeomType, Layer, Prop, PropType
from twin.core.errors import StoreError
from twin.store.postgis.loghead import LogHead
from twin.store.postgis.replicas import ReadRouter, Replica, where
from twin.store.postgis.urls import libpq_url
from twin.store.triggers import rating_columns

log = logging.getLogger("twin.store")

_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")

#: The stored Web Mercator copy of every layer's geometry (PostGIS only).
MERCATOR_GEOM = "geom_3857"

#: Set on every connection of the tile pool. A parallel plan, or a JIT-compiled one, costs more
#: to start (tens of milliseconds; JIT 130 ms measured for a dense z12 tile, whose row estimate
#: crosses ``jit_above_cost``) than a tile costs to draw, and the planner picks both for dense
#: tiles.
SESSION_SETTINGS = ("max_parallel_workers_per_gather=0", "jit=off")
SESSION_OPTIONS = " ".join(f"-c {s}" for s in SESSION_SETTINGS)
SESSION_SQL = "; ".join("SET " + s.replace("=", " = ") for s in SESSION_SETTINGS)


def _column(layer: Layer, name: str, ptype: PropType) -> str:
    """Return the select expression of one property, typed as the embedded path encodes it."""
    if ptype is PropType.DATE:
        return f't."{name}"::text AS "{name}"'
    if ptype is PropType.DATETIME:
        # ISO 8601 in UTC, as the GeoPackage store holds it
        return (
            f'to_char(t."{name}" AT TIME ZONE \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') AS "{name}"'
        )
    return f't."{name}"'


def layer_sql(
    layer: Layer,
    props: Sequence[Prop],
    *,
    extent: int,
    buffer: int,
    simplify_min_coords: int,
) -> str:
    """Return the psycopg-style SQL (``%(z)s`` …) that returns ``layer``'s MVT for one tile,
    with the properties ``props``, in a tile of ``extent`` units with ``buffer`` units around
    it; geometries of fewer than ``simplify_min_coords`` vertices are not simplified.

    Parameters: ``z``, ``x``, ``y``; ``w``, ``s``, ``e``, ``n`` (the tile in degrees: the rows
    are those whose geometry intersects it, the same test as the embedded path);
    ``min_size`` (square metres or metres in Web Mercator) and ``tol`` (metres) from
    :func:`tiles.zoom.zoom_rules`.

    >>> from layers import get
    >>> buildings = get("buildings")
    >>> sql = layer_sql(buildings, buildings.properties, extent=4096, buffer=64,
    ...                 simplify_min_coords=8)
    >>> "ST_AsMVT(q, 'buildings', 4096, 'geom', 'fid')" in sql
    True
    """
    for ident in (layer.id, layer.table, *(p.name for p in props)):
        if not _IDENT.match(ident):  # pragma: no cover - a catalog editing mistake
            raise ValueError(f"unsafe identifier in the catalog: {ident!r}")
    ratings, derived = rating_columns(layer, "postgresql")
    columns = "".join(
        f', {derived[p.name]} AS "{p.name}"' if p.name in derived
        else f", {_column(layer, p.name, p.type)}"
        for p in props
    )  # fmt: skip
    names = "".join(f', m."{p.name}"' for p in props)
    # Envelopes as scalar subqueries: PostgreSQL computes each once per query (an InitPlan);
    # written as plain calls of bound parameters, a prepared statement's generic plan calls
    # them again for every row (measured: the mean tile query 12% faster).
    env = "(SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s))"
    box = "(SELECT ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326))"
    if layer.geometry is GeomType.POINT:
        drawn, size = "m.g", ""
    else:
        # Clip before simplifying: a district or land-use polygon is far bigger than a tile.
        margin = buffer / extent
        clipped = (
            "ST_ClipByBox2D(m.g, "
            f"(SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => {margin})))"
        )
        # As in the embedded path, a geometry of few vertices is not simplified: snapping to
        # the 4096 grid already does all that is visible, and simplification is costly.
        drawn = (
            f"CASE WHEN %(tol)s > 0 AND ST_NPoints(m.g) >= {simplify_min_coords} "
            f"THEN ST_SimplifyPreserveTopology({clipped}, %(tol)s) ELSE m.g END"
        )
        measure = "ST_Area" if layer.geometry is GeomType.POLYGON else "ST_Length"
        size = f"WHERE {measure}(m.g) >= %(min_size)s"
    # The rows are those whose lon/lat geometry intersects the tile (the same test as the
    # embedded path); most lie wholly inside it, which the envelope alone shows (``@``), so
    # the exact test runs only for the rows on the tile's edge. They are drawn from the
    # stored Web Mercator copy (MERCATOR_GEOM): no transform per row and
    # request. (The embedded path's envelope floor, tiles.zoom.envelope_floor, is left out:
    # it only saves reading geometry there, and ST_Area here is cheaper than the
    # floor's own test.)
    return (
        f"WITH m AS (SELECT t.fid{columns}, t.{MERCATOR_GEOM} AS g "
        f'FROM "{layer.table}" t {ratings} WHERE t.geom && {box} '
        f"AND (t.geom @ {box} OR ST_Intersects(t.geom, {box}))) "
        f"SELECT ST_AsMVT(q, '{layer.id}', {extent}, 'geom', 'fid') FROM ("
        f"SELECT m.fid{names}, ST_AsMVTGeom({drawn}, {env}, {extent}, {buffer}, true) AS geom "
        f"FROM m {size}) q"
    )


class _Pools:
    """The connections of one database (the primary or one replica) for tiles: a blocking pool
    and the asynchronous path's idle connections."""

    def __init__(self, conninfo: str, max_connections: int) -> None:
        # A pool of plain psycopg connections: a tile is one statement, and SQLAlchemy's
        # Connection, execution context and result wrapping cost more per tile than the
        # smallest tiles' SQL; its pool alone costs tens of microseconds. (psycopg_pool was
        # tried: its worker threads join when it is garbage-collected, which fails when the
        # collection runs on one of them.) Autocommit (no BEGIN/ROLLBACK round trips), the
        # session setting applied once per connection, statements prepared on first use.
        def connect() -> Any:
            return psycopg.connect(
                conninfo, autocommit=True, options=SESSION_OPTIONS, connect_timeout=2
            )

        self.pool = sa.pool.QueuePool(
            connect,
            pool_size=8,
            max_overflow=max_connections - 8,
            timeout=30,
            reset_on_return=None,
        )
        # The asynchronous path keeps idle connections of its own, at most ``max_connections``
        # in use at once. A list and a semaphore are all it needs: a tile is one statement in
        # autocommit, so a connection is either idle or busy.
        self.conninfo = conninfo
        self.idle: list[psycopg.AsyncConnection[Any]] = []
        self.slots = asyncio.Semaphore(max_connections)

    def fetch(self, sql: str, params: dict[str, Any] | None) -> Any:
        """Run one statement and return its first row (psycopg's errors pass through)."""
        try:
            fairy = self.pool.connect()
        except sa.exc.TimeoutError as exc:
            raise psycopg.OperationalError(str(exc)) from exc
        try:
            conn: psycopg.Connection[Any] = fairy.driver_connection  # type: ignore[assignment]
            return conn.execute(sql, params, prepare=params is not None).fetchone()
        except psycopg.OperationalError:
            fairy.invalidate()  # a dropped connection is not handed out again
            raise
        finally:
            fairy.close()  # back to the pool (or discarded, once invalidated)

    async def fetch_async(self, sql: str, params: dict[str, Any] | None) -> Any:
        """Do what :meth:`fetch` does, waiting in the event loop."""
        async with self.slots:
            conn = self.idle.pop() if self.idle else None
            try:
                if conn is None:
                    conn = await psycopg.AsyncConnection.connect(
                        self.conninfo, autocommit=True, options=SESSION_OPTIONS, connect_timeout=2
                    )
                cursor = await conn.execute(sql, params, prepare=params is not None)
                row = await cursor.fetchone()
            except BaseException:  # dropped, or a cancelled request: the state is unknown
                if conn is not None:
                    await conn.close()
                raise
            self.idle.append(conn)
        return row

    def close(self) -> None:
        self.pool.dispose()

    async def aclose(self) -> None:
        idle, self.idle = self.idle, []
        for conn in idle:
            await conn.close()


_HEAD = "SELECT coalesce(max(id), 0) FROM twin_changes"


class PostGISTiles:
    """Encodes feature tiles with ``ST_AsMVT`` in PostGIS, over connections of its own.

    With read replicas (``router``, the store's :class:`~twin.store.postgis.replicas.ReadRouter`)
    a tile is drawn on a replica that has replayed the change log as far as the primary had
    logged it when the tile began, by the same rule (and the same record of each replica's
    progress and failures) as the store's other reads: so a writer sees its write in its next
    tile, and a tile cached under a change id never holds older data than that id. The price
    is one ``max(id)`` on the primary per layer of a cold tile (in the event loop, concurrent
    tiles share it: :class:`~twin.store.postgis.loghead.LogHead`), against the whole
    ``ST_AsMVT`` moved off the primary. A replica behind is waited for ``router.wait`` at
    most, then the primary draws; a replica that fails is left out for ``router.retry_after``
    seconds and the tile is drawn on the primary, so no request fails because of it.
    """

    def __init__(
        self,
        url: str,
        sql: dict[str, str],
        *,
        router: ReadRouter | None = None,
        max_connections: int = 16,
    ) -> None:
        self.sql = sql
        self.router = router
        self._primary = _Pools(libpq_url(url), max_connections)
        self._replicas = (
            {}
            if router is None
            else {r.url: _Pools(libpq_url(r.url), max_connections) for r in router.replicas}
        )
        self._heads = {u: LogHead(p.conninfo) for u, p in self._replicas.items()}
        self._primary_head = LogHead(self._primary.conninfo)
        self._turn = itertools.count()
        #: layer tiles drawn on each database ("primary" or a replica's URL), for tests
        self.served: Counter[str] = Counter()

    # -- where a tile is drawn -----------------------------------------------------------
    def _candidates(self) -> list[Replica]:
        if self.router is None:
            return []
        replicas, now = self.router.replicas, time.monotonic()
        start = next(self._turn)
        turned = [replicas[(start + i) % len(replicas)] for i in range(len(replicas))]
        return [r for r in turned if r.down_until <= now]

    def _left_out(self, replica: Replica, exc: BaseException) -> None:
        assert self.router is not None
        replica.down_until = time.monotonic() + self.router.retry_after
        log.warning("replica %s left out of tiles: %s", where(replica.url), type(exc).__name__)

    def _pick(self) -> tuple[str, _Pools]:
        """Return a replica as fresh as the primary (waiting briefly), else the primary."""
        replicas = self._candidates()
        if not replicas:
            return "primary", self._primary
        assert self.router is not None
        need = int(self._primary.fetch(_HEAD, None)[0])
        deadline = time.monotonic() + self.router.wait
        for replica in replicas:
            pools = self._replicas[replica.url]
            try:
                while replica.head < need:
                    seen = int(pools.fetch(_HEAD, None)[0])
                    with replica.lock:
                        replica.head = max(replica.head, seen)
                    if replica.head >= need or time.monotonic() >= deadline:
                        break
                    time.sleep(0.005)
            except psycopg.errors.UndefinedTable:  # the schema is not replayed there yet
                continue
            except psycopg.OperationalError as exc:
                self._left_out(replica, exc)
                continue
            if replica.head >= need:
                return replica.url, pools
        return "primary", self._primary

    async def _pick_async(self) -> tuple[str, _Pools]:
        """Do what :meth:`_pick` does, in the event loop (head reads shared by concurrent
        tiles)."""
        replicas = self._candidates()
        if not replicas:
            return "primary", self._primary
        assert self.router is not None
        need = await self._primary_head.read(time.monotonic())
        deadline = time.monotonic() + self.router.wait
        for replica in replicas:
            try:
                while replica.head < need:
                    seen = await self._heads[replica.url].read(time.monotonic())
                    with replica.lock:
                        replica.head = max(replica.head, seen)
                    if replica.head >= need or time.monotonic() >= deadline:
                        break
                    await asyncio.sleep(0.005)
            except psycopg.errors.UndefinedTable:
                continue
            except psycopg.OperationalError as exc:
                self._left_out(replica, exc)
                continue
            if replica.head >= need:
                return replica.url, self._replicas[replica.url]
        return "primary", self._primary

    # -- drawing -------------------------------------------------------------------------
    def layer_tile(self, layer: Layer, params: dict[str, Any]) -> bytes:
        """Return the MVT layer of ``layer`` for the tile ``params`` bind (``b""`` when it has
        no feature).

        Raises :class:`~twin.core.errors.StoreError` when the database cannot be reached.
        """
        # ST_AsMVT skips rows whose ST_AsMVTGeom is NULL (clipped away); filtering them in SQL
        # would make PostgreSQL compute ST_AsMVTGeom twice per row.
        try:
            name, pools = self._pick()
            try:
                row = pools.fetch(self.sql[layer.id], params)
            except psycopg.OperationalError as exc:
                if pools is self._primary:
                    raise
                self._left_out(self._replica(name), exc)
                name, row = "primary", self._primary.fetch(self.sql[layer.id], params)
        except psycopg.OperationalError as exc:
            raise StoreError(f"the store is unavailable ({type(exc).__name__})") from exc
        self.served[name] += 1
        return bytes(row[0]) if row and row[0] else b""

    async def layer_tile_async(self, layer: Layer, params: dict[str, Any]) -> bytes:
        """Do what :meth:`layer_tile` does, waiting for PostgreSQL in the event loop."""
        try:
            name, pools = await self._pick_async()
            try:
                row = await pools.fetch_async(self.sql[layer.id], params)
            except psycopg.OperationalError as exc:
                if pools is self._primary:
                    raise
                self._left_out(self._replica(name), exc)
                row = await self._primary.fetch_async(self.sql[layer.id], params)
                name = "primary"
        except psycopg.OperationalError as exc:
            raise StoreError(f"the store is unavailable ({type(exc).__name__})") from exc
        self.served[name] += 1
        return bytes(row[0]) if row and row[0] else b""

    def _replica(self, url: str) -> Replica:
        assert self.router is not None
        return next(r for r in self.router.replicas if r.url == url)

    def close(self) -> None:
        """Release the tile pools' connections."""
        for pools in (self._primary, *self._replicas.values()):
            pools.close()

    async def aclose(self) -> None:
        """Close the asynchronous path's idle connections."""
        for pools in (self._primary, *self._replicas.values()):
            await pools.aclose()
        for head in (self._primary_head, *self._heads.values()):
            await head.aclose()
