"""Issue 15 regression: on a phone (390×844) the header buttons (sign-in, appeals, layers,
analysis, language) squeezed the search box to a few characters. The search now has the
top bar's second row to itself; every button stays on screen."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Session


def test_the_phone_search_box_has_room(make_session: Any) -> None:
    session: Session = make_session(width=390, height=844, is_mobile=True, has_touch=True)
    session.open("#map=12/43.25/76.92")
    page = session.page
    page.locator("#account-toggle").wait_for()
    page.locator("#appeals-toggle").wait_for()
    search = page.locator("#search-input").bounding_box()
    assert search is not None and search["width"] >= 300, search
    buttons = ["#panel-toggle", "#analysis-toggle", "#account-toggle", "#appeals-toggle"]
    for sel in [*buttons, "#lang-select"]:
        b = page.locator(sel).bounding_box()
        assert b is not None and b["width"] > 0, sel
        assert b["x"] >= 0 and b["x"] + b["width"] <= 390, sel
        # no button lies over the search box
        assert b["y"] + b["height"] <= search["y"] or b["y"] >= search["y"] + search["height"], sel
    # the map starts below the bar and the typed query is readable
    stage = page.locator(".stage").bounding_box()
    bar = page.locator(".topbar").bounding_box()
    assert stage is not None and bar is not None and stage["y"] >= bar["y"] + bar["height"] - 1
    page.fill("#search-input", "Сатпаева")
    page.locator("#search-list li").first.wait_for()
    assert session.console_errors == []


def test_the_account_and_appeals_boxes_open_below_the_search(make_session: Any) -> None:
    """The boxes hung at 56 px, over the phone's second row: the search was covered while the
    appeals box (and its services' rating) was open."""
    session: Session = make_session(width=390, height=844, is_mobile=True, has_touch=True)
    session.open("#map=12/43.25/76.92")
    page = session.page
    search = page.locator("#search-input").bounding_box()
    assert search is not None
    for toggle, box in (("#appeals-toggle", "#appeals-box"), ("#account-toggle", "#account-box")):
        page.click(toggle)
        got = page.locator(box).bounding_box()
        assert got is not None and got["y"] >= search["y"] + search["height"], (box, got)
        assert got["y"] + got["height"] <= 844, (box, got)
        page.click(toggle)
    assert session.console_errors == []
