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

A cluster left with no worker at all would keep the tasks waiting forever: then the rest is
computed here, with a warning.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

log = logging.getLogger("twin.analyses")

T = TypeVar("T")

#: tasks per worker thread (a few, so that a slow or lost worker's share is small)
TASKS_PER_THREAD = 3

_lock = threading.Lock()
_client: Any = None


def connect(address: str | None) -> None:
    """Send the heavy steps to the Dask scheduler at ``address`` (``tcp://host:8786``), or
    keep them in process when it is None; closes a client made before."""
    global _client
    with _lock:
        old, _client = _client, None
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
    arguments every job gets (sent to each worker once, not per task).
    """
    shared = shared or {}
    dask = _client
    here = threads()
    if dask is None or here == 0 or len(jobs) == 0:
        if dask is not None and here == 0:
            log.warning("the Dask cluster has no workers: computed in process")
        return [fn(*job, **shared) for job in jobs]
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
                    return [fn(*job, **shared) for job in jobs]
        for i, answer in zip(idx.tolist(), answers, strict=True):
            out[i] = answer
    log.info("%s: %d jobs in %d tasks on Dask", name, len(jobs), len(cuts))
    return out
