"""``/api/analysis/access``, ``/isochrone``, ``/schools`` on the bundled Almaty set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import shapely
from fastapi.testclient import TestClient

from layers.common import DISTRICT_NAMES
from tests.support.app import app_client

CENTRE = (76.9286, 43.2567)  # Panfilov Park area, central Almaty


@pytest.fixture(scope="module")
def client(almaty_url: str) -> Iterator[TestClient]:
    with app_client(almaty_url) as c:
        yield c


def test_district_shares(client: TestClient) -> None:
    r = client.get("/api/analysis/access", params={"category": "school,clinic"})
    assert r.status_code == 200, r.text
    body = r.json()
    names = {d["district"] for d in body["districts"]}
    assert set(DISTRICT_NAMES) <= names and "city" in names
    for d in body["districts"]:
        for cat in ("school", "clinic"):
            assert 0 <= d["share"][cat]["10"] <= d["share"][cat]["15"] <= 1
        assert 0 <= d["accessible_clinic_15"] <= d["share"]["clinic"]["15"] + 1e-9
    assert body["engine"] in ("python", "pgrouting")


def test_cells_view_is_geojson_hexagons(client: TestClient) -> None:
    r = client.get(
        "/api/analysis/access",
        params={"view": "cells", "category": "bus_stop", "bbox": "76.90,43.23,76.95,43.27"},
    )
    assert r.status_code == 200, r.text
    feats = r.json()["features"]
    assert feats and feats[0]["geometry"]["type"] == "Polygon"
    props = feats[0]["properties"]
    assert {"h3", "population", "bus_stop_min", "score15"} <= set(props)


def test_isochrones_are_nested_and_contain_the_start(client: TestClient) -> None:
    r = client.get(
        "/api/analysis/isochrone",
        params={"lon": CENTRE[0], "lat": CENTRE[1], "minutes": "5,15"},
    )
    assert r.status_code == 200, r.text
    feats = r.json()["features"]
    assert [f["properties"]["minutes"] for f in feats] == [15.0, 5.0]
    big, small = (shapely.geometry.shape(f["geometry"]) for f in feats)
    assert big.area > small.area
    assert big.contains(shapely.Point(CENTRE)) or big.distance(shapely.Point(CENTRE)) < 1e-3


def test_isochrone_from_a_feature(client: TestClient) -> None:
    r = client.get("/api/analysis/isochrone", params={"layer": "schools", "fid": 1, "minutes": 10})
    assert r.status_code == 200, r.text
    assert len(r.json()["features"]) == 1


def test_school_load_lists_overloaded_schools(client: TestClient) -> None:
    r = client.get("/api/analysis/schools", params={"age_share": 0.16})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["assumptions"]["age_share"] == 0.16
    loads = [o["load"] for o in body["overloaded"]]
    assert loads == sorted(loads, reverse=True) and all(v > 1 for v in loads)
    props = body["features"][0]["properties"]
    assert {"catchment_residents", "pupils_estimate", "load", "overloaded"} <= set(props)


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/api/analysis/isochrone", {"lon": 70.0, "lat": 43.0}, "outside the city"),
        ("/api/analysis/isochrone", {"lon": CENTRE[0], "lat": CENTRE[1], "minutes": 0}, "> 0"),
        ("/api/analysis/isochrone", {"lon": CENTRE[0], "lat": CENTRE[1], "minutes": -5}, "> 0"),
        ("/api/analysis/isochrone", {"lon": CENTRE[0], "lat": CENTRE[1], "minutes": 61}, "60"),
        ("/api/analysis/isochrone", {"lon": CENTRE[0], "lat": CENTRE[1], "mode": "fly"}, "mode"),
        ("/api/analysis/isochrone", {}, "lon and lat"),
        ("/api/analysis/isochrone", {"lon": "east", "lat": 43.2}, "lon"),
        ("/api/analysis/access", {"category": "casino"}, "unknown category"),
        ("/api/analysis/access", {"view": "galaxy"}, "unknown view"),
        ("/api/analysis/access", {"profile": "drive"}, "walk or wheelchair"),
        ("/api/analysis/schools", {"kind": "university"}, "unknown kind"),
        ("/api/analysis/schools", {"age_share": 0}, "age_share"),
    ],
)
def test_bad_input_is_400_with_a_message(
    client: TestClient, path: str, params: dict, message: str
) -> None:
    r = client.get(path, params=params)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] == "bad_input"
    assert message in body["detail"]


def test_planner_layers_cannot_be_an_isochrone_start(client: TestClient) -> None:
    r = client.get("/api/analysis/isochrone", params={"layer": "cameras", "fid": 1})
    assert r.status_code == 404
