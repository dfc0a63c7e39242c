"""Reads from PostgreSQL streaming replicas, each read as fresh as the primary.

Features, search, analyses' inputs and pgRouting's searches read through :class:`ReadRouter`;
tiles drawn by PostGIS (``ST_AsMVT``) pick a replica by the same rule and share its record of
each replica (:class:`twin.store.postgis.mvt.PostGISTiles`).

``TWIN_DATABASE_REPLICA_URLS`` lists hot standbys of the primary (made the PostgreSQL way,
``pg_basebackup -R``). A replica serves a read only when it has replayed the store's change
log as far as the primary had logged it when the read began: every load, edit and delete
adds to ``twin_changes`` in its own transaction, and a standby replays transactions whole, so
such a replica holds every write the primary had committed — the reader's own included
(read-your-writes), and whatever a cache of this or another process was told about by the
change log (so a cache never keeps a version older than its key says). The cost is one
index-only query on the primary per read (``max(id)`` of the log), the same look the tile
path already makes before a cached tile.

A replica that is behind is waited for briefly, then the read goes to the primary. A replica
that cannot be reached is left out for a few seconds (its pool is checked before every use,
so a dead connection is noticed before the read, not during it), and the primary serves.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from twin.store.postgis.urls import engine_url

log = logging.getLogger("twin.store")

_HEAD = "SELECT coalesce(max(id), 0) FROM twin_changes"
_PRIMARY_LSN = "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"
_REPLAY = (
    "SELECT pg_last_wal_replay_lsn() - '0/0'::pg_lsn, "
    "extract(epoch FROM now() - pg_last_xact_replay_timestamp())"
)


def where(url: str) -> str:
    """Return ``host:port/db`` of a URL (no user or password), for logs and /healthz."""
    return url.split("@")[-1].split("?")[0]


@dataclass
class Replica:
    """One standby: its engine, the newest change id seen there, and when it failed."""

    url: str
    engine: sa.Engine
    head: int = -1
    down_until: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


class ReadRouter:
    """Picks where a read runs: a replica that has caught up, else the primary."""

    def __init__(
        self,
        primary: sa.Engine,
        urls: Sequence[str],
        *,
        wait: float = 0.1,
        retry_after: float = 5.0,
        pool_size: int = 8,
    ) -> None:
        self.primary = primary
        self.wait = wait
        self.retry_after = retry_after
        self.replicas = [
            Replica(
                url,
                sa.create_engine(
                    engine_url(url),
                    pool_size=pool_size,
                    max_overflow=8,
                    pool_pre_ping=True,
                    connect_args={"connect_timeout": 2},
                ),
            )
            for url in urls
        ]
        self._turn = itertools.count()
        self.served = {r.url: 0 for r in self.replicas} | {"primary": 0}  # reads (for tests)

    def primary_head(self) -> int:
        """Return the newest change id on the primary."""
        with self.primary.connect() as conn:
            return int(conn.exec_driver_sql(_HEAD).scalar_one())

    def _caught_up(self, replica: Replica, head: int, deadline: float) -> bool:
        """Return whether ``replica`` has replayed the change log up to ``head``, waiting
        until ``deadline`` for it; mark it down when it cannot be reached."""
        while True:
            if replica.head >= head:
                return True
            try:
                with replica.engine.connect() as conn:
                    seen = int(conn.exec_driver_sql(_HEAD).scalar_one())
            except sa.exc.ProgrammingError:  # the schema is not replayed there yet
                seen = -1
            except sa.exc.SQLAlchemyError as exc:
                replica.down_until = time.monotonic() + self.retry_after
                log.warning("replica %s left out: %s", where(replica.url), exc.__class__.__name__)
                return False
            with replica.lock:
                replica.head = max(replica.head, seen)
            if replica.head >= head or time.monotonic() >= deadline:
                return replica.head >= head
            time.sleep(0.005)

    @contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        """Yield a connection for reading, on a replica as fresh as the primary when one is."""
        head = self.primary_head()
        deadline = time.monotonic() + self.wait
        start = next(self._turn)
        n = len(self.replicas)
        for replica in (self.replicas[(start + i) % n] for i in range(n)):
            if replica.down_until > time.monotonic():
                continue
            if not self._caught_up(replica, head, deadline):
                continue
            try:
                conn = replica.engine.connect()
            except sa.exc.SQLAlchemyError as exc:
                replica.down_until = time.monotonic() + self.retry_after
                log.warning("replica %s left out: %s", where(replica.url), exc.__class__.__name__)
                continue
            self.served[replica.url] += 1
            with conn:
                yield conn
            return
        self.served["primary"] += 1
        with self.primary.connect() as conn:
            yield conn

    def status(self) -> list[dict[str, Any]]:
        """Return each replica's state: reachable, and how far behind the primary (bytes of
        WAL not yet replayed, seconds since the newest replayed commit when behind)."""
        with self.primary.connect() as conn:
            primary_lsn = int(conn.exec_driver_sql(_PRIMARY_LSN).scalar_one())
        out: list[dict[str, Any]] = []
        for replica in self.replicas:
            entry: dict[str, Any] = {"replica": where(replica.url), "up": False}
            try:
                with replica.engine.connect() as conn:
                    lsn, age = conn.exec_driver_sql(_REPLAY).one()
            except sa.exc.SQLAlchemyError as exc:
                entry["error"] = exc.__class__.__name__
                out.append(entry)
                continue
            behind = max(0, primary_lsn - int(lsn or 0))
            entry.update(
                up=True,
                lag_bytes=behind,
                lag_seconds=0.0 if behind == 0 or age is None else round(float(age), 3),
            )
            out.append(entry)
        return out

    def close(self) -> None:
        """Release the replicas' connections."""
        for replica in self.replicas:
            replica.engine.dispose()
