"""City events as catalog layers (issue 19), on both stores: every event is a feature of the
event layer of its geometry kind — areas, streets, points — with tiles, an OGC collection,
a style, a legend and search like every layer, kept in line with each post, change and load.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

import layers
from tests.support.app import app_client
from tests.support.city_events import LINE, OUTAGE
from tests.support.frames import buildings_frame
from tests.tiles.mvtcheck import decode
from tiles.grid import lonlat_to_tile_xy
from twin.store import Batch, open_store

PLANNER = {"Authorization": "Bearer plan-el"}
EVENT_LAYERS = ("city_event_areas", "city_event_lines", "city_event_points")


@pytest.fixture
def client(store_url: str) -> Iterator[TestClient]:
    store = open_store(store_url)
    store.load([Batch(layers.get("buildings"), "t", buildings_frame(3), "t", "0" * 64, "x")])
    store.close()
    with app_client(store_url, "planner:plan-el") as c:
        yield c


def _items(client: TestClient, layer_id: str) -> list[dict]:
    r = client.get(f"/collections/{layer_id}/items")
    assert r.status_code == 200, r.text
    return r.json()["features"]


def _tile(client: TestClient, layer_id: str, lon: float, lat: float, z: int = 15) -> dict:
    x, y = lonlat_to_tile_xy(lon, lat, z)
    r = client.get(f"/tiles/{layer_id}/{z}/{x}/{y}.mvt")
    assert r.status_code in (200, 204), r.text
    return (
        decode(r.content).get(layer_id, {"features": []})
        if r.status_code == 200
        else {"features": []}
    )


def test_the_catalog_style_and_legend_list_the_event_layers(client: TestClient) -> None:
    catalog = client.get("/catalog").json()
    entries = {e["id"]: e for e in catalog["layers"]}
    assert [entries[i]["geometry"] for i in EVENT_LAYERS] == [
        "MultiPolygon",
        "MultiLineString",
        "Point",
    ]
    areas = entries["city_event_areas"]
    assert areas["group"] == "city_events" and areas["access"] == "public"
    assert areas["temporal"]["start"] == "starts_at" and areas["temporal"]["end"] == "ends_at"
    kind = next(p for p in areas["properties"] if p["name"] == "kind")
    assert "road_closure" in kind["choices"]
    assert kind["values"]["outage_water"]["en"] == "Water outage"
    assert all(p["name"] != "note" for p in areas["properties"])  # the staff note stays out
    style = client.get("/style.json").json()
    kinds = {s["source-layer"]: s["type"] for s in style["layers"] if "source-layer" in s}
    assert kinds.get("city_event_areas") == "fill" and kinds.get("city_event_lines") == "line"
    assert kinds.get("city_event_points") == "circle"
    for layer_id in EVENT_LAYERS:
        assert client.get(f"/collections/{layer_id}").status_code == 200


def test_a_post_and_its_changes_reach_tiles_items_and_search(client: TestClient) -> None:
    r = client.post("/api/city-events", json=OUTAGE, headers=PLANNER)
    assert r.status_code == 201, r.text
    eid = r.json()["id"]

    [feature] = _items(client, "city_event_areas")
    props = feature["properties"]
    assert props["event_id"] == eid and props["kind"] == "outage_water"
    assert props["starts_at"] == "2026-07-22T03:00:00Z"  # 08:00 in Almaty, stored in UTC
    assert props["provider"] == "staff" and "note" not in props
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert _items(client, "city_event_lines") == []
    tile = _tile(client, "city_event_areas", 76.9025, 43.2505)
    assert [f["properties"]["title"] for f in tile["features"]] == ["Нет холодной воды"]

    hits = client.get("/api/search", params={"q": "холодной воды"}).json()["results"]
    assert [(h["layer"], h["label"]) for h in hits][:1] == [
        ("city_event_areas", "Нет холодной воды")
    ]

    # a change of fields is in the layer at once (the tile cached above is dropped)
    r = client.patch(
        f"/api/city-events/{eid}",
        json={"severity": "critical", "status": "active", "version": 1},
        headers=PLANNER,
    )
    assert r.status_code == 200, r.text
    [feature] = _items(client, "city_event_areas")
    assert (feature["properties"]["severity"], feature["properties"]["status"]) == (
        "critical",
        "active",
    )
    tile = _tile(client, "city_event_areas", 76.9025, 43.2505)
    assert [f["properties"]["severity"] for f in tile["features"]] == ["critical"]

    # drawn again as a line: the event moves from the areas to the streets
    r = client.patch(
        f"/api/city-events/{eid}",
        json={"kind": "road_closure", "geometry": LINE, "version": 2},
        headers=PLANNER,
    )
    assert r.status_code == 200, r.text
    assert _items(client, "city_event_areas") == []
    [line] = _items(client, "city_event_lines")
    assert line["properties"]["event_id"] == eid and line["properties"]["kind"] == "road_closure"
    assert _tile(client, "city_event_areas", 76.9025, 43.2505)["features"] == []
    tile = _tile(client, "city_event_lines", 76.907, 43.252)
    assert [f["properties"]["event_id"] for f in tile["features"]] == [eid]


def test_a_point_event_and_a_filter_on_the_collection(client: TestClient) -> None:
    point = {**OUTAGE, "kind": "emergency", "title": "Пожар",
             "geometry": {"type": "Point", "coordinates": [76.903, 43.2505]}}  # fmt: skip
    assert client.post("/api/city-events", json=point, headers=PLANNER).status_code == 201
    assert client.post("/api/city-events", json=OUTAGE, headers=PLANNER).status_code == 201
    [fire] = _items(client, "city_event_points")
    assert fire["properties"]["title"] == "Пожар"
    r = client.get("/collections/city_event_areas/items", params={"filter": "kind = 'emergency'"})
    assert r.status_code == 200 and r.json()["features"] == []
