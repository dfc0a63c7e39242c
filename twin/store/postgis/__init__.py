"""The production store: PostGIS 3, through SQLAlchemy with psycopg 3 and its pool."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import psycopg
import sqlalchemy as sa

from layers import LAYERS, Layer, Prop
from twin.store.base import Store
from twin.store.postgis.loghead import LogHead
from twin.store.postgis.mvt import MERCATOR_GEOM, PostGISTiles, layer_sql
from twin.store.postgis.replicas import ReadRouter
from twin.store.postgis.sql import PostGISSQL
from twin.store.postgis.urls import engine_url, libpq_url
from twin.store.schema import CHANGE_LOG_LOCK, GEOM

# Web Mercator ends at ±85.0511°; a geometry reaching beyond is cut there first (a load must
# not fail on a feature at a pole, which ST_Transform cannot project).
_MERCATOR_SQL = (
    f"CASE WHEN ST_YMax({GEOM}) < 85.0511 AND ST_YMin({GEOM}) > -85.0511 "
    f"THEN ST_Transform({GEOM}, 3857) ELSE ST_Transform(ST_ClipByBox2D({GEOM}, "
    "ST_MakeEnvelope(-180, -85.0511, 180, 85.0511, 4326)), 3857) END"
)

_EWKB_SRID_FLAG = 0x20000000
_SRID_4326 = (4326).to_bytes(4, "little")


def _copy(conn: sa.Connection, table: str, cols: str, rows: Iterator[tuple[Any, ...]]) -> None:
    """Bulk-write ``rows`` into ``table`` (``cols``) with COPY on the transaction's connection."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


#: a pooled connection returned longer ago than this is pinged when next taken out
PING_AFTER_IDLE_S = 5.0


def ping_when_idle(engine: sa.Engine, idle_s: float = PING_AFTER_IDLE_S) -> None:
    """Make ``engine``'s pool ping a connection at checkout only when it sat in the pool for
    ``idle_s`` or longer (SQLAlchemy's ``pool_pre_ping`` pings at every checkout).

    Why: a ping is a round trip, and under load every request checked a connection out (a
    resident's write, two): 0.08 ms of CPU per checkout in this process alone, measured
    (bench.participation_parts). A connection in steady use has just shown it works; one
    that sat idle is the one a database restart or an idle timeout may have cut, and a
    failed ping replaces it before anyone uses it (the pool retries with a new one). A
    restart inside the idle window fails the statement that meets the dead connection once,
    and SQLAlchemy then drops every pooled connection of that age."""

    @sa.event.listens_for(engine, "checkin")
    def _returned(dbapi_conn: Any, record: Any) -> None:
        record.info["twin_idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _taken(dbapi_conn: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("twin_idle_since")
        if since is None or time.monotonic() - since < idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise sa.exc.DisconnectionError(f"pooled connection dead after idling: {exc}") from exc


class PostGISStore(Store):
    """PostGIS: tables with GiST indexes, bulk writes with COPY."""

    kind = "postgis"
    sql = PostGISSQL()
    routing = "pgrouting"
    integrity_errors = (psycopg.IntegrityError,)

    def __init__(self, url: str, *, pool_size: int = 8, replicas: Sequence[str] = ()) -> None:
        engine = sa.create_engine(engine_url(url), pool_size=pool_size, max_overflow=8)
        ping_when_idle(engine)
        super().__init__(url, engine)
        #: reads of the layers go to streaming replicas as fresh as this primary, if any
        self.router = ReadRouter(engine, replicas, pool_size=pool_size) if replicas else None

    @contextmanager
    def reading(self) -> Iterator[sa.Connection]:
        if self.router is None:
            with self.engine.connect() as conn:
                yield conn
        else:
            with self.router.connect() as conn:
                yield conn

    def health(self) -> dict[str, Any]:
        return {} if self.router is None else {"replicas": self.router.status()}

    def health_needs_io(self) -> bool:
        return self.router is not None

    def close(self) -> None:
        if self.router is not None:
            self.router.close()
        super().close()

    def tile_encoder(
        self,
        props_of: Callable[[Layer], Sequence[Prop]],
        *,
        extent: int,
        buffer: int,
        simplify_min_coords: int,
    ) -> PostGISTiles:
        sql = {
            layer.id: layer_sql(
                layer,
                props_of(layer),
                extent=extent,
                buffer=buffer,
                simplify_min_coords=simplify_min_coords,
            )
            for layer in LAYERS
        }
        return PostGISTiles(self.url, sql, router=self.router)

    def change_head_reader(self) -> LogHead:
        return LogHead(libpq_url(self.url))

    def autocommit_connection(self) -> Any:
        dbapi = super().autocommit_connection()
        dbapi.rollback()  # the pool's connection may be in a transaction
        dbapi.autocommit = True
        return dbapi

    @contextmanager
    def statements(self, *, write: bool = False) -> Iterator[sa.Connection]:
        with self.engine.connect() as raw:
            yield raw.execution_options(isolation_level="AUTOCOMMIT")

    def _lock_for_write(self, conn: sa.Connection) -> None:
        # Serialise writers so twin_changes ids become visible in id order (see
        # Store.write_transaction); released at commit or rollback.
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({CHANGE_LOG_LOCK})")

    def _prepare(self, conn: sa.Connection) -> None:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")

    def _derive_columns(self, conn: sa.Connection) -> list[str]:
        # Every layer table keeps its geometry in Web Mercator too, as a stored generated
        # column, so that a tile query does not transform each row again on every request
        # (twin.store.postgis.mvt reads it): 16% off the mean tile query of the tile
        # benchmark. PostgreSQL computes it on every insert and update; a load does not get
        # slower, since the server transforms while the client is still formatting rows
        # (measured: 82,000 buildings 1.26 s with it, 1.29 s without).
        have = {
            row[0]
            for row in conn.exec_driver_sql(
                "SELECT table_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND column_name = %(c)s",
                {"c": MERCATOR_GEOM},
            )
        }
        done = []
        for table in self.tables.values():
            if table.name not in have:
                conn.exec_driver_sql(
                    f'ALTER TABLE "{table.name}" ADD COLUMN {MERCATOR_GEOM} geometry '
                    f"GENERATED ALWAYS AS ({_MERCATOR_SQL}) STORED"
                )
                done.append(f"added column {table.name}.{MERCATOR_GEOM}")
        return done

    def _encode_geoms(self, geoms: np.ndarray, wkb: list[bytes], bounds: np.ndarray) -> list[Any]:
        # Hex EWKB (what COPY's text format takes for a geometry) made from the WKB already
        # at hand: the SRID flag and 4326 spliced into each little-endian header. 8x faster
        # than shapely's set_srid + to_wkb(include_srid=True): 0.04 s against 0.36 s for
        # 82,000 buildings.
        heads: dict[bytes, bytes] = {}
        out = []
        for w in wkb:
            head = heads.get(w[:5])
            if head is None:
                kind = int.from_bytes(w[1:5], "little") | _EWKB_SRID_FLAG
                head = heads[w[:5]] = b"\x01" + kind.to_bytes(4, "little") + _SRID_4326
            out.append((head + w[5:]).hex())
        return out

    def _stage(
        self,
        conn: sa.Connection,
        layer: Layer,
        columns: list[str],
        values: list[list[Any]],
        bounds: np.ndarray,
    ) -> None:
        cols = ", ".join(f'"{c}"' for c in columns)
        conn.exec_driver_sql(
            f'CREATE TEMP TABLE twin_stage ON COMMIT DROP AS SELECT {cols} FROM "{layer.table}" '
            "WITH NO DATA"
        )
        _copy(conn, "twin_stage", cols, zip(*values, strict=True))
        conn.exec_driver_sql("CREATE INDEX ON twin_stage (source, source_id)")
        conn.exec_driver_sql("ANALYZE twin_stage")

    def _rebuild_index(self, conn: sa.Connection, layer: Layer, inserting: int) -> bool:
        """Return whether to drop the GiST index now and build it again after the insert.

        Inserting many rows into a small table: maintaining the GiST index row by row costs
        more than one sorted bulk build. Only then, because dropping the index locks the table
        against readers for the rest of the transaction.
        """
        if inserting <= 20_000:
            return False
        existing = conn.exec_driver_sql(f'SELECT count(*) FROM "{layer.table}"').scalar_one()
        if inserting <= 2 * existing:
            return False
        conn.exec_driver_sql(f'DROP INDEX IF EXISTS "idx_{layer.table}_geom"')
        return True

    def _build_index(self, conn: sa.Connection, layer: Layer) -> None:
        t = layer.table
        conn.exec_driver_sql(f'CREATE INDEX "idx_{t}_geom" ON "{t}" USING gist (geom)')

    def _insert_new(
        self,
        conn: sa.Connection,
        layer: Layer,
        columns: list[str],
        values: list[list[Any]],
        bounds: np.ndarray,
    ) -> None:
        # A source's first load cannot conflict with stored rows: COPY straight into the table.
        rebuild = self._rebuild_index(conn, layer, len(bounds))
        cols = ", ".join(f'"{c}"' for c in columns)
        _copy(conn, f'"{layer.table}"', cols, zip(*values, strict=True))
        if rebuild:
            self._build_index(conn, layer)

    def _apply(
        self, conn: sa.Connection, layer: Layer, columns: list[str], inserting: int, updating: int
    ) -> None:
        rebuild = self._rebuild_index(conn, layer, inserting)
        super()._apply(conn, layer, columns, inserting, updating)
        if rebuild:
            self._build_index(conn, layer)
