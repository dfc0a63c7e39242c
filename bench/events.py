"""Live push benchmark (issue 19): time from a staff POST of a city event to its arrival at 200
connected SSE clients. Goal: p99 ≤ 1 s.

Run: ``uv run python -m bench.events`` (``--clients N``, ``--posts N``; ``--redis`` also runs
two server processes sharing a Redis started for the run, half the clients on each).

The server runs as its own process (uvicorn, one worker, an empty GeoPackage); the clients are
one asyncio process holding ``N`` streams of ``/api/events?topic=events`` over httpx. For each
POST, latency = arrival of the event on a stream − the moment before the POST was sent, so it
includes the write to the store, the publish, the fan-out and the client's own parsing. The
peer printed beside it is the POST's own round trip (what the planner waits for): the ratio
says how much later than its own answer the last map hears of a change.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import numpy as np

from tests.support.redis import redis_server
from tests.support.server import free_port

KEY = "bench-planner"
GOAL_S = 1.0


def _start_server(db: Path, redis_url: str | None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "TWIN_DATABASE_URL": f"gpkg:///{db}",
        "TWIN_API_KEYS": f"planner:{KEY}",
        "SPATIALITE_LIBRARY_PATH": "mod_spatialite",
    }
    if redis_url:
        env["TWIN_REDIS_URL"] = redis_url
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "twin.app:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


async def _client(
    http: httpx.AsyncClient, base: str, ready: asyncio.Event, arrivals: dict[int, list[float]]
) -> None:
    async with http.stream("GET", f"{base}/api/events?topic=events") as r:
        async for line in r.aiter_lines():
            if line.startswith(": ready"):
                ready.set()
            elif line.startswith("data:"):
                now = time.perf_counter()
                body = json.loads(line[5:])
                arrivals.setdefault(int(body["data"]["event"]["id"]), []).append(now)


async def run(bases: list[str], clients: int, posts: int) -> dict[str, float]:
    arrivals: dict[int, list[float]] = {}
    limits = httpx.Limits(max_connections=clients + 10)
    async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=None), limits=limits) as http:
        readies = [asyncio.Event() for _ in range(clients)]
        tasks = [
            asyncio.create_task(_client(http, bases[i % len(bases)], readies[i], arrivals))
            for i in range(clients)
        ]
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in readies)), 60)
        latencies: list[float] = []
        round_trips: list[float] = []
        async with httpx.AsyncClient(timeout=10) as staff:
            for i in range(posts):
                body = {
                    "kind": "road_closure",
                    "title": f"bench closure {i}",
                    "starts_at": "2026-07-01T09:00",
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[76.92, 43.24 + i * 1e-4], [76.94, 43.24 + i * 1e-4]],
                    },
                }
                t0 = time.perf_counter()
                r = await staff.post(
                    f"{bases[0]}/api/city-events",
                    json=body,
                    headers={"Authorization": f"Bearer {KEY}"},
                )
                round_trips.append(time.perf_counter() - t0)
                r.raise_for_status()
                eid = int(r.json()["id"])
                deadline = time.perf_counter() + 5
                while len(arrivals.get(eid, [])) < clients and time.perf_counter() < deadline:
                    await asyncio.sleep(0.005)
                got = arrivals.get(eid, [])
                if len(got) < clients:
                    raise RuntimeError(f"event {eid} reached {len(got)} of {clients} clients")
                latencies.extend(t - t0 for t in got)
                await asyncio.sleep(0.05)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    lat = np.array(latencies)
    rt = np.array(round_trips)
    return {
        "p50": float(np.percentile(lat, 50)),
        "p99": float(np.percentile(lat, 99)),
        "max": float(lat.max()),
        "post_p50": float(np.percentile(rt, 50)),
        "post_p99": float(np.percentile(rt, 99)),
        "samples": float(len(lat)),
    }


def _report(label: str, r: dict[str, float], clients: int) -> bool:
    ok = r["p99"] <= GOAL_S
    print(
        f"{label}: {clients} clients, {int(r['samples'])} deliveries — delivery p50 "
        f"{r['p50'] * 1000:.1f} ms, p99 {r['p99'] * 1000:.1f} ms, max {r['max'] * 1000:.1f} ms; "
        f"POST round trip p50 {r['post_p50'] * 1000:.1f} ms, p99 {r['post_p99'] * 1000:.1f} ms; "
        f"delivery p99 / POST p99 = {r['p99'] / r['post_p99']:.2f}; goal p99 ≤ "
        f"{GOAL_S:.0f} s: {'met' if ok else 'NOT met'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--redis", action="store_true", help="also two processes over Redis")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(prefix="twin-bench-events-") as tmp, ExitStack() as stack:
        proc, base = _start_server(Path(tmp) / "one.gpkg", None)
        stack.callback(proc.terminate)
        r = asyncio.run(run([base], args.clients, args.posts))
        ok &= _report("one process, in-process broker", r, args.clients)
        proc.terminate()
        proc.wait(10)
        if args.redis:
            url = stack.enter_context(redis_server())
            a, base_a = _start_server(Path(tmp) / "a.gpkg", url)
            stack.callback(a.terminate)
            b, base_b = _start_server(Path(tmp) / "b.gpkg", url)
            stack.callback(b.terminate)
            r = asyncio.run(run([base_a, base_b], args.clients, args.posts))
            ok &= _report("two processes over Redis pub/sub", r, args.clients)
            for p in (a, b):  # before Redis goes
                p.terminate()
                p.wait(10)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
