"""Ingest benchmark: the 10× scaled building set into both stores, against geopandas.

Run: ``uv run python -m bench.ingest`` (starts its own PostGIS cluster).

Both sides start from the same FlatGeobuf file. Ours is ``twin load FILE --layer buildings``
as a function call: read, validate and type every row, then one transactional upsert with
provenance. The peer is ``geopandas.read_file`` then ``to_file`` (GeoPackage, via pyogrio) or
``to_postgis``. Prints features/s and the ratio (peer time / our time; > 1 means we are faster),
medians of ``--rounds`` alternating rounds, each into new stores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import pyogrio  # noqa: F401  (before SpatiaLite)

os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")

import geopandas as gpd
import sqlalchemy as sa

from bench.scaled import scaled_buildings_file
from etl.load import load_files
from tests.support.postgres import create_database, postgis_cluster
from twin.store import open_store
from twin.store.postgis.urls import engine_url


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


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians printed")
    args = ap.parse_args(argv)
    path = scaled_buildings_file(10)
    # Each round loads into new stores and files, ours and geopandas' alternating, so neither
    # side alone pays the process's first-use costs (imports, SpatiaLite, PROJ) or runs on a
    # quieter machine; the median of the rounds is the figure, every round is printed.
    times: dict[str, list[float]] = {k: [] for k in ("gpkg", "gpkg again", "gp gpkg", "pg")}
    times.update({"pg again": [], "gp pg": []})
    n = 0
    with tempfile.TemporaryDirectory() as tmp, postgis_cluster(dbname="bench") as pg_url:
        for r in range(args.rounds):
            first, again, n = _ours(f"gpkg:///{tmp}/twin{r}.gpkg", path)
            times["gpkg"].append(first)
            times["gpkg again"].append(again)
            times["gp gpkg"].append(_geopandas_gpkg(path, Path(tmp) / f"geopandas{r}.gpkg"))
            first, again, _ = _ours(create_database(pg_url, f"ours{r}"), path)
            times["pg"].append(first)
            times["pg again"].append(again)
            times["gp pg"].append(_geopandas_postgis(path, create_database(pg_url, f"gp{r}")))
            print(
                f"round {r + 1}: "
                + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items())
                + f" (load average {os.getloadavg()[0]:.1f})",
                flush=True,
            )
    med = {k: statistics.median(v) for k, v in times.items()}
    print(
        f"\n10x scaled buildings: {n:,} features from {path.name}; "
        f"medians of {args.rounds} rounds\n"
    )
    print(
        f"{'store':<24}{'ours s':>9}{'ours f/s':>11}{'re-load s':>11}"
        f"{'geopandas s':>13}{'gp f/s':>10}{'ratio gp/ours':>15}"
    )
    for name, key in (("embedded (GeoPackage)", "gpkg"), ("PostGIS", "pg")):
        first, again, gp = med[key], med[f"{key} again"], med[f"gp {key}"]
        print(
            f"{name:<24}{first:>9.2f}{n / first:>11,.0f}{again:>11.2f}"
            f"{gp:>13.2f}{n / gp:>10,.0f}{gp / first:>15.2f}"
        )
    print("\ngoals: >= 50,000 f/s into PostGIS, >= 20,000 f/s embedded, ratio >= 1.0")


if __name__ == "__main__":
    main()
