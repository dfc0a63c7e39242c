"""The HTTP edge: health, catalog, roles and the error shape."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

import layers
from tests.support.app import app_client
from tests.support.frames import buildings_frame
from twin.store import Batch, open_store

PLANNER = {"Authorization": "Bearer plan-123"}


@pytest.fixture
def client(store_url: str) -> Iterator[TestClient]:
    store = open_store(store_url)
    store.load([Batch(layers.get("buildings"), "t", buildings_frame(3), "t", "0" * 64, "x")])
    store.close()
    with app_client(store_url, "planner:plan-123,resident:res-1") as c:
        yield c


def test_healthz(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_catalog_hides_planner_layers_from_residents(client: TestClient) -> None:
    ids = {entry["id"] for entry in client.get("/catalog").json()["layers"]}
    assert "buildings" in ids and "cameras" not in ids and "appeals" not in ids
    resident = client.get("/catalog", headers={"Authorization": "Bearer res-1"}).json()
    assert "cameras" not in {e["id"] for e in resident["layers"]}
    planner = client.get("/catalog", headers=PLANNER).json()
    assert {"cameras", "appeals"} <= {e["id"] for e in planner["layers"]}
    assert planner["role"] == "planner"


def test_catalog_counts_and_titles(client: TestClient) -> None:
    by_id = {e["id"]: e for e in client.get("/catalog").json()["layers"]}
    assert by_id["buildings"]["count"] == 3
    assert by_id["buildings"]["title"] == {"ru": "Здания", "kk": "Ғимараттар", "en": "Buildings"}
    assert by_id["roads"]["licence"] == "ODbL-1.0"


def test_catalog_gives_the_map_its_panel_groups_and_layer_facts(client: TestClient) -> None:
    body = client.get("/catalog").json()
    modules = body["modules"]
    assert [m["id"] for m in modules] == [m.id for m in layers.MODULES]
    assert modules[0] == {
        "id": "infrastructure",
        "title": {"ru": "Инфраструктура", "kk": "Инфрақұрылым", "en": "Infrastructure"},
    }
    # Every group is listed for every caller: the cameras group holds the planner's key form.
    assert "cameras" in {m["id"] for m in modules}
    assert client.get("/catalog", headers=PLANNER).json()["modules"] == modules
    by_id = {e["id"]: e for e in body["layers"]}
    assert by_id["city_boundary"]["module"] == "infrastructure"
    assert by_id["city_boundary"]["group"] == "basemap"
    assert by_id["buildings"]["group"] == "infrastructure"
    assert by_id["buildings"]["default_on"] is True and by_id["buildings"]["clickable"] is True
    assert by_id["landuse"]["default_on"] is True and by_id["landuse"]["clickable"] is False
    assert by_id["schools"]["default_on"] is False and by_id["schools"]["clickable"] is True
    for entry in body["layers"]:
        layer = layers.get(entry["id"])
        assert (entry["group"], entry["default_on"], entry["clickable"]) == (
            layer.group,
            layer.default_on,
            layer.clickable,
        )


def test_catalog_names_the_flag_of_each_generated_value(client: TestClient) -> None:
    by_id = {e["id"]: e for e in client.get("/catalog").json()["layers"]}
    air = {p["name"]: p["generated_flag"] for p in by_id["air_sensors"]["properties"]}
    # the air readings are real (AirData.kz): nothing on a station's card is generated
    assert set(air.values()) == {None} and "pm10" in air
    pois = {p["name"]: p["generated_flag"] for p in by_id["pois"]["properties"]}
    assert pois["wheelchair"] == pois["ramp"] == "accessibility_generated"
    assert pois["name"] is None


def test_unknown_key_is_401_json(client: TestClient) -> None:
    r = client.get("/catalog", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert r.json() == {"error": "unauthorized", "detail": "unknown API key"}


def test_unknown_route_is_404_json(client: TestClient) -> None:
    r = client.get("/no/such/thing")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


def test_openapi(client: TestClient) -> None:
    assert "/catalog" in client.get("/openapi.json").json()["paths"]


def test_healthz_answers_without_a_worker_connection(client: TestClient) -> None:
    """A probe is answered from the event loop on the change log's kept connection, not by a
    pooled connection that busy tile and feature requests may all hold (issue 14: /healthz
    p99 1.2 s under load, waiting for a thread and then a connection)."""
    assert client.get("/healthz").status_code == 200  # the first opens the kept connection
    engine = client.app.state.store.engine  # type: ignore[attr-defined]
    checkouts: list[object] = []

    def count(*args: object) -> None:
        checkouts.append(args)

    event.listen(engine.pool, "checkout", count)
    try:
        for _ in range(3):
            r = client.get("/healthz")
            assert r.status_code == 200 and r.json()["status"] == "ok"
    finally:
        event.remove(engine.pool, "checkout", count)
    assert checkouts == []
