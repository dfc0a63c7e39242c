"""Values derived from a store, kept until the store changes: the one cache every analysis uses.

Reading the city and building an analysis' model (a street graph, every camera's visibility
polygon, the site model's cells) costs seconds; answering from it costs milliseconds. So a
model is kept per store, per key, and per version of the store's data — the id of the newest
entry in its change log, which every load, edit and delete writes in its own transaction
(``Store.last_change_id``). A write anywhere makes a new version, so a model is never read
stale; the old versions age out of the LRU. A memo built from a few layers names them
(``layers=``) and is versioned by their newest change only: under a stream of building edits
(the scale benchmark writes a building about twice a second) the street graph of the access
analyses was re-read on every request — 2.2 s of work each time on the bundled city, while
its roads had not changed — and after a primary restart isochrones never caught up (issue 20).

Each entry has its own lock: the first caller builds while the others wait for that build
(not for every other entry's), and :meth:`StoreMemo.use` lets a caller hold the entry for the
whole of its work (the coverage analysis applies what-if edits to its model and undoes them).
A build that fails takes no slot.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from twin.store import Store

V = TypeVar("V")


@dataclass
class _Entry(Generic[V]):
    lock: threading.Lock = field(default_factory=threading.Lock)
    value: Any = None
    built: bool = False


class StoreMemo(Generic[V]):
    """The last ``size`` values of ``build(store, *key)`` by (store, key, store version).

    A caller whose value needs more than its hashable key gives ``make`` instead (a function
    of no arguments), and the memo has no ``build`` of its own.
    """

    def __init__(
        self,
        build: Callable[..., V] | None = None,
        size: int = 4,
        *,
        layers: Sequence[str] | None = None,
    ) -> None:
        self.build = build
        self.size = size
        #: the layers the values are built from (None: any layer may matter)
        self.layers = tuple(layers) if layers is not None else None
        self.builds = 0  # how many values were built (for tests)
        self._entries: OrderedDict[tuple[Hashable, ...], _Entry[V]] = OrderedDict()
        self._lock = threading.Lock()

    def _entry(self, full_key: tuple[Hashable, ...]) -> _Entry[V]:
        with self._lock:
            entry = self._entries.get(full_key)
            if entry is None:
                entry = self._entries[full_key] = _Entry()
            self._entries.move_to_end(full_key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
            return entry

    def _built(
        self,
        full_key: tuple[Hashable, ...],
        entry: _Entry[V],
        args: tuple[Any, ...],
        make: Callable[[], V] | None,
    ) -> V:
        """Return the entry's value, building it first (the entry's lock is held)."""
        if not entry.built:
            try:
                if make is not None:
                    entry.value = make()
                elif self.build is not None:
                    entry.value = self.build(*args)
                else:  # pragma: no cover - a programming error
                    raise TypeError("StoreMemo without build needs make=")
            except BaseException:
                with self._lock:  # a failed build must not take a slot
                    if self._entries.get(full_key) is entry:
                        del self._entries[full_key]
                raise
            entry.built = True
            self.builds += 1
        value: V = entry.value
        return value

    def get(self, store: Store, *key: Hashable, make: Callable[[], V] | None = None) -> V:
        """Return the value for ``store`` and ``key`` at the store's current version."""
        full_key = (store.url, *key, store.last_change_id(self.layers))
        entry = self._entry(full_key)
        with entry.lock:
            return self._built(full_key, entry, (store, *key), make)

    @contextmanager
    def use(self, store: Store, *key: Hashable, make: Callable[[], V] | None = None) -> Iterator[V]:
        """Yield the value as :meth:`get` returns it, holding its entry for the whole block:
        other users of the same value wait (they could see a caller's temporary edits)."""
        full_key = (store.url, *key, store.last_change_id(self.layers))
        entry = self._entry(full_key)
        with entry.lock:
            yield self._built(full_key, entry, (store, *key), make)

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._entries.clear()
