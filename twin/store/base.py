"""The store interface: one class for what both stores share, one subclass per backend for
what differs (engine set-up, how rows are bulk-staged, and what the backend offers: its SQL
dialect, ``store.sql``, and the capabilities below). How a load is written is
:mod:`twin.store.loading`.
"""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from layers import LAYERS, Layer, Prop
from twin.store import loading
from twin.store.dialect import SpatialSQL
from twin.store.loading import Batch, LoadResult, ProgressFn
from twin.store.schema import GEOM, build_metadata


class TileEncoder(Protocol):
    """A database that encodes a layer's vector tile itself (PostGIS ``ST_AsMVT``)."""

    def layer_tile(self, layer: Layer, params: dict[str, Any]) -> bytes:
        """Return the MVT layer for the tile ``params`` bind (``b""`` when empty)."""
        ...

    async def layer_tile_async(self, layer: Layer, params: dict[str, Any]) -> bytes:
        """Do what :meth:`layer_tile` does, waiting in the event loop."""
        ...

    def close(self) -> None:
        """Release the encoder's connections."""
        ...

    async def aclose(self) -> None:
        """Close the asynchronous path's connections (in the loop that used them)."""
        ...


class ChangeHeadReader(Protocol):
    """Reads the newest change id in an event loop (see ``twin.store.postgis.loghead``)."""

    async def read(self, arrived: float) -> int:
        """Return the newest change id as seen by a query sent at or after ``arrived``."""
        ...

    async def aclose(self) -> None:
        """Close its connection."""
        ...


class Store(abc.ABC):
    """A city store: the layer tables plus meta, provenance and quarantine."""

    kind: str = ""
    #: the SQL this backend writes differently (:mod:`twin.store.dialect`)
    sql: SpatialSQL
    #: the network routing engine inside the database, if any ("pgrouting"); the access
    #: analyses use it by default and route in Python otherwise
    routing: str | None = None
    #: the driver's own integrity-error classes (bulk writes bypass SQLAlchemy's wrapping)
    integrity_errors: tuple[type[Exception], ...] = ()
    #: whether writers of domain tables run side by side (False: the database has one writer
    #: at a time, and threads writing at once only take turns)
    parallel_writers: bool = True

    def __init__(self, url: str, engine: sa.Engine) -> None:
        self.url = url
        self.engine = engine
        self.metadata, self.tables = build_metadata()
        self.meta_table = self.metadata.tables["twin_meta"]
        self.provenance_table = self.metadata.tables["twin_provenance"]
        self.quarantine_table = self.metadata.tables["twin_quarantine"]
        self.changes_table = self.metadata.tables["twin_changes"]
        self._secrets: dict[str, bytes] = {}  # see secret()
        self._heads_sql: dict[tuple[str, ...], sa.Select[Any]] = {}  # see change_heads()

    # -- backend specifics -------------------------------------------------------------
    @abc.abstractmethod
    def _prepare(self, conn: sa.Connection) -> None:
        """Make the database ready for the schema (extensions, base tables)."""

    @abc.abstractmethod
    def _encode_geoms(self, geoms: np.ndarray, wkb: list[bytes], bounds: np.ndarray) -> list[Any]:
        """Return geometries (with their little-endian 2-D WKB and their (minx, miny, maxx,
        maxy) rows) as the stage table takes them."""

    @abc.abstractmethod
    def _stage(
        self,
        conn: sa.Connection,
        layer: Layer,
        columns: list[str],
        values: list[list[Any]],
        bounds: np.ndarray,
    ) -> None:
        """Create the temporary stage table for ``layer`` and bulk-write the rows into it
        (``values`` holds one list per column of ``columns``; ``bounds`` one row per row)."""

    @contextmanager
    def write_transaction(self) -> Iterator[sa.Connection]:
        """Yield a connection in a write transaction, committed on exit.

        Writers are serialised: on GeoPackage the transaction takes SQLite's write lock at
        BEGIN (``BEGIN IMMEDIATE``) so that it waits for the lock instead of failing when
        readers hold snapshots; on PostGIS an advisory lock makes change-log ids commit in
        id order, so a reader polling ``changes_since`` never skips one.
        """
        with self.engine.connect() as raw:
            conn = raw.execution_options(twin_write=True)
            with conn.begin():
                self._lock_for_write(conn)
                yield conn

    @contextmanager
    def domain_transaction(self) -> Iterator[sa.Connection]:
        """Yield a connection in a write transaction for domain tables that log no change
        (accounts, ratings, reports), committed on exit.

        Like :meth:`write_transaction` it takes SQLite's write lock at BEGIN on GeoPackage,
        but it skips the change-log ordering lock, so on PostGIS such writers run in parallel
        (their own unique constraints keep them consistent).
        """
        with self.engine.connect() as raw:
            conn = raw.execution_options(twin_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def statements(self, *, write: bool = False) -> Iterator[sa.Connection]:
        """Yield a connection for statements each complete on its own: reads of the domain
        tables, or (``write``) writes of which every statement, with its triggers, leaves the
        data consistent whatever runs between them (a rating's upsert, say).

        By default reads share one transaction and writes are a :meth:`domain_transaction`;
        PostGIS runs them in autocommit instead, without BEGIN and COMMIT or ROLLBACK round
        trips (a session's look-up was 3 round trips, now 1).
        """
        if write:
            with self.domain_transaction() as conn:
                yield conn
        else:
            with self.engine.connect() as conn:
                yield conn

    def _derive_columns(self, conn: sa.Connection) -> list[str]:
        """Add the columns the backend derives from the stored ones (none by default);
        return a line per column added."""
        return []

    def _lock_for_write(self, conn: sa.Connection) -> None:
        """Take whatever lock serialises writers (none by default)."""
        return None

    def lock_change_log(self, conn: sa.Connection) -> None:
        """Take, in ``conn``'s transaction, the lock that orders change-log writers (what a
        :meth:`write_transaction` takes at BEGIN): a transaction that will log changes and
        lock rows takes it first, so that it cannot wait on it while holding rows' locks
        another writer waits for."""
        self._lock_for_write(conn)

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    @contextmanager
    def reading(self) -> Iterator[sa.Connection]:
        """Yield a connection for reading the layers (tiles, features, search, analyses):
        where the store has read replicas, one that holds every write the primary had
        committed when the read began (see :mod:`twin.store.postgis.replicas`); else the
        store's own engine. Writes, and reads of anything but the layers, use ``engine``."""
        with self.engine.connect() as conn:
            yield conn

    def health(self) -> dict[str, Any]:
        """Return what ``/healthz`` reports of the store beyond its kind (replicas' lag)."""
        return {}

    def health_needs_io(self) -> bool:
        """Return whether :meth:`health` queries the database (then ``/healthz`` asks it in a
        thread, not in the event loop)."""
        return False

    # -- what the backend offers beyond SQL (each answers None where it offers nothing) ------
    def tile_encoder(
        self,
        props_of: Callable[[Layer], Sequence[Prop]],
        *,
        extent: int,
        buffer: int,
        simplify_min_coords: int,
    ) -> TileEncoder | None:
        """Return the database's own vector tile encoder of every layer (``props_of`` gives a
        layer's tile properties), or None when tiles are encoded in this process."""
        return None

    def tiles_file(self) -> Path | None:
        """Return the file beside the data where drawn tiles may be kept (see
        :mod:`tiles.stored`), or None when the store keeps none."""
        return None

    def change_head_reader(self) -> ChangeHeadReader | None:
        """Return a reader of the change log's newest id for an event loop, or None when the
        store has no asynchronous driver (then a thread reads it)."""
        return None

    def autocommit_connection(self) -> Any:
        """Return a new DB-API connection of the store's own, outside the pool, in autocommit
        mode (for tiny repeated reads such as the change log's head); the caller closes it."""
        raw = self.engine.raw_connection()
        dbapi = raw.driver_connection
        raw.detach()
        return dbapi

    # -- schema ------------------------------------------------------------------------
    def ensure_schema(self) -> list[str]:
        """Create or upgrade the schema; return what was done (empty when up to date)."""
        from twin.store.upgrade import ensure_schema

        return ensure_schema(self)

    # -- writing (the algorithm: twin.store.loading) -------------------------------------
    def load(
        self,
        batches: Sequence[Batch],
        *,
        progress: ProgressFn | None = None,
        then: Callable[[sa.Connection], None] | None = None,
    ) -> list[LoadResult]:
        """Write every batch in one transaction; return what each changed.

        ``then(conn)`` runs in the same transaction after the batches. Nothing is written if
        any batch or ``then`` fails: the transaction is rolled back and the store is exactly
        as before.
        """
        return loading.load(self, batches, progress=progress, then=then)

    def load_in(self, conn: sa.Connection, batches: Sequence[Batch]) -> list[LoadResult]:
        """Write every batch in the caller's transaction (from :meth:`write_transaction`);
        return what each changed. See :func:`twin.store.loading.load_in`."""
        return loading.load_in(self, conn, batches)

    def delete_features(self, layer: Layer, fids: Sequence[int]) -> int:
        """Delete the features ``fids`` of ``layer``; return how many were deleted (their
        envelopes go to the change log in the same transaction, as a load's do)."""
        return loading.delete_features(self, layer, fids)

    def _insert_new(
        self,
        conn: sa.Connection,
        layer: Layer,
        columns: list[str],
        values: list[list[Any]],
        bounds: np.ndarray,
    ) -> None:
        """Insert rows of a source that has none stored yet (default: through the stage)."""
        self._stage(conn, layer, columns, values, bounds)
        self._apply(conn, layer, columns, len(bounds), 0)
        conn.exec_driver_sql("DROP TABLE twin_stage")

    def _apply(
        self, conn: sa.Connection, layer: Layer, columns: list[str], inserting: int, updating: int
    ) -> None:
        """Write the staged rows (all new or changed) into the layer table."""
        # UPDATE then INSERT rather than INSERT … ON CONFLICT DO UPDATE: inside an upsert,
        # SQLite overrides the GeoPackage R-tree triggers' own INSERT OR REPLACE and fails.
        t = layer.table
        cols = ", ".join(f'"{c}"' for c in columns)
        sets = ", ".join(f'"{c}" = s."{c}"' for c in columns[2:])
        if updating:
            conn.execute(
                sa.text(
                    f'UPDATE "{t}" SET {sets} FROM twin_stage s WHERE "{t}".source = s.source '
                    f'AND "{t}".source_id = s.source_id'
                )
            )
        if inserting:
            conn.execute(
                sa.text(
                    f'INSERT INTO "{t}" ({cols}) SELECT {cols} FROM twin_stage s WHERE NOT EXISTS '
                    f'(SELECT 1 FROM "{t}" x WHERE x.source = s.source '
                    "AND x.source_id = s.source_id)"
                )
            )

    # -- secrets -------------------------------------------------------------------------
    def secret(self, name: str) -> bytes:
        """Return the store's secret ``name``: 32 random bytes made on first use and kept in
        ``twin_meta`` (key ``secret:<name>``), so that every server process of the store, and
        the store after a restart or a restore, has the same one. Read from the primary."""
        import secrets

        if name in self._secrets:
            return self._secrets[name]
        meta, key = self.meta_table, f"secret:{name}"
        query = sa.select(meta.c.value).where(meta.c.key == key)
        with self.engine.connect() as conn:
            value = conn.execute(query).scalar()
        if value is None:
            try:
                with self.engine.begin() as conn:
                    conn.execute(meta.insert().values(key=key, value=secrets.token_hex(32)))
            except sa.exc.IntegrityError:  # another process made it first: theirs is kept
                pass
            with self.engine.connect() as conn:
                value = conn.execute(query).scalar_one()
        self._secrets[name] = bytes.fromhex(value)
        return self._secrets[name]

    # -- reading -----------------------------------------------------------------------
    def count(self, layer: Layer) -> int:
        """Return the number of features stored in ``layer``."""
        with self.reading() as conn:
            return int(conn.execute(sa.text(f'SELECT count(*) FROM "{layer.table}"')).scalar_one())

    def generated_count(self, layer: Layer) -> int:
        """Return the number of generated (demo) features stored in ``layer``."""
        with self.reading() as conn:
            sql = f'SELECT count(*) FROM "{layer.table}" WHERE synthetic'
            return int(conn.execute(sa.text(sql)).scalar_one())

    def counts(self) -> dict[str, int]:
        """Return the feature count of every layer."""
        return {layer.id: self.count(layer) for layer in LAYERS}

    def read_frame(
        self,
        layer: Layer,
        *,
        bbox: tuple[float, float, float, float] | None = None,
        source: str | None = None,
        with_system: bool = False,
    ) -> gpd.GeoDataFrame:
        """Return the features of ``layer`` (optionally those whose envelope meets ``bbox``)
        as a GeoDataFrame in EPSG:4326, ordered by ``fid``."""
        t = layer.table
        props = ", ".join(f't."{p}"' for p in layer.prop_names)
        params: dict[str, Any] = {}
        join, where = "", "1 = 1"
        if bbox is not None:
            join, where = self.sql.bbox(layer)
            params.update(dict(zip(("minx", "miny", "maxx", "maxy"), bbox, strict=True)))
        if source is not None:
            where += " AND t.source = :source"
            params["source"] = source
        sql = (
            f"SELECT t.fid, t.source, t.source_id, t.synthetic, t.row_hash, {props}, "
            f'{self.sql.geom_wkb("t." + GEOM)} AS geom FROM "{t}" t {join} '
            f"WHERE {where} ORDER BY t.fid"
        )
        with self.reading() as conn:
            result = conn.execute(sa.text(sql), params)
            keys = list(result.keys())
            rows = result.fetchall()
        data = pd.DataFrame.from_records(rows, columns=keys)
        geoms = self.sql.decode_geoms(data.pop("geom").tolist()) if len(data) else np.array([])
        frame = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=4326), crs=4326)
        frame["synthetic"] = frame["synthetic"].astype(bool)
        if not with_system:
            frame = frame.drop(columns=["source", "row_hash"])
        return frame

    def checksum(self, layer: Layer) -> str:
        """Return a SHA-256 over every stored row of ``layer`` (keys, values and geometry)."""
        frame = self.read_frame(layer, with_system=True)
        digest = hashlib.sha256()
        wkb = shapely.to_wkb(np.asarray(frame.geometry.values), byte_order=1)
        values = frame.drop(columns="geometry").astype(object)
        values = values.where(values.notna(), None)
        for row, g in zip(values.itertuples(index=False), wkb, strict=True):
            digest.update("\x1f".join(map(repr, row)).encode())
            digest.update(g)
        return digest.hexdigest()

    def changes_since(self, last_id: int) -> tuple[int, list[tuple[str, tuple[float, ...]]]]:
        """Return the newest change id and the (layer, envelope) changes after ``last_id``."""
        c = self.changes_table
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(c.c.id, c.c.layer, c.c.minx, c.c.miny, c.c.maxx, c.c.maxy)
                .where(c.c.id > last_id)
                .order_by(c.c.id)
            ).fetchall()
        if not rows:
            return last_id, []
        return int(rows[-1][0]), [(r[1], (r[2], r[3], r[4], r[5])) for r in rows]

    def last_change_id(self, layers: Sequence[str] | None = None) -> int:
        """Return the id of the newest logged change (0 for none); with ``layers``, the newest
        change of those layers only (see :meth:`change_heads`)."""
        if layers is not None:
            return max(self.change_heads(layers).values(), default=0)
        c = self.changes_table
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(sa.func.max(c.c.id))).scalar_one_or_none()
        return int(value or 0)

    def change_heads(self, layers: Sequence[str]) -> dict[str, int]:
        """Return the id of the newest logged change of each of ``layers`` (0 for none), in
        one query: a value derived from a few layers (the street graph, a layer's search
        entries) is kept until one of *those* changes, not until anything does."""
        ids = tuple(dict.fromkeys(layers))
        if not ids:
            return {}
        # the statement is built once per set of layers: every search asks (one per address
        # of a business's batch), and building twenty subqueries was 2.9 ms of its 3.6 ms
        stmt = self._heads_sql.get(ids)
        if stmt is None:
            c = self.changes_table
            stmt = sa.select(
                *[
                    sa.select(sa.func.max(c.c.id)).where(c.c.layer == lid).scalar_subquery()
                    for lid in ids
                ]
            )
            if len(self._heads_sql) < 64:
                self._heads_sql[ids] = stmt
        with self.engine.connect() as conn:
            row = conn.execute(stmt).one()
        return {lid: int(v or 0) for lid, v in zip(ids, row, strict=True)}

    def provenance(self) -> list[dict[str, Any]]:
        """Return the load log, newest first."""
        p = self.provenance_table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(p).order_by(p.c.id.desc())).mappings().all()
        return [dict(r) for r in rows]

    def quarantine(self, layer: str | None = None) -> list[dict[str, Any]]:
        """Return the rejected rows (of one layer, or all), in load order."""
        q = self.quarantine_table
        stmt = sa.select(q).order_by(q.c.id)
        if layer is not None:
            stmt = stmt.where(q.c.layer == layer)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(stmt).mappings().all()]
