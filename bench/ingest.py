"""Ingest benchmark: the 10× scaled building set into both stores, against geopandas.

Run: ``uv run python -m bench.ingest`` (starts its own PostGIS cluster).

Both sides start from the same FlatGeobuf file (:func:`bench.scaled.scaled_buildings_file`:
the real buildings and nine shifted copies inside the city boundary) and an empty target: a
new GeoPackage path, or a new PostGIS database (created before either clock starts). Ours is
``twin load FILE --layer buildings`` as function calls: open the store, which creates its
schema (every layer's table, the change log, the provenance tables), then read, validate and
type every row and one transactional upsert with provenance. The peer is
``geopandas.read_file`` then ``to_file`` (GeoPackage, via pyogrio) or ``to_postgis``, which
create their one table. Both times include creating the schema, as a user running either
meets it; ours is also printed without it. Prints features/s and the ratio (peer time / our
time; > 1 means we are faster), medians of ``--rounds`` alternating rounds, each into new
stores.
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
from pyogrio import read_dataframe

from bench.scaled import describe, scaled_buildings_file
from etl.load import load_files
from tests.support.postgres import create_database, postgis_cluster
from twin.store import open_store
from twin.store.postgis.urls import engine_url


def _ours(url: str, path: Path) -> tuple[float, float, float, int]:
    """Return (first load s, of which creating the schema s, identical re-load s, rows) for
    our loader into a new store. The first load's time includes creating the store's schema:
    geopandas' time includes creating its table."""
    t0 = time.perf_counter()
    store = open_store(url)
    schema = time.perf_counter() - t0
    summary = load_files(store, [path], layer_id="buildings")
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = load_files(store, [path], layer_id="buildings")
    second = time.perf_counter() - t0
    assert again.totals()["inserted"] == 0 and again.totals()["updated"] == 0
    store.close()
    return first, schema, second, summary.totals()["inserted"]


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
    times: dict[str, list[float]] = {
        k: [] for k in ("gpkg", "gpkg schema", "gpkg again", "gp gpkg", "pg", "pg schema")
    }
    times.update({"pg again": [], "gp pg": []})
    n = 0
    with tempfile.TemporaryDirectory() as tmp, postgis_cluster(dbname="bench") as pg_url:
        for r in range(args.rounds):
            first, schema, again, n = _ours(f"gpkg:///{tmp}/twin{r}.gpkg", path)
            times["gpkg"].append(first)
            times["gpkg schema"].append(schema)
            times["gpkg again"].append(again)
            times["gp gpkg"].append(_geopandas_gpkg(path, Path(tmp) / f"geopandas{r}.gpkg"))
            first, schema, again, _ = _ours(create_database(pg_url, f"ours{r}"), path)
            times["pg"].append(first)
            times["pg schema"].append(schema)
            times["pg again"].append(again)
            times["gp pg"].append(_geopandas_postgis(path, create_database(pg_url, f"gp{r}")))
            print(
                f"round {r + 1}: "
                + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items())
                + f" (load average {os.getloadavg()[0]:.1f})",
                flush=True,
            )
    med = {k: statistics.median(v) for k, v in times.items()}
    what = describe(read_dataframe(path))
    print(f"\n10x scaled buildings: {n:,} features from {path.name} ({what})")
    print(f"medians of {args.rounds} rounds\n")
    print(
        f"{'store':<24}{'ours s':>9}{'schema s':>10}{'ours f/s':>11}{'re-load s':>11}"
        f"{'geopandas s':>13}{'gp f/s':>10}{'ratio gp/ours':>15}{'w/o schema':>12}"
    )
    for name, key in (("embedded (GeoPackage)", "gpkg"), ("PostGIS", "pg")):
        first, again, gp = med[key], med[f"{key} again"], med[f"gp {key}"]
        print(
            f"{name:<24}{first:>9.2f}{med[f'{key} schema']:>10.2f}{n / first:>11,.0f}"
            f"{again:>11.2f}{gp:>13.2f}{n / gp:>10,.0f}{gp / first:>15.2f}"
            f"{gp / (first - med[f'{key} schema']):>12.2f}"
        )
    print(
        "\nboth sides' times include creating the schema in an empty target (ours: every "
        "layer's table, change log and provenance; geopandas: its one table); 'schema s' is "
        "the part of ours spent on it; 'w/o schema' is the ratio with ours leaving it out "
        "(the schema of a whole city store is made once, a file is loaded many times)"
    )
    print("goals: >= 50,000 f/s into PostGIS, >= 20,000 f/s embedded, ratio >= 1.0")


if __name__ == "__main__":
    main()
