"""The tile service's look at the store's change log: what changed since the last look, and
whether a tile drawn meanwhile may be kept.

Every load, edit and delete writes the envelopes it touched to the store's change log in its
own transaction (``twin_changes``), so a look is one query. Most looks find nothing new, so
they ask only for ``max(id)``: in the event loop where the store offers an asynchronous reader
(``Store.change_head_reader``, PostGIS), else on one connection kept for it, outside the pool
and in autocommit (tens of microseconds instead of a pooled ``changes_since`` query).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from tiles.cache import CachedTile, touched
from twin.store import Store

Change = tuple[str, tuple[float, ...]]
log = logging.getLogger("twin.tiles")


class SlowLook(Exception):
    """A quick look at the change log would have to wait longer (new changes to read, or no
    connection yet): a thread does the full look."""


class ChangeWatch:
    """Looks at one store's change log and hands what changed to ``on_changes`` (which drops
    cached tiles and indexes, and returns how many tiles it dropped)."""

    def __init__(
        self,
        store: Store,
        on_changes: Callable[[list[Change]], int],
        *,
        poll_interval: float = 0.0,
    ) -> None:
        self.store = store
        self.on_changes = on_changes
        self.poll_interval = poll_interval
        self.last_id = store.last_change_id()
        # recent change batches (id before, id after, changes), to refuse caching a tile
        # that was rendered from data a concurrent write has since replaced
        self._recent: deque[tuple[int, int, list[Change]]] = deque(maxlen=256)
        self._lock = threading.Lock()
        self.polled_at = -float("inf")
        self._head_conn: Any = None
        #: the store's reader of the log's head in the event loop, if it has one
        self.head_async = store.change_head_reader()

    def poll(self, *, force: bool = False, quick: bool = False) -> int:
        """Read the change log since the last look and hand on what it touched; return how
        many cached tiles were dropped.

        ``quick`` (for the event loop): only the one ``max(id)`` query on the connection kept
        for it; :class:`SlowLook` when more is needed (no such connection yet, or new changes
        to read), leaving the look to a thread.
        """
        arrived = time.monotonic()
        if not force and arrived - self.polled_at < self.poll_interval:
            return 0
        with self._lock:
            if self.polled_at >= arrived:
                return 0  # a look that began after this request arrived has seen its writes
            began = time.monotonic()
            before = self.last_id
            if quick and self._head_conn is None:
                raise SlowLook
            head = self._log_head()
            if quick and (head is None or head > before):
                raise SlowLook
            self.polled_at = began
            if head is not None and head <= before:
                return 0
            last, changes = self.store.changes_since(before)
            if not changes:
                return 0
            dropped = self.on_changes(changes)
            self._recent.append((before, last, changes))
            self.last_id = last
            return dropped

    async def look_async(self) -> None:
        """Make sure no change newer than the last look was logged, waiting in the event loop
        (the store's asynchronous reader; concurrent requests share its query). Raises
        :class:`SlowLook` when there are changes to read, or the read failed."""
        assert self.head_async is not None
        arrived = time.monotonic()
        if arrived - self.polled_at < self.poll_interval:
            return
        try:
            head = await self.head_async.read(arrived)
        except Exception as exc:
            log.warning("change log head unreadable in the event loop: %s", exc)
            raise SlowLook from None
        if head > self.last_id:
            raise SlowLook
        # a look sent at or after ``arrived`` found nothing new
        self.polled_at = max(self.polled_at, arrived)

    async def store_answers(self) -> bool:
        """Return whether the store answered one ``max(id)`` read of the change log just now,
        asked without a worker thread or a pooled connection (for ``/healthz``): in the event
        loop where the store has an asynchronous reader (PostGIS), else on the connection
        kept for the quick look (GeoPackage: a microsecond read) when no thread is using it.
        False when it could not be asked that way or the read failed: then the caller asks in
        a thread, which also tells an unavailable store from a busy one."""
        if self.head_async is not None:
            try:
                await self.head_async.read(time.monotonic())
            except Exception:
                return False
            return True
        if self._head_conn is None or not self._lock.acquire(blocking=False):
            return False
        try:
            return self._log_head() is not None
        finally:
            self._lock.release()

    def head(self) -> int | None:
        """Return the newest change id read on the connection kept for quick looks (opening
        it if need be, so that the next ``store_answers`` can use it), or None when it cannot
        be read that way. Blocks: for a thread."""
        with self._lock:
            return self._log_head()

    def _log_head(self) -> int | None:
        """Return the newest change id, or None when it cannot be read cheaply."""
        try:
            if self._head_conn is None:
                self._head_conn = self.store.autocommit_connection()
            cursor = self._head_conn.cursor()
            cursor.execute("SELECT max(id) FROM twin_changes")
            row = cursor.fetchone()
            cursor.close()
            return int(row[0] or 0) if row else 0
        except Exception as exc:  # a dropped connection: fall back to the pooled query
            # one line, not a traceback: during a primary's restart every look lands here
            # (163 tracebacks in one bench.scale restart at the city x100)
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            log.warning(
                "change log head unreadable (%s: %s); reading the log instead",
                type(exc).__name__,
                reason,
            )
            self._close_head()
            return None

    def _close_head(self) -> None:
        conn, self._head_conn = self._head_conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def changed_since(self, seen: int, entry: CachedTile) -> bool:
        """Return whether a change logged after ``seen`` touches ``entry``."""
        if self.last_id == seen:
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

    def close(self) -> None:
        """Release the connection kept for looking at the change log."""
        with self._lock:
            self._close_head()

    async def aclose(self) -> None:
        """Close the asynchronous reader's connection (in its event loop)."""
        if self.head_async is not None:
            await self.head_async.aclose()
