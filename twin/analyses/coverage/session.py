"""Prepared scopes kept for the analyses' callers (the HTTP API, several requests).

A prepared scope (footprints, street space, every camera's visibility polygon) costs seconds
for the whole city and milliseconds to edit, so the last few are kept per store, scope and
version of the store's data (:class:`twin.analyses.memo.StoreMemo`: a load that changes any
layer makes a new key). A request applies its what-if edits to the kept model and undoes them
afterwards, holding the entry, so concurrent requests on one scope take turns and never see
each other's edits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from twin.analyses.coverage.analysis import PreparedScope
from twin.analyses.coverage.inputs import read_city
from twin.analyses.coverage.scope import Scope
from twin.analyses.memo import StoreMemo
from twin.store import Store


class ScopeCache:
    """The last ``size`` prepared scopes (least recently used goes first)."""

    def __init__(self, size: int = 4) -> None:
        self._memo: StoreMemo[PreparedScope] = StoreMemo(size=size)

    @property
    def builds(self) -> int:
        """Return how many scopes were prepared."""
        return self._memo.builds

    @contextmanager
    def use(self, store: Store, scope: Scope, include_planned: bool) -> Iterator[PreparedScope]:
        """Yield the prepared scope, building it on first use; hold it meanwhile."""

        def prepare() -> PreparedScope:
            city, area, label = read_city(store, scope)
            return PreparedScope(city, area, label, include_planned=include_planned)

        with self._memo.use(store, scope.key(), include_planned, make=prepare) as prepared:
            yield prepared
