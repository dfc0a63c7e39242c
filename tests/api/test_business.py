"""``POST /api/analysis/site/batch``: a business's own sites scored, on the bundled Almaty set
(both stores)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import h3
import pytest
from fastapi.testclient import TestClient

from tests.support.app import app_client

URL = "/api/analysis/site/batch"


@pytest.fixture(scope="module")
def client(almaty_url: str) -> Iterator[TestClient]:
    """Staff (unmetered): the batch and the report are for business accounts and staff;
    plans and metering are tested in test_plans.py."""
    with app_client(almaty_url, api_keys="planner:planner-key-business") as c:
        c.headers["Authorization"] = "Bearer planner-key-business"
        yield c


def _csv(rows: list[tuple[object, ...]], header: str = "name,lon,lat") -> bytes:
    return (header + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n").encode()


def test_sites_score_as_their_cells(client: TestClient) -> None:
    """A site scores exactly as the single-cell answer of its cell: rank, score, points."""
    cells = client.get(URL.rsplit("/", 1)[0], params={"category": "pharmacy", "top": 30}).json()
    picked = cells["features"][::6]
    centres = [h3.cell_to_latlng(p["properties"]["h3"]) for p in picked]
    rows = [(f"s{i}", lon, lat) for i, (lat, lon) in enumerate(centres)]
    r = client.post(URL, params={"category": "pharmacy"}, content=_csv(rows),
                    headers={"content-type": "text/csv"})  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scored"] == len(picked) and body["unresolved"] == []
    for got, want in zip(body["features"], picked, strict=True):
        g, w = got["properties"], want["properties"]
        assert g["h3"] == w["h3"] and g["rank"] == w["rank"]
        for k in ("score", "demand_pts", "competition_pts", "access_pts", "residents_within"):
            assert g[k] == pytest.approx(w[k], rel=1e-9), k
        assert g["why"] == w["why"]
        assert g["total"] == cells["total"]
        assert 0 <= g["residents_5min"] <= g["residents_10min"] <= g["residents_15min"]
        # a site at its cell's centre is where its cell is: the same nearest address/street
        assert (g["place"], g["place_kind"]) == (w["place"], w["place_kind"])
    assert [f["properties"]["label"] for f in body["features"]] == [r[0] for r in rows]


def test_a_site_on_an_outlet_has_it_as_nearest_competitor(client: TestClient) -> None:
    outlets = client.get(
        "/api/analysis/catchments", params={"category": "pharmacy", "geometry": "point"}
    ).json()["features"]
    outlet = outlets[len(outlets) // 2]
    lon, lat = outlet["geometry"]["coordinates"]
    geo = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
         "properties": {"name": "here"}}]}  # fmt: skip
    r = client.post(URL, params={"category": "pharmacy", "filename": "sites.geojson"},
                    content=json.dumps(geo))  # fmt: skip
    assert r.status_code == 200, r.text
    nearest = r.json()["features"][0]["properties"]["competitors"]
    assert nearest[0]["fid"] == outlet["properties"]["fid"] and nearest[0]["walk_min"] < 1
    assert [c["walk_min"] for c in nearest] == sorted(c["walk_min"] for c in nearest)


def test_addresses_resolve_with_search_or_are_reported(client: TestClient) -> None:
    hit = client.get("/api/search", params={"q": "Абая", "limit": 1}).json()
    hit = hit["results"][0] if isinstance(hit, dict) else hit[0]
    data = _csv([("known", hit["label"].replace(",", " ")), ("nowhere", "Qzxwv Jjjkq 99999")],
                header="name,address")  # fmt: skip
    r = client.post(URL, params={"category": "cafe", "filename": "a.csv"}, content=data)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [f["properties"]["label"] for f in body["features"]] == ["known"]
    resolved = body["features"][0]["properties"]["resolved_as"]
    assert resolved["label"] and resolved["layer"]
    assert [(u["row"], u["label"], u["reason"]) for u in body["unresolved"]] == [
        (2, "nowhere", "no match")
    ]


def test_abaya_10_resolves_inside_the_city_on_its_avenue(client: TestClient) -> None:
    """Known answer: the only "Абая, 10" in the data is a house in a village north of the
    city (search ranks it first); inside the city, проспект Абая has houses 34–79, so house
    10 is placed on the avenue east of them, near the real one (Dostyk corner, 76.955)."""
    village = client.get("/api/search", params={"q": "Абая 10", "limit": 1}).json()
    village = village["results"][0] if isinstance(village, dict) else village[0]
    assert village["point"][1] > 43.41  # the hit outside the city that was taken before
    data = 'name,address\nA,Абая 10\nB,проспект Абая 10\nC,"Абая прс., 36"\n'.encode()
    r = client.post(URL, params={"category": "cafe", "filename": "a.csv"}, content=data)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["unresolved"] == [] and body["scored"] == 3
    a, b, c = body["features"]
    for f in (a, b):
        lon, lat = f["geometry"]["coordinates"]
        assert 76.94 < lon < 76.96 and 43.235 < lat < 43.25, (lon, lat)
        props = f["properties"]
        assert props["inside"] and props["rank"] >= 1 and props["district"]
        how = props["resolved_as"]
        assert how["precision"] == "interpolated" and how["house"] == "10"
        assert how["layer"] == "roads" and "Абая" in how["label"]
        assert len(how["from_houses"]) == 2
    # a house the data has is that house, not an interpolation
    assert c["properties"]["resolved_as"]["precision"] == "feature"
    assert c["properties"]["resolved_as"]["label"] == "Абая прс., 36"


def test_rows_outside_the_city_are_listed_and_the_others_scored(client: TestClient) -> None:
    data = (
        "name,address,lon,lat\n"
        "ok,Абая 10,,\n"
        "bazaar,Базар Искандер,,\n"  # a place the data has, north-east of the city
        "abroad,,10.0,50.0\n"
        "nowhere,Qzxwv Jjjkq 99999,,\n"
    ).encode()
    r = client.post(URL, params={"category": "cafe", "filename": "a.csv"}, content=data)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [f["properties"]["label"] for f in body["features"]] == ["ok"]
    assert [(u["row"], u["label"], u["reason"]) for u in body["unresolved"]] == [
        (2, "bazaar", "outside the city"),
        (3, "abroad", "outside the city"),
        (4, "nowhere", "no match"),
    ]
    assert body["unresolved"][0]["best_guess"]["label"] == "Базар Искандер"
    # a row of coordinates has no address: null, not NaN (which no browser parses)
    assert body["unresolved"][1]["address"] is None and "NaN" not in r.text
    # no row usable at all: 400 naming each row's reason
    bad = "name,address,lon,lat\nbazaar,Базар Искандер,,\nx,,10,50\nq,Qzxwv,,\n".encode()
    r = client.post(URL, params={"category": "cafe", "filename": "a.csv"}, content=bad)
    assert r.status_code == 400
    assert r.json()["detail"] == (
        "no site can be scored: outside the city: row 1, 2; no match: row 3"
    )


@pytest.mark.parametrize(
    ("data", "params", "status", "says"),
    [
        (b"name,foo\na,b\n", {}, 400, "lon and lat columns or an address"),
        (b"name,lon,lat\na,76.9,\n", {}, 400, "row 1: give both lon and lat"),
        (b"name,lon,lat\na,east,43.2\n", {}, 400, "row 1: lon 'east' is not a number"),
        (b"name,lon,lat\na,nan,43.2\n", {}, 400, "not a finite number"),
        (b"name,lon,lat\na,10.0,10.0\n", {}, 400, "outside the city: row 1"),
        (b"name,lon,lat\n", {}, 400, "no candidate sites"),
        (b'{"type":"Feature"}', {"filename": "x.geojson"}, 400, "FeatureCollection"),
        (b"\xff\xfe", {"filename": "x.csv"}, 400, "not UTF-8"),
        (b"name,lon,lat\n" + b"a,76.9,43.2\n" * 1001, {}, 413, "more than 1000 rows"),
        (b"name,lon,lat\na,76.9,43.2\n", {"category": "casino"}, 400, "casino"),
    ],
)
def test_bad_files_are_refused_naming_the_problem(
    client: TestClient, data: bytes, params: dict[str, str], status: int, says: str
) -> None:
    r = client.post(URL, params={"category": "pharmacy", **params}, content=data)
    assert r.status_code == status, r.text
    assert says in r.json()["detail"]


def test_a_body_larger_than_the_limit_is_refused_before_parsing(client: TestClient) -> None:
    r = client.post(URL, params={"category": "pharmacy"}, content=b"x" * 2_000_001)
    assert r.status_code == 413 and "larger than" in r.json()["detail"]


REPORT = "/api/analysis/site/report"


def _a_site(client: TestClient) -> tuple[float, float, dict[str, object]]:
    best = client.get(URL.rsplit("/", 1)[0], params={"category": "pharmacy", "top": 1}).json()
    props = best["features"][0]["properties"]
    lat, lon = h3.cell_to_latlng(props["h3"])
    return lon, lat, props


def test_report_html_in_kazakh_carries_the_figures(client: TestClient) -> None:
    lon, lat, cell = _a_site(client)
    r = client.get(REPORT, params={"category": "pharmacy", "lon": lon, "lat": lat,
                                   "label": "Дәріхана <b>1</b>", "lang": "kk"})  # fmt: skip
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "Нарық есебі" in page and "Дәріхана &lt;b&gt;1&lt;/b&gt;" in page  # escaped
    assert "<svg" in page and "<script" not in page
    # the cell's score with a Kazakh decimal comma, its rank of all cells
    assert f"{cell['score']:.1f}".replace(".", ",") + " / 100" in page
    assert "Деректер: көзі, жасы, толықтығы" in page and "ODbL" in page


def test_report_pdf_is_a_real_pdf_with_the_site_and_figures(client: TestClient) -> None:
    import io

    import pypdf

    lon, lat, cell = _a_site(client)
    params = {"category": "pharmacy", "lon": lon, "lat": lat, "label": "Pharmacy on Abay",
              "lang": "en", "format": "pdf"}  # fmt: skip
    r = client.get(REPORT, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf" and r.content[:5] == b"%PDF-"
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(r.content)).pages)
    text = " ".join(text.split())
    assert "Market report: Pharmacy on Abay" in text
    assert "Business: Pharmacies" in text
    assert f"Site score {cell['score']:.1f} / 100" in text
    assert f"Rank among city cells {cell['rank']:,} /" in text
    assert "Nearest competitors" in text and "Method" in text


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"lon": 10.0, "lat": 10.0}, "outside the city"),
        ({"lon": 76.9, "lat": 43.25, "lang": "de"}, "lang"),
        ({"lon": 76.9, "lat": 43.25, "format": "docx"}, "format"),
        ({"lon": 999, "lat": 43.25}, "lon"),
    ],
)
def test_report_refuses_bad_input(client: TestClient, params: dict[str, object], says: str) -> None:
    r = client.get(REPORT, params={"category": "pharmacy", **params})
    assert r.status_code == 400 and says in r.json()["detail"], r.text


def test_report_says_how_old_and_complete_each_source_is(client: TestClient) -> None:
    """The data's age is the time it describes (the bundled outlets are a 2012 map), not the
    day it was loaded, and its completeness is said in words a bank or landlord can weigh."""
    import re

    lon, lat, _ = _a_site(client)
    page = client.get(REPORT, params={"category": "pharmacy", "lon": lon, "lat": lat,
                                      "lang": "en"}).text  # fmt: skip
    sources = page.split("Data: source, age, completeness", 1)[1].split("<h2>", 1)[0]
    assert "<th>Data as of</th>" in sources and "<th>Completeness</th>" in sources
    rows = {re.sub("<[^>]+>", "", r.split("</td>", 1)[0]): r for r in sources.split("<tr><td>")[1:]}
    pois = rows["Points of interest"]
    assert "<td>2012-03</td>" in pois and "<td>sparse</td>" in pois
    # and, apart from it, the day the layer was last loaded into the twin
    assert re.search(r"<td>\d{4}-\d{2}-\d{2}</td></tr>$", pois), pois
    assert "<td>2024-11</td><td>complete</td>" in rows["Districts"]
    # buildings: how many of the city's estimated count the 2012 map has
    assert re.search(r"sparse — [\d,]+ of an estimated 50,544 \(\d+ %\)", rows["Buildings"])
    assert "A 2012 map: many buildings, streets and places are missing" in sources
    ru = client.get(REPORT, params={"category": "pharmacy", "lon": lon, "lat": lat}).text
    assert "Данные на" in ru and "очень неполные" in ru
