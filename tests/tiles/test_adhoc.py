"""In-memory tile layers (tiles/adhoc.py) on small frames whose tiles are known by hand,
read back with mapbox-vector-tile."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from layers import GeomType
from tests.tiles.mvtcheck import BUFFER, EXTENT, decode
from tiles.adhoc import FrameLayer, FrameTiles, rules_at
from tiles.grid import Tile, lonlat_to_tile_xy
from tiles.zoom import MAX_TILE_BYTES

TILE = Tile(16, 46772, 24018)
WEST, SOUTH, EAST, NORTH = TILE.bounds_lonlat()


def _at(fx: float, fy: float) -> tuple[float, float]:
    """Return the lon/lat at fraction (fx, fy) of TILE from its north-west corner."""
    return WEST + fx * (EAST - WEST), NORTH - fy * (NORTH - SOUTH)


def _square(fx: float, fy: float, side: float) -> shapely.Polygon:
    (x0, y0), (x1, y1) = _at(fx, fy), _at(fx + side, fy + side)
    return shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def _spots() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "rank": [1, 2, 3, 4, 5],
            "area_m2": [10.5, np.nan, 3.0, 4.0, 5.0],
            "street": ["Abai", None, "Tole bi", "Abai", "x"],
            "covered": [True, False, True, True, False],
        },
        geometry=[
            _square(0.1, 0.1, 0.2),  # inside
            shapely.GeometryCollection(  # a polygon with a stray line, as an intersection leaves
                [_square(0.5, 0.5, 0.2), shapely.LineString([_at(0, 0), _at(0.1, 0.1)])]
            ),
            shapely.Polygon(),  # empty: left out, its row number is skipped
            _square(0.9, 0.9, 0.3),  # crosses the south-east edge: clipped to the buffer
            _square(2.0, 2.0, 0.2),  # in another tile
        ],
        crs=4326,
    )


def test_a_tile_holds_what_meets_it_with_its_properties() -> None:
    tiles = FrameTiles.from_frames({"white_spots": _spots()}, name_property="layer")
    tile = decode(tiles.render(TILE))
    assert list(tile) == ["white_spots"]
    features = {f["id"]: f for f in tile["white_spots"]["features"]}
    assert sorted(features) == [0, 1, 3]
    assert features[0]["properties"] == {
        "rank": 1,
        "area_m2": 10.5,
        "street": "Abai",
        "covered": True,
        "layer": "white_spots",
    }
    # NaN and None are left out, as GeoJSON's null
    assert features[1]["properties"] == {"rank": 2, "covered": False, "layer": "white_spots"}
    assert features[1]["geometry"]["type"] == "Polygon"
    ring = np.array(features[0]["geometry"]["coordinates"][0])
    assert ring.min(axis=0).tolist() == pytest.approx([410, 410], abs=1)
    assert ring.max(axis=0).tolist() == pytest.approx([1229, 1229], abs=1)
    clipped = np.array(features[3]["geometry"]["coordinates"][0])
    assert clipped.max() == EXTENT + BUFFER and clipped.min() == pytest.approx(3686, abs=1)


def test_fields_kind_and_bounds() -> None:
    layer = FrameLayer.from_frame("white_spots", _spots())
    assert layer.kind is GeomType.POLYGON and len(layer) == 4
    assert layer.ids.tolist() == [0, 1, 3, 4]
    assert dict(layer.fields) == {
        "rank": "Number",
        "area_m2": "Number",
        "street": "String",
        "covered": "Boolean",
    }
    # the stray line reaching the tile's corner is not part of the layer
    assert layer.bounds == pytest.approx((*_at(0.1, 2.2), *_at(2.2, 0.1)))
    metric = _spots().to_crs(32643)  # any CRS is taken to lon/lat once
    assert FrameLayer.from_frame("m", metric).bounds == pytest.approx(layer.bounds)


def test_one_geometry_family_per_layer() -> None:
    mixed = gpd.GeoDataFrame(geometry=[_square(0, 0, 0.1), shapely.Point(_at(0.5, 0.5))], crs=4326)
    with pytest.raises(ValueError, match="one geometry family"):
        FrameLayer.from_frame("mixed", mixed)
    multi = gpd.GeoDataFrame(geometry=[shapely.MultiPoint([_at(0, 0), _at(1, 1)])], crs=4326)
    with pytest.raises(ValueError, match="single points"):
        FrameLayer.from_frame("multi", multi)


def test_points_and_layer_order() -> None:
    cams = gpd.GeoDataFrame(
        {"id": ["a", "b"]}, geometry=[shapely.Point(_at(0.25, 0.5)), shapely.Point(_at(3, 3))]
    ).set_crs(4326)
    tiles = FrameTiles.from_frames({"cameras": cams, "white_spots": _spots()})
    raw = tiles.render(TILE)
    tile = decode(raw)
    assert list(tile) == ["cameras", "white_spots"]
    (cam,) = tile["cameras"]["features"]
    assert cam["id"] == 0 and cam["properties"] == {"id": "a"}
    assert cam["geometry"]["coordinates"] == [1024, 2048]
    assert tiles.render(Tile(16, 0, 0)) == b""


def test_small_features_stay_below_maxzoom_until_the_tile_is_too_big() -> None:
    # squares of 5 to 40 m: the catalog's rules would drop most at z12 (under 4 square pixels)
    rng = np.random.default_rng(1)
    n = 40_000
    lon = 76.90 + rng.random(n) * 0.08
    lat = 43.22 + rng.random(n) * 0.06
    d = rng.uniform(5, 40, n) / 111_000
    squares = shapely.box(lon, lat, lon + d * 1.37, lat + d)
    z12 = Tile(12, *lonlat_to_tile_xy(76.94, 43.25, 12))
    assert rules_at(GeomType.POLYGON, 12).min_area_m2 == 0
    inside = shapely.intersects(squares, shapely.box(*z12.bounds_lonlat()))

    few = FrameTiles.from_frames({"spots": gpd.GeoDataFrame(geometry=squares[:2000], crs=4326)})
    kept = decode(few.render(z12))["spots"]["features"]
    assert len(kept) == inside[:2000].sum() > 0

    many = FrameTiles.from_frames({"spots": gpd.GeoDataFrame(geometry=squares, crs=4326)})
    (layer,) = many.layers
    assert len(layer.encode(z12, rules_at(GeomType.POLYGON, 12))) > MAX_TILE_BYTES
    raw = many.render(z12)
    assert 0 < len(raw) <= MAX_TILE_BYTES  # drawn again with a size filter, to fit
    ids = np.array([f["id"] for f in decode(raw)["spots"]["features"]])
    dropped = np.setdiff1d(np.flatnonzero(inside), ids)
    assert len(dropped) > 0 and d[dropped].max() <= d[ids].min()  # the smallest went


def test_tilejson() -> None:
    tiles = FrameTiles.from_frames({"white_spots": _spots()}, name_property="layer")
    tj = tiles.tilejson("http://x/{z}/{x}/{y}.mvt", name="r")
    assert tj["tilejson"] == "3.0.0" and tj["tiles"] == ["http://x/{z}/{x}/{y}.mvt"]
    assert tj["minzoom"] == 0 and tj["maxzoom"] == 16
    b = tiles.bounds or (0, 0, 0, 0)
    assert tj["bounds"][0] <= b[0] and tj["bounds"][2] >= b[2]
    assert tj["vector_layers"][0]["id"] == "white_spots"
    assert tj["vector_layers"][0]["fields"]["layer"] == "String"


def test_a_collapsed_ring_in_a_multipolygon_does_not_break_the_tile() -> None:
    """A city-wide coverage run left a white spot whose multipolygon held a ring of four
    positions but two distinct points; the clipper refused it and the tile answered 500
    (issue 15). The collapsed part is dropped; the real part is drawn, clipped as usual."""
    a, b = _at(0.94, 1.01), _at(0.95, 1.03)  # across the edge of the buffer
    sliver = shapely.Polygon([a, b, a, a])
    spot = shapely.MultiPolygon([_square(0.9, 0.9, 0.3), sliver])
    assert not shapely.is_valid(spot)
    frame = gpd.GeoDataFrame({"rank": [1]}, geometry=[spot], crs=4326)
    tile = decode(FrameTiles.from_frames({"white_spots": frame}).render(TILE))
    (feature,) = tile["white_spots"]["features"]
    assert feature["geometry"]["type"] == "Polygon"
    ring = np.array(feature["geometry"]["coordinates"][0])
    assert ring.max() == EXTENT + BUFFER and ring.min() == pytest.approx(3686, abs=1)
    # at a zoom where the spot lies whole inside a tile it is drawn without clipping
    parent = decode(FrameTiles.from_frames({"white_spots": frame}).render(TILE.parent()))
    assert len(parent["white_spots"]["features"]) == 1
