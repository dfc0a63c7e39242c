"""``/api/districts``: numbers straight from the ``district_indicators`` layer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

import layers
from layers.common import DISTRICT_NAMES
from tests.support.app import app_client
from twin.store import open_store


@pytest.fixture(scope="module")
def client(almaty_url: str) -> Iterator[TestClient]:
    with app_client(almaty_url) as c:
        yield c


@pytest.fixture(scope="module")
def rows(almaty_url: str) -> dict[tuple[str, int], dict]:
    store = open_store(almaty_url)
    try:
        frame = store.read_frame(layers.get("district_indicators"))
    finally:
        store.close()
    return {
        (r["district"], int(r["period"])): r
        for r in frame.drop(columns="geometry").to_dict("records")
    }


def test_overview_holds_every_district_and_year(client: TestClient, rows: dict) -> None:
    body = client.get("/api/districts").json()
    assert {d["name"] for d in body["districts"]} == set(DISTRICT_NAMES)
    assert body["years"] == sorted({y for _, y in rows})
    names = [i["name"] for i in body["indicators"]]
    assert "density" in names and "district" not in names and "period" not in names
    for (district, year), row in rows.items():
        assert body["values"][district][str(year)]["density"] == pytest.approx(row["density"])
    year = body["years"][-1]
    mean = sum(rows[(d, year)]["population"] for d in DISTRICT_NAMES) / len(DISTRICT_NAMES)
    assert body["city_average"][str(year)]["population"] == pytest.approx(mean, abs=0.01)


def test_one_district_history_average_others_and_rank(client: TestClient, rows: dict) -> None:
    body = client.get("/api/districts/almaly").json()
    assert body["district"] == "Almaly" and body["names"]["name_ru"] == "Алмалинский район"
    ind = {i["name"]: i for i in body["indicators"]}
    pop = ind["population"]
    assert pop["unit"] == "people" and pop["title"]["kk"] == "Халық саны"
    assert [p["value"] for p in pop["history"]] == [
        rows[("Almaly", p["year"])]["population"] for p in pop["history"]
    ]
    assert set(pop["others"]) == set(DISTRICT_NAMES) - {"Almaly"}
    year = body["year"]
    latest = pop["latest"]
    assert latest["value"] == rows[("Almaly", year)]["population"]
    ordered = sorted(DISTRICT_NAMES, key=lambda d: -rows[(d, year)]["population"])
    assert latest["rank"] == ordered.index("Almaly") + 1 and latest["of"] == 8


GENERATED_LATEST = {
    "schools_per_10k",
    "school_places_per_1k",
    "appeals_per_10k",
    "works_done",
    "cameras_per_10k",
}


def test_every_value_says_whether_it_is_generated(client: TestClient, rows: dict) -> None:
    body = client.get("/api/districts/Almaly").json()
    latest = body["year"]
    assert latest == max(y for _, y in rows)
    ind = {i["name"]: i for i in body["indicators"]}
    for name, i in ind.items():
        flagged_latest = name in GENERATED_LATEST
        assert i["latest"]["generated"] is flagged_latest, name
        assert bool(i["generated_from"]) is flagged_latest, name
        for series in (i["history"], i["city_average"], *i["others"].values()):
            assert {p["year"] for p in series} == {y for _, y in rows}
            for p in series:
                # History before the latest year is back-projected (but the area is the
                # boundary's every year); the latest year is generated only where it is
                # computed from generated layers.
                back = p["year"] < latest and name != "area_km2"
                assert p["generated"] is (back or flagged_latest), (name, p)
    cams = ind["cameras_per_10k"]["generated_from"]
    assert cams == [
        {
            "layer": "cameras",
            "title": {
                "ru": "Камеры видеонаблюдения",
                "kk": "Бейнебақылау камералары",
                "en": "CCTV cameras",
            },
        }
    ]
    # The real figures of the latest year are not marked.
    assert {n for n, i in ind.items() if not i["latest"]["generated"]} >= {
        "population",
        "density",
        "buildings",
        "clinics_per_10k",
        "bus_stops_per_10k",
        "green_m2_per_capita",
    }


def test_overview_lists_the_generated_years_of_each_indicator(client: TestClient) -> None:
    body = client.get("/api/districts").json()
    years = body["years"]
    for ind in body["indicators"]:
        expected = years if ind["name"] in GENERATED_LATEST else years[:-1]
        if ind["name"] == "area_km2":
            expected = []
        assert ind["generated_years"] == expected, ind["name"]


def test_unknown_district_is_404(client: TestClient) -> None:
    r = client.get("/api/districts/Atlantis")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
