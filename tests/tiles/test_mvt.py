"""The array MVT encoder and the tile geometry pipeline, read back with mapbox-vector-tile
(an independent decoder)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
import shapely
from shapely import LineString, MultiLineString, MultiPolygon, Point, Polygon

from layers import GeomType
from tests.tiles.mvtcheck import decode
from tiles.geometry import draw, paths_of
from tiles.grid import Tile
from tiles.mvt import LINESTRING, POINT, POLYGON, encode_layer, geometry_commands, varints
from tiles.zoom import ZoomRules

FAMILY = {POINT: GeomType.POINT, LINESTRING: GeomType.LINE, POLYGON: GeomType.POLYGON}
TILE = Tile(16, 46772, 24018)


def _encode(
    kind: int, geoms: list[object], props: Sequence[tuple[str, list[object]]] = ()
) -> bytes:
    arr = np.array(geoms, dtype=object)
    paths = paths_of(arr, FAMILY[kind])
    cmds, offsets = geometry_commands(kind, paths, len(arr))
    return encode_layer("l", kind, np.arange(1, len(arr) + 1), cmds, offsets, props)


def _shape(feature: dict) -> shapely.Geometry:  # type: ignore[type-arg]
    return shapely.geometry.shape(feature["geometry"])


def _lonlat(x: float, y: float) -> tuple[float, float]:
    """Return the lon/lat of tile coordinate (x, y) of TILE (linear enough inside a z16 tile)."""
    west, south, east, north = TILE.bounds_lonlat()
    return west + x * (east - west) / 4096, north - y * (north - south) / 4096


def test_points_round_trip_with_every_value_type() -> None:
    raw = _encode(
        POINT,
        [Point(10, 20), Point(4095, 0), Point(-3, 4100)],
        [
            ("name", ["a", "б", None]),
            ("n", [1, -7, 2**40]),
            ("f", [1.5, None, -0.25]),
            ("b", [True, False, None]),
        ],
    )
    feats = decode(raw)["l"]["features"]
    assert [f["id"] for f in feats] == [1, 2, 3]
    assert [f["geometry"]["coordinates"] for f in feats] == [[10, 20], [4095, 0], [-3, 4100]]
    assert feats[0]["properties"] == {"name": "a", "n": 1, "f": 1.5, "b": True}
    assert feats[1]["properties"] == {"name": "б", "n": -7, "b": False}  # None is left out
    assert feats[2]["properties"] == {"n": 2**40, "f": -0.25}
    assert isinstance(feats[0]["properties"]["n"], int)
    assert decode(raw)["l"]["extent"] == 4096


def test_lines_and_multilines() -> None:
    a = LineString([(0, 0), (10, 0), (10, 10)])
    b = MultiLineString([[(5, 5), (6, 9)], [(100, 100), (90, 80), (70, 70)]])
    feats = decode(_encode(LINESTRING, [a, b]))["l"]["features"]
    assert _shape(feats[0]).equals(a)
    assert _shape(feats[1]).equals(b)


def test_polygons_keep_holes_and_parts() -> None:
    # exterior clockwise on screen (y down) = counter-clockwise in shapely's y-up sense
    shell = [(0, 0), (100, 0), (100, 100), (0, 100), (0, 0)]
    hole = [(20, 20), (20, 40), (40, 40), (40, 20), (20, 20)]
    with_hole = shapely.orient_polygons(Polygon(shell, [hole]), exterior_cw=False)
    multi = shapely.orient_polygons(
        MultiPolygon([Polygon(shell), Polygon([(200, 200), (300, 200), (300, 300), (200, 200)])]),
        exterior_cw=False,
    )
    feats = decode(_encode(POLYGON, [with_hole, multi]))["l"]["features"]
    assert _shape(feats[0]).equals(with_hole)
    assert len(_shape(feats[0]).interiors) == 1
    assert _shape(feats[1]).equals(multi)


def test_snapping_drops_collapsed_paths_and_reports_survivors() -> None:
    """Geometry smaller than a tile unit collapses on the grid and is left out."""
    line = MultiLineString(
        [[_lonlat(1000, 1000), _lonlat(1000.1, 1000)], [_lonlat(1000, 1000), _lonlat(1050, 1000)]]
    )
    dot = LineString([_lonlat(2000, 2000), _lonlat(2000.2, 2000.1)])
    paths, survivors = draw(np.array([dot, line]), TILE, GeomType.LINE, ZoomRules())
    assert survivors.tolist() == [1]
    cmds, offsets = geometry_commands(LINESTRING, paths, 1)
    raw = encode_layer("l", LINESTRING, np.array([9]), cmds, offsets)
    (feature,) = decode(raw)["l"]["features"]
    assert _shape(feature).equals(LineString([(1000, 1000), (1050, 1000)]))


def test_snapping_fixes_winding_and_drops_flat_rings() -> None:
    # listed clockwise in lon/lat: counter-clockwise on screen, so it must be turned round
    square = Polygon([_lonlat(10, 100), _lonlat(10, 120), _lonlat(30, 120), _lonlat(30, 100)])
    flat = Polygon([_lonlat(300, 100), _lonlat(301, 100.2), _lonlat(302, 100)])
    paths, survivors = draw(np.array([flat, square]), TILE, GeomType.POLYGON, ZoomRules())
    assert survivors.tolist() == [1]
    cmds, offsets = geometry_commands(POLYGON, paths, 1)
    (feature,) = decode(encode_layer("l", POLYGON, np.array([1]), cmds, offsets))["l"]["features"]
    assert _shape(feature).area == pytest.approx(400)


def test_features_crossing_the_buffer_are_clipped_to_it() -> None:
    big = Polygon(
        [_lonlat(-500, -500), _lonlat(-500, 5000), _lonlat(5000, 5000), _lonlat(5000, -500)]
    )
    paths, survivors = draw(np.array([big]), TILE, GeomType.POLYGON, ZoomRules())
    assert survivors.tolist() == [0]
    assert paths.coords.min() == -64 and paths.coords.max() == 4096 + 64


def test_repeated_points_are_removed() -> None:
    pts = [(100, 100), (100.1, 100), (104, 104), (104.2, 104.1), (108, 100)]
    line = LineString([_lonlat(x, y) for x, y in pts])
    paths, _ = draw(np.array([line]), TILE, GeomType.LINE, ZoomRules())
    cmds, _ = geometry_commands(LINESTRING, paths, 1)
    assert len(cmds) == 1 + 2 + 1 + 4  # MoveTo(1) x y, LineTo(2) x y x y


def test_empty_layer_is_no_bytes() -> None:
    assert encode_layer("l", POINT, np.array([], dtype=np.int64), np.array([]), np.zeros(1)) == b""


@pytest.mark.parametrize("value", [0, 1, 127, 128, 16383, 16384, 2**32, 2**63 - 1, 2**64 - 1])
def test_varints(value: int) -> None:
    data, offsets = varints(np.array([value, 1], dtype=np.uint64))
    out, shift, i = 0, 0, 0
    while True:
        b = data[i]
        out |= (b & 0x7F) << shift
        shift += 7
        i += 1
        if not b & 0x80:
            break
    assert out == value and offsets[1] == i and data[i:] == b"\x01"
