"""The country-scale generator: the city copied ``copies - 1`` times across Kazakhstan, each
copy its own source and transaction, shapes and properties kept, nothing overlapping, and a
second run changing nothing (on both stores)."""

from __future__ import annotations

import numpy as np
import shapely

import layers
from etl.synthesise.country import COUNTRY, generate, offsets
from tests.support.frames import buildings_frame
from twin.store import Batch, Store

BUILDINGS = layers.get("buildings")


def test_offsets_spread_the_copies_over_the_country() -> None:
    shifts = offsets(30, (76.9, 43.25))
    places = shifts + np.array([76.9, 43.25])
    west, south, east, north = COUNTRY
    assert len(shifts) == 29
    assert (places[:, 0] > west).all() and (places[:, 0] < east).all()
    assert (places[:, 1] > south).all() and (places[:, 1] < north).all()
    gaps = np.hypot(*(places[:, None, :] - places[None, :, :]).transpose(2, 0, 1))
    assert gaps[~np.eye(29, dtype=bool)].min() > 0.6  # wider apart than a city


def test_copies_are_loaded_as_their_own_sources(store: Store) -> None:
    store.load([Batch(BUILDINGS, "osm", buildings_frame(3), "f", "0" * 64, "ODbL", [])])
    head = store.last_change_id()
    written = generate(store, 4, layer_ids=["buildings"])
    assert written == {"buildings": 9}
    frame = store.read_frame(BUILDINGS, with_system=True)
    assert len(frame) == 12
    assert sorted(set(frame["source"])) == ["country-c1", "country-c2", "country-c3", "osm"]
    copies = frame[frame["source"] != "osm"]
    assert copies["synthetic"].all() and not frame[frame["source"] == "osm"]["synthetic"].any()
    assert sorted(copies["name"]) == sorted(["Дом 1", "Дом 2", "Дом 3"] * 3)
    # the same shapes, moved: equal areas, no copy meets another
    areas = shapely.area(np.asarray(frame.geometry.values))
    assert np.allclose(np.sort(areas), np.sort(np.tile(areas[:3], 4)))
    hulls = [shapely.convex_hull(shapely.union_all(g.geometry.values))
             for _, g in frame.groupby("source")]  # fmt: skip
    assert not any(a.intersects(b) for i, a in enumerate(hulls) for b in hulls[i + 1 :])
    assert store.last_change_id() > head  # logged: caches hear of the copies
    assert generate(store, 4, layer_ids=["buildings"]) == {"buildings": 0}  # re-run: no change
