"""Scale benchmark: one machine's worth of the multi-process, replica and Dask layout.

Run: ``uv run python -m bench.scale`` (the issue's sizes: the city ×100, 500 locust users,
60 s runs: long, for a quiet machine; ``--copies``, ``--dask-copies``, ``--seconds``,
``--users`` to size it; ``--short`` checks every part end to end in a few minutes). It prints,
in one run:

* the country-scale load: the bundled city plus ``copies - 1`` copies across Kazakhstan
  (:mod:`etl.synthesise.country`), rows per layer and load time;
* cold tile throughput of ``twin serve`` with 1 and with 2 worker processes (each on tiles
  never asked before, from the same seeded sample; PostGIS ``ST_AsMVT`` draws them): tiles/s
  and the ratio (the issue's goal: ≥ 1.6× on 2 cores);
* every camera's visibility polygon of ``--dask-copies`` copies of the city: in process, and
  on a Dask LocalCluster of 1 and of 2 worker processes, the first time (the footprints sent)
  and again (the footprints held on the workers), with the ratios, and whether the answers
  are the same; beside it the floor, the same work in 1 and in 2 forked processes
  without Dask (what the machine's two cores give this work);
* a locust run (headless, bounded) of a mixed workload (cached and cold tiles, filtered
  features, search, isochrones, writes) against 1 and against 2 server processes that read
  from a streaming replica, once they have built their search index and walking graph
  (``prebuilt`` in ``/healthz``, as a balancer's readiness check would wait): requests/s,
  failure share and p95 per request kind, the commonest errors, and ratios;
* the same workload against the local cluster's layout (two server processes, the replica,
  Redis) with the primary crashed and started again in the middle: per kind requests,
  failures and p95, the commonest errors, seconds until features, search, an isochrone and a
  cold tile each answered again after the primary started (the goal: ≤ 10 s, no server
  restarted; beside each, what one took before the gap), when the replica streamed again,
  the probe answers that were not clean 503s with ``Retry-After``, and the requests lost.

The load average before each part is printed: on a machine shared with other work the
ratios say more than the absolute figures.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio  # noqa: F401  (before SpatiaLite)
import shapely

import layers
from bench.http_load import fetch_all
from bench.tile_list import sample_tiles
from tests.support.postgres import StreamingReplica, create_database, postgis_cluster
from tests.support.servers import get_json, twin_servers

os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
PLANNER_KEY = "bench-planner"


def load() -> str:
    """Return the load averages (1, 5, 15 min) as text."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def part(title: str) -> None:
    print(f"\n== {title} (load average {load()})", flush=True)


def wait_prebuilt(base: str, timeout: float = 900) -> float:
    """Wait until the server processes behind ``base`` have built their search index and
    walking graph (``prebuilt`` in ``/healthz``: ten answers in a row, each on a new
    connection, so each process of several sharing the port is asked); return the seconds."""
    t0 = time.monotonic()
    in_a_row = 0
    while in_a_row < 10:
        if time.monotonic() - t0 > timeout:
            raise SystemExit(f"{base}: the start-up builds took longer than {timeout:.0f} s")
        if get_json(f"{base}/healthz", timeout=30).get("prebuilt", True):
            in_a_row += 1
        else:
            in_a_row = 0
            time.sleep(0.5)
    return time.monotonic() - t0


def load_country(url: str, copies: int) -> None:
    from etl.load import load_bundled
    from etl.synthesise.country import generate
    from twin.core.settings import DATA_DIR
    from twin.store import open_store

    store = open_store(url)
    try:
        t0 = time.perf_counter()
        load_bundled(store, DATA_DIR)
        t1 = time.perf_counter()
        written = generate(store, copies) if copies > 1 else {}
        t2 = time.perf_counter()
        counts = store.counts()
    finally:
        store.close()
    print(f"bundled city loaded in {t1 - t0:.1f} s; {copies - 1} copies in {t2 - t1:.1f} s "
          f"({sum(written.values()):,} rows)")  # fmt: skip
    for lid in ("buildings", "roads", "cameras"):
        print(f"  {lid:10} {counts[lid]:>10,}")


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """Return the CPU seconds (user + system) used so far by the server processes (``pid``
    and its children), PostgreSQL's processes, and this process (the load client)."""
    import psutil

    def used(p: psutil.Process) -> float:
        try:
            t = p.cpu_times()
            return float(t.user + t.system)
        except psutil.Error:  # gone meanwhile
            return 0.0

    def reaped(p: psutil.Process) -> float:  # children that have exited and been waited for
        try:
            t = p.cpu_times()
            return float(t.children_user + t.children_system)
        except psutil.Error:
            return 0.0

    def tree(p: psutil.Process) -> float:
        """A process, its live descendants, and its exited ones (PostgreSQL's backends come
        and go: the postmaster counts them once they exit)."""
        try:
            kids = p.children(recursive=True)
        except psutil.Error:
            return 0.0
        return used(p) + reaped(p) + sum(used(c) + reaped(c) for c in kids)

    def postmaster(p: psutil.Process) -> bool:
        try:
            return p.name() == "postgres" and p.parent().name() != "postgres"
        except (psutil.Error, AttributeError):
            return False

    return {
        "server": tree(psutil.Process(server_pid)),
        "postgres": sum(tree(p) for p in psutil.process_iter() if postmaster(p)),
        "client": used(psutil.Process()),
    }


def cold_tiles(url: str, seconds: float) -> None:
    from twin.store import open_store

    store = open_store(url, create=False)
    try:
        pts = shapely.centroid(np.asarray(store.read_frame(layers.get("buildings")).geometry))
    finally:
        store.close()
    lon, lat = shapely.get_x(pts), shapely.get_y(pts)
    rng = np.random.default_rng(7)
    sample, _ = sample_tiles("buildings", lon, lat, [15, 16], 4000, rng)
    paths = [t.path() for t in sample]
    rng.shuffle(paths)
    half = len(paths) // 2
    env = {"TWIN_DATABASE_URL": url}
    rates = {}
    for workers, chunk in ((1, paths[:half]), (2, paths[half:])):
        with twin_servers(env, workers=workers) as [(base, proc)]:
            time.sleep(2.0 * workers)  # every worker up
            wait_prebuilt(base)  # the start-up builds done: their CPU is not the tiles'
            before, t0 = cpu_seconds(proc.pid), time.perf_counter()
            run = fetch_all(base, chunk, concurrency=8, time_limit_s=seconds)
            after, wall = cpu_seconds(proc.pid), time.perf_counter() - t0
        bad = run.failures(lambda s: s.status in (200, 204))
        empty = sum(1 for s in run.samples if s.status == 204)
        rates[workers] = run.throughput
        print(f"  {workers} process(es): {run.throughput:7.1f} cold tiles/s, "
              f"p50 {run.p(50):.0f} ms, p95 {run.p(95):.0f} ms, {len(run.samples)} tiles "
              f"({empty} empty), {len(bad)} failed")  # fmt: skip
        # Where the 2 cores went: a second server process can only help with the server's
        # share; PostgreSQL's ST_AsMVT and the load client run on the same cores.
        split = {k: after[k] - before[k] for k in after}
        print("    cores busy: " + ", ".join(f"{k} {v / wall:.2f}" for k, v in split.items())
              + f" (of 2; {wall:.1f} s)")  # fmt: skip
    print(f"  ratio 2 : 1 processes = {rates[2] / rates[1]:.2f}x (goal >= 1.6x)")


#: what the floor's forked processes compute (set before the fork: inherited, not pickled)
_FLOOR: dict[str, Any] = {}


def _floor_chunk(idx: np.ndarray) -> int:
    from twin.analyses.coverage.visibility import visibility_polygons

    args = {k: v[idx] for k, v in _FLOOR["args"].items()}
    return len(visibility_polygons(**args, obstacles=_FLOOR["obstacles"]))


def floor_ratio(args: dict[str, np.ndarray], obstacles: Any, chunks: int = 16) -> float:
    """Return the speed-up of the same visibility work in 2 forked processes over 1, no Dask:
    the most this machine's cores give this work (shared caches and memory bandwidth, a
    hypervisor's vCPUs), against which Dask's 2 : 1 workers ratio is read."""
    import multiprocessing

    _FLOOR.update(args=args, obstacles=obstacles)
    order = np.argsort(args["x"], kind="stable")  # neighbours together, as Dask's cells are
    parts = np.array_split(order, chunks)
    took = {}
    for n in (1, 2):
        with multiprocessing.get_context("fork").Pool(n) as pool:
            t0 = time.perf_counter()
            assert sum(pool.map(_floor_chunk, parts, chunksize=1)) == len(order)
            took[n] = time.perf_counter() - t0
    print(f"  floor, no Dask: 1 process {took[1]:6.1f} s, 2 processes {took[2]:6.1f} s "
          f"= {took[1] / took[2]:.2f}x (what 2 cores give this work)")  # fmt: skip
    return took[1] / took[2]


def dask_visibility(url: str, copies: int) -> None:
    from dask.distributed import LocalCluster

    from twin.analyses.coverage import distributed
    from twin.analyses.coverage.cameras import METRIC_CRS, covering, effective_fov
    from twin.analyses.coverage.visibility import Obstacles, visibility_polygons
    from twin.store import open_store

    store = open_store(url, create=False)
    try:
        cams = store.read_frame(layers.get("cameras"), with_system=True)
        blds = store.read_frame(layers.get("buildings"), with_system=True)
    finally:
        store.close()
    keep = [f"country-c{k}" for k in range(1, copies)]
    cams = cams[~cams["source"].str.startswith("country-") | cams["source"].isin(keep)]
    blds = blds[~blds["source"].str.startswith("country-") | blds["source"].isin(keep)]
    cams = cams.to_crs(METRIC_CRS)
    args = {
        "x": cams.geometry.x.to_numpy(),
        "y": cams.geometry.y.to_numpy(),
        "heading_deg": cams["heading_deg"].to_numpy(float),
        "fov_deg": effective_fov(cams),
        "range_m": cams["range_m"].to_numpy(float),
        "active": covering(cams),
    }
    obstacles = Obstacles.from_geometries(np.asarray(blds.to_crs(METRIC_CRS).geometry.values))
    print(f"  {len(cams):,} cameras, {len(obstacles):,} footprint parts ({copies} x the city)")
    t0 = time.perf_counter()
    here = visibility_polygons(**args, obstacles=obstacles)
    base = time.perf_counter() - t0
    print(f"  in process:       {base:6.1f} s")
    times, again = {}, {}
    for n in (1, 2):
        with LocalCluster(n_workers=n, threads_per_worker=1, dashboard_address=None) as c:
            distributed.connect(c.scheduler_address)
            try:
                distributed.client().run(lambda: None)  # workers warm (imports)
                # (other cells, so other footprints: the timed run sends its own)
                distributed.visibility(**args, obstacles=obstacles, cell_m=3000.0)
                t0 = time.perf_counter()
                there = distributed.visibility(**args, obstacles=obstacles)
                times[n] = time.perf_counter() - t0
                # the same analysis again: its footprints are held on the workers
                t0 = time.perf_counter()
                twice = distributed.visibility(**args, obstacles=obstacles)
                again[n] = time.perf_counter() - t0
            finally:
                distributed.connect(None)
        same = bool(
            shapely.equals_exact(here, there, tolerance=0.0).all()
            and shapely.equals_exact(here, twice, tolerance=0.0).all()
        )
        print(f"  Dask, {n} worker(s): {times[n]:6.1f} s ({base / times[n]:.2f}x in process); "
              f"again, footprints held: {again[n]:6.1f} s ({base / again[n]:.2f}x); "
              f"same answer: {same}")  # fmt: skip
    floor = floor_ratio(args, obstacles)
    print(f"  ratio 2 : 1 workers = {times[1] / times[2]:.2f}x, again {again[1] / again[2]:.2f}x "
          f"(goal >= 1.6x; {times[1] / times[2] / floor:.2f} and "
          f"{again[1] / again[2] / floor:.2f} of the floor's {floor:.2f}x)")  # fmt: skip


def dask_nearest(url: str) -> None:
    """Time the nearest facility of every building of the whole store (every category,
    walking) in process and on Dask with 1 and 2 workers, and compare the answers."""
    import pandas as pd
    from dask.distributed import LocalCluster

    from twin.analyses import cluster
    from twin.analyses.access.profiles import WALK, categories
    from twin.analyses.access.service import AccessService
    from twin.store import open_store

    store = open_store(url, create=False)
    try:
        svc = AccessService(store, engine="python")
        cats = categories(None)
        mg = svc.graph.for_profile(WALK)  # built once and kept: outside the timings
        _ = mg.matrix, mg.tree, svc.city.frames
        t0 = time.perf_counter()
        here = svc.buildings(WALK, cats)
        base = time.perf_counter() - t0
        print(f"  {len(here):,} buildings x {len(cats)} categories; in process: {base:6.1f} s")
        times = {}
        for n in (1, 2):
            with LocalCluster(n_workers=n, threads_per_worker=1, dashboard_address=None) as c:
                cluster.connect(c.scheduler_address)
                try:
                    cluster.client().run(lambda: None)  # workers warm (imports)
                    t0 = time.perf_counter()
                    there = svc.buildings(WALK, cats)
                    times[n] = time.perf_counter() - t0
                finally:
                    cluster.connect(None)
            same = pd.DataFrame(here.drop(columns="geometry")).equals(
                pd.DataFrame(there.drop(columns="geometry"))
            )
            print(f"  Dask, {n} worker(s): {times[n]:6.1f} s ({base / times[n]:.2f}x in process), "
                  f"same answer: {same}")  # fmt: skip
        print(f"  ratio 2 : 1 workers = {times[1] / times[2]:.2f}x")
    finally:
        store.close()


def locust_run(hosts: list[str], users: int, seconds: int, out: Path) -> dict[str, dict[str, str]]:
    env = {
        **os.environ,
        "TWIN_BENCH_HOSTS": ",".join(hosts),
        "TWIN_BENCH_PLANNER_KEY": PLANNER_KEY,
    }
    exe = Path(sys.executable).parent / "locust"
    subprocess.run(
        [str(exe), "-f", str(Path(__file__).with_name("locustfile.py")), "--headless",
         "-u", str(users), "-r", str(max(1, users // 5)), "-t", f"{seconds}s",
         "--host", hosts[0], "--csv", str(out), "--only-summary", "--loglevel", "ERROR"],
        env=env, check=False, capture_output=True, timeout=seconds + 120,
    )  # fmt: skip
    with open(f"{out}_stats.csv", newline="") as f:
        return {row["Name"]: row for row in csv.DictReader(f)}


def commonest_errors(out: Path, top: int = 6) -> None:
    """Print the commonest failures of the locust run written to ``out`` (its CSV prefix)."""
    failures = Path(f"{out}_failures.csv")
    if failures.exists():
        with open(failures, newline="") as f:
            for row in sorted(csv.DictReader(f), key=lambda r: -int(r["Occurrences"]))[:top]:
                print(f"    {row['Occurrences']:>6} x {row['Name']}: {row['Error'][:90]}")


def locust_compare(url: str, replica: str, users: int, seconds: int) -> None:
    env = {
        "TWIN_DATABASE_URL": url,
        "TWIN_DATABASE_REPLICA_URLS": replica,
        "TWIN_API_KEYS": f"planner:{PLANNER_KEY}",
    }
    import resource

    tmp = Path(tempfile.mkdtemp(prefix="twin-locust-"))
    results = {}
    for workers in (1, 2):
        logs = tmp / f"w{workers}-server"
        with twin_servers(env, workers=workers, logs=logs) as [(base, proc)]:
            time.sleep(2.0 * workers)
            built = wait_prebuilt(base)
            before, t0 = cpu_seconds(proc.pid), time.perf_counter()
            ran = resource.getrusage(resource.RUSAGE_CHILDREN)
            results[workers] = locust_run([base], users, seconds, tmp / f"w{workers}")
            after, wall = cpu_seconds(proc.pid), time.perf_counter() - t0
            done = resource.getrusage(resource.RUSAGE_CHILDREN)
        split = {k: after[k] - before[k] for k in ("server", "postgres")}
        split["locust"] = done.ru_utime + done.ru_stime - ran.ru_utime - ran.ru_stime
        print(f"  {workers} process(es): start-up builds done {built:.0f} s after the first "
              "answer; cores busy during the run: "
              + ", ".join(f"{k} {v / wall:.2f}" for k, v in split.items()) + " (of 2)")  # fmt: skip
    print(f"  {users} users, {seconds} s each; per kind: requests/s, failures, p95 ms")
    for name in sorted(set(results[1]) | set(results[2])):
        cells = []
        for w in (1, 2):
            r = results[w].get(name)
            if r is None:
                cells.append(f"{'-':>28}")
                continue
            n, fails = int(r["Request Count"]), int(r["Failure Count"])
            cells.append(f"{float(r['Requests/s']):6.1f}/s {fails / max(n, 1):6.2%} "
                         f"{r['95%']:>6} ms")  # fmt: skip
        print(f"  {name:20} 1 proc: {cells[0]}   2 procs: {cells[1]}")
    agg = {w: results[w]["Aggregated"] for w in (1, 2)}
    rps = {w: float(agg[w]["Requests/s"]) for w in (1, 2)}
    fail = {w: int(agg[w]["Failure Count"]) / max(int(agg[w]["Request Count"]), 1) for w in (1, 2)}
    print(f"  all: {rps[1]:.1f} vs {rps[2]:.1f} requests/s (ratio {rps[2] / rps[1]:.2f}x), "
          f"failures {fail[1]:.2%} vs {fail[2]:.2%} (goal <= 0.1%)")  # fmt: skip
    for w in (1, 2):
        print(f"  commonest errors, {w} process(es):")
        commonest_errors(tmp / f"w{w}")
        server_errors(tmp / f"w{w}-server")


def server_errors(logs: Path) -> None:
    """Print what the servers themselves logged as going wrong (a worker that died and was
    replaced, a traceback), counted by line, and where the logs are."""
    seen: dict[str, int] = {}
    for path in sorted(logs.glob("*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if any(w in line for w in ("died", "Traceback", "ERROR", "Fatal", "killed")):
                key = line.split("] ", 1)[-1][:120]
                seen[key] = seen.get(key, 0) + 1
    for text, n in sorted(seen.items(), key=lambda kv: -kv[1])[:6]:
        print(f"    server: {n:6d} x {text}")
    print(f"    server logs: {logs}")


PROBES = {
    "features": "/collections/buildings/items?limit=1",
    "search": "/api/search?q=Абая",
    "isochrone": "/api/analysis/isochrone?lon=76.92&lat=43.25&mode=walk&minutes=10",
    "tile": "/tiles/buildings/16/{x}/{y}.mvt",  # a tile never asked before, each time
}


class Probes:
    """One thread per kind of request in :data:`PROBES`, each asking over and over (a new
    request 0.05 s after the last answer) from before the primary stops until :meth:`stop`:
    every answer is kept as (sent, answered, kind, status, Retry-After, detail), the times
    in seconds from :meth:`started` (the primary's start) in what the methods return.

    The clients and their connections are made before the primary stops, so that what is
    measured is the server's recovery, not the probe's own start (before, the probes began
    after the start and their first request went out 5 s later on a loaded machine: every
    kind's recovery time included those 5 s). ``TWIN_BENCH_PROBE_LOG`` names a file to list
    every answer in."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.since = time.monotonic()
        self._answers: list[tuple[float, float, str, int, str | None, str]] = []
        self._stop = threading.Event()
        self._cold = iter(range(1 << 30))
        self._threads = [
            threading.Thread(target=self._ask, args=item, daemon=True) for item in PROBES.items()
        ]
        self._ready = threading.Barrier(len(self._threads) + 1)
        for t in self._threads:
            t.start()
        self._ready.wait()

    def started(self) -> None:
        """Mark the primary's start: times are counted from now."""
        self.since = time.monotonic()

    def _ask(self, kind: str, path: str) -> None:
        import httpx

        with httpx.Client(base_url=self.base, timeout=120) as http:
            http.get("/healthz")  # a kept connection, made before the gap
            self._ready.wait()
            while not self._stop.is_set():
                k = next(self._cold)
                url = path.format(x=46758 + k % 25, y=24006 + k // 25 % 25)  # the city, z 16
                sent = time.monotonic()
                try:
                    r = http.get(url)
                    status, retry = r.status_code, r.headers.get("retry-after")
                    detail = "" if status in (200, 204) else r.text[:120]
                except httpx.HTTPError as exc:
                    status, retry, detail = -1, None, type(exc).__name__
                self._answers.append((sent, time.monotonic(), kind, status, retry, detail))
                time.sleep(0.05)

    @property
    def answers(self) -> list[tuple[float, float, str, int, str | None, str]]:
        """Return every answer so far, times from the primary's start, in order sent."""
        t0 = self.since
        return sorted((s - t0, a - t0, k, st, r, d) for s, a, k, st, r, d in list(self._answers))

    def stop(self) -> None:
        """Stop asking (each thread ends after its answer in flight)."""
        self._stop.set()
        for t in self._threads:
            t.join(timeout=180)
        if os.environ.get("TWIN_BENCH_PROBE_LOG"):
            Path(os.environ["TWIN_BENCH_PROBE_LOG"]).write_text(
                "".join(
                    f"{s:7.2f} {a:7.2f} {k:9} {st} {ra or '-'} {d}\n"
                    for s, a, k, st, ra, d in self.answers
                )
            )

    def recovered(self) -> dict[str, float | None]:
        """Return per kind the seconds from the primary's start to its first good answer
        after it (None: none before :meth:`stop`)."""
        out: dict[str, float | None] = dict.fromkeys(PROBES)
        for _sent, answered, kind, status, _r, _d in sorted(self.answers, key=lambda a: a[1]):
            if status in (200, 204) and answered > 0 and out[kind] is None:
                out[kind] = answered
        return out

    def latency_before(self) -> dict[str, float | None]:
        """Return per kind the median seconds of its good answers sent before the stop (what
        an answer usually takes under this load: read "answered again" against it)."""
        out: dict[str, float | None] = {}
        for kind in PROBES:
            took = [a - s for s, a, k, st, _r, _d in self.answers
                    if k == kind and st in (200, 204) and s < 0]  # fmt: skip
            out[kind] = float(np.median(took)) if took else None
        return out

    def unclean(self) -> list[tuple[float, float, str, int, str | None, str]]:
        """Return the answers that were neither a success nor a 503 with ``Retry-After``."""
        return [
            a for a in self.answers
            if a[3] not in (200, 204) and not (a[3] == 503 and a[4] is not None and int(a[4]) >= 1)
        ]  # fmt: skip


def replica_streaming(replica: str, since: float, timeout: float = 60) -> float:
    """Return the seconds from ``since`` until ``replica`` streams from its primary again
    (``pg_stat_wal_receiver``); until then it replays nothing new, and every read that must
    see a newer write goes to the primary. NaN if not within ``timeout``."""
    import psycopg

    while time.monotonic() - since < timeout:
        try:
            with psycopg.connect(replica, connect_timeout=2, autocommit=True) as conn:
                row = conn.execute("SELECT status FROM pg_stat_wal_receiver").fetchone()
            if row and row[0] == "streaming":
                return time.monotonic() - since
        except psycopg.Error:
            pass
        time.sleep(0.1)
    return float("nan")


def locust_restart(url: str, replica: str, users: int, seconds: int) -> None:
    """Locust against the local cluster's layout (two server processes, a replica, Redis),
    the primary crashed (``pg_ctl stop -m immediate``) and started again in the middle; the
    :class:`Probes` ask one server throughout and say when each kind answered again."""
    from tests.support.postgres import pg_ctl
    from tests.support.redis import redis_server

    tmp = Path(tempfile.mkdtemp(prefix="twin-locust-restart-"))
    with redis_server() as redis:
        env = {
            "TWIN_DATABASE_URL": url,
            "TWIN_DATABASE_REPLICA_URLS": replica,
            "TWIN_REDIS_URL": redis,
            "TWIN_API_KEYS": f"planner:{PLANNER_KEY}",
        }
        with twin_servers(env, count=2, logs=tmp / "logs") as servers:
            hosts = [b for b, _ in servers]
            time.sleep(2.0)
            for host in hosts:
                wait_prebuilt(host)
            outcome: dict[str, float] = {}
            probes: list[Probes] = []

            def restart() -> None:
                time.sleep(max(0.0, seconds / 2 - 4))
                probes.append(Probes(hosts[0]))
                time.sleep(4.0)  # the probes' usual answers, before the gap
                t0 = time.monotonic()
                pg_ctl(url, "stop")
                time.sleep(2.0)
                pg_ctl(url, "start")
                probes[0].started()
                outcome["down_s"] = time.monotonic() - t0
                outcome["streaming_s"] = replica_streaming(replica, probes[0].since)

            crash = threading.Thread(target=restart)
            crash.start()
            results = locust_run(hosts, users, seconds, tmp / "restart")
            crash.join()
            if probes:
                probes[0].stop()
            alive = all(proc.poll() is None for _, proc in servers)
    print(f"  {users} users over {len(hosts)} server processes, {seconds} s; the primary "
          f"down {outcome.get('down_s', 0):.1f} s in the middle; the replica streaming from "
          f"it again {outcome.get('streaming_s', float('nan')):.1f} s after its start")  # fmt: skip
    print(f"  {'kind':20} {'requests':>9} {'failed':>7} {'share':>7} {'p95 ms':>7}")
    for name, r in sorted(results.items()):
        n, fails = int(r["Request Count"]), int(r["Failure Count"])
        print(f"  {name:20} {n:>9} {fails:>7} {fails / max(n, 1):>7.2%} {r['95%']:>7}")
    commonest_errors(tmp / "restart")
    server_errors(tmp / "logs")
    agg = results.get("Aggregated", {})
    recovered = probes[0].recovered() if probes else {}
    unclean = probes[0].unclean() if probes else []
    usual = probes[0].latency_before() if probes else {}
    after = ", ".join(
        f"{kind} {'never' if v is None else f'{v:.1f} s'}"
        + ("" if usual.get(kind) is None else f" (one took {usual[kind]:.1f} s before)")
        for kind, v in recovered.items()
    )
    print(f"  answered again after the primary started (goal <= 10 s): {after}; requests "
          f"lost: {agg.get('Failure Count', '?')} of {agg.get('Request Count', '?')}; server "
          f"processes restarted: {'none' if alive else 'SOME'}")  # fmt: skip
    print(f"  probe answers neither 200 nor a 503 with Retry-After: {len(unclean)}"
          + "".join(f"\n    {a}" for a in unclean[:5]))  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n")[0])
    ap.add_argument("--copies", type=int, default=100, help="the city x N across the country")
    ap.add_argument("--dask-copies", type=int, default=100, help="cities in the Dask part")
    ap.add_argument("--seconds", type=int, default=60, help="length of each timed run")
    ap.add_argument("--users", type=int, default=500, help="locust users")
    ap.add_argument(
        "--skip", default="", help="comma list of parts to skip: tiles,dask,nearest,locust,restart"
    )
    ap.add_argument(
        "--short",
        action="store_true",
        help="a quick end-to-end check: the city x 2, 20 s runs, 50 users (figures meaningless)",
    )
    args = ap.parse_args()
    if args.short:
        args.copies, args.dask_copies, args.seconds, args.users = 2, 2, 20, 50
    skip = set(args.skip.split(","))
    with postgis_cluster() as base:
        url = create_database(base, "twin_scale")
        part(f"country-scale load: the city x {args.copies}")
        load_country(url, args.copies)
        if "tiles" not in skip:
            part("cold tiles, 1 vs 2 server processes")
            cold_tiles(url, args.seconds)
        if "dask" not in skip:
            part("every camera's visibility: in process vs Dask")
            dask_visibility(url, min(args.dask_copies, args.copies))
            if "nearest" not in skip:
                part(f"nearest facility of every building, the city x {args.copies}")
                dask_nearest(url)
        if not {"locust", "restart"} <= skip:
            replica = StreamingReplica(url)
            try:
                if "locust" not in skip:
                    part("locust mixed workload, 1 vs 2 server processes reading a replica")
                    locust_compare(url, replica.url("twin_scale"), args.users, args.seconds)
                if "restart" not in skip:
                    part("locust on the local cluster, the primary restarted in the middle")
                    locust_restart(url, replica.url("twin_scale"), args.users, args.seconds)
            finally:
                replica.close()
    print(f"\nload average at the end: {load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
