"""Coverage's heavy step on a Dask cluster (a LocalCluster of two worker processes) gives the
same answer as in process: every camera's visibility polygon of the whole city, vertex for
vertex, on both stores; a scope's coverage summary and white spots through the model; and the answer
stays the same when a worker is killed in the middle (its tasks run again elsewhere).

The footprints a run sends are held on the cluster by their content: the same analysis again
sends none and gives the same answer; after a building is edited only the cells it lies in
are sent again, and the answer is the new in-process one (a key that did not name the
content would give back the old shadows); past the bound, the cluster lets them go."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import numpy as np
import pytest
import shapely
import shapely.affinity
from dask.distributed import LocalCluster

from tests.support.tasks import tasks_run
from twin.analyses import cluster as analyses_cluster
from twin.analyses.coverage import distributed
from twin.analyses.coverage.analysis import PreparedScope
from twin.analyses.coverage.cameras import covering, effective_fov
from twin.analyses.coverage.inputs import read_city
from twin.analyses.coverage.scope import Scope
from twin.analyses.coverage.visibility import Obstacles, view_sectors, visibility_polygons
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


def footprints_on_the_cluster() -> set[str]:
    """Return the keys of the held footprints the scheduler still knows."""
    client = distributed.client()

    def keys(dask_scheduler: Any) -> list[str]:
        return [str(k) for k in dask_scheduler.tasks if str(k).startswith("footprints-")]

    return set(client.run_on_scheduler(keys))


def cells_of_a_run(args: Camera, obstacles: Obstacles) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return the cells (cameras, footprint parts) a run on the cluster cuts."""
    tasks = analyses_cluster.TASKS_PER_THREAD * analyses_cluster.threads()
    return distributed.partitions(
        args["x"], args["y"], args["range_m"], obstacles, distributed.CELL_M, tasks=tasks
    )


def test_a_repeated_analysis_sends_no_footprints(
    cluster: LocalCluster, city: tuple[Camera, Obstacles, np.ndarray]
) -> None:
    args, obstacles, here = city
    analyses_cluster.connect(cluster.scheduler_address)  # nothing held yet
    with tasks_run() as first:
        there = distributed.visibility(**args, obstacles=obstacles)  # type: ignore[arg-type]
    sent = len(first.of("footprints"))
    assert sent == len(cells_of_a_run(args, obstacles)) >= 2  # one footprint set per cell …
    assert len(analyses_cluster.held()) == sent  # … each held
    with tasks_run() as second:
        again = distributed.visibility(**args, obstacles=obstacles)  # type: ignore[arg-type]
    assert second.of("footprints") == [] and len(second.of("_cell_task")) >= 2
    assert same(here, there) and same(here, again)


def test_an_edited_building_sends_only_its_cells_again(
    cluster: LocalCluster, city: tuple[Camera, Obstacles, np.ndarray]
) -> None:
    args, obstacles, here = city
    analyses_cluster.connect(cluster.scheduler_address)
    distributed.visibility(**args, obstacles=obstacles)  # type: ignore[arg-type]
    # shrink, in place, the footprint most cameras see (same index, other content)
    sectors = view_sectors(
        args["x"], args["y"], args["heading_deg"], args["fov_deg"], args["range_m"]
    )
    cam, part = obstacles.tree.query(sectors, predicate="intersects")
    seen = part[args["active"][cam] & ~shapely.is_empty(here[cam])]
    edit = int(np.bincount(seen).argmax())
    parts = obstacles.parts.copy()
    parts[edit] = shapely.affinity.scale(parts[edit], 0.3, 0.3, origin="centroid")
    edited = Obstacles.from_geometries(parts)
    expected = visibility_polygons(**args, obstacles=edited)  # type: ignore[arg-type]
    assert not same(here, expected)  # the building mattered
    before, after = cells_of_a_run(args, obstacles), cells_of_a_run(args, edited)
    changed = sum(edit in p or edit in q for (_, p), (_, q) in zip(before, after, strict=True))
    with tasks_run() as ran:
        there = distributed.visibility(**args, obstacles=edited)  # type: ignore[arg-type]
    assert same(expected, there)
    assert len(ran.of("footprints")) == changed < len(after)


def test_held_footprints_past_the_bound_are_let_go(
    cluster: LocalCluster,
    city: tuple[Camera, Obstacles, np.ndarray],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args, obstacles, here = city
    analyses_cluster.connect(cluster.scheduler_address)
    distributed.visibility(**args, obstacles=obstacles)  # type: ignore[arg-type]
    kept = analyses_cluster.held()
    assert set(kept) <= footprints_on_the_cluster() and len(kept) >= 2
    monkeypatch.setattr(analyses_cluster, "HELD_BYTES", 1)  # less than any footprint set
    with tasks_run() as ran:
        there = distributed.visibility(**args, obstacles=obstacles)  # type: ignore[arg-type]
    assert ran.of("footprints") == []  # still held when the run began …
    assert same(here, there)
    assert analyses_cluster.held() == []  # … let go when it ended, and the cluster frees them
    deadline = time.monotonic() + 30
    while footprints_on_the_cluster() & set(kept):
        assert time.monotonic() < deadline, "the cluster still holds footprints let go"
        time.sleep(0.2)
    with tasks_run() as ran:
        distributed.visibility(**args, obstacles=obstacles)  # type: ignore[arg-type]
    assert len(ran.of("footprints")) == len(kept)  # sent again
