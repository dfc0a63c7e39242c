"""The whole-city analyses' steps beyond visibility on a Dask cluster (a LocalCluster of two
worker processes), each cut in space with its halo: the nearest facility of every building
(access) and the cell-to-cell walking times and nearest outlets behind site scores. Each
answer equals the in-process one on both stores, and the scheduler's task stream shows the
jobs ran on the workers."""

from __future__ import annotations

import os
import signal
import threading
import time

import pandas as pd
import pytest
from dask.distributed import LocalCluster

from tests.support.tasks import tasks_run
from twin.analyses import cluster as analyses_cluster
from twin.analyses.access import search
from twin.analyses.access.profiles import WALK, categories
from twin.analyses.access.service import AccessService
from twin.analyses.site import reach
from twin.analyses.site.categories import category
from twin.analyses.site.service import read_model
from twin.store import open_store

CENTRE = (76.92, 43.235, 76.95, 43.26)  # a part of the city: about a thousand buildings


def test_nearest_facility_of_every_building_on_dask_is_the_in_process_answer(
    cluster: LocalCluster, almaty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "MIN_TARGETS", 500)  # (a part of the city, to keep it fast)
    store = open_store(almaty_url, create=False)
    try:
        svc = AccessService(store, engine="python")
        cats = categories(None)
        with tasks_run() as ran:
            there = svc.buildings(WALK, cats, bbox=CENTRE)
        with monkeypatch.context() as m:
            m.setattr(analyses_cluster, "_client", None)
            here = svc.buildings(WALK, cats, bbox=CENTRE)
    finally:
        store.close()
    assert len(here) >= search.MIN_TARGETS
    jobs = ran.of("_nearest_job")
    assert len(jobs) >= 2 * len(cats)  # every category's search, in several tasks
    assert len({t["worker"] for t in jobs}) == 2  # on both workers
    pd.testing.assert_frame_equal(
        pd.DataFrame(there.drop(columns="geometry")), pd.DataFrame(here.drop(columns="geometry"))
    )
    assert here["school_min"].notna().mean() > 0.9  # a real answer, not all unreached


def test_site_scores_on_dask_are_the_in_process_answer(
    cluster: LocalCluster, almaty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(almaty_url, create=False)
    try:
        cat = category("pharmacy")
        with tasks_run() as ran:
            there = read_model(store).factors(cat, 9)
        with monkeypatch.context() as m:
            m.setattr(analyses_cluster, "_client", None)
            here = read_model(store).factors(cat, 9)
    finally:
        store.close()
    assert len(ran.of("_tile_times")) >= 2  # the walking times …
    assert len(ran.of("_nearest_job")) >= 2  # … and the nearest outlet of every cell
    pd.testing.assert_frame_equal(there, here)
    assert here["residents_within"].max() > 0 and here["nearest_min"].notna().any()


@pytest.mark.parametrize("almaty_url", ["geopackage"], indirect=True)
def test_small_runs_stay_in_process(cluster: LocalCluster, almaty_url: str) -> None:
    """A what-if of a few points does not pay the cluster's round trip."""
    store = open_store(almaty_url, create=False)
    try:
        svc = AccessService(store, engine="python")
        with tasks_run() as ran:
            small = svc.buildings(WALK, categories(None), bbox=(76.945, 43.25, 76.947, 43.252))
    finally:
        store.close()
    assert 0 < len(small) < search.MIN_TARGETS and reach.MIN_PAIRS > 0
    assert ran.tasks == []


@pytest.mark.parametrize("almaty_url", ["geopackage"], indirect=True)
def test_a_worker_killed_in_the_middle_of_site_scores_changes_nothing(
    cluster: LocalCluster, almaty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = analyses_cluster.client()
    victim = next(iter(client.run(os.getpid).values()))
    store = open_store(almaty_url, create=False)
    try:
        cat = category("cafe")
        model = read_model(store)
        _ = model.cells(9), model.walk  # (read before the clock starts: only the jobs remain)
        killed: list[float] = []

        def kill() -> None:
            os.kill(victim, signal.SIGKILL)
            killed.append(time.monotonic())

        timer = threading.Timer(0.3, kill)
        with tasks_run() as ran:
            timer.start()
            there = model.factors(cat, 9)
            done = time.monotonic()
        timer.join()
        assert killed and killed[0] < done  # killed in the middle of the analysis
        with monkeypatch.context() as m:
            m.setattr(analyses_cluster, "_client", None)
            here = read_model(store).factors(cat, 9)
    finally:
        store.close()
    deadline = time.monotonic() + 60
    while victim in client.run(os.getpid, on_error="ignore").values():  # (see the coverage test)
        assert time.monotonic() < deadline, "the killed worker is still listed after 60 s"
        time.sleep(0.2)
    assert ran.of("_tile_times")
    pd.testing.assert_frame_equal(there, here)
