"""A/B of tile serving: this checkout against another revision, on the same stores and tiles.

Run: ``uv run python -m bench.ab --before REV`` (starts its own PostGIS cluster; a few minutes).

Why: a change of the code's shape (moving modules, splitting a class, putting backends behind
an interface) must not make tiles slower. Comparing two runs of ``bench.tiles`` taken at
different times on a shared machine compares the machine's load as much as the code, so here
both revisions serve the same tile list in the same run, their passes interleaved round by
round: whatever the load, each side meets the same.

The revision is checked out into a temporary git worktree with its own virtualenv (``uv sync
--frozen``); the stores are loaded once with this checkout's code (the bundled Almaty set plus
the 10x scaled buildings) and each side's server opens them (a GeoPackage copy each). Each
round starts fresh servers (cold: every tile drawn, on PostGIS with ``ST_AsMVT`` and on the
GeoPackage in process with kept tiles off), then asks the same tiles again (warm: the memory
cache). Prints p50, p95 and tiles/s per side and the ratio after/before (< 1: faster after).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pyogrio  # noqa: F401  (before SpatiaLite)

os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")

import numpy as np

from bench import servers
from bench.http_load import Pass, fetch_all
from bench.scaled import shifted_buildings_file
from bench.tile_list import CITY_BBOX, sample_tiles
from etl.load import load_bundled, load_files
from tests.support.postgres import create_database, postgis_cluster
from twin.core.settings import DATA_DIR, PROJECT_ROOT
from twin.store import open_store


@contextlib.contextmanager
def checkout(rev: str) -> Iterator[Path]:
    """Yield a worktree of ``rev`` with its virtualenv synced; remove it after."""
    root = Path(tempfile.mkdtemp(prefix="twin-ab-"))
    tree = root / "tree"
    subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "worktree", "add", "--detach", str(tree), rev],
        check=True,
        capture_output=True,
    )
    try:
        env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
        env.pop("VIRTUAL_ENV", None)
        subprocess.run(["uv", "sync", "--frozen", "--quiet"], cwd=tree, check=True, env=env)
        yield tree
    finally:
        subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "worktree", "remove", "--force", str(tree)],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def _server(tree: Path, url: str, log: Path) -> contextlib.AbstractContextManager[str]:
    env = {
        "TWIN_DATABASE_URL": url,
        "SPATIALITE_LIBRARY_PATH": "mod_spatialite",
        "TWIN_TILES_STORE_MB": "0",  # draw every cold tile, on both sides
        "PYTHONPATH": str(tree),
    }
    return servers.uvicorn_server(
        tree / ".venv" / "bin" / "python",
        "twin.app:create_app",
        env=env,
        health="/healthz",
        factory=True,
        cwd=tree,
        log=log,
    )


def _tiles(url: str, per_zoom: int) -> list[str]:
    """Return tile paths where buildings and roads have features, z10-z16, seeded."""
    import layers

    store = open_store(url)
    try:
        rng = np.random.default_rng(2026)
        paths: list[str] = []
        for lid, zooms in (("buildings", range(12, 17)), ("roads", range(10, 17))):
            frame = store.read_frame(layers.get(lid), bbox=CITY_BBOX)
            pts = frame.geometry.representative_point()
            sample, _ = sample_tiles(lid, pts.x.to_numpy(), pts.y.to_numpy(), zooms, per_zoom, rng)
            paths += [f"/tiles/{t.layer}/{t.z}/{t.x}/{t.y}.mvt" for t in sample]
        return paths
    finally:
        store.close()


def _row(name: str, before: list[Pass], after: list[Pass]) -> str:
    def stats(passes: list[Pass]) -> tuple[float, float, float]:
        lat = np.concatenate([p.latencies_ms() for p in passes])
        rate = statistics.median(p.throughput for p in passes)
        return float(np.percentile(lat, 50)), float(np.percentile(lat, 95)), rate

    b, a = stats(before), stats(after)
    return (
        f"{name:<28}{b[0]:>9.2f}{a[0]:>9.2f}{a[0] / b[0]:>8.2f}"
        f"{b[1]:>9.2f}{a[1]:>9.2f}{a[1] / b[1]:>8.2f}{b[2]:>9.0f}{a[2]:>9.0f}{a[2] / b[2]:>8.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the revision to compare against")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-zoom", type=int, default=20, help="tiles per layer and zoom")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    log_dir = PROJECT_ROOT / "artifacts" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        postgis_cluster() as pg,
        checkout(args.before) as old,
    ):
        scaled = shifted_buildings_file()
        pg_url = create_database(pg, "ab")
        gpkg = Path(tmp) / "ab.gpkg"
        for url in (pg_url, f"gpkg:///{gpkg}"):
            store = open_store(url)
            load_bundled(store, DATA_DIR)
            load_files(store, [scaled], layer_id="buildings")
            store.close()
        copies = {side: Path(tmp) / f"{side}.gpkg" for side in ("before", "after")}
        for path in copies.values():
            shutil.copy(gpkg, path)
        paths = _tiles(pg_url, args.per_zoom)
        print(f"{len(paths)} tiles (buildings z12-z16, roads z10-z16), c={args.concurrency}")
        trees = {"before": old, "after": PROJECT_ROOT}
        got: dict[tuple[str, str, str], list[Pass]] = {}
        for r in range(args.rounds):
            for side in ("before", "after") if r % 2 == 0 else ("after", "before"):
                for store_name, url in (
                    ("PostGIS", pg_url),
                    ("GeoPackage", f"gpkg:///{copies[side]}"),
                ):
                    log = log_dir / f"ab-{side}.log"
                    with _server(trees[side], url, log) as base:
                        cold = fetch_all(base, paths, concurrency=args.concurrency)
                        warm = fetch_all(base, paths, concurrency=args.concurrency)
                    bad = [s for p in (cold, warm) for s in p.samples if s.status not in (200, 204)]
                    if bad:
                        raise SystemExit(f"{side} {store_name}: {bad[0].item} -> {bad[0].status}")
                    got.setdefault((side, store_name, "cold"), []).append(cold)
                    got.setdefault((side, store_name, "warm"), []).append(warm)
            print(
                f"round {r + 1}/{args.rounds} (load average {os.getloadavg()[0]:.1f})", flush=True
            )
            time.sleep(1)
    print(
        f"\n{'':<28}{'p50 ms':>9}{'':>9}{'a/b':>8}{'p95 ms':>9}{'':>9}{'a/b':>8}"
        f"{'tiles/s':>9}{'':>9}{'a/b':>8}"
    )
    print(f"{'':<28}" + f"{'before':>9}{'after':>9}{'':>8}" * 3)
    for store_name in ("PostGIS", "GeoPackage"):
        for phase in ("cold", "warm"):
            print(
                _row(
                    f"{store_name} {phase}",
                    got[("before", store_name, phase)],
                    got[("after", store_name, phase)],
                )
            )
    print(f"\nbefore = {args.before}, after = this checkout; a/b < 1 for latency means faster")


if __name__ == "__main__":
    main()
