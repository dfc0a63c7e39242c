"""The store on both backends: schema, upsert, replace, provenance, quarantine, versioning."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa

import layers
from tests.support.frames import buildings_frame, square
from twin.core.errors import BadInput, StoreError
from twin.store import Batch, Rejection, Store, open_store

BUILDINGS = layers.get("buildings")


def _batch(frame, source="test.geojson", **kw) -> Batch:
    return Batch(BUILDINGS, source, frame, file=source, sha256="0" * 64, licence="test", **kw)


def test_new_store_has_every_layer_empty(store: Store) -> None:
    counts = store.counts()
    assert set(counts) == set(layers.ids())
    assert all(v == 0 for v in counts.values())


def test_load_then_reload_changes_nothing(store: Store) -> None:
    frame = buildings_frame(3)
    [first] = store.load([_batch(frame)])
    assert (first.inserted, first.updated, first.unchanged, first.deleted) == (3, 0, 0, 0)
    before = store.checksum(BUILDINGS)
    [second] = store.load([_batch(frame)])
    assert (second.inserted, second.updated, second.unchanged, second.deleted) == (0, 0, 3, 0)
    assert store.checksum(BUILDINGS) == before
    assert len(second.changed_bounds) == 0


def test_update_and_delete_by_source_id(store: Store) -> None:
    store.load([_batch(buildings_frame(3))])
    fids = store.read_frame(BUILDINGS).set_index("source_id")["fid"].to_dict()
    frame = buildings_frame(2)  # b3 is gone
    frame.loc[0, "name"] = "Новое имя"
    [r] = store.load([_batch(frame)])
    assert (r.inserted, r.updated, r.unchanged, r.deleted) == (0, 1, 1, 1)
    stored = store.read_frame(BUILDINGS).set_index("source_id")
    assert stored.loc["b1", "name"] == "Новое имя"
    assert "b3" not in stored.index
    # an update keeps the feature's id: tiles and links stay valid
    assert stored.loc["b1", "fid"] == fids["b1"]
    # changed bounds: old and new b1, and the deleted b3
    assert len(r.changed_bounds) == 3


def test_sources_are_independent(store: Store) -> None:
    store.load([_batch(buildings_frame(2), source="a")])
    store.load([_batch(buildings_frame(3), source="b")])
    assert store.count(BUILDINGS) == 5
    store.load([_batch(buildings_frame(1), source="a")])
    assert store.count(BUILDINGS) == 4


def test_bbox_read(store: Store) -> None:
    store.load([_batch(buildings_frame(3))])
    # only the first square (76.900–76.901) meets this box
    got = store.read_frame(BUILDINGS, bbox=(76.8995, 43.2495, 76.9005, 43.2505))
    assert got["source_id"].tolist() == ["b1"]
    assert got.geometry.iloc[0].equals(square(76.90, 43.25))


def test_values_round_trip_with_types(store: Store) -> None:
    works = layers.get("works")
    import geopandas as gpd

    frame = gpd.GeoDataFrame(
        {
            "source_id": ["w1"],
            "synthetic": [True],
            "title": ["Сквер"],
            "kind": ["landscaping"],
            "status": ["done"],
            "start_date": ["2024-05-01"],
            "end_date": ["2024-09-30"],
            "district": ["Medeu"],
            "budget_kzt": [1.5e8],
            "contractor": [None],
        },
        geometry=[square(76.95, 43.23)],
        crs=4326,
    )
    store.load([Batch(works, "w", frame, "w", "0" * 64, "test")])
    got = store.read_frame(works).iloc[0]
    assert str(got["start_date"]) == "2024-05-01"
    assert got["budget_kzt"] == 1.5e8
    assert bool(got["synthetic"]) is True
    assert got["contractor"] is None


def test_provenance_and_quarantine(store: Store) -> None:
    rej = [Rejection(7, "x7", "test.geojson: row 7: empty geometry", {"name": "x"}, None)]
    store.load([_batch(buildings_frame(2), rejected=rej)])
    [prov] = store.provenance()
    assert (prov["rows_loaded"], prov["rows_rejected"], prov["layer"]) == (2, 1, "buildings")
    [q] = store.quarantine("buildings")
    assert q["row"] == 7 and "empty geometry" in q["reason"]
    # re-loading the same file does not duplicate its quarantine rows
    store.load([_batch(buildings_frame(2), rejected=rej)])
    assert len(store.quarantine("buildings")) == 1


def test_failed_load_leaves_store_unchanged(store: Store) -> None:
    store.load([_batch(buildings_frame(2), source="a")])
    before = store.checksum(BUILDINGS)
    bad = buildings_frame(2)
    bad["source_id"] = ["dup", "dup"]  # violates the unique key inside the same load
    with pytest.raises(BadInput, match="nothing written"):
        store.load([_batch(buildings_frame(3), source="b"), _batch(bad, source="c")])
    assert store.checksum(BUILDINGS) == before
    assert store.count(BUILDINGS) == 2
    assert len(store.provenance()) == 1


def test_both_stores_same_checksum(store_url: str, tmp_path) -> None:
    other = f"gpkg:///{tmp_path}/other.gpkg"
    a, b = open_store(store_url), open_store(other)
    try:
        for s in (a, b):
            s.load([_batch(buildings_frame(4))])
        assert a.checksum(BUILDINGS) == b.checksum(BUILDINGS)
    finally:
        a.close()
        b.close()


def test_newer_schema_is_refused(store_url: str) -> None:
    s = open_store(store_url)
    with s.engine.begin() as conn:
        conn.execute(sa.text("UPDATE twin_meta SET value = '99' WHERE key = 'schema_version'"))
    s.close()
    with pytest.raises(StoreError, match="newer than this program"):
        open_store(store_url)


def test_older_store_is_upgraded_without_losing_data(store_url: str) -> None:
    s = open_store(store_url)
    s.load([_batch(buildings_frame(2))])
    with s.engine.begin() as conn:
        conn.execute(sa.text('ALTER TABLE buildings DROP COLUMN "use"'))
        s.tables["cameras"].drop(conn)  # as a store written before the layer existed
        if s.kind == "postgis":  # as a store written before tiles read a Mercator copy
            conn.execute(sa.text("ALTER TABLE buildings DROP COLUMN geom_3857"))
    s.close()
    s = open_store(store_url, create=False)
    done = s.ensure_schema()
    assert "added column buildings.use" in done and "added table cameras" in done
    assert s.count(BUILDINGS) == 2
    if s.kind == "postgis":
        assert "added column buildings.geom_3857" in done
        with s.engine.connect() as conn:
            filled = "SELECT count(geom_3857) FROM buildings WHERE ST_SRID(geom_3857) = 3857"
            assert conn.execute(sa.text(filled)).scalar_one() == 2
    assert s.ensure_schema() == []
    s.close()


def test_mistyped_column_is_not_misread(store_url: str) -> None:
    s = open_store(store_url)
    with s.engine.begin() as conn:
        conn.execute(sa.text('ALTER TABLE buildings DROP COLUMN "levels"'))
        conn.execute(sa.text('ALTER TABLE buildings ADD COLUMN "levels" TEXT'))
    s.close()
    with pytest.raises(StoreError, match=r"buildings\.levels"):
        open_store(store_url)


def test_changes_are_logged_for_tile_invalidation(store: Store) -> None:
    start = store.last_change_id()
    store.load([_batch(buildings_frame(2))])
    last, changes = store.changes_since(start)
    assert last > start and {c[0] for c in changes} == {"buildings"}
    # nothing changes -> nothing logged
    store.load([_batch(buildings_frame(2))])
    assert store.changes_since(last) == (last, [])
    moved = buildings_frame(2)
    moved.loc[1, "geometry"] = square(77.0, 43.3)
    store.load([_batch(moved)])
    _, changes = store.changes_since(last)
    envelopes = sorted(c[1] for c in changes)
    # the old and the new place of b2, and nothing of b1
    assert len(envelopes) == 2
    assert envelopes[0][0] == pytest.approx(76.902) and envelopes[1][0] == pytest.approx(77.0)


def test_writes_wait_for_busy_readers(store: Store) -> None:
    """A load succeeds while several connections keep reading (a busy tile server)."""
    import threading

    store.load([_batch(buildings_frame(6))])
    stop = threading.Event()
    errors: list[BaseException] = []

    def read() -> None:
        try:
            while not stop.is_set():
                store.read_frame(BUILDINGS)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(6)]
    for t in readers:
        t.start()
    try:
        for k in range(8):
            frame = buildings_frame(6)
            frame["name"] = [f"v{k}-{i}" for i in range(6)]
            store.load([_batch(frame.iloc[[k % 6]], replace=False)])
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert not errors
    assert store.read_frame(BUILDINGS).set_index("source_id").loc["b2", "name"] == "v7-1"


def test_features_near_the_poles_load(store: Store) -> None:
    # Web Mercator ends at ±85.05°: PostGIS keeps a Mercator copy of every geometry for tiles,
    # cut at that latitude, and a feature beyond it must still load (not fail the transform).
    frame = buildings_frame(3)
    frame.loc[1, "geometry"] = square(10.0, 89.999)
    frame.loc[2, "geometry"] = square(10.0, -90.0)
    [r] = store.load([_batch(frame)])
    assert r.inserted == 3
    assert store.count(BUILDINGS) == 3
    if store.kind == "postgis":
        with store.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT source_id, ST_IsEmpty(geom_3857), ST_SRID(geom_3857), "
                "round(ST_XMin(geom_3857)) FROM buildings ORDER BY source_id"
            ).fetchall()
        # b1 at 76.90°E: x = 6378137 * radians(76.90)
        assert rows[0] == ("b1", False, 3857, 8560469)
        assert [r[1] for r in rows[1:]] == [True, True]


def test_an_older_store_withholds_small_appeal_rates(store_url: str) -> None:
    """Schema 1 -> 2: a district's appeals_per_10k standing for fewer than 5 appeals, stored
    before the ETL withheld it, is withheld in the store (so /collections and tiles too)."""
    layer = layers.get("district_indicators")
    box = shapely.MultiPolygon([shapely.box(76.9, 43.2, 77.0, 43.3)])
    frame = gpd.GeoDataFrame(
        {
            "district": ["A", "B", "C"],
            "period": [2024, 2024, 2024],
            "population": [300_000, 300_000, 300_000],
            # 3, 60 and 0 appeals: the first and the rounded zero stand for fewer than 5
            "appeals_per_10k": [0.1, 2.0, 0.0],
        },
        geometry=[box, box, box],
        crs=4326,
    )
    for prop in layer.properties:  # the other declared columns, empty
        if prop.name not in frame:
            frame[prop.name] = None
    frame["synthetic"] = False
    frame["source_id"] = ["a", "b", "c"]
    s = open_store(store_url)
    s.load([Batch(layer, "old.geojson", frame, "old.geojson", "0" * 64, "test")])
    with s.engine.begin() as conn:
        conn.execute(sa.text("UPDATE twin_meta SET value = '1' WHERE key = 'schema_version'"))
    s.close()
    s = open_store(store_url, create=False)
    assert "upgraded schema 1 -> 2" in s.ensure_schema()
    rates = s.read_frame(layer).sort_values("district")["appeals_per_10k"].tolist()
    s.close()
    assert rates[1] == 2.0
    assert pd.isna(rates[0]) and pd.isna(rates[2]), rates
