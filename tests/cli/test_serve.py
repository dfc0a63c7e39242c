"""``twin serve`` as several processes: a write through one process is seen by the next tile
and feature request to another (every cache checks the store's change log), on both stores;
``--workers 2`` runs two workers under uvicorn's supervisor, which starts a killed one again
while the other keeps answering."""

from __future__ import annotations

import math
import os
import signal
import time

import httpx
import psutil
import pytest

import layers
from tests.support.frames import buildings_frame
from tests.support.servers import twin_servers
from tests.tiles.mvtcheck import ids
from twin.store import Batch, Store

PLANNER = {"Authorization": "Bearer plan-1"}
ENV = {"TWIN_API_KEYS": "planner:plan-1"}
# the new building's corner, away from the three loaded ones (76.900–76.905, 43.25)
LON, LAT = 76.95, 43.26


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """Return the slippy-map tile (z, x, y) holding the point."""
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return z, int((lon + 180) / 360 * n), int(y)


def square(x: float, y: float, d: float = 0.001) -> dict[str, object]:
    ring = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def loaded(store: Store) -> str:
    store.load(
        [Batch(layers.get("buildings"), "osm", buildings_frame(3), "f", "0" * 64, "ODbL", [])]
    )
    return store.url


def test_a_write_through_one_process_is_seen_by_another(store: Store) -> None:
    env = {**ENV, "TWIN_DATABASE_URL": loaded(store)}
    z, x, y = tile_of(LON + 0.0005, LAT + 0.0005, 15)
    tile = f"/tiles/buildings/{z}/{x}/{y}.mvt"
    bbox = f"{LON - 0.01},{LAT - 0.01},{LON + 0.01},{LAT + 0.01}"
    items = f"/collections/buildings/items?bbox={bbox}"
    with twin_servers(env, 2) as [(a, _), (b, _)], httpx.Client(base_url=b, timeout=30) as reader:
        assert reader.get(tile).status_code == 204  # nothing there yet …
        cached = reader.get(tile)
        assert cached.status_code == 204 and cached.headers["x-tile-cache"] == "hit"
        assert reader.get(items).json()["numberMatched"] == 0
        # … and the other process writes one building there
        feature = {"type": "Feature", "geometry": square(LON, LAT), "properties": {}}
        r = httpx.post(f"{a}/collections/buildings/items", json=feature, headers=PLANNER)
        assert r.status_code == 201, r.text
        fid = r.json()["id"]

        after = reader.get(tile)
        assert after.status_code == 200 and after.headers["x-tile-cache"] != "hit"
        assert ids(after.content, "buildings") == [fid]
        found = reader.get(items).json()
        assert [f["id"] for f in found["features"]] == [fid]

        # and its deletion through the first process empties the second's tile again
        gone = httpx.delete(f"{a}/collections/buildings/items/{fid}", headers=PLANNER)
        assert gone.status_code == 204
        assert reader.get(tile).status_code == 204
        assert reader.get(items).json()["numberMatched"] == 0


def workers_of(proc: psutil.Process) -> set[int]:
    """Return the pids of uvicorn's worker processes under the supervisor ``proc``."""
    pids = set()
    for child in proc.children():
        try:  # (a killed worker is a zombie until the supervisor reaps it)
            if child.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(child.cmdline()):
                pids.add(child.pid)
        except psutil.Error:
            continue
    return pids


@pytest.mark.parametrize("store_url", ["geopackage"], indirect=True)
def test_workers_share_the_port_and_a_killed_one_is_replaced(store: Store) -> None:
    env = {**ENV, "TWIN_DATABASE_URL": loaded(store)}
    with twin_servers(env, workers=2) as [(base, proc)]:
        supervisor = psutil.Process(proc.pid)
        deadline = time.monotonic() + 60
        while len(workers := workers_of(supervisor)) < 2:
            assert time.monotonic() < deadline, "two workers did not start"
            time.sleep(0.2)
        assert len(workers) == 2
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        # the other worker keeps answering meanwhile, and the supervisor starts a new one
        statuses = []
        # uvicorn's supervisor looks at its workers one after another and waits for each live
        # one's answer to its ping up to --worker-healthcheck (60 s): a kill made while it waits
        # on the busy survivor (start-up builds hold the interpreter lock) is seen only after
        # that wait. Seen once in a full run: not replaced within 60 s of the kill.
        deadline = time.monotonic() + 150
        while True:
            statuses.append(httpx.get(f"{base}/collections/buildings/items", timeout=30))
            now = workers_of(supervisor)
            if len(now) == 2 and victim not in now:
                break
            assert time.monotonic() < deadline, f"no worker replaced {victim}: {now}"
            time.sleep(0.2)
        assert all(r.status_code == 200 for r in statuses)
        assert all(r.json()["numberMatched"] == 3 for r in statuses)
