"""A small, bounded load runner: the same list of requests at a fixed concurrency, timed one by one.

Threads, each with its own keep-alive HTTP/1.1 connection (``http.client``), pull the next item
from a shared list until it is used up or a deadline passes. ``http.client`` is used rather than
an async client because on a 2-core machine the client shares the CPU with the server under test
and the database: its per-request cost must be small and the same for every server measured.
The same runner drives non-HTTP work (the raw SQL floor) through :func:`run_bounded`.
"""

from __future__ import annotations

import gzip
import http.client
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Sample:
    """One timed request: what was asked, how it answered, how long it took."""

    item: Any
    seconds: float
    status: int
    body: bytes = b""
    wire_bytes: int = 0
    error: str | None = None
    index: int = -1
    #: The server's own word on its tile cache (``X-Tile-Cache: hit|miss``), when it gives one.
    cache: str | None = None


@dataclass
class Pass:
    """Every sample of one pass over a list, the wall time, and what the deadline cut off."""

    samples: list[Sample] = field(default_factory=list)
    wall_seconds: float = 0.0
    skipped: int = 0
    concurrency: int = 1

    def latencies_ms(self) -> np.ndarray:
        """Return the latencies of the samples that completed, in milliseconds."""
        return np.array([s.seconds * 1000.0 for s in self.samples if s.error is None])

    def p(self, q: float) -> float:
        """Return the ``q``-th percentile latency in ms (NaN when nothing completed)."""
        lat = self.latencies_ms()
        return float(np.percentile(lat, q)) if len(lat) else float("nan")

    @property
    def throughput(self) -> float:
        """Return completed items per second of wall time."""
        done = sum(1 for s in self.samples if s.error is None)
        return done / self.wall_seconds if self.wall_seconds > 0 else float("nan")

    def failures(self, ok: Callable[[Sample], bool]) -> list[Sample]:
        """Return the samples ``ok`` rejects."""
        return [s for s in self.samples if not ok(s)]

    @staticmethod
    def merged(passes: Sequence[Pass]) -> Pass:
        """Return several passes (rounds) as one: all samples, summed wall time and skips."""
        if len(passes) == 1:
            return passes[0]
        return Pass(
            [s for p in passes for s in p.samples],
            sum(p.wall_seconds for p in passes),
            sum(p.skipped for p in passes),
            passes[0].concurrency,
        )


Worker = Callable[[Any], Sample]


def run_bounded(
    items: Sequence[Any],
    make_worker: Callable[[], Worker],
    *,
    concurrency: int,
    time_limit_s: float,
    close_worker: Callable[[Worker], None] | None = None,
) -> Pass:
    """Return the pass of ``concurrency`` threads working through ``items`` once, in order.

    Each thread builds its own worker (its own connection) before the clock starts. No item is
    started after ``time_limit_s``; the items left are counted in ``Pass.skipped``.
    """
    lock = threading.Lock()
    next_index = 0
    results: list[Sample | None] = [None] * len(items)
    workers = [make_worker() for _ in range(concurrency)]
    start = threading.Barrier(concurrency + 1)
    deadline = 0.0

    def loop(work: Worker) -> None:
        nonlocal next_index
        start.wait()
        while True:
            with lock:
                i = next_index
                if i >= len(items) or time.perf_counter() > deadline:
                    return
                next_index += 1
            try:
                sample = work(items[i])
            except Exception as exc:  # a failed request is a result, not a crash of the bench
                sample = Sample(items[i], 0.0, 0, error=f"{type(exc).__name__}: {exc}")
            sample.index = i
            results[i] = sample

    threads = [threading.Thread(target=loop, args=(w,), daemon=True) for w in workers]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    deadline = t0 + time_limit_s
    start.wait()
    for t in threads:
        t.join(time_limit_s + 120.0)
    wall = time.perf_counter() - t0
    if close_worker is not None:
        for w in workers:
            close_worker(w)
    done = [r for r in results if r is not None]
    return Pass(done, wall, len(items) - len(done), concurrency)


class HttpWorker:
    """One keep-alive connection to ``host:port``; calling it GETs a path and times it."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None) -> None:
        self.host, self.port = host, port
        self.headers = {"Accept-Encoding": "gzip", **(headers or {})}
        self.conn = http.client.HTTPConnection(host, port, timeout=60)

    def __call__(self, item: Any) -> Sample:
        path = str(item)
        t0 = time.perf_counter()
        try:
            self.conn.request("GET", path, headers=self.headers)
            resp = self.conn.getresponse()
            wire = resp.read()
        except (http.client.HTTPException, OSError):
            # The server closed a kept-alive connection: reconnect once, and time the retry too.
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            self.conn.request("GET", path, headers=self.headers)
            resp = self.conn.getresponse()
            wire = resp.read()
        seconds = time.perf_counter() - t0
        # Decompression happens after the clock stops: it is the client's cost, not the server's.
        body = gzip.decompress(wire) if resp.getheader("Content-Encoding") == "gzip" else wire
        return Sample(
            item, seconds, resp.status, body, len(wire), cache=resp.getheader("X-Tile-Cache")
        )

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def fetch_all(
    base_url: str,
    paths: Sequence[str],
    *,
    concurrency: int,
    time_limit_s: float = 120.0,
    headers: dict[str, str] | None = None,
) -> Pass:
    """Return one timed pass of GETs over ``paths`` against ``base_url``
    (``http://127.0.0.1:PORT``); ``Sample.index`` is the position in ``paths``."""
    hostport = base_url.split("://", 1)[1].rstrip("/")
    host, _, port = hostport.partition(":")
    return run_bounded(
        paths,
        lambda: HttpWorker(host, int(port), headers),
        concurrency=concurrency,
        time_limit_s=time_limit_s,
        close_worker=lambda w: w.close(),  # type: ignore[attr-defined]
    )
