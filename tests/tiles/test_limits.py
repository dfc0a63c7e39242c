"""Every tile stays within 500 KB (uncompressed) at z0–z16 on the bundled city: each layer
alone, the style's basemap composite and the composite of every layer, over the densest tiles
of each zoom."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import numpy as np
import pytest
import shapely

import layers
from tiles.access import visible_accesses
from tiles.grid import Tile
from tiles.service import TileService
from tiles.style import COMPOSITE
from twin.core.access import Role
from twin.store import open_store

LIMIT = 500_000


@pytest.fixture(scope="module")
def service(almaty_url: str) -> Iterator[TileService]:
    store = open_store(almaty_url, create=False)
    yield TileService(store)
    store.close()


@pytest.fixture(scope="module")
def densest(service: TileService) -> dict[int, list[Tile]]:
    """Return per zoom the tiles holding the most buildings, roads, appeals, works, grid cells."""
    points = []
    for layer_id in ("buildings", "roads", "appeals", "works", "population_grid"):
        frame = service.store.read_frame(layers.get(layer_id))
        xy = shapely.get_coordinates(frame.geometry.representative_point().values)
        points.append(np.radians(xy))
    out: dict[int, list[Tile]] = {}
    for z in range(17):
        tiles = set()
        for lonlat in points:
            n = 2**z
            col = ((lonlat[:, 0] / np.pi + 1) / 2 * n).astype(np.int64)
            row = ((1 - np.arcsinh(np.tan(lonlat[:, 1])) / np.pi) / 2 * n).astype(np.int64)
            (x, y), _ = Counter(zip(col.tolist(), row.tolist(), strict=True)).most_common(1)[0]
            tiles.add(Tile(z, x, y))
        out[z] = sorted(tiles)
    return out


@pytest.mark.parametrize("z", range(17))
def test_no_tile_over_500_kb(service: TileService, densest: dict[int, list[Tile]], z: int) -> None:
    everything = visible_accesses(Role.PLANNER)
    for tile in densest[z]:
        sizes = {a.layer.id: len(service.render([a], tile)[0]) for a in everything}
        assert max(sizes.values()) <= LIMIT, (str(tile), sizes)
        # the style's basemap source fits without dropping anything for size
        assert sum(sizes[i] for i in COMPOSITE) <= LIMIT, str(tile)
        if sum(sizes.values()) > LIMIT // 2:
            assert len(service.render(everything, tile)[0]) <= LIMIT, str(tile)
