"""The map benchmark's cold run starts from a copy of the store that holds the same data and no
kept tiles. No timing is asserted."""

from __future__ import annotations

from pathlib import Path

import layers
from tests.support.frames import buildings_frame
from twin.store import Batch, open_store


def test_web_bench_cold_store_has_the_data_and_no_kept_tiles(tmp_path: Path) -> None:
    from bench.web import _fresh_copy
    from tiles.stored import KeptTile, StoredTiles
    from twin.store.geopackage import gpkg_path

    url = f"gpkg:///{tmp_path}/src.gpkg"
    store = open_store(url)
    buildings = layers.get("buildings")
    frame = buildings_frame(3, x0=76.91, y0=43.25)
    store.load([Batch(buildings, "t", frame, file="t", sha256="0" * 64, licence="test")])
    store.close()
    kept = StoredTiles(gpkg_path(url), 2**20)
    tile = KeptTile("roads/14/1/2", b"x", '"e"', (76.0, 43.0, 77.0, 44.0), {"roads": (0.0, 0.0)})
    assert kept.put([tile], kept.head(), wait=True) == 1
    kept.close()

    copy = _fresh_copy(url, str(tmp_path / "."), "viewport0")
    assert gpkg_path(copy) == tmp_path / "viewport0.gpkg"  # an absolute path, not the source
    opened = open_store(copy, create=False)
    try:
        assert opened.count(buildings) == 3  # the same data …
    finally:
        opened.close()
    fresh = StoredTiles(gpkg_path(copy), 2**20)
    original = StoredTiles(gpkg_path(url), 2**20)
    try:
        assert fresh.keys() == set()  # … and no tile kept ahead
        assert original.keys() == {"roads/14/1/2"}  # the source is left as it was
    finally:
        fresh.close()
        original.close()
    # PostGIS keeps no tiles: a fresh server is cold, the URL is used as it is
    assert _fresh_copy("postgresql://u@h/db", str(tmp_path), "x") == "postgresql://u@h/db"
