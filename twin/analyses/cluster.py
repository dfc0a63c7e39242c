"""The whole-city analyses' heavy steps on a Dask cluster, or in this process.

With ``TWIN_DASK_SCHEDULER=tcp://host:8786`` the steps that cost seconds on the whole city —
every camera's (and placement candidate's) visibility polygon
(:mod:`twin.analyses.coverage.distributed`), the nearest facility of every building or cell
(:func:`twin.analyses.access.search.nearest`), and the cell-to-cell walking times behind site
scores (:func:`twin.analyses.site.reach.local_times`) — run as tasks on that cluster
(``dask.distributed``, which operators already run); without it, in this process. Each step
cuts its work in space itself, with the halo it needs (a camera's range, a walking time's
reach), into jobs that are pure functions of plain arrays; this module only runs the jobs:
grouped into a few tasks per worker thread (so that a slow or lost worker's share is small,
and the per-task cost is paid a few times, not per job), each retried on another worker when
its worker dies, the answers put back in the jobs' order. The same job functions run in
process without a cluster, so both give the same answer (tested).

A step's large inputs that do not change between analyses (the footprints of the coverage
cells) are *held*: sent once as a task of their own under a key that names their content,
and kept on the cluster while this process keeps their future, so that the next analysis
over the same data sends nothing and its tasks run where the data already is. What is held
is bounded (:data:`HELD_BYTES`, the least recently used let go first); a worker that dies
takes its held values with it and the scheduler makes them again from their task.

A cluster left with no worker at all would keep the tasks waiting forever: then the rest is
computed here, with a warning.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

log = logging.getLogger("twin.analyses")

T = TypeVar("T")

#: tasks per worker thread (a few, so that a slow or lost worker's share is small)
TASKS_PER_THREAD = 3

#: bytes of held inputs kept on the cluster between analyses (per copy: the scheduler keeps
#: the task that makes one again, a worker its value)
HELD_BYTES = 512 * 2**20

_lock = threading.Lock()
_client: Any = None


class _Held:
    """A held value: its future on the cluster and how to make it in this process."""

    def __init__(self, future: Any, make: Callable[[], Any], nbytes: int) -> None:
        self.future, self.make, self.nbytes = future, make, nbytes


#: the held values by key, least recently used first
_held: OrderedDict[str, _Held] = OrderedDict()


def connect(address: str | None) -> None:
    """Send the heavy steps to the Dask scheduler at ``address`` (``tcp://host:8786``), or
    keep them in process when it is None; closes a client made before."""
    global _client
    with _lock:
        old, _client = _client, None
        _held.clear()
        if old is not None:
            old.close()
        if address:
            from dask.distributed import Client

            _client = Client(address, set_as_default=False, timeout=60)


def client() -> Any:
    """Return the connected Dask client, or None (in process)."""
    return _client


def threads() -> int:
    """Return the worker threads of the connected cluster (0 without one)."""
    dask = _client
    return 0 if dask is None else sum(dask.nthreads().values())


def _value(value: T) -> T:
    """Return ``value`` (the task that puts a held value on a worker)."""
    return value


def hold(key: str, make: Callable[[], Any], nbytes: int) -> Any:
    """Return the future of a value kept on the connected cluster under ``key`` (which must
    name the value's content): ``make()`` is called and sent only when the cluster does not
    hold it already. Pass the future in a job of :func:`run`; there it stands for the value.

    Between analyses the values held take at most :data:`HELD_BYTES` (``nbytes`` each, as
    the caller counts them): when :func:`run` ends, the least recently used are let go (the
    cluster frees them once no job refers to them). An analysis' own values are not let go
    while it runs, so that they are still there to be made here if the cluster loses every
    worker.
    """
    dask = _client
    if dask is None:
        raise RuntimeError("no Dask cluster connected")
    with _lock:
        held = _held.get(key)
        if held is not None and held.future.status not in ("error", "cancelled"):
            _held.move_to_end(key)
            return held.future
    from dask import config as dask_config

    value = make()
    # Dask warns of a graph past 10 MB: "use futures … without repetition", which this is.
    with dask_config.set({"distributed.admin.large-graph-warning-threshold": "4GiB"}):
        future = dask.submit(_value, value, key=key, pure=False, retries=2)
    with _lock:
        _held[key] = _Held(future, make, nbytes)
        _held.move_to_end(key)
    return future


def _trim() -> None:
    """Let go the least recently used held values past :data:`HELD_BYTES`."""
    with _lock:
        total = sum(h.nbytes for h in _held.values())
        while total > HELD_BYTES and _held:
            _, gone = _held.popitem(last=False)
            total -= gone.nbytes


def held() -> list[str]:
    """Return the keys of the values held on the cluster, least recently used first."""
    with _lock:
        return list(_held)


def _here(job: tuple[Any, ...]) -> tuple[Any, ...]:
    """Return ``job`` with its held futures replaced by their values made here."""
    with _lock:
        made = {h.future.key: h.make for h in _held.values()}
    return tuple(made[a.key]() if hasattr(a, "key") and a.key in made else a for a in job)


def _run_group(fn: Callable[..., T], jobs: Sequence[tuple[Any, ...]], **shared: Any) -> list[T]:
    """Run one task's jobs (on a worker)."""
    return [fn(*job, **shared) for job in jobs]


def groups(weights: Sequence[float], tasks: int) -> list[np.ndarray]:
    """Return the job indices cut into at most ``tasks`` runs of neighbours (in the given
    order, which each step makes spatial) of about equal total weight.

    >>> [g.tolist() for g in groups([1, 1, 1, 1, 4], 2)]
    [[0, 1, 2, 3], [4]]
    """
    n = len(weights)
    if n == 0:
        return []
    sizes = np.cumsum(np.maximum(np.asarray(weights, float), 1e-9))
    group = np.minimum((np.r_[0.0, sizes[:-1]] * tasks / sizes[-1]).astype(np.int64), tasks - 1)
    cuts = np.flatnonzero(np.diff(group)) + 1
    return np.split(np.arange(n), cuts)


def run(
    fn: Callable[..., T],
    jobs: Sequence[tuple[Any, ...]],
    *,
    weights: Sequence[float] | None = None,
    shared: dict[str, Any] | None = None,
) -> list[T]:
    """Return ``[fn(*job) for job in jobs]``: on the Dask cluster when one is connected and
    has workers, else in this process.

    ``weights`` (per job, e.g. its point count) balances the tasks; ``shared`` are keyword
    arguments every job gets (sent to each worker once, not per task); a job may carry the
    futures of :func:`hold` (each task then runs where its values are, if it can).
    """
    try:
        return _run(fn, jobs, weights, shared or {})
    finally:
        _trim()


def _run(
    fn: Callable[..., T],
    jobs: Sequence[tuple[Any, ...]],
    weights: Sequence[float] | None,
    shared: dict[str, Any],
) -> list[T]:
    """Return what :func:`run` returns."""
    dask = _client
    here = threads()
    if dask is None or here == 0 or len(jobs) == 0:
        if dask is not None and here == 0:
            log.warning("the Dask cluster has no workers: computed in process")
        return [fn(*_here(job), **shared) for job in jobs]
    scattered = {k: dask.scatter(v, broadcast=True, hash=False) for k, v in shared.items()}
    cuts = groups([1.0] * len(jobs) if weights is None else weights, TASKS_PER_THREAD * here)
    name = getattr(fn, "__name__", "job")
    futures = [
        dask.submit(
            _run_group,
            fn,
            [jobs[i] for i in idx],
            pure=False,
            retries=2,
            key=f"{name}-{uuid.uuid4().hex}",  # the job's name in the task stream
            **scattered,
        )
        for idx in cuts
    ]
    out: list[Any] = [None] * len(jobs)
    for idx, future in zip(cuts, futures, strict=True):
        while True:
            try:
                answers = future.result(timeout=5)
                break
            except TimeoutError:
                if not dask.nthreads():
                    dask.cancel(futures)
                    log.warning("the Dask cluster lost every worker: computed in process")
                    return [fn(*_here(job), **shared) for job in jobs]
        for i, answer in zip(idx.tolist(), answers, strict=True):
            out[i] = answer
    log.info("%s: %d jobs in %d tasks on Dask", name, len(jobs), len(cuts))
    return out
