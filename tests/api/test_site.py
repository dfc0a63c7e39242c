"""``/api/analysis/site``, ``/niches``, ``/catchments``, ``/site/categories`` on the bundled
Almaty set (both stores)."""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import h3
import pytest
from fastapi.testclient import TestClient

from tests.support.app import app_client


@pytest.fixture(scope="module")
def client(almaty_url: str) -> Iterator[TestClient]:
    with app_client(almaty_url) as c:
        yield c


def test_ranked_cells_with_explanations(client: TestClient) -> None:
    r = client.get("/api/analysis/site", params={"category": "pharmacy", "top": 20})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 20
    assert body["category"]["name"] == "pharmacy" and body["res"] == 9
    assert body["weights"] == {"demand": 1.0, "competition": 1.0, "access": 0.5}
    assert [f["name"] for f in body["factors"]] == ["demand", "competition", "access"]
    assert body["total"] > 5000
    props = [f["properties"] for f in body["features"]]
    assert [p["rank"] for p in props] == list(range(1, 21))
    scores = [p["score"] for p in props]
    assert scores == sorted(scores, reverse=True) and 0 < scores[-1] <= scores[0] <= 100
    first = body["features"][0]
    assert first["geometry"]["type"] == "Polygon" and first["id"] == props[0]["h3"]
    p = props[0]
    assert p["demand_pts"] + p["competition_pts"] + p["access_pts"] == pytest.approx(
        p["score"], abs=0.02
    )
    assert [f["name"] for f in p["factors"]] == ["demand", "competition", "access"]
    assert p["factors"][0]["title"]["ru"] == "Спрос"
    assert "residents within 10 min walk" in p["why"]
    assert p["residents_within"] > 0 and 0 <= p["competition"] <= 1


def test_weights_district_and_res(client: TestClient) -> None:
    base = client.get("/api/analysis/site", params={"category": "cafe", "top": 50}).json()
    heavy = client.get(
        "/api/analysis/site",
        params={"category": "cafe", "top": 50, "weights": "demand:0,competition:0,access:1"},
    ).json()
    assert heavy["weights"]["access"] == 1.0
    assert [f["id"] for f in heavy["features"]] != [f["id"] for f in base["features"]]
    access = [f["properties"]["access"] for f in heavy["features"]]
    assert access == sorted(access, reverse=True)
    r = client.get(
        "/api/analysis/site", params={"category": "cafe", "district": "медеу ауданы", "top": 5}
    )
    assert r.status_code == 200, r.text
    assert {f["properties"]["district"] for f in r.json()["features"]} == {"Medeu"}
    r8 = client.get("/api/analysis/site", params={"category": "bank", "res": 8, "top": 3})
    assert r8.status_code == 200 and r8.json()["res"] == 8
    assert len(r8.json()["features"][0]["properties"]["h3"]) == 15


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"category": "casino"}, "unknown category"),
        ({"category": "cafe", "res": 7}, "res"),
        ({"category": "cafe", "res": 11}, "res"),
        ({"category": "cafe", "res": "nine"}, "res"),
        ({"category": "cafe", "weights": "demand:-1"}, "demand"),
        ({"category": "cafe", "weights": "access:lots"}, "number"),
        ({"category": "cafe", "weights": "price:1"}, "unknown factor"),
        ({"category": "cafe", "top": 0}, "top"),
        ({"category": "cafe", "top": 1001}, "top"),
        ({"category": "cafe", "district": "Atlantis"}, "unknown district"),
        ({}, "category"),
    ],
)
def test_bad_input_is_400(client: TestClient, params: dict, needle: str) -> None:
    r = client.get("/api/analysis/site", params=params)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] == "bad_input" and needle in body["detail"]


def test_catchments_niches_and_categories(client: TestClient) -> None:
    r = client.get("/api/analysis/catchments", params={"category": "pharmacy"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["outlets"] >= 40 and len(body["features"]) <= body["outlets"]
    assert sum(f["properties"]["residents"] for f in body["features"]) <= body["residents"]
    assert body["largest"][0]["residents"] >= body["largest"][-1]["residents"]
    assert {f["geometry"]["type"] for f in body["features"]} <= {"Polygon", "MultiPolygon"}
    pts = client.get(
        "/api/analysis/catchments", params={"category": "pharmacy", "geometry": "point"}
    ).json()
    assert {f["geometry"]["type"] for f in pts["features"]} == {"Point"}
    houses = client.get(
        "/api/analysis/catchments", params={"category": "pharmacy", "geometry": "buildings"}
    ).json()
    assert len(houses["features"]) > 8000
    assigned = {f["properties"]["outlet_fid"] for f in houses["features"]}
    assert assigned - {-1} <= {f["properties"]["fid"] for f in pts["features"]}
    bad = client.get("/api/analysis/catchments", params={"category": "pharmacy", "res": 12})
    assert bad.status_code == 400
    niches = client.get("/api/analysis/niches", params={"category": "pharmacy"}).json()
    assert niches["features"] and niches["features"][0]["properties"]["niche"] == 1
    cats = client.get("/api/analysis/site/categories").json()
    assert "pharmacy" in [c["name"] for c in cats["categories"]]


def test_each_cell_names_its_nearest_address_or_street(client: TestClient) -> None:
    """Issue 21 item 6 / issue 15 item 11: a cell says where it is. The words are checked
    against the layers themselves, through the public features API (so on each store):
    the named street or addressed building really is that close to the cell's centre."""
    from twin.analyses.access.graph import METRIC_CRS
    from twin.analyses.site.places import ADDRESS_MAX_M, STREET_MAX_M

    body = client.get("/api/analysis/site", params={"category": "pharmacy", "top": 20}).json()
    props = [f["properties"] for f in body["features"]]
    named = [p for p in props if p["place"]]
    # the centre's best cells all lie by named streets in the 2012 extract
    assert len(named) == 20, [p["place"] for p in props]
    assert {p["place_kind"] for p in named} <= {"address", "street"}
    assert any(p["place_kind"] == "address" for p in named)
    for p in named[:6]:
        limit = ADDRESS_MAX_M if p["place_kind"] == "address" else STREET_MAX_M
        assert 0 <= p["place_m"] <= limit
        layer = "buildings" if p["place_kind"] == "address" else "roads"
        lat, lon = h3.cell_to_latlng(p["h3"])  # the answer's lon/lat are rounded
        d = 0.006  # ~500 m around the centre
        near = client.get(
            f"/collections/{layer}/items",
            params={"bbox": f"{lon - d},{lat - d},{lon + d},{lat + d}", "limit": 5000},
        ).json()
        frame = gpd.GeoDataFrame.from_features(near["features"], crs=4326).to_crs(METRIC_CRS)
        centre = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs=4326)
        centre = centre.to_crs(METRIC_CRS).iloc[0]
        if layer == "roads":
            same = frame[frame["name"] == p["place"]]
        else:
            text = (
                frame["address"].fillna("")
                + "|"
                + frame["street"].fillna("")
                + ", "
                + (frame["housenumber"].fillna(""))
            )
            same = frame[text.str.contains(p["place"], regex=False)]
        assert len(same), p["place"]
        assert same.distance(centre).min() == pytest.approx(p["place_m"], abs=6)
