"""``/api/air`` and the air station card's data, over the real bundled readings (both stores).

Known answers come from the raw file: kgmt_27's 24 hourly PM10 values stamped
2026-04-23 12:00-07:00 … 2026-04-24 11:00-07:00 (Almaty's 24 April, UTC+5) average 4.4596.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pandas as pd
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


def test_a_station_series_holds_the_real_daily_means_with_unit_and_licence(
    client: TestClient,
) -> None:
    r = client.get(
        "/api/air/stations/kgmt_27/series",
        params={"parameter": "pm10", "start": "2026-04-20", "end": "2026-04-24"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [d["date"] for d in body["days"]] == [f"2026-04-2{i}" for i in range(5)]
    assert body["latest"] == {"date": "2026-04-24", "value": 4.46, "hours": 24}
    assert body["unit"] == "µg/m³" and body["timezone"] == "Asia/Almaty"
    assert "CC BY-NC 4.0" in body["licence"] and "AirData.kz" in body["attribution"]


def test_bad_series_requests_are_clear_4xx(client: TestClient) -> None:
    unknown = client.get("/api/air/stations/nowhere/series")
    assert unknown.status_code == 404 and "nowhere" in unknown.json()["detail"]
    pm25 = client.get("/api/air/stations/kgmt_27/series", params={"parameter": "pm25"})
    assert pm25.status_code == 400 and "pm25" in pm25.json()["detail"]
    backwards = client.get(
        "/api/air/stations/kgmt_27/series", params={"start": "2026-01-02", "end": "2026-01-01"}
    )
    assert backwards.status_code == 400
    assert client.get("/api/air/surface", params={"day": "1999-01-01"}).status_code == 404
    assert client.get("/api/air/surface", params={"day": "2024-01-15", "cell": 5}).status_code in (
        400,
        422,
    )


def test_a_days_surface_names_its_method_and_both_loo_errors(client: TestClient) -> None:
    r = client.get("/api/air/surface", params={"day": "2024-01-15", "parameter": "pm10"})
    assert r.status_code == 200, r.text
    body = r.json()
    cv = body["cross_validation"]
    assert cv["stations"] == len(body["stations"]) >= 4
    assert set(cv["errors"]) == {"idw", "kriging"}
    best = min(cv["errors"], key=lambda m: cv["errors"][m]["rmse"])
    assert body["method"] == cv["chosen"] == best
    assert {d["district"] for d in body["district_exposure"]} == set(DISTRICT_NAMES)
    assert sum(d["population"] for d in body["district_exposure"]) > 2_000_000
    assert "CC BY-NC 4.0" in body["licence"]
    png = client.get(body["image"])
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.headers["x-air-method"] == body["method"]


def test_the_station_card_shows_real_latest_values_of_one_day(almaty_url: str) -> None:
    store = open_store(almaty_url)
    try:
        frame = store.read_frame(layers.get("air_sensors")).set_index("station_id")
    finally:
        store.close()
    k27 = frame.loc["kgmt_27"]
    assert str(k27["latest_day"])[:10] == "2026-04-24"
    assert (k27["pm10"], k27["no2"], k27["aqi"]) == (4.46, 3.06, "good")
    series = json.loads(k27["readings"])
    assert series[-1] == {"date": "2026-04-24", "pm10": 4.46, "no2": 3.06}
    assert len(series) <= 30 and series[0]["date"] >= "2026-03-26"
    # a station measuring NO2 only shows no PM10 and no AQI; nothing is generated
    k26 = frame.loc["kgmt_26"]
    assert pd.isna(k26["pm10"]) and pd.isna(k26["aqi"])
    assert not frame["synthetic"].any()
    assert "pm25" not in frame.columns and "readings_synthetic" not in frame.columns


def test_the_city_daily_history_since_2017(client: TestClient) -> None:
    body = client.get("/api/air/city", params={"parameter": "pm25"}).json()
    assert body["days"][0] == {"date": "2017-03-21", "value": 91.98, "stations": 1}
    assert len(body["days"]) == 3317 and "CC BY-NC 4.0" in body["licence"]
    part = client.get(
        "/api/air/city", params={"parameter": "pm10", "start": "2021-12-02", "end": "2021-12-03"}
    ).json()
    assert part["days"] == [
        {"date": "2021-12-02", "value": 140.02, "stations": 9},
        {"date": "2021-12-03", "value": 85.11, "stations": 9},
    ]
    assert client.get("/api/air/city", params={"parameter": "o3"}).status_code == 400
