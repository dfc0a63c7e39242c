"""In-process state for serving the analyses: prepared scopes and recent results.

A prepared scope (footprints, street space, every camera's visibility polygon) costs seconds
for the whole city and milliseconds to edit, so the service keeps the last few, keyed by the
store, the scope and the store's change id (a load that changes any layer makes a new key).
A request applies its what-if edits to the cached model and undoes them afterwards, under
the entry's lock, so concurrent requests on one scope take turns and never see each
other's edits.

Recent results are kept by id so that the map can show them: as GeoJSON, and as vector tiles
drawn from geometries indexed once when the result is kept (:class:`tiles.adhoc.FrameTiles`).
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tiles.adhoc import FrameTiles
from twin.analyses.coverage.analysis import PreparedScope
from twin.analyses.coverage.inputs import read_city
from twin.analyses.coverage.scope import Scope
from twin.store import Store


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    prepared: PreparedScope | None = None


class ScopeCache:
    """The last ``size`` prepared scopes (least recently used goes first)."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0

    @contextmanager
    def use(self, store: Store, scope: Scope, include_planned: bool) -> Iterator[PreparedScope]:
        """Yield the prepared scope, building it on first use; hold its lock meanwhile."""
        key = (store.url, scope.key(), include_planned, store.last_change_id())
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = _Entry()
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        with entry.lock:
            if entry.prepared is None:
                try:
                    city, area, label = read_city(store, scope)
                    entry.prepared = PreparedScope(
                        city, area, label, include_planned=include_planned
                    )
                except Exception:
                    with self._lock:  # a bad scope must not take a slot
                        self._entries.pop(key, None)
                    raise
                self.builds += 1
            yield entry.prepared


@dataclass
class StoredResult:
    """One analysis result kept for the map: GeoJSON layers, the same layers indexed for
    vector tiles and, for coverage runs, a way to render the count raster."""

    kind: str
    layers: dict[str, dict[str, Any]]
    tiles: FrameTiles | None = None
    geotiff: Callable[[], bytes] | None = None


class ResultStore:
    """The last ``size`` results by id."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._items: OrderedDict[str, StoredResult] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, result: StoredResult) -> str:
        """Keep ``result``; return its new id."""
        rid = uuid.uuid4().hex
        with self._lock:
            self._items[rid] = result
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return rid

    def get(self, rid: str) -> StoredResult | None:
        """Return the result ``rid`` (None when unknown or dropped)."""
        with self._lock:
            return self._items.get(rid)
