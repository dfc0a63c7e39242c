"""Map benchmark: the residents' map in headless Chromium on this machine.

Run: ``uv run python -m bench.web [--store gpkg:///path.gpkg] [--runs 5]``

The app runs in its own process (``uvicorn``, as ``twin serve`` does) on a GeoPackage store
with the bundled Almaty set (loaded into a temporary file unless ``--store`` names one). Each
run opens the map in a fresh browser context (empty browser cache) at the default view and
measures, from navigation start:

- first render: the first frame MapLibre draws after a tile has arrived (the map is visible);
- initial view: the first ``idle`` event (every tile of the view loaded and drawn);
- bytes: everything transferred until then (HTML, JS, CSS, fonts, JSON, tiles, headers
  included; Chromium's ``encodedDataLength``), and how much of it was tiles.

Each viewport gets a fresh server on a fresh copy of the store with no kept tiles (on the
GeoPackage store a tile drawn on demand is kept in the file, ``tiles.stored``; without the copy
the phone would read what the desktop runs kept). So its first run is really cold: no tile in
the server's memory, none kept in the file, an empty browser cache; every tile of that run
must say ``X-Tile-Cache: miss`` (checked, and printed per run). The later runs are warm: the
same server, which now keeps the view's tiles, and again an empty browser cache. (``twin
serve`` would have drawn the map's tiles to z14 ahead on its first start; this benchmark
starts uvicorn directly, as ``twin serve --no-warm`` does.) Goals: first render ≤ 2 s (median
of the warm runs; the cold run is printed beside it), initial view ≤ 1.5 MB.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyogrio  # noqa: F401  (before SpatiaLite)

os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")

from tests.support.browser import CHROMIUM
from tests.support.browser import CHROMIUM_ARGS as ARGS
from twin.core.settings import DATA_DIR, PROJECT_ROOT

GOAL_FIRST_RENDER_S = 2.0
GOAL_BYTES = 1.5e6
VIEWPORTS = {"desktop 1366×800": (1366, 800), "phone 360×740": (360, 740)}

# Hooks the map as soon as the app creates it (window.twin.map), timing from navigation start.
HOOKS = """
window.__bench = { firstTile: null, firstRender: null, idle: null };
(function wait() {
  const map = window.twin && window.twin.map;
  if (!map) { setTimeout(wait, 2); return; }
  map.on('data', (e) => {
    if (e.dataType === 'source' && e.tile && window.__bench.firstTile === null) {
      window.__bench.firstTile = performance.now();
    }
  });
  map.on('render', () => {
    if (window.__bench.firstTile !== null && window.__bench.firstRender === null) {
      window.__bench.firstRender = performance.now();
    }
  });
  map.once('idle', () => { window.__bench.idle = performance.now(); });
})();
"""


@dataclass
class Run:
    first_render_s: float
    initial_view_s: float
    bytes_total: int
    bytes_tiles: int
    requests: int
    #: How many tiles the server answered from where (``X-Tile-Cache``: miss, hit, stored).
    tile_cache: dict[str, int]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _store(url: str | None, workdir: str) -> str:
    if url:
        return url
    from etl.load import load_bundled
    from twin.store import open_store

    path = Path(workdir) / "almaty.gpkg"
    url = f"gpkg:///{path}"
    print(f"loading the bundled Almaty set into {path} …", flush=True)
    store = open_store(url)
    load_bundled(store, DATA_DIR)
    store.close()
    return url


def _fresh_copy(url: str, workdir: str, name: str) -> str:
    """Return a store for one viewport's server with no tile kept in it: a copy of the
    GeoPackage at ``url`` with its kept tiles removed (a PostGIS store keeps no tiles, and a
    fresh server starts with an empty memory cache: it is returned as it is)."""
    if not url.startswith("gpkg:"):
        return url
    from tiles.stored import StoredTiles
    from twin.store.geopackage import gpkg_path

    src = gpkg_path(url)
    dst = Path(workdir).resolve() / f"{name}.gpkg"
    for suffix in ("", "-wal", "-shm"):  # a store left in WAL mode has committed pages there
        if Path(f"{src}{suffix}").exists():
            shutil.copyfile(f"{src}{suffix}", f"{dst}{suffix}")
    kept = StoredTiles(dst, 0)
    try:
        kept.clear()
    finally:
        kept.close()
    return f"gpkg:///{dst}"  # gpkg:////absolute/path (SQLAlchemy's convention)


def _ensure_built() -> None:
    web = PROJECT_ROOT / "web"
    if not (web / "dist" / "index.html").exists():
        if not (web / "node_modules").exists():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=web, check=True)
        subprocess.run(["npm", "run", "build"], cwd=web, check=True, capture_output=True)


def _serve(store_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TWIN_DATABASE_URL": store_url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "twin.app:create_app", "--port", str(port)],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the app did not start")


def _run(browser: Any, base: str, size: tuple[int, int]) -> Run:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.add_init_script(HOOKS)
    finished: list[Any] = []
    # Worker requests (MapLibre fetches tiles in a Web Worker) are seen here too.
    page.on("requestfinished", lambda r: finished.append(r))
    page.goto(base + "/")
    page.wait_for_function("window.__bench && window.__bench.idle !== null", timeout=120000)
    timing = page.evaluate("window.__bench")
    page.wait_for_timeout(200)  # let the last requestfinished events arrive
    sizes: dict[str, int] = {}
    for request in finished:
        got = request.sizes()
        sizes[request.url] = got["responseBodySize"] + got["responseHeadersSize"]
    tiles = sum(v for url, v in sizes.items() if url.endswith(".mvt"))
    # The server's word on each tile's first answer (a tile asked again within the run, as
    # MapLibre may, is a hit of that run's own drawing, not a sign of a warm start).
    first: dict[str, str] = {}
    for request in finished:
        if request.url.endswith(".mvt") and request.url not in first:
            response = request.response()
            said = response.headers.get("x-tile-cache") if response else None
            first[request.url] = said or "none"
    cache = collections.Counter(first.values())
    run = Run(
        first_render_s=timing["firstRender"] / 1000,
        initial_view_s=timing["idle"] / 1000,
        bytes_total=int(sum(sizes.values())),
        bytes_tiles=int(tiles),
        requests=len(sizes),
        tile_cache=dict(cache),
    )
    context.close()
    return run


def _measure(store_url: str, runs: int, workdir: str) -> dict[str, list[Run]]:
    """Return the runs per viewport, each viewport against a freshly started server on a
    fresh copy of the store without kept tiles."""
    from playwright.sync_api import sync_playwright

    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; "
        f"store: {store_url.split('://')[0]}",
        flush=True,
    )
    results: dict[str, list[Run]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for i, (name, size) in enumerate(VIEWPORTS.items()):
            port = _free_port()
            # a fresh server on a fresh copy: the first run is cold
            server = _serve(_fresh_copy(store_url, workdir, f"viewport{i}"), port)
            try:
                results[name] = [
                    _run(browser, f"http://127.0.0.1:{port}", size) for _ in range(runs)
                ]
            finally:
                server.terminate()
                server.wait(timeout=10)
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="a gpkg:/// or postgresql:// URL with the Almaty set")
    parser.add_argument("--runs", type=int, default=5, help="runs per viewport (first is cold)")
    args = parser.parse_args()

    _ensure_built()
    with tempfile.TemporaryDirectory(prefix="bench-web-") as workdir:
        store_url = _store(args.store, workdir)
        results = _measure(store_url, args.runs, workdir)
    print()
    header = (
        f"{'viewport':<20}{'run':<7}{'first render':>14}{'initial view':>14}"
        f"{'bytes':>12}{'tiles':>11}{'requests':>10}  tiles from (X-Tile-Cache)"
    )
    print(header)
    print("-" * len(header))
    for name, runs in results.items():
        for i, r in enumerate(runs):
            label = "cold" if i == 0 else f"warm{i}"
            print(
                f"{name:<20}{label:<7}{r.first_render_s:>12.2f} s{r.initial_view_s:>12.2f} s"
                f"{r.bytes_total / 1e6:>9.2f} MB{r.bytes_tiles / 1e6:>8.2f} MB{r.requests:>10}"
                f"  {', '.join(f'{k} {v}' for k, v in sorted(r.tile_cache.items()))}"
            )
    print()
    ok = True
    for name, runs in results.items():
        warm = runs[1:] or runs
        first = statistics.median(r.first_render_s for r in warm)
        view = statistics.median(r.initial_view_s for r in warm)
        size = max(r.bytes_total for r in runs)
        good = first <= GOAL_FIRST_RENDER_S and size <= GOAL_BYTES
        ok &= good
        verdict = "met" if good else "MISSED"
        cold = runs[0]
        print(
            f"{name}: first render {first:.2f} s (median of warm runs; cold "
            f"{cold.first_render_s:.2f} s; goal ≤ {GOAL_FIRST_RENDER_S:.1f} s), initial view "
            f"{view:.2f} s (cold {cold.initial_view_s:.2f} s), {size / 1e6:.2f} MB "
            f"(goal ≤ {GOAL_BYTES / 1e6:.1f} MB) — {verdict}"
        )
        not_cold = sum(v for k, v in cold.tile_cache.items() if k != "miss")
        if not_cold:
            # a cold run that read kept tiles measures the warm path: its figure would lie
            ok = False
            print(f"  PROBLEM: {not_cold} tiles of the cold run were not drawn on demand")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
