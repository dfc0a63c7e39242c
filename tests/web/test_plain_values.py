"""Issue 15, item 8: every value a person reads in a card is a word of the interface language
(the catalog's vocabularies, ``layers/vocabulary.py``), never a stored code ("yes", "russian",
"marketplace", "pm25", "Almaly" in Russian, a Russian budget direction in kk/en); the scale bar
speaks the interface language; the sources' credits fold into a button that stays clear of the
panels and still names OSM (ODbL) and AirData.kz (CC BY-NC)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from layers import vocabulary as vocab
from tests.web.conftest import Session

# (layer, property, stored code, the label's vocabulary)
CASES = [
    ("buildings", "building", "yes", vocab.BUILDING_TYPES),
    ("schools", "language", "russian", vocab.LANGUAGES),
    ("pois", "category", "marketplace", vocab.POI_CATEGORIES),
    ("air_sensors", "parameters", "pm25", vocab.POLLUTANTS),
    ("budget_cycle_projects", "category", "yards", vocab.BUDGET_CATEGORY_IDS),
    ("schools", "district", "Almaly", vocab.DISTRICTS),
]


def _fid(page: Any, layer: str, prop: str, code: str) -> Any:
    cql = quote(f"{prop} = '{code}'")
    body = page.evaluate(
        f"fetch('/collections/{layer}/items?limit=1&filter-lang=cql2-text&filter={cql}')"
        ".then(r => r.json())"
    )
    assert body["features"], (layer, prop, code)
    return body["features"][0]["id"]


def _card_value(page: Any, layer: str, fid: Any, prop: str) -> str:
    page.evaluate(
        "([layer, fid]) => twin.goTo({layer, fid, bbox: [76.9, 43.2, 76.91, 43.21],"
        " point: [76.9, 43.2]})",
        [layer, fid],
    )
    page.wait_for_function(
        "([layer, fid]) => { const c = document.getElementById('card');"
        " return c && !c.hidden && c.dataset.layer === layer && c.dataset.fid === String(fid)"
        " && !c.querySelector('.hint[data-loading]') && !c.textContent.includes('…'); }",
        arg=[layer, fid],
    )
    dd = page.locator(f'#card dd[data-prop="{prop}"]')
    dd.wait_for()
    return str(dd.inner_text())


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_card_values_are_words_of_the_interface_language(make_session: Any, lang: str) -> None:
    session: Session = make_session()
    session.open(f"#map=13/43.25/76.92&lang={lang}")
    page = session.page
    for layer, prop, code, labels in CASES:
        fid = _fid(page, layer, prop, code)
        text = _card_value(page, layer, fid, prop)
        want = labels[code].get(lang)
        assert text == want, (layer, prop, code, text)
        assert text != code or want == code  # "Almaly" is the English name
    assert session.console_errors == []


def test_scale_bar_and_credits(make_session: Any) -> None:
    session: Session = make_session(width=1280, height=800)
    session.open("#map=12/43.25/76.92&lang=ru")
    page = session.page
    scale = page.locator(".maplibregl-ctrl-scale")
    assert scale.inner_text().endswith(("\u00a0км", "\u00a0м"))
    page.select_option("#lang-select", "en")
    page.wait_for_function(
        "document.querySelector('.maplibregl-ctrl-scale').textContent.match(/\\sk?m$/)"
    )
    page.select_option("#lang-select", "kk")
    page.wait_for_function(
        "document.querySelector('.maplibregl-ctrl-scale').textContent.match(/\\sк?м$/)"
    )
    # the credits: folded to a button at start, all sources inside
    attrib = page.locator(".maplibregl-ctrl-attrib")
    assert "maplibregl-compact" in (attrib.get_attribute("class") or "")
    assert "maplibregl-compact-show" not in (attrib.get_attribute("class") or "")
    text = page.evaluate("document.querySelector('.maplibregl-ctrl-attrib-inner').textContent")
    assert "OpenStreetMap" in text and "ODbL" in text
    # the air layer's credit joins when it is on
    page.evaluate("twin.toggle('air_sensors', true)")
    page.wait_for_function(
        "document.querySelector('.maplibregl-ctrl-attrib-inner').textContent.includes('AirData')"
    )
    text = page.evaluate("document.querySelector('.maplibregl-ctrl-attrib-inner').textContent")
    assert "CC BY-NC" in text
    # with the layer panel and a card open, the folded credits overlap neither
    page.click("#panel-toggle")
    _card_value(page, "schools", _fid(page, "schools", "language", "kazakh"), "language")
    box = attrib.bounding_box()
    assert box is not None and box["width"] < 60
    for panel in ("#card", "#panel", "#dashboard"):
        loc = page.locator(panel)
        if loc.count() and loc.first.is_visible():
            p = loc.first.bounding_box()
            overlap = not (
                box["x"] + box["width"] <= p["x"]
                or p["x"] + p["width"] <= box["x"]
                or box["y"] + box["height"] <= p["y"]
                or p["y"] + p["height"] <= box["y"]
            )
            assert not overlap, panel
    assert session.console_errors == []
