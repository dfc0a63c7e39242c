"""Coverage and placement as jobs for a worker process (:mod:`twin.analyses.workers`).

A worker opens the store once (:func:`setup`, its initializer) and keeps its own
:class:`~twin.analyses.coverage.session.ScopeCache`, so a second run on the same scope and
store version answers from the prepared model as the in-process runs did. Every argument and
result crosses the process boundary pickled: a job gets plain values (the budget as its
limits, the scope, keyword arguments) and returns the analysis' result object unchanged, so
the answers are the same as a run in the server's own process.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twin.analyses import cluster
from twin.analyses.budget import Budget
from twin.analyses.coverage.analysis import CoverageResult, PlacementResult
from twin.analyses.coverage.scope import Scope
from twin.analyses.coverage.session import ScopeCache
from twin.store import Store, open_store

_state: dict[str, Any] = {}


def setup(url: str, replicas: Sequence[str] = (), dask_scheduler: str | None = None) -> None:
    """Open the store at ``url`` for this worker's jobs (the worker's initializer)."""
    _state["store"] = open_store(url, create=False, replicas=replicas)
    _state["scopes"] = ScopeCache(size=2)
    cluster.connect(dask_scheduler)


def _store() -> Store:
    store: Store = _state["store"]
    return store


def coverage(
    budget: dict[str, float], scope: Scope, include_planned: bool, kwargs: dict[str, Any]
) -> CoverageResult:
    """Run :meth:`PreparedScope.coverage` on ``scope`` with ``kwargs``."""
    scopes: ScopeCache = _state["scopes"]
    with scopes.use(_store(), scope, include_planned) as prepared:
        return prepared.coverage(**kwargs, budget=Budget.from_limits(budget))


def placement(
    budget: dict[str, float], scope: Scope, include_planned: bool, kwargs: dict[str, Any]
) -> PlacementResult:
    """Run :meth:`PreparedScope.placement` on ``scope`` with ``kwargs``."""
    scopes: ScopeCache = _state["scopes"]
    with scopes.use(_store(), scope, include_planned) as prepared:
        return prepared.placement(**kwargs, budget=Budget.from_limits(budget))
