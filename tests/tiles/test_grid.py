"""Tile grid maths against PROJ and the slippy-map formulas."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest

from tests.tiles.mvtcheck import tile_box
from tiles.grid import Tile, lonlat_to_mercator, pixel_m, tiles_covering
from twin.core.errors import BadInput


@pytest.mark.parametrize(
    ("z", "x", "y"), [(-1, 0, 0), (23, 0, 0), (0, 1, 0), (0, 0, 1), (3, 8, 0), (3, 0, -1)]
)
def test_outside_the_grid_is_bad_input(z: int, x: int, y: int) -> None:
    with pytest.raises(BadInput):
        Tile(z, x, y)


def test_corners_of_the_grid_are_fine() -> None:
    assert Tile(0, 0, 0).bounds_m() == pytest.approx(
        (-20037508.342789244, -20037508.342789244, 20037508.342789244, 20037508.342789244)
    )
    Tile(22, 2**22 - 1, 2**22 - 1)


def test_bounds_agree_with_proj() -> None:
    t = Tile(14, 11693, 6004)
    west, south, east, north = t.bounds_lonlat()
    assert (west, south, east, north) == pytest.approx(tile_box(14, 11693, 6004))
    to_merc = pyproj.Transformer.from_crs(4326, 3857, always_xy=True)
    xs, ys = to_merc.transform([west, east], [south, north])
    assert t.bounds_m() == pytest.approx((xs[0], ys[0], xs[1], ys[1]), abs=1e-6)
    pts = np.array([[76.9, 43.25], [77.1, 43.1], [-120.0, -60.0]])
    ref = np.column_stack(to_merc.transform(pts[:, 0], pts[:, 1]))
    assert lonlat_to_mercator(pts) == pytest.approx(ref, abs=1e-6)


def test_tiles_covering_a_box() -> None:
    tiles = list(tiles_covering((76.85, 43.2, 77.0, 43.3), 12))
    assert len({(t.x, t.y) for t in tiles}) == len(tiles) == 6
    for t in tiles:
        w, s, e, n = t.bounds_lonlat()
        assert w < 77.0 and e > 76.85 and s < 43.3 and n > 43.2


def test_pixel_size() -> None:
    assert pixel_m(0) * 512 == pytest.approx(40075016.68557849)
    assert pixel_m(14) == pytest.approx(pixel_m(13) / 2)
