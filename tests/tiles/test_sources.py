"""Feature tiles of the bundled city on both stores, checked against the store itself.

Each tile is decoded with mapbox-vector-tile and compared with a direct spatial query of the
store (features whose geometry intersects the tile, minus those under the documented size
filter, computed here with PROJ rather than with tiles.*).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import layers
from tests.tiles.mvtcheck import BUFFER, EXTENT, SYSTEM, all_coords, decode, expected_ids, ids
from tiles.embedded import EmbeddedSource
from tiles.grid import Tile
from tiles.sources import make_source
from tiles.zoom import tile_props, zoom_rules
from twin.store import Store, open_store

# (layer, z, x, y): the densest building tiles, big polygons, lines, points, and tiles
# where the size filter drops features
CASES = [
    ("buildings", 12, 2923, 1501),
    ("buildings", 13, 5846, 3002),
    ("buildings", 14, 11693, 6004),
    ("buildings", 14, 11692, 6005),
    ("buildings", 16, 46772, 24018),
    ("roads", 10, 730, 375),
    ("roads", 13, 5846, 3002),
    ("roads", 15, 23386, 12008),
    ("landuse", 9, 365, 187),
    ("landuse", 14, 11693, 6004),
    ("districts", 11, 1461, 750),
    ("waterways", 12, 2923, 1500),
    ("parks", 13, 5846, 3002),
    ("works", 12, 2922, 1501),
    ("schools", 11, 1461, 750),
    ("pois", 14, 11693, 6004),
    ("air_sensors", 10, 730, 375),
    ("population_grid", 11, 1461, 750),
]


@pytest.fixture(scope="module")
def almaty(almaty_url: str) -> Iterator[Store]:
    store = open_store(almaty_url, create=False)
    yield store
    store.close()


def _render(store: Store, layer_id: str, z: int, x: int, y: int) -> bytes:
    layer = layers.get(layer_id)
    tile = Tile(z, x, y)
    return make_source(store).layer_tile(layer, tile, zoom_rules(layer, z))


@pytest.mark.parametrize(("layer_id", "z", "x", "y"), CASES)
def test_tile_holds_exactly_the_intersecting_features_big_enough(
    almaty: Store, layer_id: str, z: int, x: int, y: int
) -> None:
    raw = _render(almaty, layer_id, z, x, y)
    want, _ = expected_ids(almaty, layers.get(layer_id), z, x, y)
    assert want, "a case without features proves nothing"
    assert ids(raw, layer_id) == want


def test_the_size_filter_really_drops_features(almaty: Store) -> None:
    buildings = layers.get("buildings")
    want, dropped = expected_ids(almaty, buildings, 12, 2923, 1501)
    unfiltered, _ = expected_ids(almaty, buildings, 12, 2923, 1501, min_px2=0.0)
    assert dropped > 50 and len(unfiltered) == len(want) + dropped
    assert ids(_render(almaty, "buildings", 12, 2923, 1501), "buildings") != unfiltered


@pytest.mark.parametrize(("layer_id", "z", "x", "y"), CASES)
def test_geometry_in_extent_and_declared_properties_only(
    almaty: Store, layer_id: str, z: int, x: int, y: int
) -> None:
    layer = layers.get(layer_id)
    tile = decode(_render(almaty, layer_id, z, x, y))
    assert list(tile) == [layer_id]
    assert tile[layer_id]["extent"] == EXTENT
    declared = {p.name for p in tile_props(layer)}
    kinds = {"Point": "Point", "LineString": "Line", "Polygon": "Polygon"}
    for feature in tile[layer_id]["features"]:
        xy = all_coords(feature["geometry"])
        assert xy.min() >= -BUFFER and xy.max() <= EXTENT + BUFFER
        assert set(feature["properties"]) <= declared
        assert not set(feature["properties"]) & SYSTEM
        kind = feature["geometry"]["type"].removeprefix("Multi")
        assert kinds[kind] in layer.geometry.value


def test_property_values_match_the_store(almaty: Store) -> None:
    layer = layers.get("buildings")
    tile = decode(_render(almaty, "buildings", 16, 46772, 24018))["buildings"]["features"]
    frame = almaty.read_frame(layer).set_index("fid")
    for feature in tile:
        row = frame.loc[feature["id"]]
        for name, value in feature["properties"].items():
            assert value == row[name], (feature["id"], name)
        for name in layer.prop_names:
            if name not in feature["properties"]:
                assert row[name] is None or row[name] != row[name]  # None or NaN


@pytest.fixture(scope="module")
def both(almaty_urls: dict[str, str]) -> Iterator[dict[str, Store]]:
    """Yield both Almaty stores, by kind, open."""
    stores = {kind: open_store(url, create=False) for kind, url in almaty_urls.items()}
    yield stores
    for store in stores.values():
        store.close()


@pytest.mark.parametrize(("layer_id", "z", "x", "y"), CASES)
def test_embedded_store_and_postgis_give_the_same_ids(
    both: dict[str, Store], layer_id: str, z: int, x: int, y: int
) -> None:
    gpkg = ids(_render(both["geopackage"], layer_id, z, x, y), layer_id)
    assert gpkg, "a case without features proves nothing"
    assert gpkg == ids(_render(both["postgis"], layer_id, z, x, y), layer_id)


@pytest.mark.parametrize(("layer_id", "z", "x", "y"), CASES)
def test_the_in_process_encoder_over_postgis_rows_agrees_with_st_asmvt(
    both: dict[str, Store], layer_id: str, z: int, x: int, y: int
) -> None:
    postgis = both["postgis"]
    layer = layers.get(layer_id)
    raw = EmbeddedSource(postgis).layer_tile(layer, Tile(z, x, y), zoom_rules(layer, z))
    assert ids(raw, layer_id) == ids(_render(postgis, layer_id, z, x, y), layer_id)


def test_an_unreachable_database_is_a_store_error_not_a_crash() -> None:

    from tiles.sources import DatabaseSource, database_encoder
    from twin.core.errors import StoreError
    from twin.store.postgis import PostGISStore

    nowhere = PostGISStore("postgresql://twin@127.0.0.1:1/none")
    source = DatabaseSource(database_encoder(nowhere))  # type: ignore[arg-type]
    layer = layers.get("buildings")
    with pytest.raises(StoreError, match="unavailable"):
        source.layer_tile(layer, Tile(14, 11693, 6004), zoom_rules(layer, 14))
    source.close()


def test_the_asynchronous_path_draws_the_same_bytes(almaty: Store) -> None:
    """PostGIS tiles drawn in an event loop (the HTTP fast path's way) equal the blocking
    path's, byte for byte, over pooled connections reused many times and in parallel."""
    import asyncio

    if almaty.kind != "postgis":
        assert not hasattr(make_source(almaty), "layer_tile_async")
        return
    source = make_source(almaty)

    async def all_cases() -> list[bytes]:
        calls = [
            source.layer_tile_async(layers.get(lid), Tile(z, x, y), zoom_rules(layers.get(lid), z))  # type: ignore[attr-defined]
            for lid, z, x, y in CASES * 3
        ]
        try:
            return list(await asyncio.gather(*calls))
        finally:
            await source.aclose()  # type: ignore[attr-defined]

    got = asyncio.run(all_cases())
    want = [_render(almaty, lid, z, x, y) for lid, z, x, y in CASES * 3]
    assert got == want and sum(map(len, got)) > 0
    source.close()  # type: ignore[attr-defined]


def test_an_unreachable_database_is_a_store_error_on_the_asynchronous_path_too() -> None:
    import asyncio

    from tiles.sources import DatabaseSource, database_encoder
    from twin.core.errors import StoreError
    from twin.store.postgis import PostGISStore

    nowhere = PostGISStore("postgresql://twin@127.0.0.1:1/none")
    source = DatabaseSource(database_encoder(nowhere))  # type: ignore[arg-type]
    layer = layers.get("buildings")
    with pytest.raises(StoreError, match="unavailable"):
        asyncio.run(source.layer_tile_async(layer, Tile(14, 11693, 6004), zoom_rules(layer, 14)))
    assert source.encoder._primary.idle == []  # type: ignore[attr-defined]
    source.close()
