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
import re
from collections.abc import Sequence
from typing import Any

import psycopg
import sqlalchemy as sa

from layers import GeomType, Layer, Prop, PropType
from twin.core.errors import StoreError
from twin.store.postgis.urls import libpq_url

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
    columns = "".join(f", {_column(layer, p.name, p.type)}" for p in props)
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
        f'FROM "{layer.table}" t WHERE t.geom && {box} '
        f"AND (t.geom @ {box} OR ST_Intersects(t.geom, {box}))) "
        f"SELECT ST_AsMVT(q, '{layer.id}', {extent}, 'geom', 'fid') FROM ("
        f"SELECT m.fid{names}, ST_AsMVTGeom({drawn}, {env}, {extent}, {buffer}, true) AS geom "
        f"FROM m {size}) q"
    )


class PostGISTiles:
    """Encodes feature tiles with ``ST_AsMVT`` in PostGIS, over connections of its own."""

    def __init__(self, url: str, sql: dict[str, str], *, max_connections: int = 16) -> None:
        self.sql = sql
        # A pool of plain psycopg connections: a tile is one statement, and SQLAlchemy's
        # Connection, execution context and result wrapping cost more per tile than the
        # smallest tiles' SQL; its pool alone costs tens of microseconds. (psycopg_pool was
        # tried: its worker threads join when it is garbage-collected, which fails when the
        # collection runs on one of them.) Autocommit (no BEGIN/ROLLBACK round trips), the
        # session setting applied once per connection, statements prepared on first use.
        conninfo = libpq_url(url)

        def connect() -> Any:
            return psycopg.connect(conninfo, autocommit=True, options=SESSION_OPTIONS)

        self.pool = sa.pool.QueuePool(
            connect,
            pool_size=8,
            max_overflow=max_connections - 8,
            timeout=30,
            reset_on_return=None,
        )
        # The asynchronous path (:meth:`layer_tile_async`) keeps idle connections of its own,
        # at most ``max_connections`` in use at once. A list and a semaphore are all it needs:
        # a tile is one statement in autocommit, so a connection is either idle or busy.
        self._conninfo = conninfo
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._slots = asyncio.Semaphore(max_connections)

    def layer_tile(self, layer: Layer, params: dict[str, Any]) -> bytes:
        """Return the MVT layer of ``layer`` for the tile ``params`` bind (``b""`` when it has
        no feature).

        Raises :class:`~twin.core.errors.StoreError` when the database cannot be reached.
        """
        # ST_AsMVT skips rows whose ST_AsMVTGeom is NULL (clipped away); filtering them in SQL
        # would make PostgreSQL compute ST_AsMVTGeom twice per row.
        try:
            fairy = self.pool.connect()
        except (psycopg.OperationalError, sa.exc.TimeoutError) as exc:
            raise StoreError(f"the store is unavailable ({type(exc).__name__})") from exc
        try:
            conn: psycopg.Connection[Any] = fairy.driver_connection  # type: ignore[assignment]
            row = conn.execute(self.sql[layer.id], params, prepare=True).fetchone()
        except psycopg.OperationalError as exc:
            fairy.invalidate()  # a dropped connection is not handed out again
            raise StoreError(f"the store is unavailable ({type(exc).__name__})") from exc
        finally:
            fairy.close()  # back to the pool (or discarded, once invalidated)
        return bytes(row[0]) if row and row[0] else b""

    async def layer_tile_async(self, layer: Layer, params: dict[str, Any]) -> bytes:
        """Do what :meth:`layer_tile` does, waiting for PostgreSQL in the event loop."""
        async with self._slots:
            conn = self._idle.pop() if self._idle else None
            try:
                if conn is None:
                    conn = await psycopg.AsyncConnection.connect(
                        self._conninfo, autocommit=True, options=SESSION_OPTIONS
                    )
                cursor = await conn.execute(self.sql[layer.id], params, prepare=True)
                row = await cursor.fetchone()
            except psycopg.OperationalError as exc:
                if conn is not None:  # a dropped connection is not kept
                    await conn.close()
                raise StoreError(f"the store is unavailable ({type(exc).__name__})") from exc
            except BaseException:  # a cancelled request: the connection's state is unknown
                if conn is not None:
                    await conn.close()
                raise
            self._idle.append(conn)
        return bytes(row[0]) if row and row[0] else b""

    def close(self) -> None:
        """Release the tile pool's connections."""
        self.pool.dispose()

    async def aclose(self) -> None:
        """Close the asynchronous path's idle connections."""
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()
