"""Issue 15, item 12: the district whose dashboard is open is outlined on the map (and the
outline goes when the dashboard closes)."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Session

LINES = "twin.map.queryRenderedFeatures({layers: ['twin-selection-line']}).length"


def test_the_chosen_district_is_outlined(make_session: Any) -> None:
    session: Session = make_session(width=1280, height=800)
    session.open("#map=11/43.25/76.92&district=Almaly")
    page = session.page
    page.locator("#dashboard").wait_for()
    page.wait_for_function(f"{LINES} > 0")
    session.idle()
    assert page.evaluate(LINES) > 0
    page.click("#dashboard .btn-close")
    page.wait_for_function(f"{LINES} === 0")
    assert session.console_errors == []
