"""A Dask cluster for the tests of the analyses' steps on Dask (started only when a test asks)."""

from __future__ import annotations

from collections.abc import Iterator

import dask
import pytest
from dask.distributed import LocalCluster

from twin.analyses import cluster as analyses_cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """Yield a LocalCluster of two worker processes, the analyses connected to it."""
    # (a shared test machine can be slow to answer: longer comm timeouts than the defaults,
    # so that a busy worker is not taken for a lost one)
    slow = {"distributed.comm.timeouts.connect": "60s", "distributed.comm.timeouts.tcp": "300s"}
    with (
        dask.config.set(slow),
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as local,
    ):
        analyses_cluster.connect(local.scheduler_address)
        try:
            yield local
        finally:
            analyses_cluster.connect(None)
