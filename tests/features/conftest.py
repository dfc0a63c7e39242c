"""Fixtures for the feature tests: the sample layers loaded once per module into each store
kind (read-only; tests that write use the ``store`` fixture)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from tests.features.samples import load_samples
from tests.support.postgres import create_database
from twin.store import Store, open_store

Sample = tuple[Store, dict[str, dict[str, int]]]
_names = itertools.count()


@pytest.fixture(scope="module", params=["geopackage", "postgis"])
def sample(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Sample]:
    """Yield a store of each kind holding the sample layers, and their fids by source id."""
    if request.param == "geopackage":
        url = f"gpkg:///{tmp_path_factory.mktemp('features')}/sample.gpkg"
    else:
        base: str = request.getfixturevalue("postgis_url")
        url = create_database(base, f"twin_features_{os.getpid()}_{next(_names)}")
    store = open_store(url)
    try:
        yield store, load_samples(store)
    finally:
        store.close()
