"""Feature queries on both stores against the hand-built sample layers: every filter, sort and
time answer is known by hand, and the two stores must give byte-identical pages."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import layers
from tests.features.conftest import Sample
from tests.features.samples import load_samples
from tests.support.postgres import create_database
from twin.core.errors import BadInput
from twin.features import encode
from twin.features.params import parse_items_query
from twin.features.query import FeatureQueries, extent
from twin.store import Store, open_store

CITY = (76.74, 43.03, 77.17, 43.40)


def ids(store: Store, layer_id: str, fids: dict[str, dict[str, int]], **params: str) -> list[str]:
    """Return the source ids the query answers, in answer order."""
    by_fid = {v: k for k, v in fids[layer_id].items()}
    layer = layers.get(layer_id)
    q = parse_items_query(layer, list(params.items()), city=lambda: CITY)
    fs = FeatureQueries(store, layer).page(q)
    assert fs.number_matched is not None and fs.number_matched >= len(fs)
    return [by_fid[f] for f in fs.fids]


FILTERS = [
    ("capacity > 400", ["s1", "s2", "s3"]),
    ("1000 < capacity", ["s3"]),
    ("enrolled > capacity", ["s2"]),
    ("capacity <> 500", ["s2", "s3", "s4", "s6"]),
    ("name LIKE 'Школа%'", ["s1"]),
    ("name LIKE '%школа%'", ["s2"]),
    ("name LIKE '_кола%'", ["s1", "s2"]),
    ("name LIKE '50\\%\\_%'", ["s6"]),
    ("name LIKE '%t\\\\%'", ["s6"]),
    ("name LIKE '%''%'", ["s4"]),
    ("name NOT LIKE '%а%'", ["s3", "s6"]),
    ("kind IN ('kindergarten', 'college')", ["s4", "s5"]),
    ("kind NOT IN ('school')", ["s4", "s5"]),
    ("capacity BETWEEN 300 AND 800", ["s1", "s2", "s6"]),
    ("capacity NOT BETWEEN 300 AND 800", ["s3", "s4"]),
    ("name IS NULL", ["s5"]),
    ("language IS NOT NULL AND district = 'Medeu'", ["s4"]),
    ("ramp = TRUE", ["s1", "s4"]),
    ("NOT ramp = TRUE", ["s2", "s6"]),
    ("synthetic = FALSE AND wheelchair = 'yes'", ["s1", "s6"]),
    # AND binds tighter than OR.
    ("capacity > 400 OR kind = 'kindergarten' AND district = 'Medeu'",
     ["s1", "s2", "s3", "s4", "s5"]),
    ("(capacity > 400 OR kind = 'kindergarten') AND language = 'kk'", ["s1", "s4"]),
    ("name = '''; DROP TABLE schools; --'", []),
    ("S_INTERSECTS(geometry, BBOX(76.905, 43.245, 76.925, 43.265))", ["s2", "s3"]),
    ("S_INTERSECTS(geometry, POINT(76.93 43.26))", ["s4"]),
    ("S_DISJOINT(geometry, BBOX(76.905, 43.245, 76.925, 43.265))", ["s1", "s4", "s5", "s6"]),
    ("S_WITHIN(geometry, POLYGON((76.89 43.24, 76.935 43.24, 76.935 43.275, 76.89 43.24)))",
     ["s2", "s3", "s4"]),
    ("S_CONTAINS(POLYGON((76.89 43.24, 76.935 43.24, 76.935 43.275, 76.89 43.24)), geometry)",
     ["s2", "s3", "s4"]),
    # s2 lies at x = 76.90 + 0.01 = 76.91000000000001: on this line, not at its end.
    ("S_INTERSECTS(geometry, LINESTRING(76.90 43.25, 76.915 43.25))", ["s1", "s2"]),
    ("S_INTERSECTS(geometry, BBOX(76.0, 43.0, 76.1, 43.1)) OR name = 'Gymnasium 3'", ["s3"]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), FILTERS, ids=[f[0][:40] for f in FILTERS])
def test_filters(sample: Sample, text: str, expected: list[str]) -> None:
    store, fids = sample
    assert ids(store, "schools", fids, filter=text, limit="1000") == expected


def test_filter_type_mismatches_are_refused(sample: Sample) -> None:
    store, fids = sample
    for text, problem in [
        ("name = 5", "'name' is text"),
        ("capacity = 'many'", "'capacity' is a number"),
        ("ramp = 1", "'ramp' is TRUE or FALSE"),
        ("capacity LIKE '5%'", "LIKE needs a text property"),
        ("capacity = name", "cannot be compared"),
    ]:
        with pytest.raises(BadInput, match=problem):
            ids(store, "schools", fids, filter=text)


def test_sort_orders_nulls_last_and_text_by_code_point(
    sample: Sample,
) -> None:
    store, fids = sample
    assert ids(store, "schools", fids, sortby="-capacity") == ["s3", "s2", "s1", "s6", "s4", "s5"]
    assert ids(store, "schools", fids, sortby="capacity") == ["s4", "s6", "s1", "s2", "s3", "s5"]
    # Byte (code point) order on both stores, whatever PostgreSQL's locale: digits, Latin,
    # Cyrillic capitals, Cyrillic small letters; NULL last.
    assert ids(store, "schools", fids, sortby="name") == ["s6", "s3", "s4", "s1", "s2", "s5"]
    # Ties keep fid order, so pages never overlap.
    assert ids(store, "schools", fids, sortby="-kind,language") == [
        "s6", "s1", "s2", "s3", "s4", "s5"
    ]  # fmt: skip


def test_text_comparison_uses_code_point_order(sample: Sample) -> None:
    store, fids = sample
    assert ids(store, "schools", fids, filter="name > 'Z'") == ["s1", "s2", "s4"]
    assert ids(store, "schools", fids, filter="name BETWEEN 'A' AND 'Я'") == ["s1", "s3", "s4"]


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("2024-02-15", ["w1"]),
        ("2024-04-01", ["w2"]),
        ("2024-03-31T23:00:00Z", ["w1", "w2"]),
        ("2023-01-01/2023-12-31", ["w3"]),
        ("../2023-05-01", ["w3"]),
        ("2024-03-15/..", ["w1", "w2"]),
        ("2020-01-01/2020-12-31", []),
    ],
)
def test_datetime_on_works(sample: Sample, when: str, expected: list[str]) -> None:
    store, fids = sample
    assert ids(store, "works", fids, datetime=when) == expected


def test_dates_and_timestamps_in_filters(sample: Sample) -> None:
    store, fids = sample
    assert ids(store, "works", fids, filter="start_date >= DATE('2024-01-01')") == ["w1", "w2"]
    assert ids(store, "works", fids, filter="end_date < '2024-01-01'") == ["w3"]
    before_2024 = "last_reading < TIMESTAMP('2024-01-01T00:00:00Z')"
    assert ids(store, "air_sensors", fids, filter=before_2024) == ["a1"]
    assert ids(
        store, "air_sensors", fids, filter="first_reading = TIMESTAMP('2024-01-01T06:00:00+06:00')"
    ) == ["a2"]
    assert ids(store, "air_sensors", fids, filter="last_reading >= '2024-01-01T00:00:00Z'") == [
        "a2", "a3"
    ]  # fmt: skip
    assert ids(store, "air_sensors", fids, filter="aqi IS NULL") == ["a3"]


def test_properties_subset_and_values(sample: Sample) -> None:
    store, _ = sample
    layer = layers.get("air_sensors")
    q = parse_items_query(layer, [("properties", "readings,last_reading,pm10")], city=lambda: CITY)
    fs = FeatureQueries(store, layer).page(q)
    assert fs.properties == ("last_reading", "pm10", "readings")
    assert fs.values["last_reading"] == [
        "2023-12-31T23:00:00Z", "2024-06-01T12:30:00Z", "2024-01-01T00:00:00Z"
    ]  # fmt: skip
    assert fs.values["pm10"] == [12.5, None, 80.0]
    body = encode.feature_collection(fs, {})
    assert '"readings":[{"d":"2023-12-31","v":12.5}]' in body.decode()
    assert '"readings":{"note":"кириллица"}' in body.decode()


def test_extent_from_the_data(sample: Sample) -> None:
    store, _ = sample
    e = extent(store, layers.get("works"))
    assert e.bbox == pytest.approx((76.95, 43.20, 76.982, 43.202))
    assert e.interval == ("2023-05-01", "2024-03-31")
    assert extent(store, layers.get("buildings")).bbox is None


@pytest.fixture
def both_stores(postgis_url: str, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    gpkg = open_store(f"gpkg:///{tmp_path}/twin.gpkg")
    pg = open_store(create_database(postgis_url, f"twin_features_{os.getpid()}"))
    try:
        yield gpkg, pg
    finally:
        gpkg.close()
        pg.close()
        shutil.rmtree(tmp_path, ignore_errors=True)


def test_both_stores_answer_identically(both_stores: tuple[Store, Store]) -> None:
    gpkg, pg = both_stores
    assert load_samples(gpkg) == load_samples(pg)
    queries: list[tuple[str, list[tuple[str, str]]]] = [
        ("schools", []),
        ("schools", [("sortby", "name"), ("limit", "4"), ("offset", "1")]),
        ("schools", [("filter", "capacity >= 300 AND name LIKE '%1%'")]),
        ("works", [("datetime", "2024-01-01/2024-12-31"), ("sortby", "-budget_kzt")]),
        ("air_sensors", [("sortby", "-last_reading")]),
        ("air_sensors", [("filter", "S_INTERSECTS(geometry, BBOX(76.8, 43.2, 77.0, 43.4))")]),
    ]
    for layer_id, params in queries:
        layer = layers.get(layer_id)
        q = parse_items_query(layer, params, city=lambda: CITY)
        a = FeatureQueries(gpkg, layer).page(q)
        b = FeatureQueries(pg, layer).page(q)
        body = encode.feature_collection(a, {"numberMatched": a.number_matched})
        assert body == encode.feature_collection(b, {"numberMatched": b.number_matched})
        assert encode.csv(a) == encode.csv(b)
        assert extent(gpkg, layer) == extent(pg, layer)
