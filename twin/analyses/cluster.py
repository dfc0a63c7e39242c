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
cells) are *held*: sent once, as a task of their own to the worker their job's task is meant
for, under a key that names their content, and kept on the cluster while this process keeps
their future, so that the next analysis over the same data sends nothing and its tasks run
where the data already is. What is held
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


#: the futures of the values held on the cluster, and their sizes, by key (least recently
#: used first)
_held: OrderedDict[str, tuple[Any, int]] = OrderedDict()


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


class Held:
    """A value a job carries that is kept on the cluster between analyses, under ``key``
    (which must name the value's content): ``make()`` is called and sent only when the
    cluster does not hold it already, to the worker that is to run its job's task; on the
    worker the job gets the value.

    Between analyses the values held take at most :data:`HELD_BYTES` (``nbytes`` each, as
    the caller counts them): when :func:`run` ends, the least recently used are let go (the
    cluster frees them).
    """

    def __init__(self, key: str, make: Callable[[], Any], nbytes: int) -> None:
        self.key, self.make, self.nbytes = key, make, nbytes


def _held_future(dask: Any, value: Held, worker: str | None) -> Any:
    """Return the future of a held value, sent to ``worker`` if the cluster lacks it."""
    from dask import config as dask_config

    with _lock:
        known = _held.get(value.key)
        if known is not None and known[0].status not in ("error", "cancelled"):
            _held.move_to_end(value.key)
            return known[0]
    # Dask warns of a graph past 10 MB: "use futures … without repetition", which this is.
    with dask_config.set({"distributed.admin.large-graph-warning-threshold": "4GiB"}):
        future = dask.submit(
            _value,
            value.make(),
            key=value.key,
            pure=False,
            retries=2,
            # spread over the workers as the tasks are: a task runs where its values are
            workers=None if worker is None else [worker],
            allow_other_workers=True,
        )
    with _lock:
        _held[value.key] = (future, value.nbytes)
        _held.move_to_end(value.key)
    return future


def _trim() -> None:
    """Let go the least recently used held values past :data:`HELD_BYTES`."""
    with _lock:
        total = sum(nbytes for _, nbytes in _held.values())
        while total > HELD_BYTES and _held:
            _, (_, nbytes) = _held.popitem(last=False)
            total -= nbytes


def held() -> list[str]:
    """Return the keys of the values held on the cluster, least recently used first."""
    with _lock:
        return list(_held)


def _here(job: tuple[Any, ...]) -> tuple[Any, ...]:
    """Return ``job`` with its held values made here."""
    return tuple(a.make() if isinstance(a, Held) else a for a in job)


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
    arguments every job gets (sent to each worker once, not per task); a job may carry
    :class:`Held` values.
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
    # each run of neighbouring tasks to one worker thread (its held values sent there)
    slots = [w for w, n in sorted(dask.nthreads().items()) for _ in range(n)] or [None]
    futures = [
        dask.submit(
            _run_group,
            fn,
            [
                tuple(
                    _held_future(dask, a, slots[g * len(slots) // len(cuts)])
                    if isinstance(a, Held)
                    else a
                    for a in jobs[i]
                )
                for i in idx
            ],
            pure=False,
            retries=2,
            key=f"{name}-{uuid.uuid4().hex}",  # the job's name in the task stream
            **scattered,
        )
        for g, idx in enumerate(cuts)
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
