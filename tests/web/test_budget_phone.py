"""The participatory budget panel on a phone (390×844): its button is in the top bar, the
panel opens inside the screen and shows the current cycles; the search box keeps room."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Session


def test_the_budget_panel_opens_on_a_phone(make_session: Any) -> None:
    s: Session = make_session(390, 844, is_mobile=True, has_touch=True)
    s.open()
    toggle = s.page.locator("#budget-toggle")
    assert toggle.is_visible()
    box = toggle.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert toggle.get_attribute("aria-label")
    search = s.page.locator("#search-input, .search input").first.bounding_box()
    assert search["width"] >= 80, search
    toggle.tap()
    panel = s.page.locator("#budget-panel")
    panel.wait_for(state="visible")
    s.page.wait_for_function(
        "document.querySelector('#budget-body').children.length > 0", timeout=10000
    )
    pbox = panel.bounding_box()
    assert pbox["x"] >= 0 and pbox["x"] + pbox["width"] <= 390
    assert pbox["y"] + pbox["height"] <= 844
    assert toggle.get_attribute("aria-expanded") == "true"
    s.screenshot("budget-phone.png")
    s.page.locator("#budget-close").tap()
    panel.wait_for(state="hidden")
    assert s.console_errors == []
