"""Issue 15, item 10: planners find where the key goes and what camera coverage says.

- the key form is in the account box and in the analysis panel's coverage section (not only
  at the bottom of the layers panel), on a desktop and a phone;
- after sign-in the camera hexagons have a legend, and the coverage section says what they are;
- a district run from city zoom zooms the map to the district, and its white spots are drawn at
  city zoom too;
- the panel tells the cameras standing in the area (the CSV's figure) from all the run takes
  into account, and says why a what-if can raise the number of white spots.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.web.conftest import PLANNER_KEY, Session

CITY = "#map=11.00/43.25000/76.92000&layers=roads"
ALMALY_BBOX = (76.88, 43.23, 76.96, 43.28)  # the district lies within (its centre ~76.92, 43.26)


def _inside(box: Any, width: int) -> bool:
    return bool(box and box["width"] > 0 and box["x"] >= 0 and box["x"] + box["width"] <= width + 1)


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_the_key_is_where_people_look(make_session: Any, width: int, height: int) -> None:
    session: Session = make_session(width=width, height=height)
    session.open(CITY)
    page = session.page
    # The account box ("Вход") takes the key too.
    page.click("#account-toggle")
    key = page.locator("#account-key")
    key.wait_for()
    assert _inside(key.bounding_box(), width)
    assert "ключ" in page.locator(".staff-key").inner_text().lower()
    page.click("#account-toggle")
    # The analysis panel names camera coverage and takes the key there.
    page.click("#analysis-toggle")
    group = page.locator('#analysis-panel details[data-group="coverage"]')
    group.wait_for()
    assert "Покрытие камерами" in group.inner_text()
    assert page.locator("#cov-run").count() == 0
    page.locator("#an-key").scroll_into_view_if_needed()
    assert _inside(page.locator("#an-key").bounding_box(), width)
    page.fill("#an-key", "not-a-key")
    page.locator(".staff-key-form button[type=submit]").first.click()
    page.wait_for_function("document.body.innerText.includes('Неизвестный ключ')")
    page.fill("#an-key", PLANNER_KEY)
    page.locator("#analysis-panel .staff-key-form button[type=submit]").click()
    page.wait_for_selector("#cov-run")
    assert "шестиугольники" in page.locator("#cov-hexagons").inner_text()
    # The cameras' hexagons have a legend in the layers panel.
    page.click("#panel-toggle")
    legend = page.locator('[data-hexagons="cameras"]')
    legend.wait_for()
    assert "Мельче масштаба 14" in legend.inner_text()
    assert page.locator('input[data-layer="cameras"]').is_checked()
    session.screenshot(f"coverage-key-{width}.png")
    # the unknown key's 401 is the one error expected
    assert [e for e in session.console_errors if "401" not in e] == []


def test_a_district_run_zooms_there_and_explains_its_figures(make_session: Any) -> None:
    session: Session = make_session(width=1280, height=800)
    session.open(CITY)
    page = session.page
    page.click("#analysis-toggle")
    page.fill("#an-key", PLANNER_KEY)
    page.locator("#analysis-panel .staff-key-form button[type=submit]").click()
    page.wait_for_selector("#cov-run")
    page.check("#cov-scope-district")
    page.select_option("#cov-district", "Almaly")
    posts: list[Any] = []
    page.on(
        "request",
        lambda r: posts.append(r) if r.method == "POST" and "/coverage" in r.url else None,
    )
    page.click("#cov-run")
    page.wait_for_selector("#cov-street", timeout=120000)
    # The map went to Almaly.
    page.wait_for_function("!twin.map.isMoving() && twin.map.getZoom() > 12", timeout=20000)
    lng, lat = page.evaluate("[twin.map.getCenter().lng, twin.map.getCenter().lat]")
    # the centre is shifted by the panel's padding, but stays near the district
    assert ALMALY_BBOX[0] - 0.05 < lng < ALMALY_BBOX[2] + 0.05
    assert ALMALY_BBOX[1] - 0.02 < lat < ALMALY_BBOX[3] + 0.02

    answer = posts[-1].response().json()
    inside = sum(
        r["cameras_working"] + r["cameras_broken"] + r["cameras_planned"]
        for r in answer["districts"]
    )
    assert int(page.get_attribute("#cov-cameras-inside", "data-value")) == inside
    assert int(page.get_attribute("#cov-cameras-all", "data-value")) == answer["summary"]["cameras"]
    assert inside < answer["summary"]["cameras"]  # the band around the district counts too
    assert "как в CSV" in page.locator("#cov-result-title + p + dl").inner_text()
    assert "1,1 км вокруг" in page.locator("#cov-cameras-all").inner_text()

    # At city zoom the white spots are still drawn (as outlines).
    page.evaluate("twin.map.jumpTo({center: [76.92, 43.26], zoom: 11})")
    page.wait_for_function(
        "!twin.map.isMoving() && twin.map.queryRenderedFeatures("
        "{layers: ['twin-an-spots-line']}).length > 0",
        timeout=30000,
    )

    # Suggested cameras added: the panel says what changed and why spots may be more.
    page.fill("#cov-k", "5")
    page.click("#cov-suggest")
    page.wait_for_selector("#cov-proposed-list li", timeout=120000)
    page.click("#cov-add")
    page.wait_for_selector("#cov-spots-change", timeout=120000)
    before, after = posts[-2].response().json(), posts[-1].response().json()
    assert json.loads(posts[-1].post_data)["cameras"]["add"]
    unseen = [r["summary"]["area_m2"] - r["summary"]["covered_m2"] for r in (before, after)]
    assert unseen[1] < unseen[0]
    change = page.locator("#cov-spots-change")
    assert "До изменения" in change.inner_text()
    more = after["white_spots"]["total"] > before["white_spots"]["total"]
    assert change.get_attribute("data-more") == str(more).lower()
    if more:
        assert "разрезают" in change.inner_text()
    session.screenshot("coverage-result.png")
    assert session.console_errors == []
