"""The 2024 OpenStreetMap boundaries (issue 19, part 6): every 2017 district is the same
district (OSM relation id, name, feature id) after the switch, a store loaded from the 2017
files takes the new geometry over in place, and everything keyed by district still resolves."""

from __future__ import annotations

import geopandas as gpd
import pyogrio  # noqa: F401  (before the first SpatiaLite connection)
import shapely

import layers
from etl.bundled.city import CITY_FILE_2017, DISTRICTS_FILE, DISTRICTS_FILE_2017
from etl.bundled.common import district_name
from etl.load import load_bundled
from etl.transform import conform
from layers.common import DISTRICT_NAMES
from twin.core.settings import DATA_DIR
from twin.store import Batch, Store, open_store


def _old() -> gpd.GeoDataFrame:
    old = gpd.read_file(DATA_DIR / DISTRICTS_FILE_2017)
    old["district"] = old["name"].map(district_name)
    return old


def _districts(store: Store) -> gpd.GeoDataFrame:
    return store.read_frame(layers.get("districts")).set_index("source_id")


def test_every_2017_district_maps_to_its_2024_self(almaty_url: str) -> None:
    old = _old()
    new = gpd.read_file(DATA_DIR / DISTRICTS_FILE).set_index("@id")
    store = open_store(almaty_url)
    try:
        stored = _districts(store)
    finally:
        store.close()
    assert len(stored) == len(old) == 8
    for position, row in enumerate(old.itertuples()):
        mine = stored.loc[str(row._1)]  # "osm-relation-id"
        assert mine["name"] == row.district
        assert int(mine["osm_id"]) == int(row._1)
        # a fresh load numbers them in the same order as before the switch
        assert int(mine["fid"]) == position + 1
        # the geometry is the 2024 one, not the 2017 one (they differ by 0.08-1.1 km²)
        geom_2024 = new.geometry[f"relation/{row._1}"]
        assert shapely.symmetric_difference(mine.geometry, geom_2024).area < 1e-10
        assert shapely.symmetric_difference(mine.geometry, row.geometry).area > 1e-6
    assert set(stored["name"]) == set(DISTRICT_NAMES)


def test_everything_keyed_by_district_resolves(almaty_url: str) -> None:
    store = open_store(almaty_url)
    try:
        names = set(_districts(store)["name"])
        keyed = [lay for lay in layers.LAYERS if "district" in lay.prop_names]
        assert keyed, "no layer carries a district"
        for layer in keyed:
            values = set(store.read_frame(layer)["district"].dropna())
            assert values <= names, (layer.id, values - names)
        from twin.budget.service import list_cycles

        cycles = list_cycles(store)
        assert cycles and {c["district"] for c in cycles} <= names
    finally:
        store.close()


def test_a_store_of_the_2017_boundaries_takes_the_2024_ones_over_in_place(store: Store) -> None:
    """A store loaded before the switch keeps its districts' feature ids: the new file's rows
    replace the old file's in place, and no district is doubled."""
    layer = layers.get("districts")
    old = _old()
    frame = gpd.GeoDataFrame(
        {
            "_row": range(1, 9),
            "source_id": old["osm-relation-id"].astype(str),
            "name": old["district"],
            "osm_id": old["osm-relation-id"].astype(int),
        },
        geometry=old.geometry.values,
        crs=4326,
    )
    city = gpd.read_file(DATA_DIR / CITY_FILE_2017)
    city_frame = gpd.GeoDataFrame(
        {"_row": [1], "source_id": ["2465058"], "name": ["Алматы"], "osm_id": [2465058]},
        geometry=city.geometry.values,
        crs=4326,
    )
    city_layer = layers.get("city_boundary")
    store.load(
        [
            Batch(
                layer,
                DISTRICTS_FILE_2017,
                conform(frame, layer, origin="2017").frame,
                DISTRICTS_FILE_2017,
                "0" * 64,
                layer.licence,
            ),
            Batch(
                city_layer,
                CITY_FILE_2017,
                conform(city_frame, city_layer, origin="2017").frame,
                CITY_FILE_2017,
                "0" * 64,
                city_layer.licence,
            ),
        ]
    )
    before = _districts(store)
    load_bundled(store, DATA_DIR)
    after = _districts(store)
    assert len(after) == 8 and len(store.read_frame(city_layer)) == 1
    assert after["fid"].to_dict() == before["fid"].to_dict()
    assert after["name"].to_dict() == before["name"].to_dict()
    moved = shapely.symmetric_difference(
        after.geometry.sort_index().values, before.geometry.sort_index().values
    )
    assert all(shapely.area(moved) > 1e-6)
    assert after["population"].notna().all()
