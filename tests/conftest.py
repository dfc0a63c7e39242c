"""Shared fixtures. Every store test runs on both stores: the embedded GeoPackage and a real
PostGIS cluster that the session starts from Debian's packages (tests/support/postgres.py)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pyogrio  # noqa: F401  (must be imported before the first SpatiaLite connection)
import pytest

from tests.support.postgres import create_database, postgis_cluster
from tests.support.redis import redis_server
from twin.store import Store, open_store

os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
_db_names = itertools.count()


@pytest.fixture(scope="session")
def postgis_url() -> Iterator[str]:
    """Yield the URL of a PostGIS cluster started for this test session."""
    external = os.environ.get("TWIN_TEST_POSTGIS_URL")
    if external:
        yield external
        return
    with postgis_cluster() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """Yield the URL of a Redis server started for this test session (shared limits, metering,
    the live stream across processes); each test should use its own key prefix or ``FLUSHDB``."""
    with redis_server() as url:
        yield url


@pytest.fixture(params=["geopackage", "postgis"])
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return the URL of a new, empty store of each kind."""
    if request.param == "geopackage":
        return f"gpkg:///{tmp_path_factory.mktemp('store')}/twin.gpkg"
    base: str = request.getfixturevalue("postgis_url")
    return create_database(base, f"twin_test_{os.getpid()}_{next(_db_names)}")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """Yield an empty store of each kind with the schema created."""
    s = open_store(store_url)
    try:
        yield s
    finally:
        s.close()


STORE_KINDS = ("geopackage", "postgis")


@pytest.fixture(scope="session")
def _almaty_loaded() -> dict[str, str]:
    """Return the URLs of the stores loaded with the bundled Almaty set so far, by kind: each
    is loaded once per session, whether a test asks for one kind or for both."""
    return {}


def _almaty(kind: str, request: pytest.FixtureRequest, loaded: dict[str, str]) -> str:
    if kind not in loaded:
        from etl.load import load_bundled
        from twin.core.settings import DATA_DIR

        if kind == "geopackage":
            tmp = request.getfixturevalue("tmp_path_factory")
            url = f"gpkg:///{tmp.mktemp('almaty')}/almaty.gpkg"
        else:
            url = create_database(request.getfixturevalue("postgis_url"), "twin_almaty")
        s = open_store(url)
        load_bundled(s, DATA_DIR)
        s.close()
        loaded[kind] = url
    return loaded[kind]


@pytest.fixture(scope="session", params=STORE_KINDS)
def almaty_url(request: pytest.FixtureRequest, _almaty_loaded: dict[str, str]) -> str:
    """Return the URL of a store of each kind with the whole bundled Almaty set loaded (once
    per session; tests must not write to it — use ``store`` for that)."""
    return _almaty(request.param, request, _almaty_loaded)


@pytest.fixture(scope="session")
def almaty_urls(request: pytest.FixtureRequest, _almaty_loaded: dict[str, str]) -> dict[str, str]:
    """Return ``{kind: url}`` of both Almaty stores (as ``almaty_url`` gives them), for a test
    that compares the stores' answers: it computes both itself, so the comparison runs
    whatever else is selected (``-k``, pytest-xdist)."""
    return {kind: _almaty(kind, request, _almaty_loaded) for kind in STORE_KINDS}
