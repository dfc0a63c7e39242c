"""The primary restarting under the app: requests during the gap get clean 503s with
``Retry-After`` (never a 500), and the app serves again once the database is back, without a
restart of its own (the pools' pre-ping reconnects). Runs on a cluster of its own: the
session's shared one must not go away under other tests."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

import layers
from tests.support.frames import buildings_frame
from tests.support.postgres import create_database, pg_ctl, postgis_cluster
from twin.app import create_app
from twin.core.settings import Settings, StoreSettings
from twin.store import Batch, open_store

PATHS = [
    "/collections/buildings/items?limit=5",
    "/api/search?q=Дом",
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
            [Batch(layers.get("buildings"), "osm", buildings_frame(3), "f", "0" * 64, "ODbL")]
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
