"""The embedded store: one GeoPackage file, written through SpatiaLite in GeoPackage mode.

The machine's Python cannot load SQLite extensions, so the driver is ``pysqlite3`` (its own
SQLite build) with Debian's ``mod_spatialite``. ``pyogrio`` must be imported before the first
SpatiaLite connection or the process crashes at exit (both bundle GEOS/PROJ).
"""

from __future__ import annotations

import itertools
import operator
import os
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio  # noqa: F401  (import order matters, see the module docstring)
import pysqlite3.dbapi2 as sqlite3
import shapely
import sqlalchemy as sa
from geoalchemy2.admin.dialects.geopackage import load_spatialite_gpkg
from sqlalchemy import event

from layers import Layer
from twin.core.errors import StoreError
from twin.store.base import Store
from twin.store.geopackage.rtree import float32_boxes, write_rtree
from twin.store.geopackage.sql import GeoPackageSQL
from twin.store.geopackage.sqlite_bulk import insert_rows

_SRID = struct.pack("<i", 4326)
# GeoPackageBinary header: magic "GP", version 0, flags (bit 0 little-endian, bits 1-3 the
# envelope kind: 0 none, 1 [minx, maxx, miny, maxy]).
_HEAD_POINT = b"GP\x00\x01" + _SRID
_HEAD_ENVELOPE = b"GP\x00\x03" + _SRID
# From this many new rows (and at least as many as the R-tree holds) the R-tree is packed
# anew in bulk rather than grown row by row.
_BULK_RTREE_ROWS = 2_000

# The sqlite3 driver binds only exact int, float and str without adaptation; for None, bytes
# and bool it looks for an adapter and, finding none, probes ``__adapt__``/``__conform__``,
# whose failing attribute lookups cost ~1 µs per value. Registered adapters are found with
# one dict lookup: a bulk write of 82,000 buildings (14 columns, most of them NULL) binds
# 3x faster (measured: 0.12 s -> 0.04 s per column of 82,000 values). Values bind as before
# (NULL, BLOB, and 0/1 for booleans, which is how SQLite stores BOOLEAN anyway).
sqlite3.register_adapter(type(None), lambda v: v)
sqlite3.register_adapter(bytes, lambda v: v)
sqlite3.register_adapter(bool, int)


def _connect_listener(dbapi_conn: Any, record: Any) -> None:
    # Manage transactions ourselves (SQLAlchemy's documented pysqlite recipe): the driver's
    # implicit BEGIN does not cover DDL, and a load must be atomic as a whole.
    dbapi_conn.isolation_level = None
    load_spatialite_gpkg(dbapi_conn)
    dbapi_conn.execute("PRAGMA journal_mode=WAL")
    dbapi_conn.execute("PRAGMA synchronous=NORMAL")
    dbapi_conn.execute("PRAGMA busy_timeout=30000")
    dbapi_conn.execute("PRAGMA cache_size=-65536")


def _begin_listener(conn: sa.Connection) -> None:
    # Writers take the write lock at BEGIN: a deferred transaction that reads first and then
    # writes gets SQLITE_BUSY at once (no waiting) when another snapshot is open.
    write = conn.get_execution_options().get("twin_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
    if write:
        # Reload the schema now if another connection changed it (the kept tiles' tables
        # at start-up, say). Otherwise the first write's statement reloads it while SQLite
        # compiles its triggers, and a rating's (ratings → twin_changes → the kept tiles'
        # R-tree) failed with "no such table: ratings" on each connection's first write
        # after such a change.
        conn.exec_driver_sql("SELECT 1 FROM sqlite_master LIMIT 1").close()


def gpkg_path(url: str) -> Path:
    """Return the file path of a ``gpkg:///path`` URL."""
    if not url.startswith("gpkg:///"):
        raise StoreError(f"not a GeoPackage URL: {url!r} (expected gpkg:///path/to/file.gpkg)")
    # SQLAlchemy's convention: gpkg:///relative/path, gpkg:////absolute/path
    return Path(url[len("gpkg:///") :])


#: Connections kept open per store (see ``GeoPackageStore.__init__``).
POOL_SIZE = 40
#: One lock per GeoPackage file for this process's writers (see ``GeoPackageStore``).
_WRITERS: dict[Path, threading.RLock] = {}
_WRITERS_LOCK = threading.Lock()


def _writer_lock(path: Path) -> threading.RLock:
    with _WRITERS_LOCK:
        return _WRITERS.setdefault(path.resolve(), threading.RLock())


class GeoPackageStore(Store):
    """The embedded store (zero set-up): a GeoPackage that QGIS and GDAL open as it is."""

    kind = "geopackage"
    sql = GeoPackageSQL()
    integrity_errors = (sqlite3.IntegrityError,)
    parallel_writers = False  # SQLite: one writer at a time

    def __init__(self, url: str) -> None:
        os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
        self.path = gpkg_path(url)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # A connection costs ~10 ms to open (SpatiaLite and its GeoPackage mode load on
        # each), so the pool keeps as many as the server has threads (anyio's 40): with
        # SQLAlchemy's default 5 (+10 overflow, closed on return), 32 concurrent requests
        # opened one for most requests (15% of the server's samples under the participation
        # benchmark, py-spy).
        engine = sa.create_engine(
            f"gpkg:///{self.path}",
            module=sqlite3,
            connect_args={"timeout": 30},
            pool_size=POOL_SIZE,
            max_overflow=8,
        )
        event.listen(engine, "connect", _connect_listener)
        event.listen(engine, "begin", _begin_listener)
        super().__init__(url, engine)
        self._writers = _writer_lock(self.path)

    # SQLite has one writer at a time. Threads of this process that all BEGIN IMMEDIATE
    # wait for each other in SQLite's busy handler, which sleeps and polls (1, 2, 5, 10 …
    # 100 ms): under 32 concurrent ratings the server wrote 69/s with a p99 of 2.6 s. They
    # queue on a lock of the process instead and take the write lock the moment it is free;
    # another process (a ``twin load``) is still waited for by the busy handler.
    @contextmanager
    def write_transaction(self) -> Iterator[sa.Connection]:
        with self._writers, super().write_transaction() as conn:
            yield conn

    @contextmanager
    def domain_transaction(self) -> Iterator[sa.Connection]:
        with self._writers, super().domain_transaction() as conn:
            yield conn

    def tiles_file(self) -> Path:
        return self.path

    def _prepare(self, conn: sa.Connection) -> None:
        # gpkgCreateBaseTables runs in the connect listener. SpatiaLite 5.0 also writes
        # validation triggers for the optional metadata-reference table that SQLite cannot
        # parse (e.g. "column_nameIS", a bare "rowid"); SQLite re-parses every trigger on any
        # ALTER TABLE, so they would block schema upgrades. GDAL does not create them either.
        rows = conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' "
            "AND name LIKE 'gpkg_metadata_reference_%'"
        ).fetchall()
        for (name,) in rows:
            conn.exec_driver_sql(f'DROP TRIGGER "{name}"')

    def _encode_geoms(self, geoms: np.ndarray, wkb: list[bytes], bounds: np.ndarray) -> list[Any]:
        # Writing the GeoPackage blob here, vectorised, is ~20x faster than calling
        # SpatiaLite's GeomFromWKB per row inside SQLite.
        if len(geoms) == 0:
            return []
        kinds = shapely.get_type_id(geoms)
        if (kinds == 0).all():
            return [_HEAD_POINT + w for w in wkb]
        # The 40-byte headers (with the envelope from the bounds the R-tree also gets) are
        # built in one numpy array; its rows as 40-byte void items come out of tolist() as
        # bytes, and map() joins them to the WKB without a Python-level loop: 0.03 s ->
        # 0.013 s for 82,000 buildings.
        heads = np.empty((len(geoms), 40), dtype=np.uint8)
        heads[:, :8] = np.frombuffer(_HEAD_ENVELOPE, dtype=np.uint8)
        envelopes = np.ascontiguousarray(bounds[:, [0, 2, 1, 3]], dtype="<f8")
        heads[:, 8:] = envelopes.view(np.uint8).reshape(-1, 32)
        return list(map(operator.add, heads.view("V40").ravel().tolist(), wkb))

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
            f"CREATE TEMP TABLE twin_stage AS SELECT {cols}, 0.0 AS _minx, 0.0 AS _miny, "
            f'0.0 AS _maxx, 0.0 AS _maxy FROM "{layer.table}" WHERE 0'
        )
        marks = ", ".join("?" for _ in range(len(columns) + 4))
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.executemany(
            f"INSERT INTO twin_stage ({cols}, _minx, _miny, _maxx, _maxy) VALUES ({marks})",
            zip(*values, *bounds.T.tolist(), strict=True),
        )
        conn.exec_driver_sql("CREATE INDEX temp.twin_stage_id ON twin_stage (source_id)")

    @contextmanager
    def _rtree_triggers_suspended(self, conn: sa.Connection, layer: Layer) -> Iterator[str]:
        """Suspend the R-tree insert/update triggers of ``layer`` (inside the transaction) and
        yield the R-tree table name; the caller fills the R-tree itself."""
        # The GeoPackage R-tree triggers call SpatiaLite per row to parse each geometry for its
        # envelope; for a bulk write that costs more than the write itself, so the R-tree is
        # filled in bulk from envelopes computed vectorised in Python. The delete trigger stays:
        # it is cheap.
        # The geometry-type and SRID check triggers (fgti/fgtu/fgsi/fgsu) also parse every
        # geometry through SpatiaLite; our rows were checked by etl.transform and are written
        # with SRID 4326, so they are suspended with the R-tree ones for the bulk write.
        rtree = f"rtree_{layer.table}_geom"
        triggers = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? "
            "AND (name LIKE ? OR name LIKE ? OR name IN (?, ?, ?, ?))",
            (
                layer.table,
                f"{rtree}_insert%",
                f"{rtree}_update%",
                *(f"fg{k}_{layer.table}_geom" for k in ("ti", "tu", "si", "su")),
            ),
        ).fetchall()
        for name, _ in triggers:
            conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
        yield rtree
        for _, sql in triggers:
            conn.exec_driver_sql(sql)

    def _insert_new(
        self,
        conn: sa.Connection,
        layer: Layer,
        columns: list[str],
        values: list[list[Any]],
        bounds: np.ndarray,
    ) -> None:
        # A source's first load cannot conflict with stored rows: write straight into the
        # table, then the R-tree from the same arrays. Without a fid SQLite gives each row
        # max(fid) + 1 (fid is the rowid, no AUTOINCREMENT), so the rows get first, first + 1 …
        # in order; checked below. Binding no fid saves re-packing every row into a new tuple
        # (0.04 s per 82,000 rows).
        t = layer.table
        first = conn.exec_driver_sql(f'SELECT coalesce(max(fid), 0) + 1 FROM "{t}"').scalar_one()
        fids = np.arange(int(first), int(first) + len(bounds))
        # A column with one value in every row (the source, the load time) is bound once per
        # statement, and one NULL in every row is left out: unbound, it is NULL all the same
        # (no column has a default; the 10x buildings have 3). "One value" means one object,
        # as _load_batch builds those columns; a single row is written as it is.
        many = len(bounds) > 1
        same = [many and all(map(operator.is_, v, itertools.repeat(v[0]))) for v in values]
        constants = {c: v[0] for c, v, s in zip(columns, values, same, strict=True) if s}
        varying = [i for i, s in enumerate(same) if not s]
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with self._rtree_triggers_suspended(conn, layer) as rtree:
            insert_rows(
                cursor,
                t,
                [columns[i] for i in varying],
                [values[i] for i in varying],
                {c: v for c, v in constants.items() if v is not None},
            )
            last = conn.exec_driver_sql(f'SELECT max(fid) FROM "{t}"').scalar_one()
            if last != fids[-1]:
                raise StoreError(f"{t}: rows got fids up to {last}, expected {fids[-1]}")
            self._index_new(conn, rtree, fids, bounds)

    def _index_new(
        self, conn: sa.Connection, rtree: str, fids: np.ndarray, bounds: np.ndarray
    ) -> None:
        """Add new rows to the R-tree: packed in bulk with what it holds (see
        :mod:`twin.store.geopackage.rtree`) when they are many and at least as many as the
        tree holds, else inserted one by one through SQLite."""
        held = conn.exec_driver_sql(f'SELECT count(*) FROM "{rtree}_rowid"').scalar_one()
        if len(fids) >= max(_BULK_RTREE_ROWS, held):
            old = np.array(
                conn.exec_driver_sql(
                    f'SELECT id, minx, maxx, miny, maxy FROM "{rtree}"'
                ).fetchall(),
                dtype=np.float64,
            ).reshape(-1, 5)
            new_boxes = float32_boxes(bounds)
            write_rtree(
                conn,
                rtree,
                np.concatenate([old[:, 0].astype(np.int64), fids]),
                np.vstack([old[:, 1:].astype(np.float32), new_boxes]),
                boxes=True,
            )
            return
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.executemany(
            f'INSERT INTO "{rtree}" (id, minx, maxx, miny, maxy) VALUES (?, ?, ?, ?, ?)',
            (
                (fid, r[0], r[2], r[1], r[3])
                for fid, r in zip(fids.tolist(), bounds.tolist(), strict=True)
            ),
        )

    def _apply(
        self, conn: sa.Connection, layer: Layer, columns: list[str], inserting: int, updating: int
    ) -> None:
        t = layer.table
        with self._rtree_triggers_suspended(conn, layer) as rtree:
            super()._apply(conn, layer, columns, inserting, updating)
            conn.exec_driver_sql(
                f'INSERT OR REPLACE INTO "{rtree}" (id, minx, maxx, miny, maxy) '
                f'SELECT x.fid, s._minx, s._maxx, s._miny, s._maxy FROM twin_stage s JOIN "{t}" x '
                "ON x.source = s.source AND x.source_id = s.source_id"
            )
