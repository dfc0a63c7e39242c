"""The whole layout of a twin beyond one machine, started on this one (``scripts/cluster``).

A PostGIS primary (loaded with the bundled city, optionally copied ×N across the country by
:mod:`etl.synthesise.country`) and a streaming replica made from it with ``pg_basebackup -R``;
Redis (shared rate limits, the live stream's fan-out); a Dask scheduler with two workers
(``dask scheduler`` / ``dask worker``, one thread each); and two ``twin serve`` processes on
their own ports, each configured as a server of a real deployment is: ``TWIN_DATABASE_URL``,
``TWIN_DATABASE_REPLICA_URLS``, ``TWIN_REDIS_URL``, ``TWIN_DASK_SCHEDULER``. Everything is
stopped and deleted on exit. ``docs/deploy.md`` describes the same layout across machines.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.postgres import StreamingReplica, create_database, postgis_cluster
from tests.support.redis import redis_server
from tests.support.servers import free_port, twin_servers


@dataclass
class Layout:
    """Where each part of the running cluster listens."""

    primary: str
    replica: str
    redis: str
    scheduler: str
    servers: list[str] = field(default_factory=list)
    dask_workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """Return the settings a server process of this cluster runs with."""
        return {
            "TWIN_DATABASE_URL": self.primary,
            "TWIN_DATABASE_REPLICA_URLS": self.replica,
            "TWIN_REDIS_URL": self.redis,
            "TWIN_DASK_SCHEDULER": self.scheduler,
        }


def _dask(*args: str) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).parent / "dask"
    return subprocess.Popen(
        [str(exe), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextlib.contextmanager
def dask_cluster(workers: int = 2) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """Start ``dask scheduler`` and ``workers`` ``dask worker`` processes (one thread each);
    yield the scheduler's address and the workers."""
    from dask.distributed import Client

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = _dask("scheduler", "--host", "127.0.0.1", "--port", str(port),
                      "--dashboard-address", ":0")  # fmt: skip
    procs = [
        _dask("worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard")
        for _ in range(workers)
    ]
    try:
        with Client(address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)
        yield address, procs
    finally:
        for proc in [*procs, scheduler]:
            _stop(proc)


def load_city(url: str, copies: int) -> None:
    """Load the bundled city into ``url``, and ``copies - 1`` copies across the country."""
    from etl.load import load_bundled
    from etl.synthesise.country import generate
    from twin.core.settings import DATA_DIR
    from twin.store import open_store

    store = open_store(url)
    try:
        load_bundled(store, DATA_DIR)
        if copies > 1:
            generate(store, copies)
    finally:
        store.close()


@contextlib.contextmanager
def local_cluster(*, copies: int = 1, servers: int = 2, workers: int = 2) -> Iterator[Layout]:
    """Start the whole layout (see the module docstring); yield where each part listens."""
    with postgis_cluster() as base:
        primary = create_database(base, "twin_cluster")
        load_city(primary, copies)
        replica = StreamingReplica(primary)
        try:
            with redis_server() as redis, dask_cluster(workers) as (scheduler, procs):
                layout = Layout(primary, replica.url("twin_cluster"), redis, scheduler,
                                dask_workers=procs)  # fmt: skip
                with twin_servers(layout.env(), servers) as started:
                    layout.servers = [url for url, _ in started]
                    yield layout
        finally:
            replica.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=1, help="the city ×N across the country")
    args = parser.parse_args()
    with local_cluster(copies=args.copies) as layout:
        print(f"primary   {layout.primary}")
        print(f"replica   {layout.replica}")
        print(f"redis     {layout.redis}")
        print(f"dask      {layout.scheduler} (2 workers)")
        for url in layout.servers:
            print(f"twin      {url}")
        print("Ctrl-C stops and deletes everything.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main()
