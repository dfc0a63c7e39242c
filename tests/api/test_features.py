"""OGC API – Features over HTTP, on both stores: the bundled Almaty set (read-only) for
metadata, paging, bbox, time, downloads and a real client (GDAL's OAPIF driver); a small
store for injection attempts and edits."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import pytest
import shapely
import sqlalchemy as sa
import uvicorn
from fastapi.testclient import TestClient

import layers
from tests.support.frames import buildings_frame
from twin.app import create_app
from twin.core.access import Role, visible_layers
from twin.core.settings import AuthSettings, Settings, StoreSettings
from twin.store import Batch, Store, open_store

KEYS = "planner:plan-1,resident:res-1,admin:adm-1"
PLANNER = {"Authorization": "Bearer plan-1"}
RESIDENT = {"Authorization": "Bearer res-1"}
JSON = {"Accept": "application/json"}


def settings(url: str) -> Settings:
    return Settings(store=StoreSettings(database_url=url), auth=AuthSettings(api_keys=KEYS))


@pytest.fixture(scope="module")
def almaty(almaty_url: str) -> Iterator[tuple[TestClient, Store]]:
    """A client of the bundled Almaty set (tests must not write) and the store beneath it."""
    store = open_store(almaty_url, create=False)
    with TestClient(create_app(settings(almaty_url))) as client:
        yield client, store
    store.close()


def iso(dates: pd.Series) -> pd.Series:
    """Return dates as ISO text (the GeoPackage store reads them as text, PostGIS as dates)."""
    return dates.map(lambda v: None if v is None or pd.isna(v) else str(v)[:10]).astype(object)


def get(client: TestClient, url: str, **kw: Any) -> Any:
    r = client.get(url, **kw)
    assert r.status_code == 200, r.text
    return r.json()


# -- the service documents ----------------------------------------------------------------
def test_landing_and_conformance(almaty: tuple[TestClient, Store]) -> None:
    client, _ = almaty
    landing = get(client, "/", headers=JSON)
    rels = {link["rel"]: link["href"] for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"].endswith("/openapi.json")
    assert "/collections/{collectionId}/items" in get(client, rels["service-desc"])["paths"]
    conf = set(get(client, rels["conformance"])["conformsTo"])
    assert {
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
        "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    } <= conf
    # Browsers get the map at "/", not this document.
    assert (
        client.get("/", headers={"Accept": "text/html"})
        .headers["content-type"]
        .startswith("text/html")
    )


def test_collections_metadata(almaty: tuple[TestClient, Store]) -> None:
    client, store = almaty
    docs = {c["id"]: c for c in get(client, "/collections")["collections"]}
    assert list(docs) == [layer.id for layer in visible_layers(Role.ANONYMOUS)]
    assert "cameras" not in docs and "appeals" not in docs

    buildings = docs["buildings"]
    assert buildings["title"] == "Здания"  # Russian is the default
    assert buildings["attribution"] == "© OpenStreetMap contributors (ODbL)"
    assert buildings["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
    licences = [link for link in buildings["links"] if link["rel"] == "license"]
    assert licences and "odbl" in licences[0]["href"]
    rels = {link["rel"] for link in buildings["links"]}
    assert {"self", "items", "enclosure", "describedby"} <= rels
    frame = store.read_frame(layers.get("buildings"))
    assert buildings["extent"]["spatial"]["bbox"][0] == pytest.approx(
        list(frame.total_bounds), abs=1e-12
    )
    works = get(client, "/collections/works?lang=en")
    assert works["title"] == "Works by district"
    wf = store.read_frame(layers.get("works"))
    assert works["extent"]["temporal"]["interval"][0][0] == min(iso(wf["start_date"]).dropna())
    assert get(client, "/collections/works", headers={"Accept-Language": "kk"})["title"] == (
        "Аудандардағы жұмыстар"
    )
    r = client.get("/collections?lang=fr")
    assert r.status_code == 400 and "lang 'fr'" in r.json()["detail"]

    queryables = get(client, "/collections/schools/queryables")
    assert queryables["properties"]["capacity"]["type"] == "integer"
    assert queryables["properties"]["kind"]["enum"] == ["school", "kindergarten"]
    schema = get(client, "/collections/works/schema")
    assert schema["properties"]["properties"]["properties"]["start_date"]["format"] == "date"


@pytest.mark.parametrize("layer_id", ["cameras", "appeals"])
def test_planner_layers_are_404_for_everyone_else(
    almaty: tuple[TestClient, Store], layer_id: str
) -> None:
    client, _ = almaty
    urls = [
        f"/collections/{layer_id}",
        f"/collections/{layer_id}/items",
        f"/collections/{layer_id}/items/1",
        f"/collections/{layer_id}/queryables",
        f"/collections/{layer_id}/schema",
        f"/collections/{layer_id}/items?f=gpkg",
    ]
    for headers in ({}, RESIDENT):
        for url in urls:
            r = client.get(url, headers=headers)
            assert r.status_code == 404 and r.json()["detail"] == f"no layer {layer_id!r}", url
        r = client.post(f"/collections/{layer_id}/items", json={}, headers=headers)
        # without a key every edit is 401 before its body is read, whatever the collection
        assert r.status_code == (404 if headers else 401)
    hidden = client.post(f"/collections/{layer_id}/items", json={})
    missing = client.post("/collections/no-such-layer/items", json={})
    assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())
    planner_ids = [c["id"] for c in get(client, "/collections", headers=PLANNER)["collections"]]
    assert layer_id in planner_ids
    page = get(client, f"/collections/{layer_id}/items?limit=2", headers=PLANNER)
    assert page["numberReturned"] == 2


# -- items ----------------------------------------------------------------------------------
def walk(client: TestClient, url: str) -> tuple[list[int], int]:
    """Follow ``next`` links from ``url``; return every feature id seen and numberMatched."""
    seen: list[int] = []
    matched = -1
    while url:
        page = get(client, url)
        assert page["numberReturned"] == len(page["features"])
        matched = page["numberMatched"]
        seen += [f["id"] for f in page["features"]]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), "")
    return seen, matched


def test_paging_reaches_every_feature_once(almaty: tuple[TestClient, Store]) -> None:
    client, store = almaty
    frame = store.read_frame(layers.get("schools"))
    seen, matched = walk(client, "/collections/schools/items?limit=400")
    assert len(seen) == len(set(seen)) == matched == len(frame)
    assert sorted(seen) == sorted(frame["fid"].tolist())

    # Sorted on a column with ties and nulls, filtered: still each match exactly once.
    url = "/collections/schools/items?limit=97&sortby=-capacity&filter=kind%20%3D%20'school'"
    seen, matched = walk(client, url)
    expected = frame[frame["kind"] == "school"]
    assert len(seen) == len(set(seen)) == matched == len(expected)
    assert set(seen) == set(expected["fid"])
    capacity = expected.set_index("fid").loc[seen, "capacity"]
    known = capacity.dropna()
    assert known.is_monotonic_decreasing and capacity.isna().sum() == len(capacity) - len(known)
    assert capacity.iloc[len(known) :].isna().all()  # nulls last

    page = get(client, "/collections/schools/items?limit=10&offset=20")
    prev = next(link["href"] for link in page["links"] if link["rel"] == "prev")
    assert "offset=10" in prev and "limit=10" in prev


@pytest.mark.parametrize(
    ("layer_id", "bbox"),
    [
        ("buildings", (76.90, 43.22, 76.95, 43.26)),
        ("roads", (76.93, 43.23, 76.95, 43.25)),
        ("pois", (76.80, 43.10, 77.10, 43.40)),
    ],
)
def test_bbox_matches_shapely(
    almaty: tuple[TestClient, Store], layer_id: str, bbox: tuple[float, ...]
) -> None:
    client, store = almaty
    frame = store.read_frame(layers.get(layer_id))
    expected = set(frame.loc[frame.intersects(shapely.box(*bbox)), "fid"])
    box = ",".join(map(str, bbox))
    page = get(client, f"/collections/{layer_id}/items?bbox={box}&limit=10000")
    assert page["numberMatched"] == len(expected) > 0
    assert {f["id"] for f in page["features"]} == expected


def test_datetime_on_works(almaty: tuple[TestClient, Store]) -> None:
    client, store = almaty
    frame = store.read_frame(layers.get("works"))
    start, end = iso(frame["start_date"]), iso(frame["end_date"])
    for when, (a, b) in [
        ("2024-06-01", ("2024-06-01", "2024-06-01")),
        ("2023-01-01/2023-12-31", ("2023-01-01", "2023-12-31")),
        ("2025-01-01/..", ("2025-01-01", "9999")),
    ]:
        hit = start.notna() & (start <= b) & (end.isna() | (end >= a))
        seen, matched = walk(client, f"/collections/works/items?datetime={when}&limit=10000")
        assert matched == int(hit.sum()) > 0 and set(seen) == set(frame.loc[hit, "fid"]), when
    r = client.get("/collections/buildings/items?datetime=2024-01-01")
    assert r.status_code == 400 and "has no time properties" in r.json()["detail"]


def test_properties_subset(almaty: tuple[TestClient, Store]) -> None:
    client, _ = almaty
    page = get(client, "/collections/buildings/items?properties=levels,name&limit=5")
    assert page["features"]
    for f in page["features"]:
        assert list(f["properties"]) == ["name", "levels", "synthetic"]
    r = client.get("/collections/buildings/items?properties=name,password")
    assert r.status_code == 400 and "unknown property 'password'" in r.json()["detail"]


def test_single_item(almaty: tuple[TestClient, Store]) -> None:
    client, store = almaty
    frame = store.read_frame(layers.get("health"))
    row = frame.iloc[3]
    r = client.get(f"/collections/health/items/{row['fid']}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    feature = r.json()
    assert feature["id"] == row["fid"] and feature["properties"]["name"] == row["name"]
    assert shapely.geometry.shape(feature["geometry"]).equals(row.geometry)
    assert feature["properties"]["synthetic"] == bool(row["synthetic"])
    for fid in ["999999", "abc", "-1", "0", "99999999999999999999999", "1%20OR%201=1"]:
        r = client.get(f"/collections/health/items/{fid}")
        assert r.status_code == 404 and r.json()["error"] == "not_found", fid


def test_downloads_read_back(almaty: tuple[TestClient, Store], tmp_path: Path) -> None:
    client, store = almaty
    layer = layers.get("schools")
    frame = store.read_frame(layer)

    r = client.get("/collections/schools/items?f=gpkg")
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="schools.gpkg"'
    (tmp_path / "schools.gpkg").write_bytes(r.content)
    back = pyogrio.read_dataframe(tmp_path / "schools.gpkg", fid_as_index=True)
    assert len(back) == len(frame) and sorted(back.index) == sorted(frame["fid"])
    assert {*layer.prop_names, "synthetic"} <= set(back.columns)
    assert back.loc[frame["fid"], "name"].fillna("").tolist() == frame["name"].fillna("").tolist()

    r = client.get("/collections/schools/items?f=csv&filter=capacity%20%3E%201000")
    assert r.headers["content-disposition"] == 'attachment; filename="schools.csv"'
    table = pd.read_csv(io.StringIO(r.text))
    expected = frame[frame["capacity"] > 1000]
    assert len(table) == len(expected) > 0
    assert set(table["fid"]) == set(expected["fid"])
    geoms = shapely.from_wkt(table.set_index("fid").loc[expected["fid"], "WKT"].to_numpy())
    assert all(shapely.equals(geoms, expected.geometry.to_numpy()))

    # Accept negotiates too.
    r = client.get("/collections/districts/items", headers={"Accept": "text/csv"})
    assert r.headers["content-type"].startswith("text/csv") and len(r.text.splitlines()) == 9


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("/collections/buildings/items?limit=10001", "above the maximum of 10,000"),
        ("/collections/buildings/items?limit=1000000000000", "above the maximum of 10,000"),
        ("/collections/buildings/items?bbox=60,30,90,55", "4 times the city's extent"),
        ("/collections/buildings/items?bbox=-180,-90,180,90", "4 times the city's extent"),
        ("/collections/buildings/items?bbox=1,2,3", "bbox must be 4 numbers"),
        ("/collections/buildings/items?filter=levels%20%3E", "filter:"),
        ("/collections/buildings/items?filter=levels%20%3D%3D%201", "filter:"),
        ("/collections/buildings/items?filter=(levels%20%3D%201", "expected ')'"),
        ("/collections/buildings/items?offset=abc", "offset"),
        ("/collections/buildings/items?datetime=x", "has no time properties"),
        ("/collections/works/items?datetime=2024-99-01", "is not a date"),
        ("/collections/buildings/items?f=xml", "f='xml' is not supported"),
        ("/collections/buildings/items?crs=EPSG:3857", "crs 'EPSG:3857' is not supported"),
        ("/collections/buildings/items?foo=bar", "unknown query parameter 'foo'"),
        ("/collections/buildings/items?levels=lots", "'levels' is an integer"),
        ("/collections/buildings?f=html", "only json"),
    ],
)
def test_limits_and_malformed_requests_are_400(
    almaty: tuple[TestClient, Store], url: str, problem: str
) -> None:
    client, _ = almaty
    r = client.get(url)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "bad_input" and problem in r.json()["detail"]


# -- a real client --------------------------------------------------------------------------
@pytest.fixture
def served(almaty_url: str) -> Iterator[str]:
    """Serve the app with uvicorn in a background thread on a free port; yield its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings(almaty_url)), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# GDAL holds the GIL while it downloads pages, so it runs in its own process: in this one it
# would wait forever for the server thread.
GDAL_CLIENT = """
import json, sys, pyogrio
url = "OAPIF:" + sys.argv[1]
layers = [str(name) for name, _ in pyogrio.list_layers(url)]
schools = pyogrio.read_dataframe(url, layer="schools")
boxed = pyogrio.read_dataframe(url, layer="buildings", bbox=(76.92, 43.23, 76.94, 43.25))
info = pyogrio.read_info(url, layer="works")
print(json.dumps({
    "layers": layers,
    "schools": len(schools),
    "school_columns": list(schools.columns),
    "school_names": schools["name"].fillna("").tolist(),
    "capacity": str(schools["capacity"].dtype),
    "boxed": len(boxed),
    "works_fields": dict(zip(info["fields"].tolist(), info["ogr_types"])),
    "works_count": int(info["features"]),
}))
"""


def test_gdal_oapif_client_reads_us(served: str, almaty_url: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", GDAL_CLIENT, served],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    store = open_store(almaty_url, create=False)
    try:
        assert seen["layers"] == [layer.id for layer in visible_layers(Role.ANONYMOUS)]
        schools = store.read_frame(layers.get("schools"))
        assert seen["schools"] == len(schools)
        assert seen["school_names"] == schools["name"].fillna("").tolist()
        assert {*layers.get("schools").prop_names, "synthetic"} <= set(seen["school_columns"])
        assert seen["capacity"] != "object"  # typed from our JSON Schema, not guessed
        box = shapely.box(76.92, 43.23, 76.94, 43.25)
        buildings = store.read_frame(layers.get("buildings"))
        assert seen["boxed"] == int(buildings.intersects(box).sum()) > 0
        assert seen["works_fields"]["start_date"] == "OFTDate"
        assert seen["works_count"] == store.count(layers.get("works"))
    finally:
        store.close()


# -- injection and edits on a small store ------------------------------------------------
@pytest.fixture
def small(store_url: str) -> Iterator[tuple[TestClient, Store]]:
    store = open_store(store_url)
    store.load([Batch(layers.get("buildings"), "osm", buildings_frame(3), "f", "0" * 64, "x")])
    with TestClient(create_app(settings(store_url))) as client:
        yield client, store
    store.close()


def snapshot(store: Store) -> tuple[Any, ...]:
    """Return what a successful injection would change."""
    tables = sorted(sa.inspect(store.engine).get_table_names())
    return tables, store.counts(), store.checksum(layers.get("buildings")), store.last_change_id()


INJECTIONS = [
    "/collections/buildings;DROP TABLE buildings/items",
    "/collections/buildings'%20OR%20'1'='1/items",
    "/collections/%22buildings%22/items",
    "/collections/twin_meta/items",
    "/collections/rtree_buildings_geom/items",
    "/collections/sqlite_master/items",
    "/collections/pg_catalog.pg_tables/items",
    "/collections/..%2Fcameras/items",
    "/collections/buildings/items?properties=name,%22levels%22;%20DROP%20TABLE%20buildings",
    "/collections/buildings/items?properties=name)%20FROM%20buildings;--",
    "/collections/buildings/items?properties=*",
    "/collections/buildings/items?filter=1=1;%20DROP%20TABLE%20buildings",
    "/collections/buildings/items?filter=levels%20=%201;%20DELETE%20FROM%20buildings",
    "/collections/buildings/items?filter=name%20=%20'x'%20OR%20'1'='1'",
    "/collections/buildings/items?filter=name%20=%20'x'%20--",
    "/collections/buildings/items?filter=name%20=%20'x'%20UNION%20SELECT%20*%20FROM%20twin_meta",
    "/collections/buildings/items?filter=levels%20IN%20(SELECT%20fid%20FROM%20buildings)",
    "/collections/buildings/items?filter=pg_sleep(5)%20=%201",
    "/collections/buildings/items?filter=load_extension('x')%20=%201",
    "/collections/buildings/items?filter=UPPER(name)%20=%20'X'",
    "/collections/buildings/items?filter=DROP%20TABLE%20buildings",
    "/collections/buildings/items?filter=%22name%22%22;%20DROP%20TABLE%20buildings;--%22%20=%201",
    "/collections/buildings/items?sortby=name;%20DROP%20TABLE%20buildings",
    "/collections/buildings/items?sortby=(SELECT%201)",
    "/collections/buildings/items?sortby=random()",
    "/collections/buildings/items?sortby=-name--",
    "/collections/buildings/items?sortby=1",
    "/collections/buildings/items?name'%20OR%201=1--=x",
    "/collections/buildings/items?limit=1;DROP%20TABLE%20buildings",
    "/collections/buildings/items/1;DROP%20TABLE%20buildings",
    "/collections/buildings/items/1%20OR%201=1",
]


def test_injection_attempts_are_refused_and_change_nothing(
    small: tuple[TestClient, Store],
) -> None:
    client, store = small
    before = snapshot(store)
    for url in INJECTIONS:
        r = client.get(url, headers=PLANNER)
        assert r.status_code in (400, 404), (url, r.status_code, r.text)
        assert r.json()["error"] in ("bad_input", "not_found"), url
    for url in INJECTIONS[:3]:
        r = client.delete(url.replace("/items", "/items/1"), headers=PLANNER)
        assert r.status_code == 404
    # A hostile value inside a well-formed filter is only a value.
    r = client.get(
        "/collections/buildings/items?filter=name%20%3D%20'''%3B%20DROP%20TABLE%20buildings%3B%20--'"
    )
    assert r.status_code == 200 and r.json()["numberMatched"] == 0
    assert snapshot(store) == before


def square(x: float, y: float) -> dict[str, Any]:
    ring = [[x, y], [x + 0.001, y], [x + 0.001, y + 0.001], [x, y + 0.001], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_edits_over_http(small: tuple[TestClient, Store]) -> None:
    client, store = small
    url = "/collections/buildings/items"
    body = {"type": "Feature", "geometry": square(76.95, 43.25), "properties": {"levels": 4}}

    r = client.post(url, json=body)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert r.json()["error"] == "unauthorized"
    r = client.post(url, json=body, headers=RESIDENT)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert client.post(url, json=body, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert store.count(layers.get("buildings")) == 3

    before = snapshot(store)
    for bad, problem in [
        ({**body, "geometry": {"type": "Point", "coordinates": [76.9, 43.2]}}, "Point where"),
        ({**body, "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}}, "GeoJSON"),
        ({**body, "properties": {"levels": "four"}}, "is not an integer"),
        ({**body, "properties": {"colour": "red"}}, "unknown property 'colour'"),
    ]:
        r = client.post(url, json=bad, headers=PLANNER)
        assert r.status_code == 400 and problem in r.json()["detail"], r.text
    r = client.post(
        url, content=b"{not json", headers={**PLANNER, "Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert snapshot(store) == before

    r = client.post(
        url, content=json.dumps(body), headers={**PLANNER, "Content-Type": "application/geo+json"}
    )
    assert r.status_code == 201, r.text
    created = r.json()
    fid = created["id"]
    assert r.headers["location"].endswith(f"/collections/buildings/items/{fid}")
    assert created["properties"]["levels"] == 4 and created["properties"]["synthetic"] is False
    assert get(client, f"{url}/{fid}")["geometry"]["type"] == "MultiPolygon"
    assert store.last_change_id() > before[3]

    r = client.patch(f"{url}/{fid}", json={"properties": {"name": "Дом"}}, headers=PLANNER)
    assert r.status_code == 200 and r.json()["properties"]["levels"] == 4
    assert r.json()["properties"]["name"] == "Дом"
    r = client.put(
        f"{url}/{fid}", json=body | {"properties": {}}, headers={"Authorization": "Bearer adm-1"}
    )
    assert r.status_code == 200 and r.json()["properties"]["levels"] is None
    r = client.patch(f"{url}/{fid}", json={"properties": {"levels": -1}}, headers=PLANNER)
    assert r.status_code == 400

    assert client.delete(f"{url}/{fid}", headers=RESIDENT).status_code == 403
    r = client.delete(f"{url}/{fid}", headers=PLANNER)
    assert r.status_code == 204 and r.content == b""
    assert client.get(f"{url}/{fid}").status_code == 404
    assert client.delete(f"{url}/{fid}", headers=PLANNER).status_code == 404
    assert client.put(f"{url}/{fid}", json=body, headers=PLANNER).status_code == 404
    assert store.count(layers.get("buildings")) == 3
