"""The primary restarting under the app: requests during the gap get clean 503s with
``Retry-After`` (never a 500), and the app serves again once the database is back, without a
restart of its own (the pools' pre-ping reconnects). Runs on a cluster of its own: the
session's shared one must not go away under other tests.

Search and isochrones are held to the same 10 s as tiles and features, under a stream of
building edits: in the scale benchmark they did not answer after the restart because every
edit made them re-read every layer (issue 20; the mechanism is tested in
``tests/store/test_layer_heads.py``)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

import layers
from tests.support.frames import buildings_frame, roads_frame
from tests.support.postgres import create_database, pg_ctl, postgis_cluster
from tests.support.servers import twin_servers
from twin.app import create_app
from twin.core.settings import Settings, StoreSettings
from twin.store import Batch, open_store

ISOCHRONE = "/api/analysis/isochrone?lon=76.905&lat=43.2605&minutes=5"
SEARCH = "/api/search?q=Дом"
PLANNER_KEY = "restart-planner"
PATHS = [
    "/collections/buildings/items?limit=5",
    SEARCH,
    ISOCHRONE,
    "/catalog",
    "/tiles/buildings/14/11092/6008.mvt",
    "/healthz",
]


@pytest.fixture
def primary() -> Iterator[str]:
    with postgis_cluster() as base:
        url = create_database(base, "twin_restart")
        store = open_store(url)
        store.load(
            [
                Batch(layers.get("buildings"), "osm", buildings_frame(3), "f", "0" * 64, "ODbL"),
                Batch(
                    layers.get("roads"),
                    "osm",
                    roads_frame(["улица Абая", "улица Сатпаева"]),
                    "f",
                    "0" * 64,
                    "ODbL",
                ),
            ]
        )
        store.close()
        yield url


def test_a_primary_restart_gives_503s_then_recovers(primary: str) -> None:
    settings = Settings(store=StoreSettings(database_url=primary))
    with TestClient(create_app(settings)) as client:
        assert all(client.get(p).status_code in (200, 204) for p in PATHS)
        pg_ctl(primary, "stop")
        try:
            for path in PATHS:
                r = client.get(path)
                assert r.status_code == 503, (path, r.status_code, r.text)
                assert int(r.headers["retry-after"]) >= 1
                assert r.json()["error"] in ("store_unavailable", "store_error")
        finally:
            pg_ctl(primary, "start")
        deadline = time.monotonic() + 10
        while True:
            statuses = [client.get(p).status_code for p in PATHS]
            if all(s in (200, 204) for s in statuses):
                break
            assert all(s == 503 for s in statuses if s not in (200, 204)), statuses
            assert time.monotonic() < deadline, f"not recovered within 10 s: {statuses}"
            time.sleep(0.2)
        assert client.get("/collections/buildings/items").json()["numberMatched"] == 3
        assert client.get(SEARCH).json()["results"]
        assert client.get(ISOCHRONE).json()["features"]


LOAD_PATHS = [
    "/collections/buildings/items?limit=5",
    "/collections/buildings/items?limit=5&filter=height>1",
    SEARCH,
    ISOCHRONE,
    "/tiles/buildings/14/11092/6008.mvt",
    "/tiles/buildings/{z}/{x}/{y}.mvt",  # cold tiles: a new one each time
    "/healthz",
]


def test_a_primary_restart_under_load_of_two_server_processes(primary: str) -> None:
    """Eight clients keep asking two ``twin serve`` worker processes, and a planner keeps
    adding buildings, while the primary stops (as a crash) and starts again: every answer is
    a 200/201/204 or a clean 503 with ``Retry-After`` (never a 500, never a dropped
    connection), and within 10 s of the primary's start every kind of request succeeds
    again, search and isochrones included — no server was restarted."""
    answers: list[tuple[float, str, int, str | None]] = []
    stop = threading.Event()
    cold = itertools.count()

    def client(base: str) -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            for i in itertools.cycle(range(len(LOAD_PATHS))):
                if stop.is_set():
                    return
                k = next(cold)
                path = LOAD_PATHS[i].format(z=16, x=44368 + k % 64, y=24032 + k // 64 % 64)
                r = http.get(path)
                answers.append((time.monotonic(), LOAD_PATHS[i], r.status_code,
                                r.headers.get("retry-after")))  # fmt: skip

    def writer(base: str) -> None:
        # the scale benchmark's planners: a building every 0.2 s (each edit moves the store's
        # change log, which is what kept search and isochrones from recovering)
        headers = {"Authorization": f"Bearer {PLANNER_KEY}"}
        with httpx.Client(base_url=base, timeout=30, headers=headers) as http:
            for k in itertools.count():
                if stop.is_set():
                    return
                x, y = 76.95 + (k % 50) * 0.0005, 43.30 + (k // 50) * 0.0005
                ring = [[x, y], [x + 1e-4, y], [x + 1e-4, y + 1e-4], [x, y + 1e-4], [x, y]]
                feature = {"type": "Feature", "properties": {"name": f"Новый {k}"},
                           "geometry": {"type": "Polygon", "coordinates": [ring]}}  # fmt: skip
                r = http.post("/collections/buildings/items", json=feature)
                answers.append((time.monotonic(), "write", r.status_code,
                                r.headers.get("retry-after")))  # fmt: skip
                time.sleep(0.2)

    env = {"TWIN_DATABASE_URL": primary, "TWIN_API_KEYS": f"planner:{PLANNER_KEY}"}
    with twin_servers(env, workers=2) as [(base, proc)]:
        threads = [threading.Thread(target=client, args=(base,)) for _ in range(8)]
        threads.append(threading.Thread(target=writer, args=(base,)))
        for t in threads:
            t.start()
        try:
            time.sleep(2)
            pg_ctl(primary, "stop")
            time.sleep(2)
            pg_ctl(primary, "start")
            started = time.monotonic()
            time.sleep(12)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
        assert proc.poll() is None  # the servers were not restarted
    bad = [a for a in answers if a[2] not in (200, 201, 204, 503)]
    assert not bad, bad[:5]
    unclean = [a for a in answers if a[2] == 503 and not (a[3] and int(a[3]) >= 1)]
    assert not unclean, unclean[:5]
    assert any(a[2] == 503 for a in answers)  # the gap was met …
    last_503 = max(a[0] for a in answers if a[2] == 503)
    assert last_503 - started < 10, f"503s {last_503 - started:.1f} s after the primary started"
    after = {a[1] for a in answers if a[0] > last_503 and a[2] in (200, 201, 204)}
    assert after == {*LOAD_PATHS, "write"}  # … and every kind of request served after it
    for kind in (SEARCH, ISOCHRONE, "write"):
        first = min((a[0] for a in answers if a[1] == kind and a[0] > started
                     and a[2] in (200, 201)), default=None)  # fmt: skip
        assert first is not None and first - started < 10, (kind, first and first - started)
