"""Coverage's heavy step on a Dask cluster (a LocalCluster of two worker processes) gives the
same answer as in process: every camera's visibility polygon of the whole city, vertex for
vertex, on both stores; a scope's coverage summary and white spots through the model; and the answer
stays the same when a worker is killed in the middle (its tasks run again elsewhere)."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest
import shapely
from dask.distributed import LocalCluster

from tests.support.tasks import tasks_run
from twin.analyses.coverage import distributed
from twin.analyses.coverage.analysis import PreparedScope
from twin.analyses.coverage.cameras import covering, effective_fov
from twin.analyses.coverage.inputs import read_city
from twin.analyses.coverage.scope import Scope
from twin.analyses.coverage.visibility import Obstacles, visibility_polygons
from twin.store import open_store

Camera = dict[str, np.ndarray]


@pytest.fixture(scope="module")
def city(almaty_url: str) -> tuple[Camera, Obstacles, np.ndarray]:
    """Return the city's cameras, its footprints as obstacles, and the in-process answer."""
    store = open_store(almaty_url, create=False)
    try:
        data, _, _ = read_city(store, Scope())
    finally:
        store.close()
    cams = data.cameras
    args = {
        "x": cams["x"].to_numpy(float),
        "y": cams["y"].to_numpy(float),
        "heading_deg": cams["heading_deg"].to_numpy(float),
        "fov_deg": effective_fov(cams),
        "range_m": cams["range_m"].to_numpy(float),
        "active": covering(cams),
    }
    obstacles = Obstacles.from_geometries(data.buildings)
    return args, obstacles, visibility_polygons(**args, obstacles=obstacles)  # type: ignore[arg-type]


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return len(a) == len(b) and bool(shapely.equals_exact(a, b, tolerance=0.0).all())


def test_city_visibility_on_dask_is_the_in_process_answer(
    cluster: LocalCluster, city: tuple[Camera, Obstacles, np.ndarray]
) -> None:
    args, obstacles, here = city
    n = len(args["x"])
    assert n >= distributed.MIN_CAMERAS
    with tasks_run() as ran:
        there = distributed.visibility(**args, obstacles=obstacles)  # type: ignore[arg-type]
    # the polygons were drawn by the cluster's workers (the scheduler's record of its tasks)
    assert len(ran.of("_cell_task")) >= 2
    cells = distributed.partitions(
        args["x"], args["y"], args["range_m"], obstacles, distributed.CELL_M
    )
    assert len(cells) > 4  # really cut in space …
    assert max(len(p) for _, p in cells) < len(obstacles) / 2  # … each cell with a part
    assert same(here, there)
    assert shapely.area(here).sum() > 0 and (~shapely.is_empty(here)).sum() > n / 2


@pytest.mark.parametrize("almaty_url", ["geopackage"], indirect=True)
def test_a_killed_worker_changes_nothing(
    cluster: LocalCluster, city: tuple[Camera, Obstacles, np.ndarray]
) -> None:
    args, obstacles, here = city
    client = distributed.client()
    pids = client.run(os.getpid)
    victim = next(iter(pids.values()))
    # kill one worker process while the tasks run (the nanny starts it again)
    timer = threading.Timer(0.3, os.kill, (victim, signal.SIGKILL))
    timer.start()
    there = distributed.visibility(**args, obstacles=obstacles, cell_m=600.0)  # type: ignore[arg-type]
    timer.join()
    # The scheduler may still list the dead worker for a moment (a broadcast to it then fails
    # with CommClosedError): ask the live workers until the victim is gone from the list.
    deadline = time.monotonic() + 60
    while victim in client.run(os.getpid, on_error="ignore").values():
        assert time.monotonic() < deadline, "the killed worker is still listed after 60 s"
        time.sleep(0.2)
    assert same(here, there)


@pytest.mark.parametrize("almaty_url", ["geopackage"], indirect=True)
def test_coverage_through_the_model(
    cluster: LocalCluster, almaty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(distributed, "MIN_CAMERAS", 1)  # a scope has fewer than the city
    store = open_store(almaty_url, create=False)
    try:
        scope = Scope(kind="bbox", bbox=(76.93, 43.24, 76.95, 43.255))  # the centre
        city, area, label = read_city(store, scope)
    finally:
        store.close()
    assert len(city.cameras) > 10
    on_dask = PreparedScope(city, area, label).coverage()
    distributed.connect(None)
    try:
        in_process = PreparedScope(city, area, label).coverage()
    finally:
        distributed.connect(cluster.scheduler_address)
    assert on_dask.summary == in_process.summary
    assert on_dask.summary["covered_m2"] > 0
    assert same(on_dask.white_spots.geometry.values, in_process.white_spots.geometry.values)
