"""The GeoPackage R-tree packed in bulk (twin.store.geopackage.rtree): SQLite's own checker
accepts every tree, box queries through SQLite find exactly what a brute-force scan finds, and
GDAL reads the file with a spatial filter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely

import layers
from tests.support.frames import buildings_frame
from twin.store import Batch, open_store
from twin.store.geopackage import GeoPackageStore
from twin.store.geopackage.rtree import float32_boxes, write_rtree

RTREE = "rtree_buildings_geom"
BUILDINGS = layers.get("buildings")


def _store(tmp_path: Path) -> GeoPackageStore:
    store = open_store(f"gpkg:///{tmp_path}/r.gpkg")
    assert isinstance(store, GeoPackageStore)
    return store


def _random_bounds(n: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.uniform(76.7, 77.2, n)
    y = rng.uniform(43.1, 43.4, n)
    w = rng.uniform(0, 0.003, n)
    h = rng.uniform(0, 0.003, n)
    return np.column_stack([x, y, x + w, y + h])


def _check(store: GeoPackageStore) -> str:
    with store.engine.connect() as conn:
        return str(conn.exec_driver_sql(f"SELECT rtreecheck('{RTREE}')").scalar_one())


def _hits(store: GeoPackageStore, box: tuple[float, float, float, float]) -> set[int]:
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            f'SELECT id FROM "{RTREE}" WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?',
            (box[0], box[2], box[1], box[3]),
        ).fetchall()
    return {r[0] for r in rows}


@pytest.mark.parametrize("n", [0, 1, 51, 52, 2_601, 20_000])
def test_packed_tree_is_valid_and_answers_like_a_scan(tmp_path: Path, n: int) -> None:
    # 51 cells fill one node (4,096-byte pages); 52 needs two leaves and a root; 2,601 = 51²
    # fills two levels exactly; 20,000 needs three.
    store = _store(tmp_path)
    bounds = _random_bounds(n)
    ids = np.arange(n, dtype=np.int64) * 5 + 3
    with store.write_transaction() as conn:
        write_rtree(conn, RTREE, ids, bounds)
    assert _check(store) == "ok"
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql(f'SELECT count(*) FROM "{RTREE}"').scalar_one() == n
    rng = np.random.default_rng(1)
    for _ in range(25):
        x, y = rng.uniform(76.7, 77.2), rng.uniform(43.1, 43.4)
        box = (x, y, x + 0.02, y + 0.01)
        want = (
            (bounds[:, 2] >= box[0])
            & (bounds[:, 0] <= box[2])
            & (bounds[:, 3] >= box[1])
            & (bounds[:, 1] <= box[3])
        )
        assert _hits(store, box) >= set(ids[want].tolist())
        # float32 boxes are at most one float32 step larger: nothing far away comes back
        loose = (
            (bounds[:, 2] >= box[0] - 1e-4)
            & (bounds[:, 0] <= box[2] + 1e-4)
            & (bounds[:, 3] >= box[1] - 1e-4)
            & (bounds[:, 1] <= box[3] + 1e-4)
        )
        assert _hits(store, box) <= set(ids[loose].tolist())
    store.close()


def test_float32_boxes_contain_their_geometry() -> None:
    bounds = _random_bounds(10_000, seed=3)
    bounds[:5] = [
        [-180, -90, 180, 90],
        [0, 0, 0, 0],
        [-1e-9, -1e-9, 1e-9, 1e-9],
        [1, 2, 3, 4],
        [-76.95, -43.25, -76.94, -43.24],
    ]
    boxes = float32_boxes(bounds).astype(np.float64)  # minx, maxx, miny, maxy
    assert (boxes[:, 0] <= bounds[:, 0]).all() and (boxes[:, 1] >= bounds[:, 2]).all()
    assert (boxes[:, 2] <= bounds[:, 1]).all() and (boxes[:, 3] >= bounds[:, 3]).all()


def test_inserting_through_sqlite_after_a_packed_tree(tmp_path: Path) -> None:
    # The tree written here is one SQLite keeps growing, splitting and shrinking correctly.
    store = _store(tmp_path)
    bounds = _random_bounds(5_000)
    with store.write_transaction() as conn:
        write_rtree(conn, RTREE, np.arange(1, 5_001), bounds)
    extra = _random_bounds(3_000, seed=11)
    with store.write_transaction() as conn:
        for i, b in enumerate(extra.tolist()):
            conn.exec_driver_sql(
                f'INSERT INTO "{RTREE}" VALUES (?, ?, ?, ?, ?)',
                (10_001 + i, b[0], b[2], b[1], b[3]),
            )
        conn.exec_driver_sql(f'DELETE FROM "{RTREE}" WHERE id <= 2500')
    assert _check(store) == "ok"
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql(f'SELECT count(*) FROM "{RTREE}"').scalar_one() == 5_500
    store.close()


def _batch(n: int, source: str, x0: float) -> Batch:
    frame = buildings_frame(n, x0=x0)
    frame["source_id"] = [f"{source}-{i}" for i in range(n)]
    return Batch(BUILDINGS, source, frame, file=source, sha256="0" * 64, licence="test")


def test_loads_keep_the_rtree_valid_and_gdal_reads_it(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.load([_batch(3_000, "big", 76.80)])  # packed in bulk (empty tree)
    store.load([_batch(40, "small", 76.60)])  # grown row by row through SQLite
    store.load([_batch(4_000, "bigger", 77.00)])  # more than held: all packed anew
    assert _check(store) == "ok"
    path = store.path
    store.close()
    # GDAL answers a spatial filter from the R-tree: exactly the squares inside the box
    frame = pyogrio.read_dataframe(path, layer="buildings", bbox=(76.599, 43.2, 76.68, 43.3))
    assert len(frame) == 40
    # the "big" squares start every 0.002° from 76.80: those starting up to 76.898 (50)
    frame = pyogrio.read_dataframe(path, layer="buildings", bbox=(76.7995, 43.2, 76.8985, 43.3))
    assert len(frame) == 50
    everything = pyogrio.read_dataframe(path, layer="buildings")
    assert len(everything) == 7_040
    assert shapely.is_valid(everything.geometry.to_numpy()).all()
