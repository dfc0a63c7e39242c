"""Every docstring example in the packages runs and holds: the house writes pure values with
doctested examples (``layer_sql``, ``with_seeds``), and an example nobody runs goes stale
(``build_graph``'s street length read 1,924 m for a year after pyproj made it 1,923 m).
Modules whose examples other tests already run are run here too: it costs ~10 s in all."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("twin", "layers", "tiles", "etl")


def _modules() -> list[str]:
    names = []
    for pkg in PACKAGES:
        for info in pkgutil.walk_packages([str(ROOT / pkg)], prefix=f"{pkg}."):
            names.append(info.name)
    return sorted(names)


def _with_examples() -> list[str]:
    found = []
    for name in _modules():
        path = ROOT / (name.replace(".", "/") + ".py")
        if not path.exists():
            path = ROOT / name.replace(".", "/") / "__init__.py"
        if path.exists() and ">>> " in path.read_text(encoding="utf-8"):
            found.append(name)
    return found


MODULES = _with_examples()


def test_the_packages_have_examples() -> None:
    assert len(MODULES) >= 20, MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
