"""Ingest benchmark: the 10× scaled building set into both stores, against geopandas.

Run: ``uv run python -m bench.ingest`` (starts its own PostGIS cluster).

Both sides start from the same FlatGeobuf file. Ours is ``twin load FILE --layer buildings``
as a function call: read, validate and type every row, then one transactional upsert with
provenance. The peer is ``geopandas.read_file`` then ``to_file`` (GeoPackage, via pyogrio) or
``to_postgis``. Prints features/s and the ratio (peer time / our time; > 1 means we are faster).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pyogrio  # noqa: F401  (before SpatiaLite)

os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")

import geopandas as gpd
import sqlalchemy as sa

from bench.scaled import scaled_buildings_file
from etl.load import load_files
from tests.support.postgres import postgis_cluster
from twin.store import open_store
from twin.store.postgis import engine_url


def _ours(url: str, path: Path) -> tuple[float, float, int]:
    """Return (first load s, identical re-load s, rows) for our loader into a new store."""
    store = open_store(url)
    t0 = time.perf_counter()
    summary = load_files(store, [path], layer_id="buildings")
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = load_files(store, [path], layer_id="buildings")
    second = time.perf_counter() - t0
    assert again.totals()["inserted"] == 0 and again.totals()["updated"] == 0
    store.close()
    return first, second, summary.totals()["inserted"]


def _geopandas_gpkg(path: Path, out: Path) -> float:
    t0 = time.perf_counter()
    frame = gpd.read_file(path, engine="pyogrio")
    frame.to_file(out, driver="GPKG", engine="pyogrio", layer="buildings")
    return time.perf_counter() - t0


def _geopandas_postgis(path: Path, url: str) -> float:
    engine = sa.create_engine(engine_url(url))
    t0 = time.perf_counter()
    frame = gpd.read_file(path, engine="pyogrio")
    frame.to_postgis("gp_buildings", engine, if_exists="replace", index=False)
    took = time.perf_counter() - t0
    engine.dispose()
    return took


def main() -> None:
    """Run the benchmark and print the table."""
    path = scaled_buildings_file(10)
    rows: list[tuple[str, float, float, int, float]] = []
    with tempfile.TemporaryDirectory() as tmp, postgis_cluster(dbname="bench") as pg_url:
        gpkg_first, gpkg_again, n = _ours(f"gpkg:///{tmp}/twin.gpkg", path)
        gp_gpkg = _geopandas_gpkg(path, Path(tmp) / "geopandas.gpkg")
        pg_first, pg_again, _ = _ours(pg_url, path)
        gp_pg = _geopandas_postgis(path, pg_url)
        rows.append(("embedded (GeoPackage)", gpkg_first, gpkg_again, n, gp_gpkg))
        rows.append(("PostGIS", pg_first, pg_again, n, gp_pg))
    print(f"10x scaled buildings: {n:,} features from {path.name}\n")
    print(
        f"{'store':<24}{'ours s':>9}{'ours f/s':>11}{'re-load s':>11}"
        f"{'geopandas s':>13}{'gp f/s':>10}{'ratio gp/ours':>15}"
    )
    for name, first, again, count, gp in rows:
        print(
            f"{name:<24}{first:>9.2f}{count / first:>11,.0f}{again:>11.2f}"
            f"{gp:>13.2f}{count / gp:>10,.0f}{gp / first:>15.2f}"
        )
    print("\ngoals: >= 50,000 f/s into PostGIS, >= 20,000 f/s embedded, ratio >= 1.0")


if __name__ == "__main__":
    main()
