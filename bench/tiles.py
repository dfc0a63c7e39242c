"""Tile benchmark: our tile server against tipg and the raw ``ST_AsMVT`` floor, same data and tiles.

Run: ``uv run python -m bench.tiles`` (starts its own PostGIS cluster; 3–6 minutes on 2 cores,
``--help`` for options).

One PostGIS database holds the bundled Almaty set plus nine shifted copies of its buildings
inside the city boundary (:mod:`bench.scaled`: ~79k buildings, each stored once; the count is
printed); a GeoPackage holds the same for the embedded store. A fixed, seeded list of tiles at
z10–z16, sampled where each layer has features (buildings from its minzoom 12, roads from
z10), is requested once per pass, at concurrency 1 and 8, from:

- the raw SQL floor: the very query our PostGIS tile source runs, through psycopg with a pool
  of ``concurrency`` connections, no HTTP (and, for comparison, the canonical query);
- tipg (from PyPI, its own virtualenv), restricted to our layer tables, asked for the
  properties our tiles carry and set to our 64-pixel tile buffer (``TIPG_TILE_BUFFER``; its
  default is 256);
- our server on PostGIS, cold (a fresh process: the first request of each tile) and warm (the
  same tiles again); the server's ``X-Tile-Cache`` header is checked to be miss, then hit;
- our server on the embedded GeoPackage store: serving the tiles it keeps in the file
  (``tiles.stored``), drawn ahead by ``twin tiles warm`` over the whole extent of the layers at
  z0–z16 (timed and printed: the cost of being fast), and, for comparison, drawing every tile
  on demand (``TWIN_TILES_STORE_MB=0``, a fresh process).

Below a layer's maxzoom our tiles leave out features of a few pixels and simplify the rest,
while tipg draws every feature meeting the tile, so the two do different work there. The
benchmark says how different: the share of the features meeting each tile that each server
leaves out, per layer and zoom (against a ``count(*)`` of the features meeting it), and the
ratio against tipg per zoom. And it measures them on *equal work*: a second list of tiles at
each layer's maxzoom (z16 for buildings and roads; ``--equal-per-zoom``, 80 per layer, since
these tiles are small), where ours leaves out and simplifies nothing, drawn like the first (by
feature count) from the tiles not in it; ours (cold, in the same fresh process) and tipg must
put the same features in each of those tiles, and the "2× tipg" goal is judged there as well
as over all tiles.

Each server is one uvicorn worker in a subprocess. Every pass is repeated ``--rounds`` times,
interleaved, and the rounds pooled. Prints p50, p95 and tiles/s for each, p95 by zoom, the
ratios against the goals of issue 3, the largest tile, where a cold tile's time goes, and
checks that every server answered 200 (or 204 for an empty tile) for every tile with the
feature counts of its reference. The machine's load average is printed with each phase: on a
shared 2-core machine, numbers taken under load are slower for every server alike.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyogrio  # noqa: F401  (before SpatiaLite)

os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")

import numpy as np
import psycopg

import layers
from bench import servers
from bench.http_load import Pass, fetch_all
from bench.scaled import shifted_buildings_file
from bench.tile_list import CITY_BBOX, Tile, sample_tiles
from bench.tile_sql import (
    canonical_floor,
    floor_query,
    meeting_counts,
    sql_pass,
    tile_prop_names,
)
from etl.load import load_bundled, load_files
from tests.support.postgres import postgis_cluster
from tiles.service import TileService
from tiles.warm import WarmSummary, warm
from twin.core.settings import DATA_DIR
from twin.store import open_store

ZOOMS = range(10, 17)
#: The embedded server drawing every tile on demand: nothing kept in the file, nothing read.
DRAW = {"TWIN_TILES_STORE_MB": "0"}


# -- data --------------------------------------------------------------------------------------
def load_city(url: str) -> int:
    """Load the bundled set (the real buildings among it) and the nine shifted copies of the
    buildings into the store at ``url``; return how many of them it inserted."""
    store = open_store(url)
    try:
        load_bundled(store, DATA_DIR)
        summary = load_files(store, [shifted_buildings_file(10)], layer_id="buildings")
    finally:
        store.close()
    return int(summary.totals()["inserted"])


def count_buildings(pg_url: str, shifted: int) -> str:
    """Return how many buildings the PostGIS store holds, of which ``shifted`` are the
    shifted copies (a loaded file's rows are not marked synthetic: they are counted here)."""
    with psycopg.connect(pg_url) as conn:
        row = conn.execute("SELECT count(*) FROM buildings").fetchone()
    total = int(row[0]) if row else 0
    real = total - shifted
    multiple = f" ({total / real:.2f}× the real set)" if real else ""
    return f"{total:,} buildings: {real:,} real + {shifted:,} in shifted copies{multiple}"


def layers_maxzoom(layer_ids: Sequence[str]) -> dict[str, int]:
    """Return each layer's maxzoom: from it on, our tiles leave out and simplify nothing."""
    return {lid: layers.get(lid).maxzoom for lid in layer_ids}


def warm_gpkg(url: str, layer_ids: Sequence[str]) -> WarmSummary:
    """Draw and keep every tile of ``layer_ids`` at z0–z16 in the GeoPackage at ``url``, as
    ``twin tiles warm --layers … --maxzoom 16`` does."""
    store = open_store(url)
    try:
        return warm(TileService(store), layer_ids=layer_ids, minzoom=0, maxzoom=16)
    finally:
        store.close()


def city_tiles(
    pg_url: str, layer_ids: Sequence[str], per_zoom: int, seed: int, equal_per_zoom: int
) -> tuple[list[Tile], list[Tile], list[Tile]]:
    """Return (tiles to measure, tiles of equal work, spare tiles for warming up) for
    ``layer_ids`` inside each layer's zoom range within z10–z16, in a seeded shuffled order.

    The equal-work tiles are ``equal_per_zoom`` tiles per layer at each zoom from the layer's
    maxzoom on (where our tiles leave out and simplify nothing), not among the tiles to
    measure, drawn the same way (by feature count) with a generator of their own, so that the
    list to measure stays the one the seed gave before."""
    rng = np.random.default_rng(seed)
    equal_rng = np.random.default_rng([seed, 1])
    minx, miny, maxx, maxy = CITY_BBOX
    sample: list[Tile] = []
    equal: list[Tile] = []
    spare: list[Tile] = []
    with psycopg.connect(pg_url) as conn:
        for lid in layer_ids:
            layer = layers.get(lid)
            # Identifiers come from the registry, never from input.
            rows = conn.execute(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p "
                f'FROM "{layer.table}" '
                "WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) ORDER BY fid) s",
                (minx, miny, maxx, maxy),
            ).fetchall()
            pts = np.array(rows, dtype=float)
            zooms = [z for z in ZOOMS if layer.minzoom <= z <= layer.maxzoom]
            got, rest = sample_tiles(lid, pts[:, 0], pts[:, 1], zooms, per_zoom, rng)
            top = [z for z in zooms if z >= layer.maxzoom]
            same, _ = sample_tiles(
                lid, pts[:, 0], pts[:, 1], top, equal_per_zoom, equal_rng, exclude=set(got)
            )
            sample += got
            equal += same
            taken = set(same)
            spare += [t for t in rest if t not in taken]
    order = rng.permutation(len(sample))
    spare_order = rng.permutation(len(spare))
    equal_order = equal_rng.permutation(len(equal))
    return (
        [sample[i] for i in order],
        [equal[i] for i in equal_order],
        [spare[i] for i in spare_order],
    )


# -- the HTTP passes ---------------------------------------------------------------------------
def tipg_path(tile: Tile) -> str:
    """Return the tile's path on tipg, asking for the properties our tiles carry."""
    props = ",".join(tile_prop_names(layers.get(tile.layer)))
    return (
        f"/collections/public.{tile.layer}/tiles/WebMercatorQuad/{tile.z}/{tile.x}/{tile.y}"
        f"?properties={props}"
    )


def warm_up(base: str, paths: Sequence[str]) -> None:
    """Request ``paths`` (not in the measured list) at concurrency 8 so that the server's pools,
    lazy imports and catalog are ready before the clock starts; the answers are not checked."""
    fetch_all(base, paths, concurrency=8, time_limit_s=60.0)


def ours_cold_warm(
    url: str,
    paths: Sequence[str],
    warm_paths: Sequence[str],
    concurrency: int,
    limit_s: float,
    log: Path,
    *,
    warm: bool = True,
    env: dict[str, str] | None = None,
    equal_paths: Sequence[str] = (),
) -> tuple[Pass, Pass | None, Pass | None]:
    """Return (cold, equal, warm) passes of a fresh process of our server on ``url``: the
    first pass meets an empty tile cache (the server says so in ``X-Tile-Cache``); then, if
    given, the equal-work tiles (none of them asked before, so cold too); the last asks for the
    first pass's tiles again."""
    with servers.ours(url, log=log, env=env) as base:
        warm_up(base, warm_paths)
        cold = fetch_all(base, paths, concurrency=concurrency, time_limit_s=limit_s)
        equal = (
            fetch_all(base, equal_paths, concurrency=concurrency, time_limit_s=limit_s)
            if equal_paths
            else None
        )
        again = (
            fetch_all(base, paths, concurrency=concurrency, time_limit_s=limit_s) if warm else None
        )
    return cold, equal, again


def route_exists() -> bool:
    """Return whether our app serves ``/tiles/{layer}/{z}/{x}/{y}.mvt`` (per its OpenAPI)."""
    try:
        from twin.app import create_app

        paths = create_app().openapi()["paths"]
    except Exception as exc:
        print(f"our app cannot be built: {type(exc).__name__}: {exc}")
        return False
    return any(p.startswith("/tiles/{") and p.endswith("/{z}/{x}/{y}.mvt") for p in paths)


# -- the run -----------------------------------------------------------------------------------
@contextlib.contextmanager
def _phase(name: str, failures: list[str] | None = None) -> Iterator[None]:
    """Time and announce one phase. With ``failures``, a phase that fails (a server that does
    not start, say, while the shared tree is mid-edit) is recorded there and the run goes on."""
    t0 = time.perf_counter()
    print(f"… {name}", flush=True)
    try:
        yield
    except Exception as exc:
        if failures is None:
            raise
        failures.append(f"{name} failed: {type(exc).__name__}: {exc}")
        print(f"  {name}: FAILED ({exc})", flush=True)
        return
    print(
        f"  {name}: {time.perf_counter() - t0:.1f} s (load average {os.getloadavg()[0]:.1f})",
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the tables; return 0, or 1 when a check failed."""
    from bench.tile_work import work_report
    from bench.tiles_report import Run, breakdown, check, goals, table, zoom_table

    ap = argparse.ArgumentParser(prog="python -m bench.tiles", description=__doc__.split("\n")[0])
    ap.add_argument("--layers", default="buildings,roads", help="comma-separated layer ids")
    ap.add_argument("--per-zoom", type=int, default=40, help="tiles per zoom and layer")
    ap.add_argument(
        "--equal-per-zoom",
        type=int,
        default=80,
        help="tiles of equal work per layer at its maxzoom (small tiles: more of them, so that "
        "a pass lasts long enough to measure)",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--concurrency", default="1,8", help="comma-separated concurrencies")
    ap.add_argument("--time-limit", type=float, default=90.0, help="seconds per pass at most")
    ap.add_argument("--rounds", type=int, default=2, help="times every pass is repeated")
    ap.add_argument("--skip", default="", help="comma-separated: tipg,ours,embedded")
    args = ap.parse_args(argv)
    layer_ids = [s for s in args.layers.split(",") if s]
    conc = [int(c) for c in args.concurrency.split(",")]
    skip = set(filter(None, args.skip.split(",")))
    servers.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = servers.ARTIFACTS / "tiles-servers.log"
    log.write_bytes(b"")
    have_route = route_exists()
    if not have_route:
        skip |= {"ours", "embedded"}
        print("our tile route /tiles/{layer}/{z}/{x}/{y}.mvt does not exist yet: skipping ours")

    names = {
        "floor": "raw SQL floor",
        "canonical": "raw SQL canonical (info)",
        "tipg": "tipg 1.6.1",
        "tipg_equal": "tipg 1.6.1, equal work",
        "cold": "ours PostGIS cold",
        "cold_equal": "ours PostGIS cold, equal work",
        "warm": "ours PostGIS warm",
        "embedded": "ours GeoPackage kept",
        "drawn": "ours GeoPackage drawn (info)",
    }
    failed: list[str] = []
    warmed: WarmSummary | None = None
    warm_s = float("nan")
    t_start = time.perf_counter()
    # Other processes on a 2-core machine skew every number: say how busy it was.
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp, postgis_cluster(dbname="bench") as pg_url:
        with _phase("load PostGIS (bundled + 9 shifted copies of the buildings)"):
            print(f"  {count_buildings(pg_url, load_city(pg_url))}")
        tiles, equal, spare = city_tiles(
            pg_url, layer_ids, args.per_zoom, args.seed, args.equal_per_zoom
        )
        print(
            f"  {len(tiles)} tiles: "
            + ", ".join(
                f"{lid} z{min(t.z for t in tiles if t.layer == lid)}–"
                f"z{max(t.z for t in tiles if t.layer == lid)} "
                f"({sum(t.layer == lid for t in tiles)})"
                for lid in layer_ids
            )
            + f"; {len(equal)} more of equal work, at "
            + ", ".join(sorted({f"{t.layer} z{t.z}" for t in equal}))
        )
        # What a server that draws everything would put in each tile (not timed).
        meeting = meeting_counts(pg_url, tiles)
        meeting_equal = meeting_counts(pg_url, equal)
        floor = floor_query()
        gpkg_url = f"gpkg:///{tmp}/twin.gpkg"
        if "embedded" not in skip:
            with _phase("load GeoPackage (bundled + 9 shifted copies of the buildings)", failed):
                load_city(gpkg_url)
            with _phase("twin tiles warm on the GeoPackage (z0–z16, every core)", failed):
                t_warm = time.perf_counter()
                warmed = warm_gpkg(gpkg_url, layer_ids)
                warm_s = time.perf_counter() - t_warm
                print(
                    f"  drew and kept {warmed.kept:,} tiles of {', '.join(layer_ids)}, "
                    f"{warmed.bytes / 1e6:.0f} MB gzip"
                )
            if failed:
                skip.add("embedded")
        with _phase(f"warm PostgreSQL's buffers (raw SQL: {floor.label}, unmeasured)"):
            sql_pass(pg_url, tiles, floor, 8, args.time_limit)
        collected: dict[str, dict[int, list[Pass]]] = defaultdict(lambda: defaultdict(list))
        limit = args.time_limit
        paths = [t.path() for t in tiles]
        equal_paths = [t.path() for t in equal]
        warm_paths = [t.path() for t in spare[:16]]
        with contextlib.ExitStack() as stack:
            tipg_base = None
            if "tipg" not in skip:
                with _phase("start tipg", failed):
                    tipg_base = stack.enter_context(servers.tipg(pg_url, layer_ids, log=log))
                    warm_up(tipg_base, [tipg_path(t) for t in spare[:16]])
            # Every server is measured at one concurrency before the next concurrency, and the
            # rounds repeat that, so that a change in the machine's load (other work on a
            # shared machine) falls on all servers alike rather than on whichever ran last.
            for r in range(1, args.rounds + 1):
                for c in conc:
                    with _phase(
                        f"round {r}/{args.rounds}, c={c}: raw SQL (ours, canonical), tipg", failed
                    ):
                        collected["floor"][c].append(sql_pass(pg_url, tiles, floor, c, limit))
                        if c == conc[0] and floor.label != "canonical ST_AsMVT":
                            canon = sql_pass(
                                pg_url, tiles, canonical_floor(floor.session), c, limit
                            )
                            collected["canonical"][c].append(canon)
                        if tipg_base is not None:
                            tipg_paths = [tipg_path(t) for t in tiles]
                            collected["tipg"][c].append(
                                fetch_all(tipg_base, tipg_paths, concurrency=c, time_limit_s=limit)
                            )
                            collected["tipg_equal"][c].append(
                                fetch_all(
                                    tipg_base,
                                    [tipg_path(t) for t in equal],
                                    concurrency=c,
                                    time_limit_s=limit,
                                )
                            )
                    if "ours" not in skip:
                        with _phase(f"round {r}/{args.rounds}, c={c}: ours on PostGIS", failed):
                            cold, same, warm = ours_cold_warm(
                                pg_url, paths, warm_paths, c, limit, log, equal_paths=equal_paths
                            )
                            collected["cold"][c].append(cold)
                            if same is not None:
                                collected["cold_equal"][c].append(same)
                            if warm is not None:
                                collected["warm"][c].append(warm)
                    if "embedded" not in skip:
                        with _phase(f"round {r}/{args.rounds}, c={c}: ours on GeoPackage", failed):
                            emb, _, _ = ours_cold_warm(
                                gpkg_url, paths, warm_paths, c, limit, log, warm=False
                            )
                            collected["embedded"][c].append(emb)
                            drawn, _, _ = ours_cold_warm(
                                gpkg_url, paths, warm_paths, c, limit, log, warm=False, env=DRAW
                            )
                            collected["drawn"][c].append(drawn)
    refs: dict[str, tuple[str | None, dict[str, Any]]] = {
        "floor": (None, {}),
        "canonical": (None, {}),
        # tipg draws features meeting the tile itself, ours (the floor) may drop small ones
        "tipg": ("canonical" if "canonical" in collected else "floor", {"same_rule": False}),
        "cold": ("floor", {"expect_cache": "miss"}),
        "warm": ("floor", {"expect_cache": "hit"}),
        "embedded": ("cold", {"expect_cache": "stored"}),
        "drawn": ("cold", {"expect_cache": "miss"}),
        # on equal work both draw every feature meeting the tile: the counts must agree
        "cold_equal": (None, {"expect_cache": "miss", "tiles": equal}),
        "tipg_equal": ("cold_equal" if "cold_equal" in collected else None, {"tiles": equal}),
    }
    runs: dict[str, Run] = {}
    for role, (ref, extra) in refs.items():
        if role in collected:
            by_c = {c: Pass.merged(ps) for c, ps in collected[role].items()}
            runs[names[role]] = Run(names[role], by_c, names[ref] if ref else None, **extra)
    total = time.perf_counter() - t_start
    load_end = os.getloadavg()[0]

    print(
        f"\n{len(tiles)} tiles, z{min(t.z for t in tiles)}–z{max(t.z for t in tiles)}, "
        f"layers {', '.join(layer_ids)}; one uvicorn worker per server; {total:.0f} s in all; "
        f"load average {load_start:.1f} at the start, {load_end:.1f} at the end "
        f"({os.cpu_count()} CPUs)\n"
    )
    print(table(runs, tiles, conc))
    for c in conc:
        print()
        print(zoom_table(runs, tiles, c))
    text, record = goals(runs, tiles, conc, names)
    print()
    print(text)
    if names["embedded"] in runs and warmed is not None:
        print(
            f"  the embedded z14 goal is met by tiles drawn ahead: `twin tiles warm` drew and kept "
            f"{warmed.kept:,} tiles (z0–z16)\n  in {warm_s:.1f} s before the clock started "
            "(`twin serve` does so to z14 on its first start); drawn on demand: the row below it"
        )
    work_text, work = work_report(
        runs, names, tiles, equal, meeting, meeting_equal, layers_maxzoom(layer_ids)
    )
    print()
    print(work_text)
    if names["cold"] in runs:
        print()
        print(breakdown(runs, names, conc[0]))
    problems: list[str] = list(failed)
    tracebacks = log.read_text(errors="replace").count("Traceback (most recent call last)")
    if tracebacks:
        # a server that fails and recovers per request is still slow: its numbers are suspect
        problems.append(f"the servers logged {tracebacks} tracebacks: see {log}")
    notes: list[str] = []
    for run in runs.values():
        bad, info = check(run, runs, tiles)
        problems += bad
        notes += info
    print()
    print("checks: every tile 200/204 from every server, feature counts equal to the reference")
    for p in problems:
        print(f"  PROBLEM {p}")
    if not problems:
        print("  all good")
    for n in notes:
        print(f"  note: {n}")
    out = servers.ARTIFACTS / "tiles-result.json"
    out.write_text(
        json.dumps(
            {
                "tiles": [t._asdict() for t in tiles],
                "goals": record,
                "equal_work_tiles": [t._asdict() for t in equal],
                **work,
                "problems": problems,
                "notes": notes,
                "runs": {
                    n: {
                        c: {
                            "p50": p.p(50),
                            "p95": p.p(95),
                            "tiles_per_s": p.throughput,
                            "skipped": p.skipped,
                        }
                        for c, p in r.passes.items()
                    }
                    for n, r in runs.items()
                },
            },
            indent=1,
            default=float,
        )
    )
    print(f"\n(server logs: {log}; numbers: {out})")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
