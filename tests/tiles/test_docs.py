"""The examples in the tiles package's docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "tiles.adhoc",
    "tiles.cache",
    "tiles.grid",
    "tiles.mvt",
    "tiles.access",
    "twin.store.postgis.mvt",
    "tiles.style",
    "tiles.compress",
    "tiles.zoom",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
