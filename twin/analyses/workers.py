"""Heavy analyses in worker processes, each with a memory limit and killable on its own.

Issue 14 measured one placement at 8.7 GB and 34 s in the server's own process, two at once at
24 GB, and ``/healthz`` at 8.5 s meanwhile: a thread shares the server's memory and its GIL,
and a thread cannot be stopped from outside. So a heavy analysis runs in a *worker process*
(started with ``spawn``: no copy of the server's threads, locks or sockets):

- **Memory:** the worker's address space is capped with ``RLIMIT_AS`` at its size after its
  imports plus ``memory_bytes``, so an allocation over the limit raises ``MemoryError`` in the
  worker (answered 413 naming the limit, and the worker is replaced so its memory goes back to
  the system). The address space grows at least as fast as the resident set, so the cap errs
  on the side of refusing; as a second line the server polls the worker's resident set and
  kills it once it has grown past the same limit. So one worker holds at most its start-up
  size (~0.3–0.5 GB: the libraries, the store, its kept coverage models) plus the limit.
- **Time and the client:** the server kills the worker when the run passes its time limit (plus
  a grace period for the run's own check to answer first) or when the client disconnects;
  a killed worker's memory is returned at once and the next run starts a fresh worker.
- **The event loop** only waits on a future, so ``/healthz``, tiles and features keep answering
  while analyses run (tested).

Why not one ``ProcessPoolExecutor`` with N workers: killing one of its workers breaks the
whole pool and every run in it (``BrokenProcessPool``), and neither it nor ``multiprocessing.Pool``
can stop a single task. Each :class:`Worker` is therefore a ``ProcessPoolExecutor`` of one
process (the library still does the pickling, the pipes and the transport of exceptions), and
the kill is ours. A worker is started on first use (~2 s of imports) and then kept, so its
per-process caches (prepared coverage scopes) stay warm between runs.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import resource
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

log = logging.getLogger("twin.analyses")

MB = 1024 * 1024
#: How much lower a worker's CPU priority is than the server's (``nice``).
WORKER_NICE = 10


def _status_bytes(pid: int | str, field: str) -> int:
    """Return ``field`` (``VmRSS``, ``VmSize``) of ``/proc/<pid>/status`` in bytes, 0 if gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def rss(pid: int | str = "self") -> int:
    """Return the resident set of process ``pid`` in bytes (0 when it is gone)."""
    return _status_bytes(pid, "VmRSS")


def _start(memory_bytes: int, setup: Callable[..., None] | None, args: tuple[Any, ...]) -> None:
    """Worker initializer: run ``setup`` (imports, opening the store), then cap the address
    space at what the worker holds now plus ``memory_bytes``."""
    # Below the server in the CPU's queue: on a small machine two busy workers would otherwise
    # take both cores from the event loop that answers tiles and /healthz.
    os.nice(WORKER_NICE)
    if setup is not None:
        setup(*args)
    if memory_bytes > 0:
        limit = _status_bytes("self", "VmSize") + memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


class Worker:
    """One worker process, started on first use and replaced after it is killed."""

    def __init__(
        self,
        memory_bytes: int,
        setup: Callable[..., None] | None = None,
        setup_args: tuple[Any, ...] = (),
    ) -> None:
        self.memory_bytes = memory_bytes
        self.setup = setup
        self.setup_args = setup_args
        self._executor: ProcessPoolExecutor | None = None
        self.pid: int | None = None
        #: the resident set after start-up (imports, store opened): what a run adds is measured
        #: from here
        self.base_rss = 0
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the process if it is not running (blocks for its imports: call it from a
        thread)."""
        with self._lock:
            if self._executor is not None:
                return
            executor = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start,
                initargs=(self.memory_bytes, self.setup, self.setup_args),
            )
            self.pid = executor.submit(os.getpid).result()
            self.base_rss = rss(self.pid)
            self._executor = executor

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run ``fn(*args)`` in the worker (started first if needed)."""
        self.start()
        assert self._executor is not None
        return self._executor.submit(fn, *args)

    def rss(self) -> int:
        """Return the worker's resident set in bytes (0 when not running)."""
        return rss(self.pid) if self.pid is not None else 0

    def grown(self) -> int:
        """Return how many bytes the worker's resident set has grown since its start."""
        return self.rss() - self.base_rss if self.pid is not None else 0

    def kill(self) -> None:
        """Kill the process at once (its memory goes back to the system); the next
        :meth:`submit` starts a new one."""
        with self._lock:
            executor, pid = self._executor, self.pid
            self._executor, self.pid = None, None
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        """Stop the worker (at shutdown)."""
        self.kill()
