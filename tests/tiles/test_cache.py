"""The LRU of compressed tiles: byte budget, and invalidation by envelope, layer and margin."""

from __future__ import annotations

from tiles.cache import CachedTile, TileCache


def _entry(bounds: tuple[float, float, float, float], **margins: tuple[float, float]) -> CachedTile:
    return CachedTile(b"x" * 100, '"e"', bounds, margins or {"roads": (0.0, 0.0)})


def test_lru_evicts_the_least_recently_used_over_budget() -> None:
    cache = TileCache(3 * 300)
    for k in "abc":
        cache.put(k, _entry((0, 0, 1, 1)))
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("d", _entry((0, 0, 1, 1)))
    assert cache.get("b") is None and cache.get("a") is not None and len(cache) == 3
    assert cache.snapshot().evicted == 1


def test_only_touched_tiles_of_the_changed_layer_are_dropped() -> None:
    cache = TileCache(1 << 20)
    cache.put("west", _entry((0, 0, 1, 1)))
    cache.put("east", _entry((1, 0, 2, 1)))
    cache.put("far", _entry((5, 5, 6, 6)))
    cache.put("other-layer", _entry((0, 0, 1, 1), buildings=(0.0, 0.0)))
    assert cache.invalidate([("roads", (0.2, 0.2, 0.3, 0.3))]) == 1
    assert cache.get("west") is None
    assert all(cache.get(k) is not None for k in ("east", "far", "other-layer"))


def test_an_envelope_on_the_shared_edge_drops_both_tiles() -> None:
    cache = TileCache(1 << 20)
    cache.put("west", _entry((0, 0, 1, 1)))
    cache.put("east", _entry((1, 0, 2, 1)))
    assert cache.invalidate([("roads", (1.0, 0.5, 1.0, 0.5))]) == 2


def test_margins_reach_beyond_the_tile() -> None:
    cache = TileCache(1 << 20)
    cache.put("hexes", _entry((0, 0, 1, 1), appeals=(0.5, 0.5)))
    cache.put("points", _entry((0, 0, 1, 1), appeals=(0.0, 0.0)))
    assert cache.invalidate([("appeals", (1.2, 0.5, 1.2, 0.5))]) == 1
    assert cache.get("hexes") is None and cache.get("points") is not None
