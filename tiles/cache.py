"""An in-process LRU of compressed tiles that forgets exactly the tiles a change touches.

Each entry remembers its tile's bounds in degrees and, per layer in it, how far beyond the
tile a change can still alter it (0 for features — a feature is in a tile only if it
intersects it — and two hexagon radii for H3 counts, whose hexagons reach over the edge).
A change of layer L inside envelope E drops the entries holding L whose grown bounds meet E,
at every zoom; all others stay.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

Bounds = tuple[float, float, float, float]


@dataclass(frozen=True)
class CachedTile:
    """One cached response: gzip body (``b""`` for an empty tile) and where it is sensitive."""

    body: bytes
    etag: str | None
    bounds: Bounds
    #: layer id -> (dlon, dlat) margin by which a change of that layer still reaches the tile
    margins: dict[str, tuple[float, float]]

    @property
    def size(self) -> int:
        """Return the bytes this entry is charged for."""
        return len(self.body) + 200


@dataclass
class CacheStats:
    """Counters since start."""

    hits: int = 0
    misses: int = 0
    evicted: int = 0
    invalidated: int = 0
    entries: int = 0
    bytes: int = 0
    by_layer: dict[str, int] = field(default_factory=dict)


class TileCache:
    """A thread-safe LRU bounded by bytes.

    >>> c = TileCache(1 << 20)
    >>> c.put("k", CachedTile(b"x", '"1"', (0, 0, 1, 1), {"roads": (0.0, 0.0)}))
    >>> c.invalidate([("roads", (2, 2, 3, 3))]), c.get("k") is not None
    (0, True)
    >>> c.invalidate([("roads", (0.5, 0.5, 0.6, 0.6))]), c.get("k")
    (1, None)
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, CachedTile] = OrderedDict()
        self._by_layer: dict[str, set[Hashable]] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self.stats = CacheStats()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def get(self, key: Hashable) -> CachedTile | None:
        """Return the entry for ``key`` (and mark it recently used), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.stats.misses += 1
                return None
            self._entries.move_to_end(key)
            self.stats.hits += 1
            return entry

    def put(self, key: Hashable, entry: CachedTile) -> None:
        """Store ``entry`` under ``key``, evicting least recently used entries over budget."""
        if entry.size > self.max_bytes:
            return
        with self._lock:
            self._drop(key)
            self._entries[key] = entry
            self._bytes += entry.size
            for layer in entry.margins:
                self._by_layer.setdefault(layer, set()).add(key)
            while self._bytes > self.max_bytes and self._entries:
                oldest = next(iter(self._entries))
                self._drop(oldest)
                self.stats.evicted += 1

    def _drop(self, key: Hashable) -> bool:
        entry = self._entries.pop(key, None)
        if entry is None:
            return False
        self._bytes -= entry.size
        for layer in entry.margins:
            keys = self._by_layer.get(layer)
            if keys is not None:
                keys.discard(key)
        return True

    def invalidate(self, changes: Iterable[tuple[str, Sequence[float]]]) -> int:
        """Drop the entries that the changed envelopes ``(layer, (minx, miny, maxx, maxy))``
        touch; return how many were dropped."""
        by_layer: dict[str, list[Sequence[float]]] = {}
        for layer, env in changes:
            by_layer.setdefault(layer, []).append(env)
        dropped = 0
        with self._lock:
            for layer, envs in by_layer.items():
                keys = list(self._by_layer.get(layer, ()))
                if not keys:
                    continue
                hit = touched(
                    np.array([self._entries[k].bounds for k in keys], dtype=float),
                    np.array([self._entries[k].margins[layer] for k in keys], dtype=float),
                    np.asarray(envs, dtype=float).reshape(-1, 4),
                )
                for i in np.flatnonzero(hit):
                    dropped += self._drop(keys[i])
                self.stats.by_layer[layer] = self.stats.by_layer.get(layer, 0) + int(hit.sum())
            self.stats.invalidated += dropped
        return dropped

    def clear(self) -> None:
        """Drop everything."""
        with self._lock:
            self._entries.clear()
            self._by_layer.clear()
            self._bytes = 0

    def snapshot(self) -> CacheStats:
        """Return the counters with the current size."""
        with self._lock:
            s = self.stats
            return CacheStats(
                s.hits,
                s.misses,
                s.evicted,
                s.invalidated,
                len(self._entries),
                self._bytes,
                dict(s.by_layer),
            )


def touched(bounds: np.ndarray, margins: np.ndarray, envs: np.ndarray) -> np.ndarray:
    """Return, per tile (``bounds`` (n, 4) grown by ``margins`` (n, 2)), whether any changed
    envelope in ``envs`` (m, 4) meets it. Touching edges count: a feature on the edge of a
    tile is in that tile."""
    minx = (bounds[:, 0] - margins[:, 0])[:, None]
    miny = (bounds[:, 1] - margins[:, 1])[:, None]
    maxx = (bounds[:, 2] + margins[:, 0])[:, None]
    maxy = (bounds[:, 3] + margins[:, 1])[:, None]
    meets = (
        (envs[None, :, 0] <= maxx)
        & (envs[None, :, 2] >= minx)
        & (envs[None, :, 1] <= maxy)
        & (envs[None, :, 3] >= miny)
    )
    return np.asarray(meets.any(axis=1))
