"""Issue 14's adversarial corpus replayed against a real server while a normal tile load runs.

``uv run python -m bench.abuse --database-url gpkg:///data/twin.gpkg --seconds 30 --examples 30``

Runs our app (one uvicorn worker, :func:`bench.servers.ours`) on a store holding the city and:

1. **quiet**: a normal tile load (4 clients over a fixed list of buildings/roads tiles) for
   ``--seconds``: its p99;
2. **floor**: the same load beside two CPU-bound dummy processes: what the load's p99 is on
   this machine when the server shares the cores with work that is not its own. On 2 shared
   cores the abuse phase's own clients (9 Python threads) and the analysis workers are such
   work, so the abuse p99 is printed against this floor as well as against the quiet p99;
3. **abuse**: the same load while 8 clients replay the corpus (the 1 m placement, the dense
   500-camera placement, 2,999 widened cameras, an anonymous 112 MB upload, the five former
   500s, the non-finite weights) and one client asks ``/healthz`` every 50 ms: the load's p99
   against its quiet p99 (goal ≤ 3×), ``/healthz`` p99 (goal ≤ 100 ms), the count of 5xx
   (goal 0) and the server's peak memory, its own and its analysis workers' resident sets
   together (goal ≤ 2 GB);
4. **fuzz**: schemathesis over ``/openapi.json``, ``--examples`` per operation and role, the
   three roles in three processes at once (124 operations × 3 roles × 30 examples ≈ 10,000
   cases when hypothesis finds that many distinct ones): the number of cases and 5xx, and the
   time (goal ≥ 10,000 cases).

What was measured while fixing it (py-spy of the server, a loop-lag probe; load 10–14 on the
shared 2 cores): the analysis workers at nice 10 cost the tile load little (two nice-10 busy
loops: p99 69 ms against 57 ms quiet); the anonymous 112 MB uploads cost most, because their
401 kept the connection alive and uvicorn drained every body on the event loop (fixed:
``twin.api.limits`` closes a connection answered before its body's end); refusals waited for
a worker (fixed: ``twin.analyses.coverage.estimate`` refuses at the door).

The figures are only meaningful with the load average printed next to them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import requests

from bench.servers import ours
from bench.tile_list import tile_xy

PLANNER = {"Authorization": "Bearer bench-plan"}
KEYS = "planner:bench-plan,resident:bench-res"
ROLES = {"anonymous": {}, "resident": {"Authorization": "Bearer bench-res"}, "planner": PLANNER}

#: Tiles of central Almaty at z12–15 (a map's first screens): 3 × 3 around (76.93 E, 43.25 N).
TILES = [
    f"/tiles/buildings,roads/{z}/{int(x0) + dx}/{int(y0) + dy}.mvt"
    for z in (12, 13, 14, 15)
    for x0, y0 in [tuple(v[0] for v in tile_xy(np.array([76.93]), np.array([43.25]), z))]
    for dx in (-1, 0, 1)
    for dy in (-1, 0, 1)
]


def _big_body() -> Iterator[bytes]:
    chunk = b"x" * 1_000_000
    for _ in range(112):
        yield chunk


def corpus() -> list[tuple[str, str, dict[str, Any]]]:
    """Return the issue's requests as (method, path, requests keyword arguments)."""
    update = [{"id": f"cam-{i}", "range_m": 1000, "fov_deg": 360} for i in range(2999)]
    return [
        ("POST", "/api/analysis/placement",
         {"json": {"k": 1, "demand_cell_m": 1}, "headers": PLANNER}),
        ("POST", "/api/analysis/placement",
         {"json": {"k": 500, "camera": {"range_m": 1000, "fov_deg": 360},
                   "candidates": {"spacing_m": 5}}, "headers": PLANNER}),
        ("POST", "/api/analysis/coverage",
         {"json": {"cameras": {"update": update}}, "headers": PLANNER}),
        ("POST", "/api/analysis/coverage",
         {"json": {"weights": {"base": 1e308}}, "headers": PLANNER}),
        ("POST", "/collections/buildings/items", {"data": _big_body()}),
        ("GET", "/collections/buildings/items?levels=99999999999999999999", {}),
        ("GET", "/collections/works/items?datetime=9999-12-31T23:59:59-01:00", {}),
        ("GET", "/collections/buildings/items?sortby=" + ",".join(["name"] * 2001), {}),
        ("GET", "/assets/%00", {}),
        ("GET", "/collections/works/items?filter="
         "start_date%20%3E%20TIMESTAMP('0001-01-01T00:00:00%2B01:00')", {}),
    ]  # fmt: skip


def p99(values: list[float]) -> float:
    return float(np.percentile(values, 99)) if values else float("nan")


class Memory(threading.Thread):
    """Samples the resident set of the server and its children every 0.1 s."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            total = 0
            with_children = [self.proc, *self.proc.children(recursive=True)]
            for p in with_children:
                with contextlib.suppress(psutil.Error):
                    total += p.memory_info().rss
            self.peak = max(self.peak, total)
            time.sleep(0.1)


def _loop(until: float, work: Callable[[], None]) -> None:
    while time.monotonic() < until:
        work()


def tile_load(base: str, seconds: float, clients: int = 4) -> list[float]:
    """Return the latencies (s) of ``clients`` fetching :data:`TILES` round and round."""
    times: list[float] = []
    until = time.monotonic() + seconds

    def client(offset: int) -> None:
        with requests.Session() as s:
            i = offset
            while time.monotonic() < until:
                t = time.perf_counter()
                s.get(base + TILES[i % len(TILES)], timeout=60)
                times.append(time.perf_counter() - t)
                i += 1

    threads = [threading.Thread(target=client, args=(k * 7,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times


def floor(base: str, seconds: float, burners: int = 2) -> list[float]:
    """Return the tile load's latencies (s) beside ``burners`` CPU-bound dummy processes
    (nice 0, busy loops): what the load gets on this machine when the server has to share
    the cores with that much work that is none of its own (the abuse phase's clients and
    workers are such work), measured in the same run as the abuse figure."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(burners)]
    try:
        return tile_load(base, seconds)
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def abuse(base: str, seconds: float) -> dict[str, Any]:
    """Run the tile load with the corpus at concurrency 8 and /healthz polled."""
    statuses: list[int] = []
    health: list[float] = []
    until = time.monotonic() + seconds
    requests_ = corpus()

    def attacker(k: int) -> None:
        with requests.Session() as s:
            i = k
            while time.monotonic() < until:
                method, path, kw = requests_[i % len(requests_)]
                if "data" in kw:
                    kw = {**kw, "data": _big_body()}
                try:
                    r = s.request(method, base + path, timeout=120, **kw)
                    statuses.append(r.status_code)
                except requests.ConnectionError:
                    statuses.append(0)  # the server closed an over-limit upload: not a 5xx
                i += 1

    def healthz() -> None:
        with requests.Session() as s:
            while time.monotonic() < until:
                t = time.perf_counter()
                s.get(base + "/healthz", timeout=60)
                health.append(time.perf_counter() - t)
                time.sleep(0.05)

    threads = [threading.Thread(target=attacker, args=(k,)) for k in range(8)]
    threads.append(threading.Thread(target=healthz))
    for t in threads:
        t.start()
    load = tile_load(base, seconds)
    for t in threads:
        t.join()
    return {"load": load, "health": health, "statuses": statuses}


def _fuzz_role(base: str, role: str, examples: int, seconds: float) -> tuple[int, int, list[str]]:
    """Return (cases sent, 5xx, their lines) of schemathesis over every operation as ``role``
    (run in a process of its own: see :func:`fuzz`); no operation starts after ``seconds``."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings

    headers = ROLES[role]
    schema: Any = schemathesis.openapi.from_url(f"{base}/openapi.json").exclude(path="/api/events")
    sent = errors = 0
    lines: list[str] = []
    until = time.monotonic() + seconds
    with requests.Session() as session:
        for result in schema.get_all_operations():
            if time.monotonic() > until:
                break
            operation = result.ok()

            @given(case=operation.as_strategy())
            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                nonlocal sent, errors
                response = case.call(headers=headers, session=session, timeout=120)
                sent += 1
                if response.status_code >= 500 and response.status_code != 503:
                    errors += 1
                    lines.append(
                        f"5xx as {role}: {case.method} {case.formatted_path} {response.status_code}"
                    )

            run()
    return sent, errors, lines


def fuzz(base: str, examples: int, seconds: float) -> tuple[int, int, float]:
    """Return (cases sent, 5xx, seconds) of schemathesis over every operation as each role.

    Each role is fuzzed in a process of its own with its own generated cases (``examples``
    per operation), the three at once: one process sending every case as all three roles
    in turn reached 3,585 cases in 162 s, its own Python (hypothesis generating, requests
    parsing) the bottleneck rather than the server. ``seconds`` bounds the run (no operation
    starts after it; the count printed is what was sent).
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    started = time.monotonic()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(len(ROLES), mp_context=context) as pool:
        runs = [pool.submit(_fuzz_role, base, role, examples, seconds) for role in ROLES]
        results = [r.result() for r in runs]
    for _, _, lines in results:
        for line in lines:
            print(line)
    sent = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    return sent, errors, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="gpkg:///data/twin.gpkg")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--examples", type=int, default=30, help="fuzz examples per operation and role"
    )
    parser.add_argument(
        "--fuzz-seconds", type=float, default=600.0, help="no fuzzed operation starts after"
    )
    parser.add_argument(
        "--server-log", type=Path, default=None, help="append the server's output to this file"
    )
    args = parser.parse_args()
    # a crash of the server prints every thread's Python stack to its log
    env = {"TWIN_API_KEYS": KEYS, "PYTHONFAULTHANDLER": "1"}
    with ours(args.database_url, env=env, log=args.server_log) as base:
        server = next(
            p for p in psutil.Process(os.getpid()).children() if "uvicorn" in " ".join(p.cmdline())
        )
        memory = Memory(server.pid)
        memory.start()
        requests.get(base + TILES[0], timeout=60)
        quiet = tile_load(base, args.seconds)
        print(f"quiet tile load: {len(quiet)} tiles, p99 {p99(quiet) * 1000:.1f} ms")
        busy = floor(base, args.seconds)
        print(
            f"floor (2 CPU-bound dummy processes beside it): {len(busy)} tiles, "
            f"p99 {p99(busy) * 1000:.1f} ms ({p99(busy) / p99(quiet):.2f}× quiet); "
            f"load average {os.getloadavg()[0]:.2f}"
        )
        noisy = abuse(base, args.seconds)
        load, health, statuses = noisy["load"], noisy["health"], noisy["statuses"]
        fives = sum(500 <= s < 600 for s in statuses)
        ratio = p99(load) / p99(quiet)
        print(
            f"under abuse: {len(load)} tiles, p99 {p99(load) * 1000:.1f} ms "
            f"({ratio:.2f}× quiet; goal ≤ 3×; {p99(load) / p99(busy):.2f}× the floor); "
            f"load average {os.getloadavg()[0]:.2f}"
        )
        print(f"/healthz: {len(health)} asked, p99 {p99(health) * 1000:.1f} ms (goal ≤ 100 ms)")
        counts = {s: statuses.count(s) for s in sorted(set(statuses))}
        print(f"corpus: {len(statuses)} requests, statuses {counts}, 5xx {fives} (goal 0)")
        time.sleep(1)
        memory.stop.set()
        memory.join()
        print(f"server peak memory (with its workers): {memory.peak / 2**30:.2f} GB (goal ≤ 2)")
        sent, errors, took = fuzz(base, args.examples, args.fuzz_seconds)
        print(f"fuzz: {sent} cases across 3 roles in {took:.0f} s, 5xx {errors} (goal ≥ 10,000)")
    median = statistics.median(quiet) * 1000
    print(f"load average: {os.getloadavg()}; quiet tile median {median:.1f} ms")


if __name__ == "__main__":
    main()
