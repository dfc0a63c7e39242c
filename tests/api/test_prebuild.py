"""A server builds the search index and the walking graph as it starts (``TWIN_PREBUILD``,
on in ``twin serve``), so the first search and isochrone do not each wait for them: on the
city x 10 under locust, no search answered within a 40 s run while they did (issue 20)."""

from __future__ import annotations

import logging
import time

import pytest
from fastapi.testclient import TestClient

from twin.analyses.access import service as access_service
from twin.app import create_app
from twin.core.settings import Settings, StoreSettings
from twin.search import _cache


def test_a_server_builds_the_search_index_and_walking_graph_as_it_starts(
    almaty_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="twin.api")
    settings = Settings(store=StoreSettings(database_url=almaty_url), prebuild=True)
    with TestClient(create_app(settings)) as client:
        assert "prebuilt" in client.get("/healthz").json()  # said while building, and after
        deadline = time.monotonic() + 180
        while not all(f"{w} built ahead" in caplog.text for w in ("search index", "walking graph")):
            assert "not built ahead" not in caplog.text, caplog.text
            assert time.monotonic() < deadline, caplog.text
            time.sleep(0.2)
        assert client.get("/healthz").json()["prebuilt"] is True
        store = client.app.state.store  # type: ignore[attr-defined]
        assert _cache[store].index is not None
        built = access_service._CITIES.builds, access_service._CLOSED.builds
        r = client.get("/api/search", params={"q": "Абая"})
        assert r.status_code == 200 and r.json()["results"]
        r = client.get(
            "/api/analysis/isochrone",
            params={"lon": 76.92, "lat": 43.25, "mode": "walk", "minutes": 10},
        )
        assert r.status_code == 200, r.text
        # the isochrone used what the start built: no city or street graph read again
        assert (access_service._CITIES.builds, access_service._CLOSED.builds) == built
