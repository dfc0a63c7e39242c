"""A job's held value (:class:`twin.analyses.cluster.Held`) is made in this process when the
cluster has no worker to run it: the analysis still answers, as every step does without one."""

from __future__ import annotations

import numpy as np
from dask.distributed import LocalCluster

from twin.analyses import cluster


def test_held_values_are_made_here_when_the_cluster_has_no_workers() -> None:
    made: list[int] = []

    def make() -> np.ndarray:
        made.append(1)
        return np.arange(4)

    with LocalCluster(n_workers=0, dashboard_address=None) as empty:
        cluster.connect(empty.scheduler_address)
        try:
            assert cluster.threads() == 0
            out = cluster.run(np.sum, [(cluster.Held("numbers-0123", make, 32),), (np.ones(2),)])
            held = cluster.held()
        finally:
            cluster.connect(None)
    assert [int(v) for v in out] == [6, 2] and made == [1]
    assert held == []  # nothing was sent to the cluster
