"""``/api/city-events`` on both stores: who may write, the list by day, "what affects my
address" through the twin's search, staff-only notes, and clear 4xx on bad input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
import shapely
import shapely.geometry
from fastapi.testclient import TestClient

import layers
from tests.appeals.scene import load_rows
from tests.support.app import app_client
from tests.support.city_events import OUTAGE
from tests.support.frames import buildings_frame
from twin.store import Batch, open_store

PLANNER = {"Authorization": "Bearer plan-ce"}
RESIDENT = {"Authorization": "Bearer res-ce"}


@pytest.fixture
def client(store_url: str) -> Iterator[TestClient]:
    store = open_store(store_url)
    houses = buildings_frame(3)
    # a house of the same name far outside Almaty (78.0 E): an address never resolves to it
    away = buildings_frame(1, x0=78.0, y0=43.3).assign(name=["Загородный дом"], source_id=["b9"])
    frame = pd.concat([houses, away], ignore_index=True)
    store.load([Batch(layers.get("buildings"), "t", frame, "t", "0" * 64, "x")])
    store.close()
    with app_client(store_url, "planner:plan-ce,resident:res-ce") as c:
        yield c


def test_staff_post_residents_read_by_day_and_address(client: TestClient) -> None:
    assert client.post("/api/city-events", json=OUTAGE).status_code == 401
    assert client.post("/api/city-events", json=OUTAGE, headers=RESIDENT).status_code == 403
    r = client.post("/api/city-events", json=OUTAGE, headers=PLANNER)
    assert r.status_code == 201, r.text
    created = r.json()
    eid = created["id"]
    assert created["properties"]["note"] == OUTAGE["note"]  # staff see their note
    assert created["properties"]["starts_at"] == "2026-07-22T08:00:00+05:00"

    day = client.get("/api/city-events", params={"on": "2026-07-22"}).json()
    assert day["type"] == "FeatureCollection" and day["count"] == 1
    props = day["features"][0]["properties"]
    assert props["title"] == "Нет холодной воды" and "note" not in props
    assert client.get("/api/city-events", params={"on": "2026-07-23"}).json()["count"] == 0
    assert (
        client.get("/api/city-events", params={"on": "2026-07-22", "kind": "road_closure"}).json()[
            "count"
        ]
        == 0
    )

    mine = client.get(
        "/api/city-events/affecting", params={"address": "Дом 2", "on": "2026-07-22"}
    ).json()
    assert mine["place"]["label"] == "Дом 2"
    assert [f["id"] for f in mine["features"]] == [eid]
    far = client.get(
        "/api/city-events/affecting", params={"address": "Дом 3", "on": "2026-07-22"}
    ).json()  # Дом 3 is ~120 m east of the area
    assert far["features"] == []
    by_point = client.get(
        "/api/city-events/affecting", params={"lon": 76.9025, "lat": 43.2505, "on": "2026-07-22"}
    ).json()
    assert [f["id"] for f in by_point["features"]] == [eid]

    r = client.patch(
        f"/api/city-events/{eid}",
        json={"status": "resolved", "text": "вода подана", "version": 1},
        headers=PLANNER,
    )
    assert r.status_code == 200, r.text
    one = client.get(f"/api/city-events/{eid}").json()
    assert one["properties"]["status"] == "resolved" and one["properties"]["version"] == 2
    assert [u["text"] for u in one["properties"]["updates"]] == ["", "вода подана"]
    assert "note" not in one["properties"]
    # resolved events are no longer on the map of that day
    assert client.get("/api/city-events", params={"on": "2026-07-22"}).json()["count"] == 0
    stale = client.patch(
        f"/api/city-events/{eid}", json={"title": "x", "version": 1}, headers=PLANNER
    )
    assert stale.status_code == 400 and "changed meanwhile" in stale.json()["detail"]


BAD = [
    ("post", "/api/city-events", {**OUTAGE, "kind": "flood"}, 400, "kind 'flood'"),
    ("post", "/api/city-events", {**OUTAGE, "ends_at": "2026-07-21T00:00"}, 400, "not after"),
    ("post", "/api/city-events", {**OUTAGE, "colour": "red"}, 400, "colour"),
    ("patch", "/api/city-events/999", {"title": "x"}, 404, "no event 999"),
    ("get", "/api/city-events/99999999999", None, 400, "event_id"),
    ("post", "/api/city-events", {**OUTAGE, "geometry": {"type": "Point"}}, 400, "geometry"),
    ("get", "/api/city-events?on=2026-13-01", None, 400, "on"),
    ("get", "/api/city-events?bbox=1,2,3", None, 400, "bbox"),
    ("get", "/api/city-events?bbox=nan,2,3,4", None, 400, "bbox"),
    ("get", "/api/city-events?on=9999-12-31", None, 400, "years"),
    ("get", "/api/city-events/affecting?lon=76.9&lat=43.2&on=0001-01-01", None, 400, "years"),
    ("post", "/api/city-events", {**OUTAGE, "starts_at": "0001-01-01T00:00"}, 400, "year"),
    ("get", "/api/city-events?status=open", None, 400, "status 'open'"),
    ("get", "/api/city-events/affecting", None, 400, "address, or lon and lat"),
    ("get", "/api/city-events/affecting?address=zzzzqqq", None, 404, "no place found"),
    ("get", "/api/city-events/affecting?address=Загородный", None, 404, "in the city"),
]


def test_bad_requests_are_4xx_naming_the_problem(client: TestClient) -> None:
    # the house outside the city is in the store and found by the map's search …
    assert client.get("/api/search", params={"q": "Загородный"}).json()["results"]
    for method, path, body, status, needle in BAD:
        kwargs = {"json": body} if body is not None else {}
        r = getattr(client, method)(path, headers=PLANNER, **kwargs)
        assert r.status_code == status, (path, r.text)
        assert needle in r.json()["detail"], (path, r.text)


def test_an_address_on_a_street_is_checked_at_its_house_or_along_the_street(
    store_url: str,
) -> None:
    """ "Осенняя 6", a house the data lacks on a 3 km street, was checked at the street's
    middle, 500 m from the outage over its block, and answered "nothing". Now the number is
    placed from the street's houses 2 and 4 (at 76.903, beside the outage); a street without
    a number, or whose numbers cannot be placed, is checked along its whole length."""
    lat = 43.26
    store = open_store(store_url)
    try:
        load_rows(
            store,
            "roads",
            {
                "source_id": ["s1", "s2"],
                "name": ["улица Осенняя", "проспект Пустой"],
                "highway": ["residential", "primary"],
            },
            [
                shapely.LineString([(76.89, lat), (76.93, lat)]),
                shapely.LineString([(76.89, lat + 0.02), (76.93, lat + 0.02)]),
            ],
        )
        houses = {"2": 76.901, "4": 76.902, "1": 76.905, "3": 76.906}
        load_rows(
            store,
            "buildings",
            {
                "source_id": [f"h{n}" for n in houses],
                "street": ["улица Осенняя"] * 4,
                "housenumber": list(houses),
            },
            [
                shapely.Point(x, lat + (0.0003 if int(n) % 2 == 0 else -0.0003)).buffer(0.0001)
                for n, x in houses.items()
            ],
        )
    finally:
        store.close()

    def box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
        return shapely.geometry.mapping(shapely.box(x0, y0, x1, y1))

    with app_client(store_url, "planner:plan-ce") as client:
        ids = {}
        for name, area in {
            "block": box(76.9025, lat + 0.0001, 76.904, lat + 0.001),  # beside house 6
            "east": box(76.925, lat + 0.0001, 76.927, lat + 0.0006),  # 2 km east, same street
            "empty": box(76.90, lat + 0.0201, 76.901, lat + 0.0206),  # on проспект Пустой
        }.items():
            r = client.post(
                "/api/city-events",
                json={**OUTAGE, "title": name, "geometry": area},
                headers=PLANNER,
            )
            assert r.status_code == 201, r.text
            ids[name] = r.json()["id"]

        def affecting(address: str) -> dict[str, Any]:
            r = client.get(
                "/api/city-events/affecting", params={"address": address, "on": "2026-07-22"}
            )
            assert r.status_code == 200, r.text
            body: dict[str, Any] = r.json()
            return body

        house = affecting("Осенняя 6")
        assert house["place"]["precision"] == "interpolated" and house["place"]["house"] == "6"
        assert house["place"]["point"] == pytest.approx([76.903, lat], abs=1e-6)
        assert [f["id"] for f in house["features"]] == [ids["block"]]
        street = affecting("улица Осенняя")
        assert street["place"]["precision"] == "street"
        assert sorted(f["id"] for f in street["features"]) == [ids["block"], ids["east"]]
        # no numbered house on проспект Пустой: house 5 is checked along the whole street
        unplaced = affecting("проспект Пустой 5")
        assert unplaced["place"]["precision"] == "street" and unplaced["place"]["house"] == "5"
        assert [f["id"] for f in unplaced["features"]] == [ids["empty"]]
