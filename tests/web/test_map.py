"""The map page in Chromium: loads clean from our host only, renders, layers switch, the URL
reproduces the view, languages switch and persist, every control is reachable by keyboard."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Session
from tests.web.pixels import changed_fraction, sample

CENTRE = "#map=15.00/43.25650/76.94550"


def test_loads_clean_from_our_host_only_and_renders(make_session: Any) -> None:
    session = make_session(1366, 800)
    session.open()
    assert session.console_errors == []
    assert session.foreign_hosts() == set()
    ours = [r.url for r in session.requests]
    assert any("/style.json" in u for u in ours) and any(u.endswith(".mvt") for u in ours)
    pixels = sample(session.page)
    assert pixels["colours"] > 50, "the canvas is (nearly) uniform"
    grey = pixels["grey"]
    assert max(grey) - min(grey) > 60
    # Attribution and the demo-data notice are on screen.
    notice = session.page.locator("#notice")
    assert notice.is_visible() and "OpenStreetMap contributors" in notice.inner_text()
    assert session.page.locator(".demo-pill").is_visible()
    session.screenshot("desktop.png")


def test_switching_a_layer_off_and_on_changes_the_rendering(session: Session) -> None:
    session.open(CENTRE)
    before = sample(session.page)["grey"]
    box = session.page.locator('input[data-layer="buildings"]')
    assert box.is_checked()
    box.uncheck()
    session.idle()
    off = sample(session.page)["grey"]
    assert changed_fraction(before, off) > 0.03
    assert "buildings" not in session.page.evaluate("location.hash")
    box.check()
    session.idle()
    on = sample(session.page)["grey"]
    assert changed_fraction(before, on) < 0.01
    assert session.console_errors == []


def test_the_url_reproduces_the_view(session: Session) -> None:
    session.open("#map=14.00/43.25000/76.93000&layers=roads,schools&lang=en&date=2022-03-01")
    page = session.page
    view = page.evaluate("[twin.map.getZoom(), twin.map.getCenter().lat, twin.map.getCenter().lng]")
    assert abs(view[0] - 14) < 0.01 and abs(view[1] - 43.25) < 1e-4 and abs(view[2] - 76.93) < 1e-4
    assert page.locator('input[data-layer="roads"]').is_checked()
    assert page.locator('input[data-layer="schools"]').is_checked()
    assert not page.locator('input[data-layer="buildings"]').is_checked()
    assert page.locator("#lang-select").input_value() == "en"
    assert "2022" in page.locator("#time-output").inner_text()
    assert page.evaluate("twin.map.getLayoutProperty('buildings', 'visibility')") == "none"
    page.evaluate("twin.map.jumpTo({zoom: 13, center: [76.95, 43.24]})")
    session.idle()
    hash_ = page.evaluate("location.hash")
    assert hash_.startswith("#map=13.00/43.24000/76.95000")
    assert "layers=roads,schools" in hash_ and "lang=en" in hash_ and "date=2022-03-01" in hash_


def test_kazakh_changes_the_labels_and_persists(session: Session, known: Any) -> None:
    session.open()
    page = session.page
    buildings_label = page.locator('label[for="layer-buildings"]')
    assert buildings_label.inner_text().strip() == "Здания"
    page.select_option("#lang-select", "kk")
    assert buildings_label.inner_text().strip() == "Ғимараттар"
    assert page.locator('details[data-module="infrastructure"] summary').inner_text() == (
        "Инфрақұрылым"
    )
    assert page.evaluate("document.documentElement.lang") == "kk"
    assert page.get_attribute("#search-input", "placeholder") == "Нысан, көше, мекенжай"
    field = page.evaluate("twin.map.getLayoutProperty('districts-labels', 'text-field')")
    assert "name_kk" in str(field)
    assert "lang=kk" in page.evaluate("location.hash")
    # A fresh visit without the language in the URL keeps the choice.
    session.open("#map=12.00/43.25000/76.93000")
    assert page.locator("#lang-select").input_value() == "kk"
    assert page.locator('label[for="layer-buildings"]').inner_text().strip() == "Ғимараттар"
    page.select_option("#lang-select", "en")
    assert page.locator('label[for="layer-buildings"]').inner_text().strip() == "Buildings"
    assert session.console_errors == []


def _focus_ring(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => { const el = document.activeElement; const cs = getComputedStyle(el);
        return { id: el.id, tag: el.tagName, layer: el.dataset.layer || null,
                 outline: cs.outlineStyle, width: parseFloat(cs.outlineWidth),
                 visible: el.matches(':focus-visible') }; }"""
    )


def test_every_control_is_reachable_by_keyboard_with_a_visible_focus(session: Session) -> None:
    session.open()
    page = session.page
    seen: list[dict[str, Any]] = []
    for _ in range(90):
        page.keyboard.press("Tab")
        ring = _focus_ring(page)
        if ring["tag"] == "BODY":  # past the last control: the focus left the page
            break
        seen.append(ring)
        assert ring["outline"] != "none" and ring["width"] >= 2, ring
    ids = {s["id"] for s in seen}
    layers = {s["layer"] for s in seen if s["layer"]}
    assert {"search-input", "panel-toggle", "lang-select", "panel-close"} <= ids
    assert {"time-play", "time-range", "choropleth-select", "district-select"} <= ids
    # only the groups with a layer on are open at first (issue 15): their switches are reached
    assert {"buildings", "roads", "works"} <= layers
    assert any(s["tag"] == "CANVAS" for s in seen), "the map itself takes the focus"
    # The slider moves with the arrow keys.
    page.focus("#time-range")
    page.keyboard.press("PageDown")
    assert "date=" in page.evaluate("location.hash")
    # Escape closes an open card and gives the focus back.
    page.focus("#search-input")
    page.keyboard.type("Акимат")
    page.wait_for_selector("#search-list li[role=option][data-id]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#card:not([hidden])")
    page.keyboard.press("Escape")
    assert page.locator("#card").is_hidden()
    assert page.evaluate("document.activeElement.id") == "search-input"
    assert session.console_errors == []
