"""``/api/analysis/coverage``, ``/placement``, ``/results`` and the public district shares, on
both stores with the bundled Almaty data.

Roles: no key -> 401, a resident key -> 403, planner and admin keys run the analyses; the
district percentages are public.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from rasterio.io import MemoryFile

from tests.support.app import app_client

PLANNER = {"Authorization": "Bearer plan-key"}
RESIDENT = {"Authorization": "Bearer res-key"}
# A few blocks of central Almaly (~60 cameras).
BBOX = [76.93, 43.25, 76.94, 43.258]
SCOPE = {"kind": "bbox", "bbox": BBOX}


@pytest.fixture(scope="module")
def client(almaty_url: str) -> Iterator[TestClient]:
    with app_client(almaty_url, "planner:plan-key,resident:res-key,admin:adm-key") as c:
        yield c


def post(client: TestClient, path: str, body: Any, headers: dict = PLANNER) -> Any:
    return client.post(f"/api/analysis/{path}", json=body, headers=headers)


@pytest.mark.parametrize("path", ["coverage", "placement"])
def test_analyses_need_a_planner_key(client: TestClient, path: str) -> None:
    body = {"scope": SCOPE, "k": 1} if path == "placement" else {"scope": SCOPE}
    r = post(client, path, body, headers={})
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    r = post(client, path, body, headers=RESIDENT)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert "planner" in r.json()["detail"]
    r = post(client, path, body, headers={"Authorization": "Bearer adm-key"})
    assert r.status_code == 200


def test_coverage_of_a_bbox(client: TestClient) -> None:
    r = post(client, "coverage", {"scope": SCOPE, "limit": 20})
    assert r.status_code == 200, r.text
    body = r.json()
    s = body["summary"]
    assert 0 < s["street_pct"] < 100 and 0 < s["area_pct"] < 100 and 0 < s["weighted_pct"] < 100
    assert s["covered_m2"] < s["area_m2"] and s["cameras_covering"] <= s["cameras"]
    assert [d["district"] for d in body["districts"]] == ["Almaly"]
    spots = body["white_spots"]
    assert spots["type"] == "FeatureCollection" and len(spots["features"]) == 20
    assert spots["total"] > 20
    weights = [f["properties"]["weight"] for f in spots["features"]]
    assert weights == sorted(weights, reverse=True)
    first = spots["features"][0]["properties"]
    assert first["rank"] == 1 and first["district"] == "Almaly" and first["area_m2"] >= 25
    assert spots["features"][0]["geometry"]["type"] == "Polygon"

    res = client.get(body["links"]["results"], headers=PLANNER)
    assert res.status_code == 200
    layers = {f["properties"]["layer"] for f in res.json()["features"]}
    assert layers == {"white_spots", "coverage", "cameras"}
    only = client.get(body["links"]["results"], params={"layer": "coverage"}, headers=PLANNER)
    assert {f["properties"]["layer"] for f in only.json()["features"]} == {"coverage"}
    assert client.get(body["links"]["results"]).status_code == 401

    tif = client.get(body["links"]["geotiff"], headers=PLANNER)
    assert tif.status_code == 200 and tif.headers["content-type"] == "image/tiff"
    with MemoryFile(tif.content) as mem, mem.open() as ds:
        assert ds.crs.to_epsg() == 32643 and ds.res == (5.0, 5.0)
        counts = ds.read(1)
    seen = np.count_nonzero(counts) * 25.0
    assert seen > s["covered_m2"]  # cameras also see yards and squares beyond street space


def test_both_stores_answer_the_same_coverage(almaty_urls: dict[str, str]) -> None:
    summaries = {}
    for kind, url in almaty_urls.items():
        with app_client(url, "planner:plan-key") as c:
            r = post(c, "coverage", {"scope": SCOPE, "limit": 20})
            assert r.status_code == 200, (kind, r.text)
            summaries[kind] = r.json()["summary"]
    a, b = summaries["geopackage"], summaries["postgis"]
    assert a["cameras"] > 0 and 0 < a["street_pct"] < 100
    assert a == pytest.approx(b, rel=1e-9)


def test_what_if_edits_change_the_answer_but_not_the_store(client: TestClient) -> None:
    base = post(client, "coverage", {"scope": SCOPE, "limit": 0}).json()
    cams = client.get(
        f"/api/analysis/results/{base['id']}", params={"layer": "cameras"}, headers=PLANNER
    ).json()["features"]
    ids = [f["properties"]["id"] for f in cams]
    inside = [
        f
        for f in cams
        if f["properties"]["status"] == "working"
        and BBOX[0] < f["geometry"]["coordinates"][0] < BBOX[2]
        and BBOX[1] < f["geometry"]["coordinates"][1] < BBOX[3]
    ]
    gone = post(client, "coverage", {"scope": SCOPE, "limit": 0, "cameras": {"remove": ids}})
    assert gone.status_code == 200
    assert gone.json()["summary"]["covered_m2"] == 0
    # A dome where a working camera stands (so not in a building), and a camera turned into
    # a long-range dome: both see more.
    lon, lat = inside[0]["geometry"]["coordinates"]
    added = post(
        client,
        "coverage",
        {
            "scope": SCOPE,
            "limit": 0,
            "cameras": {
                "add": [{"lon": lon, "lat": lat, "kind": "ptz", "range_m": 300}],
                "update": [{"id": inside[1]["properties"]["id"], "kind": "ptz", "range_m": 250}],
            },
        },
    )
    assert added.status_code == 200
    assert added.json()["summary"]["covered_m2"] > base["summary"]["covered_m2"]
    again = post(client, "coverage", {"scope": SCOPE, "limit": 0}).json()
    assert again["summary"] == base["summary"]


def test_placement_in_a_bbox(client: TestClient) -> None:
    r = post(
        client,
        "placement",
        {
            "scope": SCOPE,
            "k": 3,
            "limit": 5,
            "camera": {"kind": "fixed", "fov_deg": 80, "range_m": 90},
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    feats = body["proposed"]["features"]
    assert len(feats) == 3 and all(f["geometry"]["type"] == "Point" for f in feats)
    gains = [f["properties"]["gain_weight"] for f in feats]
    assert gains == sorted(gains, reverse=True) and gains[0] > 0
    assert feats[-1]["properties"]["cumulative_weight"] == pytest.approx(sum(gains), abs=0.5)
    assert body["after"]["covered_weight"] > body["before"]["covered_weight"]
    assert body["stats"]["candidates"] >= 3
    res = client.get(body["links"]["results"], headers=PLANNER).json()
    assert {f["properties"]["layer"] for f in res["features"]} == {"proposed", "white_spots"}


def test_public_district_percentages(client: TestClient) -> None:
    r = client.get("/api/analysis/coverage/districts")
    assert r.status_code == 200
    body = r.json()
    assert len(body["districts"]) == 8
    for d in body["districts"]:
        assert set(d) == {"district", "street_pct", "area_pct", "weighted_pct"}
        assert 0 <= d["street_pct"] <= 100
    assert set(body["city"]) == {"street_pct", "area_pct", "weighted_pct"}
    assert "cam-" not in r.text


def _outside_polygon() -> dict:
    return {"type": "Polygon", "coordinates": [[[10, 10], [11, 10], [11, 11], [10, 10]]]}


POINT = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [76.935, 43.254]},
            "properties": {"heading_deg": 90},
        }
    ],
}


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("coverage", {"cameras": {"add": [{"lon": 76.93, "lat": 43.25, "fov_deg": 0}]}}, "fov_deg"),
        (
            "coverage",
            {"cameras": {"add": [{"lon": 76.93, "lat": 43.25, "fov_deg": 361}]}},
            "fov_deg",
        ),
        ("coverage", {"cameras": {"add": [{"lon": 76.93, "lat": 43.25, "range_m": 0}]}}, "range_m"),
        (
            "coverage",
            {"cameras": {"add": [{"lon": 76.93, "lat": 43.25, "range_m": 1001}]}},
            "range_m",
        ),
        (
            "coverage",
            {"scope": {"kind": "polygon", "polygon": _outside_polygon()}},
            "outside the city",
        ),
        (
            "coverage",
            {"scope": {"kind": "polygon", "polygon": {"type": "Polygon", "coordinates": "oops"}}},
            "malformed GeoJSON",
        ),
        (
            "coverage",
            {
                "scope": {
                    "kind": "polygon",
                    "polygon": {"type": "Point", "coordinates": [76.9, 43.2]},
                }
            },
            "Polygon or MultiPolygon",
        ),
        ("coverage", {"scope": {"kind": "district", "district": "Atlantis"}}, "unknown district"),
        (
            "coverage",
            {"scope": {"kind": "bbox", "bbox": [76.94, 43.25, 76.93, 43.26]}},
            "west < east",
        ),
        ("coverage", {"weights": {"crime": 1}}, "crime"),
        ("coverage", {"cameras": {"remove": ["no-such-camera"]}}, "no camera"),
        ("placement", {"scope": SCOPE, "k": 0}, "k"),
        ("placement", {"scope": SCOPE, "k": 1, "camera": {"fov_deg": 0}}, "fov_deg"),
        ("placement", {"scope": SCOPE, "k": 1, "camera": {"range_m": 2000}}, "range_m"),
        (
            "placement",
            {"scope": SCOPE, "k": 2, "candidates": {"mode": "points", "points": POINT}},
            "candidate cameras",
        ),
        (
            "placement",
            {
                "scope": SCOPE,
                "k": 1,
                "candidates": {"mode": "points", "points": {"type": "Feature"}},
            },
            "FeatureCollection",
        ),
    ],
)
def test_bad_requests_are_400_with_a_message(
    client: TestClient, path: str, body: dict, message: str
) -> None:
    if path == "coverage" and "scope" not in body:
        body = {**body, "scope": SCOPE}
    r = post(client, path, body)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "bad_input" and message in r.json()["detail"]


def test_malformed_json_is_400(client: TestClient) -> None:
    r = client.post(
        "/api/analysis/coverage",
        content=b'{"scope": ',
        headers={**PLANNER, "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["error"] == "bad_input"


def test_unknown_result_is_404(client: TestClient) -> None:
    r = client.get("/api/analysis/results/nope", headers=PLANNER)
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_a_drawn_polygon_and_a_named_district(client: TestClient) -> None:
    w, s, e, n = BBOX
    ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
    drawn = {
        "kind": "polygon",
        "polygon": {
            "type": "Feature",
            "properties": {},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        },
    }
    by_polygon = post(client, "coverage", {"scope": drawn, "limit": 0}).json()
    by_bbox = post(client, "coverage", {"scope": SCOPE, "limit": 0}).json()
    assert by_polygon["summary"] == pytest.approx(by_bbox["summary"], rel=1e-9)
    district = post(
        client,
        "coverage",
        {"scope": {"kind": "district", "district": "Алмалинский район"}, "limit": 1},
    )
    assert district.status_code == 200
    body = district.json()
    assert body["scope"] == "Almaly" and [d["district"] for d in body["districts"]] == ["Almaly"]
    assert body["summary"]["area_m2"] > 10 * by_bbox["summary"]["area_m2"]
