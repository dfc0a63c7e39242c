"""Where a resident's write spends its CPU, part by part, on each store (issue 16).

The participation benchmark (:mod:`bench.participation`) gives the server's CPU per write as
one figure; this splits it. In one process, one thread, no concurrency (so no GIL hand-offs),
each part of a ``PUT …/rating`` / ``PUT …/reaction`` runs ``--n`` times and its CPU
(``time.thread_time``) and wall time per call are printed:

* the account look-up of a bearer token (:meth:`Accounts.owner_of`: digest, one statement);
* a pool checkout and return alone, with and without SQLAlchemy's ``pool_pre_ping``;
* the write limits (:class:`WriteLimits`, the ``limits`` library in memory, at the benchmark's
  scale);
* the write itself (:meth:`Ratings.rate` / :meth:`Ratings.react`: update else insert, or
  PostgreSQL's one upsert, and the aggregate read back), alone, and as a group commit of 32
  in one transaction (:class:`twin.participation.writer.GroupWriter`, in its thread);
* the live stream's publish (JSON of the answer; the hand-off to the loop);
* a thread-pool hop (``anyio.to_thread.run_sync``, what each of the two hops of a write costs).

What HTTP (uvicorn + FastAPI) costs alone is the bare-app figure of :mod:`bench.participation`.
With ``--profile`` the write's calls are also run under cProfile and the top functions by
own time printed.

Run: ``uv run --frozen python -m bench.participation_parts --store both``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import random
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pyogrio  # noqa: F401  (before SpatiaLite)

os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")

import anyio
import anyio.to_thread

import layers
from tests.support.app import app_client
from tests.support.postgres import create_database, postgis_cluster
from twin.accounts import Accounts
from twin.core.settings import AccountSettings
from twin.live.broker import Broker
from twin.participation import GroupWriter, Ratings, WriteLimits
from twin.store import open_store

PASSWORD = "bench password 2026"


class _Codes:
    def __init__(self) -> None:
        self.codes: dict[str, str] = {}

    def send(self, login: str, kind: str, code: str) -> None:
        self.codes[login] = code


def _time(name: str, n: int, fn: Callable[[int], object]) -> tuple[float, float]:
    for i in range(min(50, n)):  # warm
        fn(i)
    c0, w0 = time.thread_time(), time.perf_counter()
    for i in range(n):
        fn(i)
    cpu = (time.thread_time() - c0) * 1000 / n
    wall = (time.perf_counter() - w0) * 1000 / n
    print(f"  {name:<58} CPU {cpu:6.3f} ms   wall {wall:6.3f} ms")
    return cpu, wall


def _works(store_url: str, count: int) -> list[int]:
    """Add ``count`` works through the API (as a planner); return their fids."""
    fids = []
    with app_client(store_url, api_keys="planner:parts") as client:
        for i in range(count):
            x, y = 76.85 + (i % 20) * 0.005, 43.2 + (i // 20) * 0.005
            ring = [[x, y], [x + 0.001, y], [x + 0.001, y + 0.001], [x, y + 0.001], [x, y]]
            r = client.post(
                "/collections/works/items",
                json={
                    "type": "Feature",
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                    "properties": {"title": f"bench work {i}", "district": "Almaly"},
                },
                headers={"Authorization": "Bearer parts"},
            )
            r.raise_for_status()
            fids.append(int(r.json()["id"]))
    return fids


def run(kind: str, url: str, n: int, profile: bool) -> None:
    fids = _works(url, 200)
    store = open_store(url)
    try:
        codes = _Codes()
        accounts = Accounts(store, AccountSettings(), codes)
        logins = [f"parts{i}@example.kz" for i in range(32)]
        for login in logins:
            accounts.signup(login, PASSWORD)
            accounts.verify(login, codes.codes[login])
        ids = [accounts.signin(login, PASSWORD).id for login in logins]
        token = accounts.issue(ids[0], "bearer").token
        assert accounts.owner_of(token, "bearer") is not None
        ratings = Ratings(store)
        works = layers.get("works")
        rng = random.Random(1)
        print(f"{kind} ({n} calls each, load average {os.getloadavg()[0]:.1f}):")
        total = 0.0
        total += _time("account look-up (owner_of, bearer token)", n,
                       lambda i: accounts.owner_of(token, "bearer"))[0]  # fmt: skip

        def checkout(_: int) -> None:
            with store.engine.connect():
                pass

        _time(f"pool checkout + return (pre_ping={store.engine.pool._pre_ping})", n, checkout)
        limits = WriteLimits(None, scale=100000)
        total += _time("write limits hit (limits, memory, 2 keys)", n,
                       lambda i: limits.hit("rate", ids[i % 32], "127.0.0.1"))[0]  # fmt: skip

        def rate(i: int) -> None:
            ratings.rate(ids[i % 32], works, rng.choice(fids), rng.randint(1, 5))

        def react(i: int) -> None:
            ratings.react(ids[i % 32], works, rng.choice(fids), rng.choice(["like", "dislike"]))

        one_rate = _time("rating write (Ratings.rate, own transaction)", n, rate)[0]
        one_react = _time("reaction write (Ratings.react, own transaction)", n, react)[0]
        total += (one_rate + one_react) / 2
        writer = GroupWriter(store)
        try:
            batch = 32

            def grouped(i: int) -> None:
                futures = []
                for k in range(batch):
                    fn = ratings.rate_on if k % 2 else ratings.react_on
                    value = rng.randint(1, 5) if k % 2 else rng.choice(["like", "dislike"])
                    futures.append(writer.submit(fn, ids[k % 32], works, rng.choice(fids), value))
                for f in futures:
                    f.result()

            # the writer's own thread does the work: its CPU is what counts
            c0 = writer.cpu_seconds()
            w0 = time.perf_counter()
            for i in range(max(1, n // batch)):
                grouped(i)
            done = max(1, n // batch) * batch
            cpu_g = (writer.cpu_seconds() - c0) * 1000 / done
            wall_g = (time.perf_counter() - w0) * 1000 / done
            print(f"  {'group commit, 32 writes per transaction (writer thread)':<58} "
                  f"CPU {cpu_g:6.3f} ms   wall {wall_g:6.3f} ms")  # fmt: skip
        finally:
            writer.close()

        broker = Broker.__new__(Broker)
        answer = {"layer": "works", "fid": 1, "aggregate": ratings.aggregate("works", fids[0])
                  .as_dict(), "created": False}  # fmt: skip
        import json

        total += _time("live publish's JSON (answer + event)", n,
                       lambda i: json.dumps(answer, ensure_ascii=False))[0] * 2  # fmt: skip
        del broker

        async def hops() -> None:
            for _ in range(n):
                await anyio.to_thread.run_sync(int)

        c0, w0 = time.process_time(), time.perf_counter()
        anyio.run(hops)
        hop_cpu = (time.process_time() - c0) * 1000 / n
        hop_wall = (time.perf_counter() - w0) * 1000 / n
        name = "thread-pool hop (anyio.to_thread.run_sync), process CPU"
        print(f"  {name:<58} CPU {hop_cpu:6.3f} ms   wall {hop_wall:6.3f} ms")
        total += 2 * hop_cpu
        print(f"  sum of a write's parts (look-up, limits, write, publish, 2 hops): {total:.2f} ms")
        if profile:
            prof = cProfile.Profile()
            prof.enable()
            for i in range(n):
                accounts.owner_of(token, "bearer")
                rate(i) if i % 2 else react(i)
            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(25)
            print(out.getvalue())
    finally:
        store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--store", choices=["geopackage", "postgis", "both"], default="both")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with ExitStack() as stack:
        if args.store in ("geopackage", "both"):
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-parts-")))
            url = f"gpkg:///{tmp}/parts.gpkg"
            open_store(url).close()
            run("geopackage", url, args.n, args.profile)
        if args.store in ("postgis", "both"):
            base = stack.enter_context(postgis_cluster())
            run("postgis", create_database(base, "bench_parts"), args.n, args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
