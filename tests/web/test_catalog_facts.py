"""The map's layer facts come from /catalog: the web code names no layer for them any more.

Read the sources, not a browser: the old constants are gone, and no array literal in
``web/src`` lists the layers of a fact the catalog declares (on at start, not clickable, shown
in the basemap group, coloured by wheelchair access) or the order of the panel's groups.
"""

from __future__ import annotations

import re

import pytest

import layers
from twin.core.settings import PROJECT_ROOT

SOURCES = sorted((PROJECT_ROOT / "web" / "src").glob("*.js"))
OLD_CONSTANTS = ("MODULE_ORDER", "DEFAULT_ON", "NOT_CLICKABLE", "BASEMAP", "ACCESS_SOURCES")
#: an array literal of quoted strings, on one line or several
_ARRAY = re.compile(r"\[\s*(?:(['\"])[\w.-]*\1\s*,\s*)*(['\"])[\w.-]*\2\s*,?\s*\]")
_STRING = re.compile(r"['\"]([\w.-]*)['\"]")


def _arrays(text: str) -> list[set[str]]:
    return [set(_STRING.findall(m.group(0))) for m in _ARRAY.finditer(text)]


def _facts() -> dict[str, set[str]]:
    every = layers.LAYERS
    return {
        "default_on": {la.id for la in every if la.default_on},
        "not clickable": {la.id for la in every if not la.clickable},
        "basemap group": {la.id for la in every if la.group == "basemap"},
        "wheelchair": {
            la.id
            for la in every
            if la.geometry is layers.GeomType.POINT and "wheelchair" in la.prop_names
        },
    }


def test_the_sources_are_there() -> None:
    assert len(SOURCES) > 10
    # The pattern finds a literal like the old ones, so its silence below means something.
    old = "const X = new Set(['landuse', 'city_boundary',\n  'districts']);"
    assert {"landuse", "city_boundary", "districts"} in _arrays(old)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_layer_fact_is_hard_coded(path: object) -> None:
    text = path.read_text(encoding="utf-8")  # type: ignore[attr-defined]
    for name in OLD_CONSTANTS:
        assert not re.search(rf"\b{name}\b", text), f"{name} is back in {path}"
    modules = {m.id for m in layers.MODULES}
    for found in _arrays(text):
        for fact, ids in _facts().items():
            assert not ids <= found, f"{path}: the {fact} layers are listed by hand: {found}"
        assert len(found & modules) < 3, f"{path}: panel groups listed by hand: {found}"
