"""The array MVT encoder, read back with mapbox-vector-tile (an independent decoder)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely import LineString, MultiLineString, MultiPolygon, Point, Polygon

from tests.tiles.mvtcheck import decode
from tiles.mvt import LINESTRING, POINT, POLYGON, encode_layer, geometry_commands, varints


def _encode(kind: int, geoms: list[object], props: list[tuple[str, list[object]]] = ()) -> bytes:  # type: ignore[assignment]
    arr = np.array(geoms, dtype=object)
    cmds, offsets, kept = geometry_commands(kind, arr)
    n = int(kept.sum())
    return encode_layer(
        "l", kind, np.arange(1, n + 1), cmds, offsets, [(k, v[:n]) for k, v in props]
    )


def _shape(feature: dict) -> shapely.Geometry:  # type: ignore[type-arg]
    return shapely.geometry.shape(feature["geometry"])


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


def test_collapsed_paths_are_dropped_and_reported() -> None:
    line = MultiLineString([[(1, 1), (1, 1)], [(0, 0), (5, 5)]])
    point_line = LineString([(3, 3), (3, 3)])
    cmds, offsets, kept = geometry_commands(LINESTRING, np.array([line, point_line]))
    assert kept.tolist() == [True, False]
    raw = encode_layer("l", LINESTRING, np.array([9]), cmds, offsets)
    (feature,) = decode(raw)["l"]["features"]
    assert _shape(feature).equals(LineString([(0, 0), (5, 5)]))


def test_repeated_points_are_removed() -> None:
    line = LineString([(0, 0), (0, 0), (4, 4), (4, 4), (8, 0)])
    cmds, _, _ = geometry_commands(LINESTRING, np.array([line]))
    # MoveTo(1) x y, LineTo(2) x y x y
    assert len(cmds) == 1 + 2 + 1 + 4


def test_empty_layer_is_no_bytes() -> None:
    assert encode_layer("l", POINT, np.array([], dtype=np.int64), np.array([]), np.zeros(1)) == b""


@pytest.mark.parametrize("value", [0, 1, 127, 128, 16383, 16384, 2**32, 2**63 - 1, 2**64 - 1])
def test_varints(value: int) -> None:
    data, offsets = varints(np.array([value, 1], dtype=np.uint64))
    # decode by hand
    out, shift, i = 0, 0, 0
    while True:
        b = data[i]
        out |= (b & 0x7F) << shift
        shift += 7
        i += 1
        if not b & 0x80:
            break
    assert out == value and offsets[1] == i and data[i:] == b"\x01"
