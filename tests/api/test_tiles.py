"""Vector tiles over HTTP: status codes, caching headers, roles, TileJSON, the style, and
refusal of injection through layer names."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import layers
from tests.support.frames import buildings_frame
from tests.tiles.mvtcheck import decode
from tiles.grid import lonlat_to_tile_xy
from twin.app import create_app
from twin.core.settings import AuthSettings, Settings, StoreSettings
from twin.store import Batch, open_store

PLANNER = {"Authorization": "Bearer plan-123"}
RESIDENT = {"Authorization": "Bearer res-1"}
CENTRE = (76.93, 43.24)
STYLE_VALIDATOR = (
    Path(__file__).parents[2]
    / "web/node_modules/@maplibre/maplibre-gl-style-spec/dist/gl-style-validate.mjs"
)


def _app(url: str) -> TestClient:
    settings = Settings(
        store=StoreSettings(database_url=url),
        auth=AuthSettings(api_keys="planner:plan-123,resident:res-1"),
    )
    return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def client(almaty_url: str) -> Iterator[TestClient]:
    with _app(almaty_url) as c:
        yield c


def _path(layer: str, z: int, where: tuple[float, float] = CENTRE) -> str:
    x, y = lonlat_to_tile_xy(*where, z)
    return f"/tiles/{layer}/{z}/{x}/{y}.mvt"


def test_a_tile_with_its_headers(client: TestClient) -> None:
    r = client.get(_path("buildings", 15))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["cache-control"] == "public, max-age=0, must-revalidate"
    assert "Authorization" in r.headers["vary"] and "Accept-Encoding" in r.headers["vary"]
    assert r.headers["etag"].startswith('"') and r.headers["x-tile-cache"] in ("miss", "stored")
    assert list(decode(r.content)) == ["buildings"]
    again = client.get(_path("buildings", 15))
    assert again.headers["x-tile-cache"] == "hit" and again.headers["etag"] == r.headers["etag"]


def test_without_gzip_the_body_is_plain(client: TestClient) -> None:
    r = client.get(_path("roads", 14), headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200 and "content-encoding" not in r.headers
    assert "roads" in decode(r.content)
    refused = client.get(_path("roads", 14), headers={"Accept-Encoding": "gzip;q=0, br"})
    assert "content-encoding" not in refused.headers


def test_if_none_match_is_304(client: TestClient) -> None:
    etag = client.get(_path("roads", 13)).headers["etag"]
    for header in (etag, f'"x", {etag}', f"W/{etag}", "*"):
        r = client.get(_path("roads", 13), headers={"If-None-Match": header})
        assert r.status_code == 304 and r.headers["etag"] == etag and not r.content
    assert client.get(_path("roads", 13), headers={"If-None-Match": '"other"'}).status_code == 200


def test_an_empty_tile_is_204(client: TestClient) -> None:
    r = client.get(_path("buildings", layers.get("buildings").minzoom - 1))
    assert r.status_code == 204 and not r.content and "etag" not in r.headers


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/buildings/23/0/0.mvt",
        "/tiles/buildings/-1/0/0.mvt",
        "/tiles/buildings/3/8/0.mvt",
        "/tiles/buildings/3/0/8.mvt",
        "/tiles/buildings/3/0/-1.mvt",
        "/tiles/buildings/a/0/0.mvt",
        "/tiles/buildings/3/0/1.5.mvt",
        "/tiles/buildings/3/0/99999999999999999999999.mvt",
    ],
)
def test_outside_the_grid_is_400(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 400
    assert r.json()["error"] == "bad_input"


def test_planner_layers_are_404_without_a_key_exactly_like_missing_ones(
    client: TestClient,
) -> None:
    hidden = client.get(_path("cameras", 15))
    missing = client.get(_path("no_such_layer", 15))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == {"error": "not_found", "detail": "no layer 'cameras'"}
    assert client.get(_path("cameras", 15), headers=RESIDENT).status_code == 404
    assert client.get("/tiles/cameras.json").status_code == 404
    assert client.get(_path("cameras", 15), headers=PLANNER).status_code == 200
    assert (
        client.get(_path("cameras", 15), headers={"Authorization": "Bearer x"}).status_code == 401
    )


def test_composites_leave_out_what_the_caller_may_not_see(client: TestClient) -> None:
    r = client.get(_path("buildings,cameras,roads,nope", 15))
    assert r.status_code == 200 and set(decode(r.content)) == {"buildings", "roads"}
    assert r.headers["cache-control"].startswith("public")
    planner = client.get(_path("buildings,cameras,roads", 15), headers=PLANNER)
    assert set(decode(planner.content)) == {"buildings", "cameras", "roads"}
    assert planner.headers["cache-control"].startswith("private")
    assert client.get(_path("cameras,nope", 15)).status_code == 404
    braces = client.get(_path("{buildings,roads}", 15))
    assert braces.status_code == 200 and set(decode(braces.content)) == {"buildings", "roads"}


def test_appeals_are_public_only_as_hexagons(client: TestClient) -> None:
    for z in (11, 15, 18):
        r = client.get(_path("appeals", z))
        assert r.status_code == 200
        features = decode(r.content)["appeals"]["features"]
        assert {f["geometry"]["type"] for f in features} == {"Polygon"}
        assert all(set(f["properties"]) == {"count", "h3", "resolution"} for f in features)
    planner = decode(client.get(_path("appeals", 16), headers=PLANNER).content)
    assert {f["geometry"]["type"] for f in planner["appeals"]["features"]} == {"Point"}


@pytest.mark.parametrize(
    "name",
    [
        "buildings;DROP TABLE buildings",
        "buildings'--",
        "buildings' OR '1'='1",
        '"buildings"',
        "buildings%20OR%201=1",
        "buildings)--",
        "pg_catalog.pg_tables",
        "twin_meta",
        "sqlite_master",
        "rtree_buildings_geom",
        "BUILDINGS",
    ],
)
def test_injection_through_the_layer_name_is_404_and_changes_nothing(
    client: TestClient, almaty_url: str, name: str
) -> None:
    store = open_store(almaty_url, create=False)
    try:
        before = store.counts()
        r = client.get(f"/tiles/{name}/15/23386/12008.mvt")
        assert r.status_code == 404, name
        assert client.get(f"/tiles/{name}.json").status_code == 404
        assert store.counts() == before
    finally:
        store.close()


def test_tilejson(client: TestClient) -> None:
    tj = client.get("/tiles/buildings.json").json()
    assert tj["tilejson"] == "3.0.0"
    assert tj["tiles"] == ["http://testserver/tiles/buildings/{z}/{x}/{y}.mvt"]
    assert (tj["minzoom"], tj["maxzoom"]) == (12, 16)
    west, south, east, north = tj["bounds"]
    assert 76.5 < west < east < 77.5 and 42.9 < south < north < 43.7
    lon, lat, zoom = tj["center"]
    assert west < lon < east and south < lat < north and 12 <= zoom <= 16
    assert tj["attribution"] == "© OpenStreetMap contributors (ODbL)"
    (vl,) = tj["vector_layers"]
    assert vl["id"] == "buildings" and vl["description"]
    assert vl["fields"]["levels"] == "Number" and vl["fields"]["name"] == "String"
    assert not {"source", "row_hash", "fid", "synthetic"} & set(vl["fields"])


def test_tilejson_follows_the_role(client: TestClient) -> None:
    public = client.get("/tiles/appeals.json").json()["vector_layers"][0]
    assert public["fields"] == {"count": "Number", "h3": "String", "resolution": "Number"}
    planner = client.get("/tiles/appeals.json", headers=PLANNER).json()["vector_layers"][0]
    assert {"category", "status", "count"} <= set(planner["fields"])
    both = client.get("/tiles/roads,cameras,schools.json").json()
    assert [v["id"] for v in both["vector_layers"]] == ["roads", "schools"]
    assert both["tiles"] == ["http://testserver/tiles/roads,schools/{z}/{x}/{y}.mvt"]


def _urls(style: dict) -> list[str]:  # type: ignore[type-arg]
    return [u for s in style["sources"].values() for u in s.get("tiles", [])]


def test_style_is_generated_from_what_the_caller_may_see(client: TestClient) -> None:
    style = client.get("/style.json").json()
    assert style["version"] == 8 and "glyphs" not in style
    assert all(u.startswith("http://testserver/tiles/") for u in _urls(style))
    ids = {sl["metadata"].get("twin:layer") for sl in style["layers"]}
    assert {"landuse", "waterways", "parks", "roads", "railways", "buildings", "districts"} <= ids
    assert "cameras" not in ids and "cameras" not in json.dumps(style["sources"])
    appeals = [sl for sl in style["layers"] if sl["metadata"].get("twin:layer") == "appeals"]
    assert [sl["metadata"]["twin:part"] for sl in appeals] == ["hexagons"]
    assert not [sl for sl in style["layers"] if sl["type"] == "symbol"]
    for layer in style["layers"][1:]:
        assert (
            layer["metadata"]["twin:module"] == layers.get(layer["metadata"]["twin:layer"]).module
        )
        assert f"/{layer['source-layer']}" in style["sources"][layer["source"]]["tiles"][0] or (
            layer["source-layer"] in style["sources"][layer["source"]]["tiles"][0]
        )
    roads = next(sl for sl in style["layers"] if sl["id"] == "roads")
    assert roads["paint"]["line-color"][0] == "match"  # by road class
    planner = client.get("/style.json", headers=PLANNER).json()
    assert "cameras" in {sl["metadata"].get("twin:layer") for sl in planner["layers"]}


def test_style_gets_labels_when_glyphs_are_served(
    almaty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWIN_TILES_GLYPHS_URL", "/glyphs/{fontstack}/{range}.pbf")
    with _app(almaty_url) as c:
        style = c.get("/style.json").json()
    assert style["glyphs"] == "http://testserver/glyphs/{fontstack}/{range}.pbf"
    labels = [sl for sl in style["layers"] if sl["type"] == "symbol"]
    assert {sl["metadata"]["twin:layer"] for sl in labels} >= {"roads", "districts"}


def test_style_passes_the_maplibre_validator(client: TestClient, tmp_path: Path) -> None:
    # web/node_modules is installed by scripts/setup (npm ci) on every machine that tests
    assert shutil.which("node") and STYLE_VALIDATOR.exists(), "run scripts/setup first"
    for headers in ({}, PLANNER):
        path = tmp_path / "style.json"
        path.write_text(client.get("/style.json", headers=headers).text)
        done = subprocess.run(
            ["node", str(STYLE_VALIDATOR), str(path)], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_an_edit_is_served_at_once_and_untouched_tiles_stay_cached(store_url: str) -> None:
    buildings = layers.get("buildings")
    near, far = (76.90, 43.25), (77.05, 43.35)
    store = open_store(store_url)
    store.load(
        [
            Batch(
                buildings, "near", buildings_frame(3, x0=near[0], y0=near[1]), "n", "0" * 64, "x"
            ),
            Batch(buildings, "far", buildings_frame(3, x0=far[0], y0=far[1]), "f", "0" * 64, "x"),
        ]
    )
    centre = (near[0] + 0.0005, near[1] + 0.0005)
    with _app(store_url) as c:
        a, b = _path("buildings", 16, centre), _path("buildings", 16, (far[0] + 0.0005, far[1]))
        first = c.get(a)
        assert c.get(a).headers["x-tile-cache"] == "hit" and c.get(b).status_code == 200
        edited = buildings_frame(1, x0=near[0], y0=near[1])
        edited["name"] = ["Акимат"]
        store.load([Batch(buildings, "near", edited, "n", "1" * 64, "x", replace=False)])
        now = c.get(a, headers={"If-None-Match": first.headers["etag"]})
        assert now.status_code == 200 and now.headers["x-tile-cache"] == "miss"
        names = {f["properties"].get("name") for f in decode(now.content)["buildings"]["features"]}
        assert "Акимат" in names and now.headers["etag"] != first.headers["etag"]
        assert c.get(b).headers["x-tile-cache"] == "hit"
    store.close()


def test_openapi_lists_the_tile_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/tiles/{layers}/{z}/{x}/{y}.mvt", "/tiles/{layers}.json", "/style.json"} <= set(paths)


def test_gzip_body_is_the_decoded_tile(client: TestClient) -> None:
    raw = client.get(_path("schools", 13), headers={"Accept-Encoding": "identity"}).content
    with client.stream("GET", _path("schools", 13)) as r:
        wire = b"".join(r.iter_raw())
    assert gzip.decompress(wire) == raw


def _without_fast_path(client: TestClient) -> TestClient:
    from twin.api.tiles import TileFastPath

    client.app.user_middleware = [  # type: ignore[attr-defined]
        m
        for m in client.app.user_middleware  # type: ignore[attr-defined]
        if m.cls is not TileFastPath
    ]
    return client


def test_the_fast_path_answers_exactly_as_the_route(
    almaty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # twin.api.tiles.TileFastPath answers tile requests without FastAPI's routing; an app
    # without it answers every one through the documented route. Both must agree on every
    # kind of answer: a tile, a cache hit, 204, 304, no gzip, a planner layer with and without
    # a key, a composite, a bad key, an unknown layer, a tile outside the grid.
    # Neither app keeps tiles in the GeoPackage here: two apps on one file share its kept
    # tiles (one would read as "stored" what the other drew), and so would every other test
    # of the session on this file. With nothing kept, X-Tile-Cache is each app's own memory
    # cache, so it must be equal on both stores; the kept tiles are the next test's.
    monkeypatch.setenv("TWIN_TILES_STORE_MB", "0")
    with_fast = _app(almaty_url)
    plain = _without_fast_path(_app(almaty_url))
    first = _path("buildings", 15)
    cases: list[tuple[str, dict[str, str]]] = [
        (first, {}),
        (first, {}),  # now cached
        (_path("buildings", 15, (10.0, 10.0)), {}),  # empty: 204
        (first, {"Accept-Encoding": "identity"}),
        (_path("cameras", 16), PLANNER),
        (_path("cameras", 16), {}),  # hidden: 404
        (_path("cameras", 16), {"Authorization": "Bearer nope"}),  # bad key: 401
        ("/tiles/buildings,cameras,roads/15/" + first.split("/", 4)[4], RESIDENT),
        ("/tiles/nowhere/15/1/1.mvt", {}),
        ("/tiles/buildings/23/1/1.mvt", {}),
        ("/tiles/buildings/3/9/1.mvt", {}),
    ]
    with with_fast as a, plain as b:
        assert a.app.state.tiles.stored is None and b.app.state.tiles.stored is None
        seen: list[str | None] = []
        for path, headers in cases:
            ra, rb = a.get(path, headers=headers), b.get(path, headers=headers)
            assert ra.status_code == rb.status_code, path
            assert ra.content == rb.content, path
            for h in ("content-type", "content-encoding", "cache-control", "vary", "etag"):
                assert ra.headers.get(h) == rb.headers.get(h), (path, h)
            assert ra.headers.get("x-tile-cache") == rb.headers.get("x-tile-cache"), path
            seen.append(ra.headers.get("x-tile-cache"))
        # drawn, then from memory; a planner's tile and the composite are drawn
        assert seen[:2] == ["miss", "hit"] and seen[4] == "miss" and seen[7] == "miss"
        etag = a.get(first).headers["etag"]
        assert etag == b.get(first).headers["etag"]
        ra, rb = (c.get(first, headers={"If-None-Match": etag}) for c in (a, b))
        assert ra.status_code == rb.status_code == 304
        assert ra.headers.get("etag") == rb.headers.get("etag") == etag


def test_the_fast_path_and_the_route_read_kept_tiles_alike(almaty_url: str) -> None:
    # With tiles kept in the GeoPackage (the default), a tile one app has drawn the other
    # reads from the file: X-Tile-Cache says "stored", and the bytes and ETag are the drawn
    # ones, through the fast path as through the route. PostGIS keeps no tiles: the other
    # app draws it again ("miss"), to the same bytes.
    kept = almaty_url.startswith("gpkg")
    with _app(almaty_url) as fast, _without_fast_path(_app(almaty_url)) as route:
        assert (fast.app.state.tiles.stored is not None) == kept
        assert (route.app.state.tiles.stored is not None) == kept
        for drawer, reader, path, headers in [
            (fast, route, _path("buildings", 14), {}),
            (route, fast, _path("roads", 14), {}),
            (fast, route, _path("cameras", 16), PLANNER),
            (route, fast, _path("schools", 13), {"Accept-Encoding": "identity"}),
        ]:
            # drawn now, or read from the file where an earlier test of the session drew it
            drawn = drawer.get(path, headers=headers)
            assert drawn.status_code == 200, path
            assert drawn.headers["x-tile-cache"] in (("miss", "stored") if kept else ("miss",))
            # the reader's memory cache is its own, and it has never asked for this tile
            read = reader.get(path, headers=headers)
            assert read.headers["x-tile-cache"] == ("stored" if kept else "miss"), path
            assert read.status_code == 200 and read.content == drawn.content, path
            for h in ("content-type", "content-encoding", "cache-control", "vary", "etag"):
                assert read.headers.get(h) == drawn.headers.get(h), (path, h)
