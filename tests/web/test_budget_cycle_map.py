"""The budget cycles on the map: the panel opens the resident's district's cycle (chosen once,
remembered in the browser), draws that cycle's projects only, as counted — a project
that lost the count (with more votes than a winner, where the cycle has one) shows "lost" with
its votes — a project in the panel opens its card, and the time slider
replays the cycle. A resident applies with the panel's form (a point picked on the map), and
what is missing or refused is said in the interface's language.

A resident also draws an area for a project (desktop: corners clicked, a double-click closes it;
phone 390x844: corners tapped above the lowered panel, "Finish" closes it), stored as drawn and
drawn as a polygon of ``budget_cycle_areas``. The panel's phases list shows the day staff moved
the cycle on, the planned day for the rest.

Independent of other tests' state: the first test only reads the generated 2025 cycles (it
selects its cycle explicitly); the others make their own cycles (Bostandyk 2032, Medeu 2033
and 2034, Turksib 2035)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
import shapely
from shapely.geometry import shape

from tests.support.accounts import sign_up_resident
from tests.web.conftest import PLANNER_KEY, Session

STAFF = {"Authorization": f"Bearer {PLANNER_KEY}"}
CYCLE_LAYER = "budget_cycle_projects"


def _items(api: httpx.Client, layer: str, **params: Any) -> list[dict[str, Any]]:
    r = api.get(f"/collections/{layer}/items", params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    return list(r.json()["features"])


def _a_lost_project(api: httpx.Client) -> tuple[int, int, int]:
    """Return (cycle id, project id, its votes) of a generated Almaly 2025 project that lost
    the count although it had more votes than a winner of its cycle (the store's results)."""
    cycle = next(
        c
        for c in api.get("/api/budget/cycles", params={"district": "Almaly"}).json()
        if c["year"] == 2025 and c["synthetic"]
    )
    res = api.get(f"/api/budget/cycles/{cycle['id']}/results").json()
    fewest = min(w["votes"] for w in res["winners"])
    lost = [p for p in res["losers"] if p["votes"] > fewest] or res["losers"]
    return cycle["id"], lost[0]["id"], lost[0]["votes"]


def _drawn(s: Session) -> list[dict[str, Any]]:
    """The cycle layer's features drawn on the map now (their tile properties)."""
    return list(
        s.page.evaluate(
            """(id) => {
                const e = twin.entries.find((x) => x.id === id);
                return twin.map.queryRenderedFeatures({ layers: e.styleLayers })
                  .map((f) => f.properties);
            }""",
            CYCLE_LAYER,
        )
    )


def test_the_panel_draws_its_cycles_projects_as_counted(make_session: Any, server: str) -> None:
    api = httpx.Client(base_url=server)
    cid, pid, votes = _a_lost_project(api)
    s = make_session()
    s.open("#lang=en")
    page = s.page
    assert not page.evaluate(f"twin.isOn('{CYCLE_LAYER}')")
    page.click("#budget-toggle")
    page.wait_for_selector("#budget-district")
    # "My district": chosen once, it opens that district's newest cycle
    page.select_option("#budget-district", "Almaly")
    page.wait_for_function(
        "document.querySelector('#budget-cycle')?.selectedOptions[0]?.text.startsWith('Almaly')"
    )
    page.select_option("#budget-cycle", str(cid))
    page.wait_for_selector(f"#budget-losers li[data-project='{pid}']")
    s.idle()
    drawn = _drawn(s)
    assert drawn, "the cycle's projects are drawn"
    assert {p["cycle_id"] for p in drawn} == {cid}  # only the selected cycle's
    mine = [p for p in drawn if p["project_id"] == pid]
    assert mine and mine[0]["status"] == "lost" and mine[0]["votes"] == votes, mine
    # the project's map button opens its card, which says it lost
    page.click(f"#budget-losers li[data-project='{pid}'] .budget-on-map")
    page.wait_for_function(
        "document.querySelector('#card:not([hidden])')?.textContent.includes('Lost the vote')"
    )
    # the time slider replays the cycle: in mid-May 2025 it was on the ballot
    page.evaluate("twin.setDate('2025-05-15')")
    page.wait_for_function("document.querySelector('#card').textContent.includes('On the ballot')")
    colour = page.evaluate(
        """(id) => JSON.stringify(twin.map.getPaintProperty(
            twin.entries.find((x) => x.id === id).styleLayers[0], 'circle-color'))""",
        CYCLE_LAYER,
    )
    assert "ballot_on" in colour and "2025-05-15" in colour
    page.evaluate("twin.setDate(null)")
    # closing the panel draws every cycle again (and the layer goes off: the panel put it on)
    page.click("#budget-close")
    assert not page.evaluate(f"twin.isOn('{CYCLE_LAYER}')")
    assert page.evaluate(f"twin.layerFilters['{CYCLE_LAYER}'] === undefined")
    # the district is remembered: a new visit opens Almaly's cycle again
    s.open("#lang=en")
    page.click("#budget-toggle")
    page.wait_for_function(
        "document.querySelector('#budget-district')?.value === 'Almaly' && "
        "document.querySelector('#budget-cycle')?.selectedOptions[0]?.text.startsWith('Almaly')"
    )
    assert s.console_errors == []


def _inside_and_outside(api: httpx.Client, district: str) -> tuple[list[float], list[float]]:
    feats = _items(api, "districts")
    own = next(shape(f["geometry"]) for f in feats if f["properties"]["name"] == district)
    other = next(shape(f["geometry"]) for f in feats if f["properties"]["name"] != district)
    a, b = own.representative_point(), other.representative_point()
    assert isinstance(a, shapely.Point) and isinstance(b, shapely.Point)
    return [a.x, a.y], [b.x, b.y]


def test_a_resident_applies_from_the_map(
    make_session: Any, server: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="twin.accounts")
    api = httpx.Client(base_url=server)
    r = api.post(
        "/api/budget/cycles",
        json={"year": 2032, "district": "Bostandyk", "budget_kzt": 90_000_000},
        headers=STAFF,
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    inside, outside = _inside_and_outside(api, "Bostandyk")

    s = make_session()
    s.open("#lang=kk")
    page = s.page
    login = "budget.applicant@example.kz"
    s.sign_up(caplog, login)
    page.evaluate("localStorage.setItem('twin.budget.district', 'Bostandyk')")
    page.click("#budget-toggle")
    # my district's current cycle is the new one (its newest), in its applications phase
    page.wait_for_selector("#budget-apply-form")
    assert page.locator("#budget-cycle").input_value() == str(cid)
    status = page.locator("#budget-apply-status")
    page.click("#budget-apply-send")
    assert status.inner_text() == "Жоба атауын жазыңыз"  # kk: give the project a title
    page.fill("#budget-apply-title", "Орындықтар мен жарық")
    page.fill("#budget-apply-description", "Аулада орындықтар мен шамдар")
    page.fill("#budget-apply-cost", "0")
    page.click("#budget-apply-send")
    assert status.inner_text() == "Құны — нөлден үлкен бүтін теңге"
    page.fill("#budget-apply-cost", "12000000")
    page.click("#budget-apply-send")
    assert status.inner_text() == "Жоба орнын картадан көрсетіңіз"  # pick the place

    def pick(lonlat: list[float]) -> None:
        page.evaluate("(c) => twin.map.jumpTo({ center: c, zoom: 14 })", lonlat)
        s.idle()
        page.click("#budget-apply-pick")
        s.click_lnglat(*lonlat)

    pick(outside)  # a point in another district: the server refuses, said in Kazakh
    page.click("#budget-apply-send")
    page.wait_for_function(
        "document.querySelector('#budget-apply-status').textContent.includes('цикл ауданынан')"
    )
    assert api.get(f"/api/budget/cycles/{cid}/projects").json() == []  # nothing stored
    pick(inside)
    page.click("#budget-apply-send")
    page.wait_for_function(
        "document.querySelector('#budget-apply-status')?.textContent.includes('сараптамаға')"
    )
    stored = api.get(f"/api/budget/cycles/{cid}/projects").json()
    assert [p["title"] for p in stored] == ["Орындықтар мен жарық"]
    assert stored[0]["cost_kzt"] == 12_000_000
    # the application is on the map at once, as an application of this cycle
    feats = _items(api, CYCLE_LAYER, cycle_id=cid)
    assert [f["properties"]["status"] for f in feats] == ["application"]
    assert page.locator(f"#budget-projects li[data-project='{stored[0]['id']}']").count() == 1
    # the one refused submission is the browser's only complaint
    assert [e for e in s.console_errors if "status of 400" not in e] == []
    assert len(s.console_errors) == 1


def _area_in(api: httpx.Client, district: str) -> list[list[float]]:
    """Return 4 corners (lon, lat) of a rectangle of ~320 m x ~220 m well inside ``district``."""
    own = next(
        shape(f["geometry"])
        for f in _items(api, "districts")
        if f["properties"]["name"] == district
    )
    c = own.representative_point()
    corners = [
        [c.x - 0.002, c.y - 0.001],
        [c.x + 0.002, c.y - 0.001],
        [c.x + 0.002, c.y + 0.001],
        [c.x - 0.002, c.y + 0.001],
    ]
    assert own.buffer(-0.001).contains(shapely.Polygon(corners))
    return [[round(x, 6), round(y, 6)] for x, y in corners]


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_a_resident_draws_the_projects_area(
    make_session: Any, server: str, caplog: pytest.LogCaptureFixture, phone: bool
) -> None:
    """The form draws an area corner by corner (a double-click closes it on a desktop, the
    "Finish" button on a phone, where the panel moves down so the map shows); the area is
    stored as the Polygon drawn and drawn on the map as one of the cycle's areas."""
    caplog.set_level(logging.INFO, logger="twin.accounts")
    api = httpx.Client(base_url=server)
    year = 2034 if phone else 2033
    r = api.post(
        "/api/budget/cycles",
        json={"year": year, "district": "Medeu", "budget_kzt": 90_000_000},
        headers=STAFF,
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    corners = _area_in(api, "Medeu")

    s = make_session(390, 844, is_mobile=True, has_touch=True) if phone else make_session()
    s.open("#lang=en")
    page = s.page
    login = f"budget.area.{year}@example.kz"
    s.sign_up(caplog, login)
    page.evaluate("localStorage.setItem('twin.budget.district', 'Medeu')")
    page.locator("#budget-toggle").click()
    page.wait_for_selector(f"#budget-cycle option[value='{cid}']", state="attached")
    page.select_option("#budget-cycle", str(cid))
    page.wait_for_selector("#budget-apply-draw")
    page.fill("#budget-apply-title", "A square with benches")
    page.fill("#budget-apply-description", "Benches, trees and lights")
    page.fill("#budget-apply-cost", "25000000")
    page.locator("#budget-apply-draw").click()
    centre = [sum(c[0] for c in corners) / 4, sum(c[1] for c in corners) / 4]
    page.evaluate("(c) => twin.map.jumpTo({ center: c, zoom: 15 })", centre)
    s.idle()
    status = page.locator("#budget-apply-point")
    assert status.inner_text().startswith("Click the map at the area’s corners: 0")
    if phone:
        # the panel sits low, inside the screen, and every corner is on the map above it
        box = page.locator("#budget-panel").bounding_box()
        assert box["y"] >= 844 * 0.55 and box["y"] + box["height"] <= 844, box
        for c in corners:
            x, y = s.page_xy(*c)
            assert 0 <= x <= 390 and 0 <= y < box["y"], (c, x, y, box)
            page.touchscreen.tap(x, y)
        assert status.inner_text().endswith(": 4. Double-click or “Finish” to close it")
        page.locator("#budget-apply-finish").tap()
    else:
        for c in corners[:3]:
            s.click_lnglat(*c)
        page.mouse.dblclick(*s.page_xy(*corners[3]))
    assert status.inner_text() == "Area: 4 corners"
    assert page.locator("#budget-apply-finish").is_hidden()
    selected = page.evaluate("twin.selection")
    assert selected["type"] == "Polygon" and len(selected["coordinates"][0]) == 5
    page.locator("#budget-apply-send").click()
    page.wait_for_function(
        "document.querySelector('#budget-apply-status')?.textContent.includes('sent for review')"
    )
    stored = api.get(f"/api/budget/cycles/{cid}/projects").json()
    assert len(stored) == 1 and stored[0]["location"]["type"] == "Polygon"
    ring = stored[0]["location"]["coordinates"][0]
    assert len(ring) == 5 and ring[0] == ring[-1]
    # the clicks land within a pixel of the corners (~5 m at zoom 15)
    for got, want in zip(ring[:4], corners, strict=True):
        assert abs(got[0] - want[0]) < 1e-4 and abs(got[1] - want[1]) < 1e-4, (got, want)
    areas = _items(api, "budget_cycle_areas", cycle_id=cid)
    assert [f["properties"]["project_id"] for f in areas] == [stored[0]["id"]]
    assert areas[0]["properties"]["status"] == "application"
    # on the map: the cycle's area as a polygon (fill), its point as a circle
    s.idle()
    drawn = page.evaluate(
        """(cid) => {
            const kinds = {};
            for (const id of ['budget_cycle_areas', 'budget_cycle_projects']) {
                const e = twin.entries.find((x) => x.id === id);
                kinds[id] = twin.map.queryRenderedFeatures({ layers: e.styleLayers })
                  .filter((f) => f.properties.cycle_id === cid)
                  .map((f) => f.layer.type + ':' + f.geometry.type);
            }
            return kinds;
        }""",
        cid,
    )
    assert set(drawn["budget_cycle_areas"]) == {"fill:Polygon"}, drawn
    outline = page.evaluate(
        """() => { const e = twin.entries.find((x) => x.id === 'budget_cycle_areas');
            return twin.map.getPaintProperty(e.styleLayers[0], 'fill-outline-color'); }"""
    )
    assert outline == "#4a148c"
    assert set(drawn["budget_cycle_projects"]) == {"circle:Point"}, drawn
    s.screenshot(f"budget-area-{'phone' if phone else 'desktop'}.png")
    assert s.console_errors == []


def test_the_panel_shows_when_phases_began(make_session: Any, server: str) -> None:
    """A phase staff moved the cycle into shows the day it happened; the others their
    planned day (anyone's view: without the staff key, who did it is not shown)."""
    api = httpx.Client(base_url=server)
    r = api.post(
        "/api/budget/cycles",
        json={"year": 2035, "district": "Turksib", "budget_kzt": 50_000_000},
        headers=STAFF,
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    moved = api.post(f"/api/budget/cycles/{cid}/advance", headers=STAFF).json()
    review = next(p for p in moved["phases"] if p["phase"] == "review")
    assert review["started_at"] and review["started_by"]
    s = make_session()
    s.open("#lang=en")
    page = s.page
    page.click("#budget-toggle")
    page.wait_for_selector(f"#budget-cycle option[value='{cid}']", state="attached")
    page.select_option("#budget-cycle", str(cid))
    page.wait_for_selector("#budget-phase[data-phase='review']")
    item = page.locator("#budget-calendar li[data-phase='review']")
    assert item.get_attribute("data-started") == review["started_at"]
    assert item.get_attribute("aria-current") == "step"
    page.click(".budget-calendar-box summary")
    day = page.evaluate("(iso) => new Date(iso).getDate()", review["started_at"])
    text = item.inner_text()
    assert text.startswith("technical review: from ") and str(day) in text, text
    assert "(planned)" not in text and review["started_by"] not in text
    voting = page.locator("#budget-calendar li[data-phase='voting']").inner_text()
    assert voting == "voting: from 1 May 2035 (planned)", voting
    assert s.console_errors == []


def test_an_area_half_drawn_survives_another_residents_application(
    make_session: Any, server: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Another resident's application arrives live while a resident is drawing an area with
    nothing typed yet: the panel is not drawn again (it was, and the corners clicked so far
    went with the old form), the drawing goes on, and the application sends the whole area."""
    caplog.set_level(logging.INFO, logger="twin.accounts")
    api = httpx.Client(base_url=server)
    r = api.post(
        "/api/budget/cycles",
        json={"year": 2036, "district": "Bostandyk", "budget_kzt": 80_000_000},
        headers=STAFF,
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    corners = _area_in(api, "Bostandyk")
    other = sign_up_resident(api, caplog)  # type: ignore[arg-type]

    s = make_session()
    s.open("#lang=en")
    page = s.page
    login = "budget.half.area@example.kz"
    s.sign_up(caplog, login)
    page.evaluate("localStorage.setItem('twin.budget.district', 'Bostandyk')")
    page.locator("#budget-toggle").click()
    page.wait_for_selector(f"#budget-cycle option[value='{cid}']", state="attached")
    page.select_option("#budget-cycle", str(cid))
    page.wait_for_selector("#budget-apply-draw")
    # a stream of the page's own, to know when the other application has been announced
    page.evaluate(
        """() => { window.seen = [];
            const es = new EventSource('/api/events?topic=budget');
            es.addEventListener('budget.application', (e) => window.seen.push(e.data));
            return new Promise((ok) => es.addEventListener('open', ok)); }"""
    )
    page.locator("#budget-apply-draw").click()
    centre = [sum(c[0] for c in corners) / 4, sum(c[1] for c in corners) / 4]
    page.evaluate("(c) => twin.map.jumpTo({ center: c, zoom: 15 })", centre)
    s.idle()
    for c in corners[:2]:
        s.click_lnglat(*c)
    status = page.locator("#budget-apply-point")
    assert status.inner_text().startswith("Click the map at the area’s corners: 2")

    r = api.post(
        f"/api/budget/cycles/{cid}/projects",
        json={
            "title": "A playground",
            "description": "Swings and a slide",
            "category": "yards",
            "cost_kzt": 9_000_000,
            "location": {"type": "Point", "coordinates": centre},
        },
        headers=other.headers,
    )
    assert r.status_code == 201, r.text
    page.wait_for_function("window.seen.length >= 1")
    s.idle()
    # the form is the one being drawn in: its status still counts the two corners
    assert status.inner_text().startswith("Click the map at the area’s corners: 2")
    s.click_lnglat(*corners[2])
    page.mouse.dblclick(*s.page_xy(*corners[3]))
    assert status.inner_text() == "Area: 4 corners"
    page.fill("#budget-apply-title", "Trees along the yard")
    page.fill("#budget-apply-description", "Twelve elms")
    page.fill("#budget-apply-cost", "4000000")
    page.locator("#budget-apply-send").click()
    page.wait_for_function(
        "document.querySelector('#budget-apply-status')?.textContent.includes('sent for review')"
    )
    mine = [p for p in api.get(f"/api/budget/cycles/{cid}/projects").json()
            if p["title"] == "Trees along the yard"]  # fmt: skip
    assert len(mine) == 1 and mine[0]["location"]["type"] == "Polygon"
    assert len(mine[0]["location"]["coordinates"][0]) == 5
    # both applications are listed once the resident's own is sent
    listed = page.locator("#budget-projects li").all_inner_texts()
    assert sorted(t.split(" · ")[0] for t in listed) == ["A playground", "Trees along the yard"]
    assert s.console_errors == []
