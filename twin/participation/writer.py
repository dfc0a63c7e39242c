"""Group commit of residents' ratings and likes: one thread takes the writes that are waiting
and commits them together in one transaction, each in a SAVEPOINT of its own.

Why: under 32 concurrent residents every write was its own transaction on its own pooled
connection in its own thread, and the server spent its CPU on what surrounds a write rather
than on it: a pool checkout (with its ping on PostGIS), a commit, and threads handing the GIL
and the store's writer lock to each other (on GeoPackage one writer commits at a time
anyway). Here one thread holds one connection for a whole group, so a group of n writes pays
one checkout, one BEGIN and one COMMIT, and no lock is handed over inside it.

What it keeps:

* **durability**: a write's future is resolved only after its group's COMMIT returned, so a
  resident is answered only once the write is in the store;
* **a failing write fails alone**: each write runs in its own SAVEPOINT; one that raises (a
  unique violation, a feature that is gone, a refused second rating) is rolled back to its
  savepoint and answered with its own error, and the others of the group commit. Nothing is
  half-written: a write's statements and their triggers are inside its savepoint;
* **order**: each write's ``then`` (the live stream's announcement) runs in this thread after
  the commit, in the order the writes ran, so two changes of one feature's aggregate reach
  the maps in the order they were committed;
* **bounds**: a group holds at most ``max_batch`` writes; after the first write the thread
  waits at most ``max_wait_s`` for more (0: it takes only what is already queued, which
  under load is plenty, since writes queue up while a group commits).

If the COMMIT itself fails (the database went away, say), every write of the group is run
again alone in a transaction of its own, so that each gets its own answer.

Within a group writes run sorted by their ``key`` (layer, feature, account): every group takes
rows' locks in the same order, so groups of two server processes on PostGIS cannot deadlock
on one another's aggregate rows; ``prepare`` runs first in each group's transaction (the
ratings take the change log's lock there, before any row's, for the same reason).
"""

from __future__ import annotations

import logging
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
    future: Future[Any] = field(default_factory=Future)
    result: Any = None
    error: BaseException | None = None


_STOP = object()


class GroupWriter:
    """A thread that commits the writes submitted to it in groups (see the module doc)."""

    def __init__(
        self,
        store: Store,
        *,
        max_batch: int = 64,
        max_wait_s: float = 0.0,
        prepare: Callable[[sa.Connection, list[tuple[Any, ...]]], None] | None = None,
        name: str = "group-writer",
    ) -> None:
        if max_batch < 1 or max_wait_s < 0:
            raise ValueError("max_batch must be ≥ 1 and max_wait_s ≥ 0")
        self.store = store
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.prepare = prepare
        self._queue: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()
        self._closed = False
        #: groups committed and writes in them (the mean group size is their ratio)
        self.groups = 0
        self.writes = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        key: tuple[Any, ...] = (),
        then: Callable[[Any], None] | None = None,
    ) -> Future[Any]:
        """Queue ``fn(conn, *args)``; return a future of its result (or its exception),
        resolved after the commit of its group. ``then(result)`` runs after the commit, in
        this writer's thread, in commit order (not when the write failed)."""
        if self._closed:
            raise RuntimeError("the group writer is closed")
        job = _Job(fn, args, key, then)
        self._queue.put(job)
        return job.future

    def cpu_seconds(self) -> float:
        """CPU time the writer's thread has used (Linux; 0.0 elsewhere)."""
        ident = self._thread.native_id
        try:
            with open(f"/proc/self/task/{ident}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        import os

        tick = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / tick

    def close(self) -> None:
        """Commit what is queued, then stop the thread."""
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)
            self._thread.join()

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
            if jobs:
                jobs.sort(key=lambda j: j.key)
                try:
                    self._commit_group(jobs)
                except BaseException as exc:  # the group's commit failed: each alone
                    log.warning("group of %d writes not committed (%r); each alone", len(jobs), exc)
                    for job in jobs:
                        job.result, job.error = None, None
                        try:
                            self._commit_group([job])
                        except BaseException as alone:
                            job.error = alone
                self._answer(jobs)

    def _commit_group(self, jobs: list[_Job]) -> None:
        with self.store.domain_transaction() as conn:
            if self.prepare is not None:
                self.prepare(conn, [j.key for j in jobs])
            for job in jobs:
                savepoint = conn.begin_nested()
                try:
                    job.result = job.fn(conn, *job.args)
                except BaseException as exc:
                    savepoint.rollback()
                    job.error = exc
                else:
                    savepoint.commit()
        self.groups += 1
        self.writes += len(jobs)

    def _answer(self, jobs: list[_Job]) -> None:
        for job in jobs:
            if job.error is None and job.then is not None:
                try:
                    job.then(job.result)
                except Exception:  # an announcement lost must not lose the answer
                    log.exception("after-commit step of a write failed")
        for job in jobs:
            if job.error is not None:
                job.future.set_exception(job.error)
            else:
                job.future.set_result(job.result)
