"""Loading files into both stores: the bad-input policy, all-or-nothing, idempotence.

Each bad input is a test on both stores. The policy under test: good rows load and bad rows go
to quarantine with file, row and reason; ``strict`` loads nothing from a file with a bad row;
a file that cannot be read loads nothing; any failure leaves what was stored unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

import layers
from etl.load import load_files
from etl.readers import read_file
from etl.transform import conform
from twin.core.errors import BadInput, SourceError
from twin.store import Store
from twin.store.loading import row_hashes

POIS = layers.get("pois")
BUILDINGS = layers.get("buildings")


def _fc(features: list[dict], crs: str | None = None) -> str:
    doc: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(doc, ensure_ascii=False)


def _point(fid: object, x: float, y: float, **props: object) -> dict:
    return {
        "type": "Feature",
        "properties": {"id": fid, **props},
        "geometry": {"type": "Point", "coordinates": [x, y]},
    }


@pytest.fixture
def seeded(store: Store, tmp_path: Path) -> Store:
    """Return the store with two known pois already loaded from another file."""
    path = tmp_path / "pois.geojson"
    path.write_text(
        _fc([_point(1, 76.94, 43.24, name="Аптека"), _point(2, 76.95, 43.25, name="Кафе")]),
        encoding="utf-8",
    )
    load_files(store, [path])
    return store


def _unchanged(store: Store, before: tuple[int, str]) -> None:
    assert (store.count(POIS), store.checksum(POIS)) == before


def _state(store: Store) -> tuple[int, str]:
    return store.count(POIS), store.checksum(POIS)


def test_missing_path(seeded: Store, tmp_path: Path) -> None:
    before = _state(seeded)
    with pytest.raises(SourceError, match="no such file") as err:
        load_files(seeded, [tmp_path / "nope.geojson"], layer_id="pois")
    assert "nope.geojson" in str(err.value)
    _unchanged(seeded, before)


def test_not_geodata(seeded: Store, tmp_path: Path) -> None:
    path = tmp_path / "photo.geojson"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    before = _state(seeded)
    with pytest.raises(SourceError, match=r"photo\.geojson"):
        load_files(seeded, [path], layer_id="pois")
    _unchanged(seeded, before)


def test_truncated_geojson(seeded: Store, tmp_path: Path) -> None:
    path = tmp_path / "cut.geojson"
    path.write_text(_fc([_point(9, 76.9, 43.2, name="x")])[:-15], encoding="utf-8")
    before = _state(seeded)
    with pytest.raises(SourceError, match=r"cut\.geojson.*(line|column|truncated|invalid)"):
        load_files(seeded, [path], layer_id="pois")
    _unchanged(seeded, before)


def test_csv_with_bad_coordinates_quarantines_rows(seeded: Store, tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text(
        "id,name,lon,lat\n10,ok,76.91,43.21\n11,missing,,43.2\n"
        "12,nan,NaN,43.2\n13,far,76.9,123.4\n14,ok2,76.92,43.22\n",
        encoding="utf-8",
    )
    summary = load_files(seeded, [path], layer_id="pois")
    assert summary.totals()["inserted"] == 2
    reasons = {r.row: r.reason for r in summary.rejected}
    assert set(reasons) == {3, 4, 5} or set(reasons) == {2, 3, 4}
    assert any("123.4" in r and "points.csv" in r for r in reasons.values())
    stored = {q["source_id"] for q in seeded.quarantine("pois")}
    assert stored >= {"11", "12", "13"}
    assert seeded.count(POIS) == 4


def test_strict_loads_nothing_from_a_file_with_a_bad_row(seeded: Store, tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text("id,name,lon,lat\n10,ok,76.91,43.21\n13,far,76.9,123.4\n", encoding="utf-8")
    before = _state(seeded)
    with pytest.raises(BadInput, match=r"points\.csv: 1 bad rows, nothing loaded"):
        load_files(seeded, [path], layer_id="pois", strict=True)
    _unchanged(seeded, before)


def test_mixed_geometry_types(seeded: Store, tmp_path: Path) -> None:
    poly = {
        "type": "Feature",
        "properties": {"id": 21, "name": "area"},
        "geometry": shapely.geometry.mapping(shapely.box(76.9, 43.2, 76.91, 43.21)),
    }
    path = tmp_path / "mixed.geojson"
    path.write_text(_fc([_point(20, 76.9, 43.2, name="pt"), poly]), encoding="utf-8")
    summary = load_files(seeded, [path], layer_id="pois")
    assert summary.totals()["inserted"] == 1
    [rej] = summary.rejected
    assert "mixed.geojson" in rej.reason and "Polygon" in rej.reason and "'pois'" in rej.reason


def test_self_intersecting_polygon_is_repaired_and_reported(store: Store, tmp_path: Path) -> None:
    bowtie = shapely.Polygon([(76.90, 43.20), (76.91, 43.21), (76.91, 43.20), (76.90, 43.21)])
    frame = gpd.GeoDataFrame({"id": ["bt"], "name": ["bow"]}, geometry=[bowtie], crs=4326)
    path = tmp_path / "bow.geojson"
    frame.to_file(path)
    summary = load_files(store, [path], layer_id="buildings")
    assert summary.totals()["inserted"] == 1
    assert any("bow.geojson" in n and "row 1" in n and "repaired" in n for n in summary.notes)
    stored = store.read_frame(BUILDINGS).geometry.iloc[0]
    assert stored.is_valid and stored.area == pytest.approx(
        bowtie.buffer(0).area + 0.5 * 1e-4, rel=0.6
    )


def test_utm_file_is_reprojected(store: Store, tmp_path: Path) -> None:
    pt = gpd.GeoDataFrame(
        {"id": [1], "name": ["utm"]}, geometry=[shapely.Point(76.9458, 43.2389)], crs=4326
    ).to_crs(32643)
    path = tmp_path / "utm.gpkg"
    pt.to_file(path, driver="GPKG")
    summary = load_files(store, [path], layer_id="pois")
    assert any("reprojected" in n and "32643" in n for n in summary.notes)
    got = store.read_frame(POIS).geometry.iloc[0]
    assert (got.x, got.y) == pytest.approx((76.9458, 43.2389), abs=1e-7)


def test_no_crs_lonlat_accepted_metric_refused(store: Store, tmp_path: Path) -> None:
    ok = tmp_path / "nocrs.csv"
    ok.write_text('id,name,wkt\n1,a,"POINT (76.9 43.2)"\n', encoding="utf-8")
    summary = load_files(store, [ok], layer_id="pois")
    assert any("no CRS" in n and "lon/lat" in n for n in summary.notes)
    metric = tmp_path / "metric.csv"
    metric.write_text('id,name,wkt\n1,a,"POINT (500123.4 4788000)"\n', encoding="utf-8")
    before = _state(store)
    with pytest.raises(SourceError, match=r"metric\.csv.*no CRS.*not lon/lat"):
        load_files(store, [metric], layer_id="pois")
    _unchanged(store, before)


def test_text_not_utf8(seeded: Store, tmp_path: Path) -> None:
    path = tmp_path / "cp1251.csv"
    path.write_bytes("id,name,lon,lat\n1,Аптека,76.9,43.2\n".encode("cp1251"))
    before = _state(seeded)
    with pytest.raises(SourceError, match=r"cp1251\.csv.*UTF-8"):
        load_files(seeded, [path], layer_id="pois")
    _unchanged(seeded, before)


def test_duplicate_ids(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "dups.geojson"
    path.write_text(
        _fc([_point(5, 76.9, 43.2, name="first"), _point(5, 76.91, 43.21, name="second")]),
        encoding="utf-8",
    )
    summary = load_files(store, [path], layer_id="pois")
    assert summary.totals()["inserted"] == 1
    [rej] = summary.rejected
    assert "duplicate id 5" in rej.reason and "row 1" in rej.reason
    assert store.read_frame(POIS)["name"].tolist() == ["first"]


def test_polygon_with_a_million_vertices(store: Store, tmp_path: Path) -> None:
    import numpy as np

    angles = np.linspace(0, 2 * np.pi, 1_000_000, endpoint=False)
    ring = np.column_stack([76.9 + 0.01 * np.cos(angles), 43.2 + 0.01 * np.sin(angles)])
    frame = gpd.GeoDataFrame(
        {"id": ["huge", "small"], "name": ["h", "s"]},
        geometry=[shapely.Polygon(ring), shapely.box(76.8, 43.1, 76.81, 43.11)],
        crs=4326,
    )
    path = tmp_path / "huge.fgb"
    frame.to_file(path, driver="FlatGeobuf")
    summary = load_files(store, [path], layer_id="buildings")
    assert summary.totals()["inserted"] == 1
    [rej] = summary.rejected
    assert "huge.fgb" in rej.reason and "1,000,001 vertices" in rej.reason  # closed ring


def test_unknown_layer_and_unnamed_file(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "stuff.geojson"
    path.write_text(_fc([_point(1, 76.9, 43.2)]), encoding="utf-8")
    with pytest.raises(BadInput, match="cannot tell which layer"):
        load_files(store, [path])
    with pytest.raises(BadInput, match="unknown layer 'nope'"):
        load_files(store, [path], layer_id="nope")


def test_same_file_twice_changes_nothing(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "pois.geojson"
    path.write_text(
        _fc([_point(i, 76.9 + i / 1000, 43.2, name=f"p{i}") for i in range(50)]), encoding="utf-8"
    )
    load_files(store, [path])
    before = _state(store)
    again = load_files(store, [path])
    assert again.totals() == {
        "inserted": 0,
        "updated": 0,
        "unchanged": 50,
        "deleted": 0,
        "rejected": 0,
    }
    _unchanged(store, before)
    [first, second] = store.provenance()[::-1]
    assert first["sha256"] == second["sha256"] and first["rows_loaded"] == 50


def test_geometries_kept_as_read_are_stored_as_if_encoded_anew(
    store: Store, tmp_path: Path
) -> None:
    """The reader's WKB is reused only for geometries conform leaves as they are, and the
    stored rows (their hashes cover the geometry's WKB bytes) are those of a fresh encoding."""
    square = shapely.box(76.90, 43.20, 76.91, 43.21)
    bow_tie = shapely.Polygon([(76.92, 43.20), (76.93, 43.21), (76.93, 43.20), (76.92, 43.21)])
    frame = gpd.GeoDataFrame(
        {"osm_id": [1, 2, 3]},
        geometry=[shapely.MultiPolygon([square]), square, bow_tie],
        crs="EPSG:4326",
    )
    path = tmp_path / "buildings.geojson"
    frame.to_file(path, driver="GeoJSON")
    table = read_file(path)[0]
    assert table.wkb is not None
    reused = conform(table.frame, BUILDINGS, origin=path.name, wkb=table.wkb).wkb
    assert reused is not None and [w is not None for w in reused] == [True, False, False]

    load_files(store, [path])
    anew = conform(table.frame, BUILDINGS, origin=path.name).frame
    stored = store.read_frame(BUILDINGS, with_system=True)
    assert dict(zip(stored["source_id"], stored["row_hash"], strict=True)) == dict(
        zip(anew["source_id"], row_hashes(anew, BUILDINGS), strict=True)
    )
