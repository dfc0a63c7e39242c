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


def test_unknown_district_is_404(client: TestClient) -> None:
    r = client.get("/api/districts/Atlantis")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
