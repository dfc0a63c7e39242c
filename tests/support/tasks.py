"""Proof that an analysis' step ran on the Dask cluster's workers, not in the test process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dask.distributed import get_task_stream

from twin.analyses import cluster


class Ran:
    """The tasks the scheduler recorded while the block ran (its task stream)."""

    def __init__(self) -> None:
        self.tasks: list[dict[str, Any]] = []

    def of(self, job: str) -> list[dict[str, Any]]:
        """Return the recorded tasks of job function ``job`` (the key names it)."""
        return [t for t in self.tasks if str(t["key"]).startswith(f"{job}-")]


@contextmanager
def tasks_run() -> Iterator[Ran]:
    """Yield the record of the tasks the connected cluster ran within the block, and check
    that each ran on one of the cluster's workers."""
    client = cluster.client()
    assert client is not None, "no Dask cluster connected"
    ran = Ran()
    workers = set(client.scheduler_info()["workers"])
    with get_task_stream(client) as stream:
        yield ran
    workers |= set(client.scheduler_info()["workers"])  # (and those started meanwhile)
    ran.tasks = list(stream.data)
    assert all(t["worker"] in workers for t in ran.tasks), ran.tasks
