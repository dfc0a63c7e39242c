"""Open311 GeoReport v2 at /open311/v2, read by a real client from PyPI (``georeport``, JSON and
XML) against our uvicorn-served app on both stores, written to with the spec's form encoding,
and checked against the field names of the spec's examples (wiki.open311.org/GeoReport_v2).

``three`` and ``open311`` from PyPI were tried too: both are Python 2 code and do not import on
Python 3.11; ``georeport`` has no POST, so filing is sent as the spec's form POST with httpx.
"""

from __future__ import annotations

import csv
import io
import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import requests
from georeport import GeoReport

from tests.appeals.scene import LAT, LON, load_scene, north_of
from tests.support.accounts import sign_up_resident
from tests.support.postgres import create_database
from twin.app import create_app
from twin.core.settings import AuthSettings, Settings, StoreSettings
from twin.store import open_store

# The keys of the spec's example answers.
SPEC_SERVICE = {
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
}
SPEC_REQUEST = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
SPEC_POSTED = {"service_request_id", "service_notice", "account_id"}
RANGE = {"start_date": "2026-09-15T00:00:00Z", "end_date": "2026-12-01T00:00:00Z"}


STAFF = {"Authorization": "Bearer staff-key"}


@pytest.fixture(scope="module", params=["geopackage", "postgis"])
def base(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the app on a store of each kind with the scene, by uvicorn on a free port; yield
    its URL. One server per module: each test files as its own residents, and listings look at
    the scene's dates only."""
    if request.param == "geopackage":
        store_url = f"gpkg:///{tmp_path_factory.mktemp('open311')}/twin.gpkg"
    else:
        store_url = create_database(request.getfixturevalue("postgis_url"), "twin_open311")
    store = open_store(store_url)
    load_scene(store)
    store.close()
    app = create_app(
        Settings(
            store=StoreSettings(database_url=store_url),
            auth=AuthSettings(api_keys="planner:staff-key"),
        )
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


Headers = dict[str, str]


@pytest.fixture
def resident(base: str, caplog: pytest.LogCaptureFixture) -> Callable[[], Headers]:
    """Return a function signing up a new resident through the real accounts API (the
    verification code read from the server's log) and returning its bearer header."""

    def new() -> Headers:
        with httpx.Client(base_url=base) as client:
            return sign_up_resident(client, caplog).headers  # type: ignore[arg-type]

    return new


def _post(base: str, who: Headers | None, **fields: str) -> httpx.Response:
    return httpx.post(f"{base}/open311/v2/requests.json", data=fields, headers=who or {})


def test_a_real_client_reads_services_and_requests_in_json_and_xml(base: str) -> None:
    for fmt in ("json", "xml"):
        client = GeoReport(f"{base}/open311/v2", output_format=fmt)
        services = client.get_service_list()
        assert len(services) == 12
        assert set(services[0]) >= SPEC_SERVICE
        water = next(s for s in services if s["service_code"] == "water")
        assert water["group"] == "ГКП «Алматы Су»"
        listed = client.get_service_requests(**RANGE)
        assert [r["service_request_id"] for r in listed] == ["3", "2", "1"]
        for r in listed:
            assert set(r) >= SPEC_REQUEST
        one = client.get_service_request("2")
        assert one["status"] == "open" and one["service_code"] == "lighting"
        assert one["agency_responsible"] == "ТОО «Алматы қала жарық»"
        closed = client.get_service_requests(status="closed", **RANGE)
        # xmltodict (inside georeport) gives a lone <request> as a dict, not a list
        closed = closed if isinstance(closed, list) else [closed]
        assert [r["service_request_id"] for r in closed] == ["1"]
    json_one = GeoReport(f"{base}/open311/v2").get_service_request("1")
    assert json_one["lat"] == pytest.approx(north_of(LON, LAT, 200)[1])
    assert json_one["requested_datetime"] == "2026-10-01T00:00:00Z"
    assert json_one["expected_datetime"] == "2026-10-22T23:59:59Z"


def test_a_sensitive_category_shows_no_point_and_no_author_to_the_public(
    base: str, resident: Callable[[], Headers]
) -> None:
    public = GeoReport(f"{base}/open311/v2").get_service_request("3")
    assert public["service_code"] == "healthcare"
    assert public["lat"] is None and public["long"] is None and public["x_district"]
    staff = httpx.get(f"{base}/open311/v2/requests/3.json", headers=STAFF).json()[0]
    assert staff["lat"] == pytest.approx(north_of(LON, LAT, 600)[1])
    r = _post(
        base,
        resident(),
        service_code="healthcare",
        lat=str(LAT),
        long=str(LON),
        description="Поликлиника №5 не принимает",
        address_string="ул. Абая 1",
    )
    assert r.status_code == 201, r.text
    new_id = r.json()[0]["service_request_id"]
    seen = httpx.get(f"{base}/open311/v2/requests/{new_id}.json").json()[0]
    assert (seen["description"], seen["address"], seen["lat"]) == (None, None, None)
    everything = httpx.get(f"{base}/open311/v2/requests.json", params=RANGE).text
    assert "Поликлиника" not in everything and "account" not in everything.replace(
        '"account_id"', ""
    )


def test_a_resident_files_with_the_spec_form_and_gets_the_duplicate_hint(
    base: str, resident: Callable[[], Headers]
) -> None:
    r = _post(
        base,
        resident(),
        service_code="lighting",
        lat=str(LAT),
        long=str(LON),
        description="Не горит фонарь",
    )
    assert r.status_code == 201, r.text
    (posted,) = r.json()
    assert set(posted) >= SPEC_POSTED and posted["service_notice"] is None
    lat2 = north_of(LON, LAT, 20)[1]
    r2 = _post(
        base,
        resident(),
        service_code="lighting",
        lat=str(lat2),
        long=str(LON),
        description="Темно во дворе",
    )
    (second,) = r2.json()
    assert second["x_duplicates"] == posted["service_request_id"]
    assert "#" + posted["service_request_id"] in second["service_notice"]
    got = GeoReport(f"{base}/open311/v2").get_service_request(posted["service_request_id"])
    assert got["description"] == "Не горит фонарь" and got["status"] == "open"
    assert got["lat"] == pytest.approx(LAT)


def test_staff_move_an_appeal_and_its_author_rates_it(
    base: str, resident: Callable[[], Headers]
) -> None:
    author = resident()
    r = _post(
        base,
        author,
        service_code="waste",
        lat=str(LAT),
        long=str(LON),
        description="Контейнер переполнен",
    )
    rid = r.json()[0]["service_request_id"]
    url = f"{base}/api/appeals/{rid}"
    other = resident()
    staff = STAFF
    assert (
        httpx.post(f"{url}/status", json={"status": "assigned"}, headers=author).status_code == 403
    )
    r = httpx.post(f"{url}/status", json={"status": "resolved"}, headers=staff)
    assert r.status_code == 400 and "cannot become 'resolved'" in r.json()["detail"]
    for status in ("assigned", "in_progress", "resolved"):
        r = httpx.post(f"{url}/status", json={"status": status}, headers=staff)
        assert r.status_code == 200, r.text
    assert [h["status"] for h in r.json()["x_history"]] == [
        "received",
        "assigned",
        "in_progress",
        "resolved",
    ]
    assert r.json()["x_history"][-1]["by_role"] == "planner"
    assert httpx.post(f"{url}/rating", json={"score": 2}, headers=other).status_code == 403
    r = httpx.post(f"{url}/rating", json={"score": 5}, headers=author)
    assert r.status_code == 200 and r.json()["x_satisfaction"] == 5
    mine = httpx.get(f"{base}/api/appeals/mine", headers=author).json()["appeals"]
    assert [a["service_request_id"] for a in mine] == [rid]
    assert "by_key_id" not in mine[0]["x_history"][-1]
    # in the map's language (the resident's list named categories in Russian in any language)
    english = httpx.get(f"{base}/api/appeals/mine?lang=en", headers=author).json()["appeals"]
    assert (english[0]["service_name"], mine[0]["service_name"]) == (
        "Waste collection",
        "Вывоз мусора",
    )
    bad = httpx.get(f"{base}/api/appeals/mine?lang=de", headers=author)
    assert bad.status_code == 400 and "lang must be one of" in bad.json()["detail"]
    assert GeoReport(f"{base}/open311/v2").get_service_request(rid)["status"] == "closed"


@pytest.mark.parametrize(
    ("who", "fields", "status", "problem"),
    [
        (
            None,
            {"service_code": "water", "lat": "43.25", "long": "76.9", "description": "x"},
            401,
            "sign in",
        ),
        (
            True,
            {"service_code": "nope", "lat": "43.25", "long": "76.9", "description": "x"},
            400,
            "unknown service_code",
        ),
        (
            True,
            {"service_code": "water", "lat": "43.25", "long": "77.9", "description": "x"},
            400,
            "outside the city",
        ),
        (
            True,
            {"service_code": "water", "lat": "43.25", "long": "76.9", "description": " "},
            400,
            "description is empty",
        ),
        (
            True,
            {"service_code": "water", "lat": "43.25", "long": "76.9", "description": "x" * 4001},
            400,
            "at most 4000",
        ),
        (
            True,
            {"service_code": "water", "lat": "north", "long": "76.9", "description": "x"},
            400,
            "lat must be a number",
        ),
    ],
)
def test_bad_posts_answer_in_the_open311_error_format(
    base: str,
    resident: Callable[[], Headers],
    who: bool | None,
    fields: dict[str, str],
    status: int,
    problem: str,
) -> None:
    r = _post(base, resident() if who else None, **fields)
    assert r.status_code == status
    (err,) = r.json()
    assert err["code"] == status and problem in err["description"]


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("page_size=201", "page_size must be at most 200"),
        ("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", "90 days"),
        ("start_date=yesterday", "W3C datetime"),
        ("bbox=1,2,3", "bbox must be four numbers"),
        ("status=pending", "status must be open or closed"),
        ("service_code=pothole", "unknown service_code"),
    ],
)
def test_bad_listings_are_400_in_the_open311_format(base: str, query: str, problem: str) -> None:
    r = httpx.get(f"{base}/open311/v2/requests.json?{query}")
    assert r.status_code == 400
    assert problem in r.json()[0]["description"]
    x = requests.get(f"{base}/open311/v2/requests.xml?{query}")
    assert x.status_code == 400 and "<errors><error><code>400</code>" in x.text


def test_filters_bbox_service_code_and_pages(base: str) -> None:
    def ids(**params: str) -> list[str]:
        r = httpx.get(f"{base}/open311/v2/requests.json", params={**RANGE, **params})
        assert r.status_code == 200, r.text
        return [x["service_request_id"] for x in r.json()]

    assert ids(service_code="lighting") == ["2", "1"]
    assert ids(service_code="lighting,healthcare", page_size="2") == ["3", "2"]
    assert ids(service_code="lighting,healthcare", page_size="2", page="2") == ["1"]
    south = north_of(LON, LAT, 300)[1]
    assert ids(bbox=f"{LON - 0.01},{LAT},{LON + 0.01},{south}") == ["1"]
    assert ids(start_date="2026-10-02T00:00:00Z", end_date="2026-10-02T23:59:59Z") == ["2"]
    assert ids(service_request_id="1,3") == ["3", "1"]
    r = httpx.get(f"{base}/open311/v2/requests.json", params={**RANGE, "page_size": "1"})
    assert r.headers["x-total-count"] == "3"
    assert httpx.get(f"{base}/open311/v2/requests/999.json").json()[0]["code"] == 404
    # ids past PostGIS' 32-bit fid are a miss, not "integer out of range" (a 500 the fuzz found)
    for big in ("13065841668", "13550783622959772"):
        assert httpx.get(f"{base}/api/appeals/{big}").status_code == 404, big
        assert httpx.get(f"{base}/open311/v2/requests/{big}.json").json()[0]["code"] == 404
    assert ids(service_request_id="1,13065841668") == ["1"]


# -- the analyses' routes ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/api/analysis/appeals",
        "/api/analysis/appeals/hotspots",
        "/api/analysis/appeals/emerging",
        "/api/analysis/appeals/forecast",
    ],
)
def test_the_analyses_are_for_staff(base: str, path: str, resident: Callable[[], Headers]) -> None:
    assert httpx.get(f"{base}{path}").status_code == 401
    assert httpx.get(f"{base}{path}", headers=resident()).status_code == 403


def test_staff_analyses_answer_on_the_scene(base: str) -> None:
    r = httpx.get(
        f"{base}/api/analysis/appeals",
        params={"start": "2026-10-01", "end": "2026-10-31", "as_of": "2026-11-01"},
        headers=STAFF,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["appeals"] == 3 and body["by_service"] == {"city_lighting": 2, "public_health": 1}
    assert body["formula"].startswith("score = 100")
    r = httpx.get(
        f"{base}/api/analysis/appeals/hotspots",
        params={"res": 9, "permutations": 99},
        headers=STAFF,
    )
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    assert sum(f["properties"]["count"] for f in r.json()["features"]) >= 3
    csv_r = httpx.get(
        f"{base}/api/analysis/appeals/hotspots", params={"format": "csv"}, headers=STAFF
    )
    # a file for a spreadsheet: the UTF-8 byte-order mark first (twin.core.spreadsheet)
    assert csv_r.text.startswith("\ufeffcell,count,z,p,label")
    r = httpx.get(f"{base}/api/analysis/appeals/forecast", headers=STAFF)
    assert r.status_code == 400 and "months of history" in r.json()["detail"]
    r = httpx.get(f"{base}/api/analysis/appeals/hotspots", params={"res": 7}, headers=STAFF)
    assert r.status_code == 400 and "res must be one of 8, 9" in r.json()["detail"]


def test_staff_figures_download_as_named_files(base: str, resident: Callable[[], Headers]) -> None:
    """The services' table and the hot spots as files: CSV (or GeoJSON) with a name saying
    what was asked, the same figures as the JSON; refused to a resident or no one."""
    asked = {"start": "2026-10-01", "end": "2026-10-31", "as_of": "2026-11-01", "lang": "en"}
    url = f"{base}/api/analysis/appeals"
    figures = httpx.get(url, params=asked, headers=STAFF).json()
    r = httpx.get(url, params={**asked, "format": "csv"}, headers=STAFF)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == (
        'attachment; filename="appeal-services-2026-10-01-2026-10-31-en.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert sorted(x["service"] for x in rows) == ["city_lighting", "public_health"]
    assert [x["service"] for x in rows] == [s["service"] for s in figures["services"]]
    for row, service in zip(rows, figures["services"], strict=True):
        assert row["title"] == service["title"] and int(row["appeals"]) == service["appeals"]
        assert row["score"] == str(service["score"])
    assert {x["service"]: int(x["appeals"]) for x in rows} == figures["by_service"]

    hot = f"{base}/api/analysis/appeals/hotspots"
    asked = {"res": 9, "permutations": 99, "category": "lighting"}
    asked.update(start="2026-10-01", end="2026-10-31")
    r = httpx.get(hot, params=asked, headers=STAFF)
    assert r.headers["content-type"] == "application/geo+json"
    name = "appeal-hotspots-res9-lighting-2026-10-01-2026-10-31"
    assert r.headers["content-disposition"] == f'inline; filename="{name}.geojson"'
    cells = {f["properties"]["cell"]: f["properties"] for f in r.json()["features"]}
    r = httpx.get(hot, params={**asked, "format": "csv"}, headers=STAFF)
    assert r.headers["content-disposition"] == f'attachment; filename="{name}.csv"'
    table = {x["cell"]: x for x in csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")))}
    assert sum(int(x["count"]) for x in table.values()) == 2  # the scene's two lighting appeals
    for cell, props in cells.items():
        assert int(table[cell]["count"]) == props["count"]
        assert float(table[cell]["z"]) == props["z"] and table[cell]["label"] == props["label"]

    bad = httpx.get(url, params={"format": "xlsx"}, headers=STAFF)
    assert bad.status_code == 400 and "format must be json or csv" in bad.json()["detail"]
    who = resident()
    for path in ("/api/analysis/appeals", "/api/analysis/appeals/forecast"):
        assert httpx.get(f"{base}{path}", params={"format": "csv"}).status_code == 401
        assert httpx.get(f"{base}{path}", params={"format": "csv"}, headers=who).status_code == 403
    for path in ("/api/analysis/appeals/hotspots", "/api/analysis/appeals/emerging"):
        for kind in ("csv", "geojson"):
            assert httpx.get(f"{base}{path}", params={"format": kind}).status_code == 401


def test_residents_see_ratings_and_k_anonymous_hexagons(base: str) -> None:
    r = httpx.get(f"{base}/api/appeals/ratings")
    assert r.status_code == 200 and "formula" in r.json()
    r = httpx.get(f"{base}/api/appeals/hexagons", params={"res": 9})
    assert r.status_code == 200
    assert all(f["properties"]["count"] >= r.json()["k"] for f in r.json()["features"])
    bad = httpx.get(f"{base}/api/appeals/hexagons", params={"res": 12})
    assert bad.status_code == 400
