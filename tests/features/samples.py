"""Small hand-built layers whose filter, sort and time answers are known by hand.

Six schools (points 0.01° apart along a diagonal), four works (squares with known time spans)
and three air sensors (timestamps and a JSON property). Every answer in the tests is written
against the ``source_id`` s1…s6 / w1…w4 / a1…a3 below.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import shapely

import layers
from etl.transform import conform
from twin.store import Batch, Store

SCHOOLS: list[dict[str, Any]] = [
    # source_id, name, kind, capacity, enrolled, language, district, wheelchair, ramp
    dict(id="s1", name="Школа 1", kind="school", capacity=500, enrolled=450, language="kk",
         district="Almaly", wheelchair="yes", ramp=True),
    dict(id="s2", name="школа 2", kind="school", capacity=800, enrolled=900, language="ru",
         district="Almaly", wheelchair="no", ramp=False),
    dict(id="s3", name="Gymnasium 3", kind="school", capacity=1200, enrolled=None,
         language="ru", district="Bostandyk", wheelchair="limited", ramp=None),
    dict(id="s4", name="Детский сад 'Солнышко'", kind="kindergarten", capacity=120,
         enrolled=100, language="kk", district="Medeu", wheelchair="unknown", ramp=True),
    dict(id="s5", name=None, kind="kindergarten", capacity=None, enrolled=80, language=None,
         district="Medeu", wheelchair=None, ramp=None),
    dict(id="s6", name="50%_discount\\", kind="school", capacity=300, enrolled=300,
         language="en", district="Auezov", wheelchair="yes", ramp=False),
]  # fmt: skip
SCHOOL_XY = {f"s{i + 1}": (76.90 + 0.01 * i, 43.25 + 0.01 * (i // 2)) for i in range(6)}

WORKS: list[dict[str, Any]] = [
    dict(id="w1", title="Ремонт двора", kind="repair", status="done",
         start_date="2024-01-01", end_date="2024-03-31", budget_kzt=1.5e6),
    dict(id="w2", title="Сквер", kind="landscaping", status="in_progress",
         start_date="2024-03-01", end_date=None, budget_kzt=None),
    dict(id="w3", title="Школа", kind="construction", status="done",
         start_date="2023-05-01", end_date="2023-06-01", budget_kzt=9e8),
    dict(id="w4", title="Без даты", kind="repair", status="planned",
         start_date=None, end_date=None, budget_kzt=0.0),
]  # fmt: skip

AIR: list[dict[str, Any]] = [
    dict(id="a1", station_id="K1", network="kazhydromet", pm10=12.5, aqi="good",
         first_reading="2023-01-01T00:00:00Z", last_reading="2023-12-31T23:00:00Z",
         readings=[{"d": "2023-12-31", "v": 12.5}]),
    dict(id="a2", station_id="W2", network="waqi", pm10=None, aqi="moderate",
         first_reading="2024-01-01T06:00:00+06:00", last_reading="2024-06-01T12:30:00Z",
         readings=None),
    dict(id="a3", station_id="A3", network="airgradient", pm10=80.0, aqi=None,
         first_reading=None, last_reading="2024-01-01T00:00:00Z",
         readings={"note": "кириллица"}),
]  # fmt: skip


def _frame(layer_id: str, rows: list[dict[str, Any]], geoms: list[Any]) -> gpd.GeoDataFrame:
    layer = layers.get(layer_id)
    raw = gpd.GeoDataFrame(rows, geometry=geoms, crs=4326)
    result = conform(raw, layer, origin=f"sample:{layer_id}")
    assert not result.rejected, result.rejected
    return result.frame


def schools_frame() -> gpd.GeoDataFrame:
    """Return the six schools, conformed."""
    return _frame("schools", SCHOOLS, [shapely.Point(*SCHOOL_XY[r["id"]]) for r in SCHOOLS])


def works_frame() -> gpd.GeoDataFrame:
    """Return the four works (0.002° squares), conformed."""
    squares = [shapely.box(76.95 + 0.01 * i, 43.20, 76.952 + 0.01 * i, 43.202) for i in range(4)]
    return _frame("works", WORKS, squares)


def air_frame() -> gpd.GeoDataFrame:
    """Return the three air sensors, conformed."""
    return _frame("air_sensors", AIR, [shapely.Point(76.9 + 0.05 * i, 43.3) for i in range(3)])


def load_samples(store: Store) -> dict[str, dict[str, int]]:
    """Load the three sample layers into ``store``; return fid by source_id, per layer."""
    frames = {"schools": schools_frame(), "works": works_frame(), "air_sensors": air_frame()}
    store.load(
        [
            Batch(layers.get(k), "sample", f, "sample", "0" * 64, "CC0-1.0")
            for k, f in frames.items()
        ]
    )
    fids: dict[str, dict[str, int]] = {}
    for k in frames:
        stored = store.read_frame(layers.get(k))
        fids[k] = dict(zip(stored["source_id"], stored["fid"].astype(int), strict=True))
    return fids
