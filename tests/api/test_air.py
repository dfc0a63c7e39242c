"""``/api/air`` and the air station card's data, over the real bundled readings (both stores).

Known answers come from the raw file: kgmt_27's 24 hourly PM10 values stamped
2026-04-23 12:00-07:00 … 2026-04-24 11:00-07:00 (Almaty's 24 April, UTC+5) average 4.4596.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
import shapely.geometry
from fastapi.testclient import TestClient
from rasterio.io import MemoryFile

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


def test_a_days_surface_as_a_geotiff_and_contour_bands(client: TestClient) -> None:
    """Issue 19.4: the surface is served as a GeoTIFF (values in µg/m³, nothing outside the
    city) and as vector bands of its colour classes, both the same grid as the PNG's."""
    params = {"day": "2024-01-15", "parameter": "pm10", "cell": "1000"}
    body = client.get("/api/air/surface", params=params).json()
    assert body["geotiff"].startswith("/api/air/surface.tif?")
    assert body["contours"].startswith("/api/air/surface/contours?")
    tif = client.get(body["geotiff"])
    assert tif.status_code == 200, tif.text
    assert tif.headers["content-type"] == "image/tiff"
    with MemoryFile(tif.content) as mem, mem.open() as src:
        assert src.crs.to_epsg() == 32643 and src.res == (1000.0, 1000.0)
        assert (src.height, src.width) == (body["grid"]["rows"], body["grid"]["cols"])
        values = src.read(1, masked=True)
        assert src.tags()["method"] == body["method"] and "CC BY-NC" in src.tags()["licence"]
        # cells outside the city are nodata; inside, the values span the answer's range
        assert 0 < values.count() < values.size
        assert round(float(values.min()), 2) == body["range"]["min"]
        assert round(float(values.max()), 2) == body["range"]["max"]
    bands = client.get(body["contours"])
    assert bands.status_code == 200 and bands.headers["content-type"] == "application/geo+json"
    doc = bands.json()
    assert doc["method"] == body["method"] and "CC BY-NC" in doc["licence"]
    classes = body["classes"]
    assert doc["features"], "at least the band the stations' values fall in"
    for f in doc["features"]:
        p = f["properties"]
        assert classes[p["class"]]["color"] == p["color"]
        assert p["upto"] == classes[p["class"]]["upto"]
        shape = shapely.geometry.shape(f["geometry"])
        assert shape.geom_type in ("Polygon", "MultiPolygon") and shape.is_valid
    # the bands cover the city's cells and no more: their area is the GeoTIFF's valid cells
    metric = pyproj.Transformer.from_crs(4326, 32643, always_xy=True)

    def to_metric(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(metric.transform(xy[:, 0], xy[:, 1]))

    area = sum(
        shapely.transform(shapely.geometry.shape(f["geometry"]), to_metric).area
        for f in doc["features"]
    )
    assert area == pytest.approx(values.count() * 1000.0**2, rel=1e-3)
    # the class of each band holds the values of its cells: the highest reading's band
    top = max(doc["features"], key=lambda f: f["properties"]["class"])
    upto = top["properties"]["upto"]
    assert upto is None or body["range"]["max"] <= upto
