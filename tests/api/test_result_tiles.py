"""``/api/analysis/results/{id}/{z}/{x}/{y}.mvt`` and ``…/tiles.json``: a kept coverage or
placement result as a temporary vector tile layer, on both stores with the bundled data.

What a tile must hold is computed apart from the tile code: the result's own GeoJSON
(``/api/analysis/results/{id}``) intersected with the tile's box by shapely, decoded with
mapbox-vector-tile.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient

from tests.support.app import app_client
from tests.tiles.mvtcheck import BUFFER, EXTENT, decode, tile_box

PLANNER = {"Authorization": "Bearer plan-key"}
RESIDENT = {"Authorization": "Bearer res-key"}
BBOX = [76.93, 43.25, 76.94, 43.258]  # a few blocks of central Almaly, as in test_coverage
SCOPE = {"kind": "bbox", "bbox": BBOX}
# z/x/y of the tiles over BBOX at z14 (one tile) and z16 (3 × 3)
Z14 = (14, 11693, 6004)
Z16 = [(16, x, y) for x in (46772, 46773, 46774) for y in (24016, 24017, 24018)]


@pytest.fixture(scope="module")
def client(almaty_url: str) -> Iterator[TestClient]:
    with app_client(almaty_url, "planner:plan-key,resident:res-key") as c:
        yield c


@pytest.fixture(scope="module")
def run(client: TestClient) -> dict[str, Any]:
    """Return a coverage answer over BBOX and its result's GeoJSON features by layer."""
    r = client.post("/api/analysis/coverage", json={"scope": SCOPE, "limit": 0}, headers=PLANNER)
    assert r.status_code == 200, r.text
    body = r.json()
    features = client.get(body["links"]["results"], headers=PLANNER).json()["features"]
    by_layer: dict[str, list[dict[str, Any]]] = {}
    for f in features:
        by_layer.setdefault(f["properties"]["layer"], []).append(f)
    return {"answer": body, "layers": by_layer}


def _url(run: dict[str, Any], z: int, x: int, y: int) -> str:
    url: str = run["answer"]["links"]["tiles"].format(z=z, x=x, y=y)
    return url


def _expected(features: list[dict[str, Any]], z: int, x: int, y: int) -> list[int]:
    """Return the positions of the GeoJSON features that intersect tile z/x/y."""
    geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in features])
    return np.flatnonzero(shapely.intersects(geoms, shapely.box(*tile_box(z, x, y)))).tolist()


def test_links_name_the_tiles_and_the_tilejson(run: dict[str, Any]) -> None:
    rid, links = run["answer"]["id"], run["answer"]["links"]
    assert links["tiles"] == f"/api/analysis/results/{rid}/{{z}}/{{x}}/{{y}}.mvt"
    assert links["tilejson"] == f"/api/analysis/results/{rid}/tiles.json"


@pytest.mark.parametrize("zxy", [Z14, *Z16])
def test_a_tile_holds_the_features_that_meet_it(
    client: TestClient, run: dict[str, Any], zxy: tuple[int, int, int]
) -> None:
    r = client.get(_url(run, *zxy), headers=PLANNER)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["cache-control"].startswith("private, max-age=")
    tile = decode(r.content)
    for name in ("white_spots", "coverage", "cameras"):
        features = run["layers"][name]
        want = _expected(features, *zxy)
        got = tile.get(name, {"features": []})["features"]
        # the white-spot count (and each feature's id = its position in the GeoJSON)
        assert sorted(f["id"] for f in got) == want, name
        if want:
            assert tile[name]["extent"] == EXTENT
        for f in got:
            geojson = {k: v for k, v in features[f["id"]]["properties"].items() if v is not None}
            assert f["properties"] == geojson
            coords = np.array(shapely.get_coordinates(shapely.geometry.shape(f["geometry"])))
            assert (coords >= -BUFFER).all() and (coords <= EXTENT + BUFFER).all()
    assert run["layers"]["white_spots"]  # the scope has white spots at all


def test_a_spot_inside_a_tile_keeps_its_shape(client: TestClient, run: dict[str, Any]) -> None:
    z, x, y = Z14
    west, south, east, north = tile_box(z, x, y)
    tile = decode(client.get(_url(run, z, x, y), headers=PLANNER).content)
    drawn = {f["id"]: f for f in tile["white_spots"]["features"]}
    spots = run["layers"]["white_spots"]
    for i in range(min(5, len(spots))):  # the heaviest spots
        shape = shapely.geometry.shape(spots[i]["geometry"])
        mvt = shapely.geometry.shape(drawn[i]["geometry"])
        # tile units -> lon/lat (linear enough for a comparison of areas at z14)
        back = shapely.transform(
            mvt,
            lambda c: np.column_stack(
                (
                    west + c[:, 0] / EXTENT * (east - west),
                    north - c[:, 1] / EXTENT * (north - south),
                )
            ),
        )
        back = shapely.make_valid(back)  # snapping to the grid may make a ring touch itself
        assert shapely.area(shapely.symmetric_difference(shape, back)) < 0.05 * shape.area


def test_layers_can_be_chosen_and_tiles_revalidate(client: TestClient, run: dict[str, Any]) -> None:
    url = _url(run, *Z14)
    only = client.get(url, params={"layer": "white_spots"}, headers=PLANNER)
    assert set(decode(only.content)) == {"white_spots"}
    bad = client.get(url, params={"layer": "crime"}, headers=PLANNER)
    assert bad.status_code == 400 and "crime" in bad.json()["detail"]
    first = client.get(url, headers=PLANNER)
    etag = first.headers["etag"]
    again = client.get(url, headers={**PLANNER, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    plain = client.get(url, headers={**PLANNER, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == first.content
    far = client.get(_url(run, 16, 0, 0), headers=PLANNER)  # nothing there
    assert far.status_code == 204


def test_tiles_need_a_planner_key_and_a_kept_result(
    client: TestClient, run: dict[str, Any]
) -> None:
    url = _url(run, *Z14)
    no_key = client.get(url)
    assert no_key.status_code == 401 and no_key.json()["error"] == "unauthorized"
    resident = client.get(url, headers=RESIDENT)
    assert resident.status_code == 403 and resident.json()["error"] == "forbidden"
    gone = client.get("/api/analysis/results/nope/14/11693/6004.mvt", headers=PLANNER)
    assert gone.status_code == 404 and gone.json()["error"] == "not_found"
    for z, x, y in [(23, 0, 0), (14, 16384, 6004), (14, 11693, -1), (-1, 0, 0)]:
        r = client.get(_url(run, z, x, y), headers=PLANNER)
        assert r.status_code == 400 and r.json()["error"] == "bad_input", (z, x, y)
    assert client.get(run["answer"]["links"]["tilejson"]).status_code == 401
    assert client.get(run["answer"]["links"]["tilejson"], headers=RESIDENT).status_code == 403
    assert client.get("/api/analysis/results/nope/tiles.json", headers=PLANNER).status_code == 404


def test_tilejson_describes_the_result(client: TestClient, run: dict[str, Any]) -> None:
    r = client.get(run["answer"]["links"]["tilejson"], headers=PLANNER)
    assert r.status_code == 200
    tj = r.json()
    assert tj["tilejson"] == "3.0.0" and tj["scheme"] == "xyz"
    assert tj["tiles"] == [f"http://testserver{run['answer']['links']['tiles']}"]
    assert tj["minzoom"] == 0 and tj["maxzoom"] == 16
    everything = [f for fs in run["layers"].values() for f in fs]
    west, south, east, north = tj["bounds"]
    w, s, e, n = shapely.total_bounds([shapely.geometry.shape(f["geometry"]) for f in everything])
    assert west <= w and south <= s and east >= e and north >= n
    assert (w - west) < 1e-5 and (e - east) > -1e-5
    layers = {v["id"]: v for v in tj["vector_layers"]}
    assert list(layers) == ["white_spots", "coverage", "cameras"]
    assert layers["white_spots"]["fields"] == {
        "rank": "Number",
        "area_m2": "Number",
        "weight": "Number",
        "district": "String",
        "street": "String",
        "street_distance_m": "Number",
        "layer": "String",
    }
    assert layers["cameras"]["fields"]["status"] == "String"
    chosen = client.get(
        run["answer"]["links"]["tilejson"], params={"layer": "white_spots"}, headers=PLANNER
    ).json()
    assert [v["id"] for v in chosen["vector_layers"]] == ["white_spots"]
    assert chosen["tiles"][0].endswith(".mvt?layer=white_spots")


def test_a_placement_result_has_tiles_of_its_proposed_cameras(client: TestClient) -> None:
    r = client.post(
        "/api/analysis/placement", json={"scope": SCOPE, "k": 2, "limit": 0}, headers=PLANNER
    )
    assert r.status_code == 200, r.text
    body = r.json()
    proposed = body["proposed"]["features"]
    tile = decode(
        client.get(body["links"]["tiles"].format(z=14, x=11693, y=6004), headers=PLANNER).content
    )
    assert {"proposed", "white_spots"} <= set(tile) and "cameras" not in tile
    assert sorted(f["id"] for f in tile["proposed"]["features"]) == _expected(proposed, *Z14)
    assert {f["properties"]["rank"] for f in tile["proposed"]["features"]} <= {1, 2}
