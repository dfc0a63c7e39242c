"""Accessibility (axe-core from npm, injected into the page) and the phone-size layout."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import AXE, Session

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def serious_violations(session: Session) -> list[dict[str, Any]]:
    """Run axe-core on the page; return its serious and critical violations."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` in web/ (scripts/setup does)")
    page = session.page
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "(tags) => axe.run(document, { runOnly: { type: 'tag', values: tags } })", AXE_TAGS
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_axe_finds_nothing_serious_on_the_desktop_map(session: Session) -> None:
    session.open("#map=15.00/43.25650/76.94550")
    assert serious_violations(session) == []
    # With the dashboard open, in Kazakh.
    page = session.page
    page.select_option("#lang-select", "kk")
    page.select_option("#district-select", "Medeu")
    page.locator("#district-select + button").click()
    page.wait_for_selector("#dashboard .indicator")
    assert serious_violations(session) == []


def test_phone_layout(make_session: Any) -> None:
    session = make_session(360, 740, is_mobile=True, has_touch=True, device_scale_factor=1)
    session.open()
    page = session.page
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    for sel in ("#search-input", "#panel-toggle", "#lang-select", "#time-range", "#notice"):
        box = page.locator(sel).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, sel
        assert box["y"] >= 0 and box["y"] + box["height"] <= 740, sel
        assert box["height"] >= 24 or sel == "#notice", sel
    assert page.locator("#panel").is_hidden()
    session.screenshot("phone.png")

    page.click("#panel-toggle")
    assert page.get_attribute("#panel-toggle", "aria-expanded") == "true"
    assert page.locator('input[data-layer="buildings"]').is_visible()
    session.screenshot("phone-layers.png")  # the same panel as on the desktop, checked there
    page.click("#panel-close")
    assert page.locator("#panel").is_hidden()

    page.fill("#search-input", "Акимат")
    page.locator("#search-list li[data-id]").first.click()
    card = page.locator("#card")
    card.wait_for(state="visible")
    box = card.bounding_box()
    assert box and box["width"] <= 360 and box["y"] > 200  # a bottom sheet
    session.idle()
    session.screenshot("phone-card.png")
    assert serious_violations(session) == []
    assert session.console_errors == []
