"""The planner's "if scenario X happened" in the district dashboard (Chromium): hidden without
a key; with one, the table per district shows the API's figures for the chosen scenario, the
district's schools and clinics on soft ground, and the sources; it follows the language."""

from __future__ import annotations

from tests.web.conftest import PLANNER_KEY, Session
from tests.web.numbers import shown


def test_the_scenario_view_is_for_planners_and_shows_the_api_figures(session: Session) -> None:
    session.open("#map=11.00/43.25000/76.92000&layers=districts&district=Almaly")
    page = session.page
    page.wait_for_selector("#dashboard .indicator")
    assert page.locator("#dash-seismic").count() == 0
    assert page.locator(".dash-seismic").count() == 0
    # Sign in as a planner, then the dashboard again: the section appears with the default
    # scenario (the city splay).
    page.keyboard.press("Escape")
    page.fill("#planner-key", PLANNER_KEY)
    page.locator(".key-form button[type=submit]").click()
    page.wait_for_selector('input[data-layer="cameras"]:checked')
    page.evaluate("window.twin.openDashboard('Almaly')")
    page.wait_for_selector("#dash-seismic tbody tr")
    auth = {"Authorization": f"Bearer {PLANNER_KEY}"}
    api = page.request.get(f"{session.base}/api/seismic/scenarios/city_splay", headers=auth).json()
    rows = page.locator("#dash-seismic tbody tr")
    assert rows.count() == len(api["districts"]) == 8
    for d in api["districts"]:
        row = f'#dash-seismic tr[data-district="{d["district"]}"]'

        def cell(col: str, row: str = row) -> str:
            return str(page.locator(f'{row} td[data-col="{col}"]').inner_text())

        assert cell("collapsed") == shown(d["losses"]["collapsed_buildings"], 0, "ru")
        assert cell("fatalities") == shown(d["losses"]["fatalities"], 0, "ru")
        assert cell("loss") == shown(d["losses"]["loss_usd"] / 1e6, 0, "ru")
        assert cell("buildings") == shown(d["buildings"], 0, "ru")
        assert cell("soft_people") == shown(d["occupants_on_soft_ground"], 0, "ru")
        assert cell("schools") == shown(d["schools_on_soft_ground"], 0, "ru")
    current = page.locator('#dash-seismic tr[data-district="Almaly"]').get_attribute("class")
    assert "current" in (current or "")
    source = page.locator("#dash-seismic-source").inner_text()
    assert "Amey" in source and "Источник" in source
    almaly = next(d for d in api["districts"] if d["district"] == "Almaly")
    places = page.locator("#dash-seismic-places").inner_text()
    named = almaly["schools_on_soft_ground_names"] + almaly["clinics_on_soft_ground_names"]
    assert all(n in places for n in named[:12])
    # Another scenario: the figures follow.
    with page.expect_response(lambda r: "/api/seismic/scenarios/verny_1887" in r.url) as answer:
        page.select_option("#dash-seismic-scenario", "verny_1887")
    verny = {d["district"]: d for d in answer.value.json()["districts"]}
    page.wait_for_function(
        """v => document.querySelector(
               '#dash-seismic tr[data-district="Medeu"] td[data-col="collapsed"]'
             )?.textContent === v""",
        arg=shown(verny["Medeu"]["losses"]["collapsed_buildings"], 0, "ru"),
    )
    # In English.
    page.select_option("#lang-select", "en")
    page.wait_for_selector("#dash-seismic caption:has-text('Scenario')")
    assert "Source" in page.locator("#dash-seismic-source").inner_text()
    assert session.console_errors == []
