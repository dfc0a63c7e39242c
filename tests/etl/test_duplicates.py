"""Issue 15, item 9: one real object is one feature. A node tagged ``amenity=school`` was stored
both as a school and as a place (38 schools and 36 hospitals and clinics of the 893 OSM
points), and showed twice on the map, in search and in counts. The places layer now leaves
them to their own layers (deduplicated at load, etl/bundled/osm.py)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from etl.bundled import osm
from twin.core.settings import DATA_DIR

METRIC = 32643  # UTM 43N, metres in Almaty


def _frames() -> dict[str, gpd.GeoDataFrame]:
    out: dict[str, list[gpd.GeoDataFrame]] = {}
    for prepare in (osm.pois, osm.amenity_areas):
        for p in prepare(DATA_DIR):
            out.setdefault(p.layer, []).append(p.frame)
    return {k: gpd.GeoDataFrame(pd.concat(v, ignore_index=True)) for k, v in out.items()}


def test_no_place_is_also_a_school_or_a_clinic() -> None:
    frames = _frames()
    places = frames["pois"].to_crs(METRIC)
    assert len(places) > 800
    assert not places["category"].isin(["school", "kindergarten", "hospital", "clinic"]).any()
    for other in ("schools", "health"):
        theirs = frames[other].to_crs(METRIC)
        near = gpd.sjoin_nearest(places, theirs, max_distance=5.0, distance_col="d")
        assert near.empty, (
            f"{len(near)} places are also in {other}: {near['name_left'].tolist()[:5]}"
        )
