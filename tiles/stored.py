"""Tiles kept in the embedded store's own file: drawn once, then read from disk, and dropped
by the database itself, in the writer's transaction, exactly where the data changed.

Why: on the embedded store tiles are drawn in this process, bound by the GIL (~120 tiles/s
on 2 cores whatever the concurrency), so with 8 requests in flight a z14 tile waited
~170 ms (p95, ``bench.tiles``). A kept tile is one primary-key read, in the event loop.

* **Where.** Two tables in the GeoPackage (``twin_tiles``: key, gzip body, ETag; the R-tree
  ``twin_tiles_rtree``: each tile's bounds grown by its layers' margins, and the layers drawn
  in it). GDAL and QGIS ignore tables they do not know; nothing here is part of the data.
* **Never stale.** A trigger on ``twin_changes`` — every write of every process logs its
  envelopes there, in its own transaction — deletes the kept tiles of the changed layer whose
  grown bounds meet a changed envelope, at every zoom. So whoever writes (``twin load`` in
  another process with no server running, an API edit in another worker), the stale tiles are
  gone when the write commits. A tile drawn while a write landed is kept only if, in the same
  write transaction, no change logged after the id its drawing started from touches it.
* **Code changes.** The tables remember a fingerprint of the code that draws tiles (``tiles/``,
  ``layers/``, the store schema, shapely/GEOS); on a mismatch they are emptied, not misread.
* **Filled** by every tile drawn on demand (within ``TWIN_TILES_STORE_MB``), and ahead of
  time by ``twin tiles warm`` (:mod:`tiles.warm`).

Plain ``sqlite3`` connections of their own: the tables need no SpatiaLite, and a write
that finds the file locked by a load gives up at once (the tile is still served and kept in
memory) instead of holding a drawing thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pysqlite3.dbapi2 as sqlite3
import shapely

from tiles.cache import Bounds, touched
from twin.store.schema import SCHEMA_VERSION

SCHEMA = (
    """CREATE TABLE twin_tiles (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        body BLOB NOT NULL,
        etag TEXT,
        change_id INTEGER NOT NULL
    )""",
    "CREATE VIRTUAL TABLE twin_tiles_rtree USING rtree(id, minx, maxx, miny, maxy, +layers TEXT)",
    "CREATE TABLE twin_tiles_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TRIGGER twin_tiles_stale AFTER INSERT ON twin_changes BEGIN
        DELETE FROM twin_tiles WHERE id IN (
            SELECT id FROM twin_tiles_rtree
            WHERE minx <= NEW.maxx AND maxx >= NEW.minx AND miny <= NEW.maxy AND maxy >= NEW.miny
              AND instr(layers, ',' || NEW.layer || ',') > 0);
    END""",
    """CREATE TRIGGER twin_tiles_gone AFTER DELETE ON twin_tiles BEGIN
        DELETE FROM twin_tiles_rtree WHERE id = OLD.id;
    END""",
)
#: Seconds between two counts of the kept bytes once the budget is reached.
RECOUNT_S = 60.0
TABLES = ("twin_tiles", "twin_tiles_rtree", "twin_tiles_meta")
TRIGGERS = ("twin_tiles_stale", "twin_tiles_gone")


def code_fingerprint() -> str:
    """Return a digest of everything that decides a tile's bytes: the source of ``tiles/`` and
    ``layers/``, the store's schema version and the shapely/GEOS versions."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.blake2b(digest_size=16)
    for folder in ("tiles", "layers"):
        for path in sorted((root / folder).glob("*.py")):
            h.update(path.name.encode() + b"\0" + path.read_bytes())
    h.update(f"{SCHEMA_VERSION} {shapely.__version__} {shapely.geos_version_string}".encode())
    return h.hexdigest()


@dataclass(frozen=True)
class KeptTile:
    """A drawn tile ready to keep: gzip body (``b""`` when empty), ETag, and for the layers
    drawn in it the margins beyond its bounds within which a change alters it."""

    key: str
    body: bytes
    etag: str | None
    bounds: Bounds
    margins: dict[str, tuple[float, float]]


class StoredTiles:
    """The tiles kept in one GeoPackage file (see the module docstring)."""

    def __init__(self, path: Path, budget_bytes: int) -> None:
        self.path = path
        self.budget_bytes = budget_bytes
        # one lock per connection: a read (in the event loop) never waits for a write
        self._read_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._reader = self._connect(timeout=5.0)
        self._writer = self._connect(timeout=0.0)
        with self._write_lock:
            self._ensure()
        self.bytes = 0
        self._counted_at = -float("inf")
        self._count()

    def _count(self) -> None:
        """Read the bytes kept (the triggers' deletions are not seen otherwise)."""
        with self._read_lock:
            row = self._reader.execute("SELECT total(length(body)) FROM twin_tiles").fetchone()
        self.bytes, self._counted_at = int(row[0]), time.monotonic()

    def _connect(self, timeout: float) -> Any:
        conn = sqlite3.connect(
            str(self.path), timeout=timeout, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _ensure(self) -> None:
        """Create the tables and triggers, or empty them when another code drew them."""
        fingerprint = code_fingerprint()
        conn = self._writer
        conn.execute("PRAGMA busy_timeout=30000")
        try:
            conn.execute("BEGIN IMMEDIATE")
            names = {
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE name IN (?, ?, ?, ?, ?)",
                    (*TABLES, *TRIGGERS),
                )
            }
            kept = None
            if "twin_tiles_meta" in names:
                row = conn.execute(
                    "SELECT value FROM twin_tiles_meta WHERE key = 'fingerprint'"
                ).fetchone()
                kept = row[0] if row else None
            if kept != fingerprint or not names >= {*TABLES, *TRIGGERS}:
                for name in TRIGGERS:
                    conn.execute(f"DROP TRIGGER IF EXISTS {name}")
                for name in TABLES:
                    conn.execute(f"DROP TABLE IF EXISTS {name}")
                for statement in SCHEMA:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO twin_tiles_meta VALUES ('fingerprint', ?)", (fingerprint,)
                )
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.execute("PRAGMA busy_timeout=0")

    def get(self, key: str) -> tuple[bytes, str | None] | None:
        """Return the kept (gzip body, ETag) under ``key``, or None. Each read sees every
        committed write, so a tile returned is current."""
        with self._read_lock:
            row = self._reader.execute(
                "SELECT body, etag FROM twin_tiles WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else (row[0], row[1])

    def head(self) -> int:
        """Return the newest change id: a tile drawn after this read reflects every change up
        to it."""
        with self._read_lock:
            row = self._reader.execute("SELECT max(id) FROM twin_changes").fetchone()
        return int(row[0] or 0)

    def keys(self) -> set[str]:
        """Return the keys of every kept tile."""
        with self._read_lock:
            return {r[0] for r in self._reader.execute("SELECT key FROM twin_tiles")}

    def put(self, tiles: Sequence[KeptTile], seen: int, *, wait: bool = False) -> int:
        """Keep ``tiles``, drawn from data as of change id ``seen``, except those a change
        logged since touches; return how many were kept.

        Without ``wait`` (a request's drawing thread) nothing waits for the file's write lock
        (held by a load, say): the tiles are then not kept (0). Over the byte budget nothing
        is kept either, unless ``wait`` (``twin tiles warm`` keeps what it was asked for).
        """
        if not tiles:
            return 0
        if not wait and self.bytes >= self.budget_bytes:
            if time.monotonic() - self._counted_at < RECOUNT_S:
                return 0
            self._count()  # writes may have dropped tiles since
            if self.bytes >= self.budget_bytes:
                return 0
        conn = self._writer
        with self._write_lock:
            try:
                conn.execute(f"PRAGMA busy_timeout={30000 if wait else 0}")
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:  # the file is locked by a writer: not now
                return 0
            try:
                changes = conn.execute(
                    "SELECT layer, minx, miny, maxx, maxy FROM twin_changes WHERE id > ?", (seen,)
                ).fetchall()
                fresh = [t for t in tiles if not _touched_by(t, changes)]
                conn.executemany("DELETE FROM twin_tiles WHERE key = ?", [(t.key,) for t in fresh])
                added = 0
                for t in fresh:
                    cur = conn.execute(
                        "INSERT INTO twin_tiles (key, body, etag, change_id) VALUES (?, ?, ?, ?)",
                        (t.key, t.body, t.etag, seen),
                    )
                    mx = max((m[0] for m in t.margins.values()), default=0.0)
                    my = max((m[1] for m in t.margins.values()), default=0.0)
                    w, s, e, n = t.bounds
                    conn.execute(
                        "INSERT INTO twin_tiles_rtree VALUES (?, ?, ?, ?, ?, ?)",
                        (cur.lastrowid, w - mx, e + mx, s - my, n + my, _layer_list(t.margins)),
                    )
                    added += len(t.body)
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(Exception):
                    conn.execute("ROLLBACK")
                raise
            self.bytes += added
            return len(fresh)

    def clear(self) -> None:
        """Forget every kept tile."""
        with self._write_lock:
            self._writer.execute("PRAGMA busy_timeout=30000")
            self._writer.execute("DELETE FROM twin_tiles")
            self.bytes = 0

    def close(self) -> None:
        """Close the connections."""
        with self._read_lock, self._write_lock:
            for conn in (self._reader, self._writer):
                with contextlib.suppress(Exception):
                    conn.close()


def _layer_list(margins: Iterable[str]) -> str:
    """Return the layers as the trigger looks for them: ``,a,b,``."""
    return "," + ",".join(margins) + ","


def _touched_by(tile: KeptTile, changes: Sequence[tuple[Any, ...]]) -> bool:
    """Return whether any ``(layer, minx, miny, maxx, maxy)`` change touches ``tile``."""
    for layer, *env in changes:
        margin = tile.margins.get(layer)
        if (
            margin is not None
            and touched(np.array([tile.bounds], dtype=float), np.array([margin]), np.array([env]))[
                0
            ]
        ):
            return True
    return False
