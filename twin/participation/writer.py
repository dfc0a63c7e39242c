"""Group commit of residents' ratings and likes: writer threads take the writes that are
waiting and commit them together, many in one transaction.

Why: under 32 concurrent residents every write was its own transaction on its own pooled
connection in its own thread, and the server spent its CPU on what surrounds a write rather
than on it: a pool checkout (with its ping on PostGIS), a commit, and threads handing the GIL
and the store's writer lock to each other (on GeoPackage one writer commits at a time
anyway). Here a writer thread holds one connection for a whole group, so a group of n writes
pays one checkout, one BEGIN and one COMMIT, and no lock is handed over inside it.

What it keeps:

* **durability**: a write's future is resolved only after its group's COMMIT returned, so a
  resident is answered only once the write is in the store;
* **a failing write fails alone, nothing half-written**: a write declares the errors after
  which it has written nothing (``clean``: the ratings' 404 of a missing feature, 409 of a
  second rating, 400 of bad input, raised before any row changed); such a write is answered
  with its error and the group goes on. Any other failure (a constraint the database
  refused, a trigger's error) rolls the whole group back and runs it again with each write
  in a SAVEPOINT of its own, so the failing one is rolled back to its savepoint and answered
  with its error while the others commit. Savepoints only then: on PostGIS each is two
  round trips more per write (SAVEPOINT, RELEASE), as much as the write itself;
* **order**: each write's ``then`` (the live stream's announcement) runs right after its
  group's COMMIT, in the order the group's writes ran, and the COMMIT and the announcements
  happen under one lock of the writer's. With several threads (PostGIS), a group that
  changes a row another group changed waits in the database for the other's COMMIT, then
  here for its announcements: two changes of one feature's aggregate reach the maps in the
  order they were committed;
* **bounds**: a group holds at most ``max_batch`` writes; after the first write a thread
  waits at most ``max_wait_s`` for more (0: it takes only what is already queued, which
  under load is plenty, since writes queue up while a group commits).

If even the group with savepoints does not commit (the database went away, say), every
write is run again alone in a transaction of its own, so that each gets its own answer.

Threads: one is enough on GeoPackage (SQLite has one writer at a time). On PostGIS a group's
time is round trips, not CPU, so several threads commit groups side by side. Within a group
writes run sorted by their ``key`` (layer, feature, account), so every group takes rows'
locks in one order and two groups (of two threads, or two server processes) cannot deadlock
on each other's aggregate rows; ``prepare`` runs first in each group's transaction (the
ratings take the change log's lock there, before any row's, for the same reason).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from twin.store import Store

log = logging.getLogger(__name__)


@dataclass
class _Job:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    key: tuple[Any, ...]
    then: Callable[[Any], None] | None
    clean: tuple[type[BaseException], ...]
    future: Future[Any] = field(default_factory=Future)
    result: Any = None
    error: BaseException | None = None


_STOP = object()


def _clean(exc: BaseException, clean: tuple[type[BaseException], ...]) -> bool:
    """Return whether ``exc`` is one of ``clean`` and no database error caused it (a
    statement that failed may have aborted the transaction on PostGIS: never clean)."""
    if not isinstance(exc, clean):
        return False
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, sa.exc.DBAPIError):
            return False
        seen = seen.__cause__ or seen.__context__
    return True


class GroupWriter:
    """A thread that commits the writes submitted to it in groups (see the module doc)."""

    def __init__(
        self,
        store: Store,
        *,
        max_batch: int = 64,
        max_wait_s: float = 0.0,
        prepare: Callable[[sa.Connection, list[tuple[Any, ...]]], None] | None = None,
        threads: int = 1,
        name: str = "group-writer",
        order_lock: threading.Lock | None = None,
    ) -> None:
        if max_batch < 1 or max_wait_s < 0 or threads < 1:
            raise ValueError("max_batch and threads must be ≥ 1, max_wait_s ≥ 0")
        self.store = store
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.prepare = prepare
        self._queue: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()
        self._closed = False
        #: groups committed and writes in them (the mean group size is their ratio)
        self.groups = 0
        self.writes = 0
        #: groups run again with a savepoint per write after a write failed uncleanly
        self.replays = 0
        self._count = threading.Lock()
        #: held from a group's COMMIT to the end of its announcements (writers that share it
        #: announce in one commit order)
        self._order = order_lock or threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, name=f"{name}-{i}", daemon=True)
            for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        key: tuple[Any, ...] = (),
        then: Callable[[Any], None] | None = None,
        clean: tuple[type[BaseException], ...] = (),
    ) -> Future[Any]:
        """Queue ``fn(conn, *args)``; return a future of its result (or its exception),
        resolved after the commit of its group. ``then(result)`` runs after the commit, in
        the writer's thread, in commit order (not when the write failed). ``fn`` promises
        that when it raises one of ``clean`` it has written nothing (see the module doc)."""
        if self._closed:
            raise RuntimeError("the group writer is closed")
        job = _Job(fn, args, key, then, clean)
        self._queue.put(job)
        return job.future

    def cpu_seconds(self) -> float:
        """CPU time the writer's threads have used (Linux; 0.0 elsewhere)."""
        total = 0.0
        for thread in self._threads:
            try:
                with open(f"/proc/self/task/{thread.native_id}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def close(self) -> None:
        """Commit what is queued, then stop the threads."""
        if not self._closed:
            self._closed = True
            for _ in self._threads:
                self._queue.put(_STOP)
            for thread in self._threads:
                thread.join()

    # -- the writer's thread ---------------------------------------------------------------
    def _take(self) -> tuple[list[_Job], bool]:
        """Block for a first job, then take more up to the bounds; return (jobs, stop)."""
        first = self._queue.get()
        if first is _STOP:
            return [], True
        jobs = [first]
        deadline = time.monotonic() + self.max_wait_s
        while len(jobs) < self.max_batch:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    job = self._queue.get(timeout=left)
                except queue.Empty:
                    break
            if job is _STOP:
                return jobs, True  # type: ignore[return-value]
            jobs.append(job)
        return jobs, False  # type: ignore[return-value]

    def _run(self) -> None:
        stop = False
        while not stop:
            jobs, stop = self._take()
            # A job whose caller gave up before it started (its request was cancelled, which
            # cancels the future through ``asyncio.wrap_future``) is not written; every other
            # future is now running, so it can no longer be cancelled and its answer below
            # cannot raise.
            jobs = [j for j in jobs if j.future.set_running_or_notify_cancel()]
            if not jobs:
                continue
            try:
                jobs.sort(key=lambda j: j.key)
                self._write(jobs)
            except BaseException as exc:  # never lose a thread, nor leave a caller waiting
                log.exception("group of %d writes failed outside any write", len(jobs))
                for job in jobs:
                    job.result, job.error = None, exc
            self._answer(jobs)

    def _write(self, jobs: list[_Job]) -> None:
        """Commit ``jobs`` as one group: first without savepoints; if a write failed
        uncleanly, again with a savepoint each; if even that does not commit, each alone."""
        try:
            self._commit_group(jobs, savepoints=False)
            return
        except BaseException:  # a write failed uncleanly (or the commit did): all rolled back
            with self._count:
                self.replays += 1
        try:
            self._commit_group(jobs, savepoints=True)
            return
        except BaseException as exc:  # the commit itself failed: each alone
            log.warning("group of %d writes not committed (%r); each alone", len(jobs), exc)
        for job in jobs:
            try:
                self._commit_group([job], savepoints=True)
            except BaseException as alone:
                job.result, job.error = None, alone

    def _commit_group(self, jobs: list[_Job], *, savepoints: bool) -> None:
        for job in jobs:
            job.result, job.error = None, None
        locked = [False]
        try:
            self._run_group(jobs, savepoints, locked)
            for job in jobs:
                if job.error is None and job.then is not None:
                    try:
                        job.then(job.result)
                    except Exception:  # an announcement lost must not lose the answer
                        log.exception("after-commit step of a write failed")
        finally:
            if locked[0]:
                self._order.release()
        with self._count:
            self.groups += 1
            self.writes += len(jobs)

    def _run_group(self, jobs: list[_Job], savepoints: bool, locked: list[bool]) -> None:
        """Run ``jobs`` in one transaction and commit it holding the order lock (``locked[0]``
        says so; the caller releases it after the announcements)."""
        with self.store.domain_transaction() as conn:
            if self.prepare is not None:
                self.prepare(conn, [j.key for j in jobs])
            for job in jobs:
                if not savepoints:
                    try:
                        job.result = job.fn(conn, *job.args)
                    except BaseException as exc:
                        if not _clean(exc, job.clean):
                            raise
                        job.error = exc  # it wrote nothing: the group goes on
                    continue
                savepoint = conn.begin_nested()
                try:
                    job.result = job.fn(conn, *job.args)
                except BaseException as exc:
                    savepoint.rollback()
                    job.error = exc
                else:
                    savepoint.commit()
            # The COMMIT (on leaving this block) and the announcements after it happen under
            # one lock: a group that changes what this one changed waits for this COMMIT in
            # the database, then for these announcements here, so they reach the maps in
            # commit order.
            self._order.acquire()
            locked[0] = True

    @staticmethod
    def _answer(jobs: list[_Job]) -> None:
        for job in jobs:
            try:
                if job.error is not None:
                    job.future.set_exception(job.error)
                else:
                    job.future.set_result(job.result)
            except Exception:  # answered already: the others must still be answered
                log.exception("a write's answer could not be given")
