"""City events in the browser (Debian Chromium): the time slider shows the AZhK outages of a
day, "what affects my address" finds the outage over a building, and an event a planner posts
appears on another open map within a second — a notice and the redrawn layer, no reload."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import shapely

import layers
from layers.vocabulary import EVENT_PROVIDERS
from tests.support.frames import buildings_frame
from tests.support.server import serve
from tests.web.conftest import Session, _is_noise
from twin.app import create_app
from twin.core.settings import DATA_DIR, AuthSettings, Settings, StoreSettings
from twin.events.loading import BUNDLED, load_azhk
from twin.store import Batch, open_store

PLANNER = "web-events-planner"


def _outage_point() -> tuple[float, float]:
    doc = json.loads((DATA_DIR / BUNDLED[0]).read_bytes())
    f = next(f for f in doc["features"] if f["properties"]["event_id"] == "power-202607-002")
    p = shapely.geometry.shape(f["geometry"]).representative_point()
    return p.x, p.y


@pytest.fixture(scope="module")
def events_server(tmp_path_factory: pytest.TempPathFactory, web_dist: Path) -> Iterator[str]:
    """An app over a store with the AZhK outages and one building ("Дом 1") inside the area
    of outage power-202607-002 (20 July 2026)."""
    url = f"gpkg:///{tmp_path_factory.mktemp('web-events')}/twin.gpkg"
    store = open_store(url)
    x, y = _outage_point()
    house = buildings_frame(1, x0=x - 0.00005, y0=y - 0.00005)
    store.load([Batch(layers.get("buildings"), "t", house, "t", "0" * 64, "x")])
    load_azhk(store, DATA_DIR / BUNDLED[0])
    store.close()
    settings = Settings(
        store=StoreSettings(database_url=url), auth=AuthSettings(api_keys=f"planner:{PLANNER}")
    )
    with serve(create_app(settings)) as base:
        yield base


def _page(browser: Any, base: str) -> Session:
    context = browser.new_context(
        viewport={"width": 960, "height": 640}, reduced_motion="reduce", bypass_csp=True
    )
    page = context.new_page()
    s = Session(page=page, base=base)
    page.on(
        "console",
        lambda m: m.type == "error" and not _is_noise(m.text) and s.console_errors.append(m.text),
    )
    page.on("pageerror", lambda e: s.console_errors.append(f"pageerror: {e}"))
    return s


def _open(s: Session, fragment: str) -> None:
    """Load the map and wait for it and its events layer (not for every tile: the events are
    read through the API, and waiting for a software-rendered idle map only costs time)."""
    s.page.goto(f"{s.base}/{fragment}")
    s.page.wait_for_function("document.body.dataset.ready", timeout=30000)
    assert s.page.evaluate("document.body.dataset.ready") == "true"
    s.page.wait_for_function("document.body.dataset.cityEvents !== undefined")


def test_events_by_day_my_address_and_live_push(browser: Any, events_server: str) -> None:
    day = _page(browser, events_server)
    live = _page(browser, events_server)
    try:
        _open(day, "#map=13/43.25/76.93&date=2026-07-20&lang=ru")
        day.page.wait_for_function("document.body.dataset.cityEvents === '20'")
        assert day.page.locator(".city-event-item").count() == 20
        assert day.page.evaluate("twin.cityEvents.features().length") == 20
        drawn = "twin.map.getSource('twin-city-events').getData().then(d => d.features.length)"
        assert day.page.evaluate(drawn) == 20
        # the time slider moves to another day: the layer follows
        day.page.evaluate("twin.timeline.set('2026-07-22')")
        day.page.wait_for_function("document.body.dataset.cityEvents === '23'")

        # what affects my address (on the slider's day): the outage over "Дом 1" on 20 July
        day.page.evaluate("twin.timeline.set('2026-07-20')")
        day.page.wait_for_function("document.body.dataset.cityEvents === '20'")
        day.page.fill("#city-events-address", "Дом 1")
        day.page.click(".city-events-affects button[type=submit]")
        result = day.page.locator("#city-events-affects-result")
        result.locator(".city-event-affecting").first.wait_for()
        assert "Плановое отключение электроэнергии: Центр" in result.inner_text()

        # a second map, on today's events; a planner posts a closure through the API
        _open(live, "#map=13/43.25/76.93&lang=en")
        before = live.page.evaluate("twin.cityEvents.features().length")
        live.page.evaluate("window.__notReloaded = true")
        r = httpx.post(
            f"{events_server}/api/city-events",
            json={
                "kind": "road_closure",
                "severity": "major",
                "title": "Abai Avenue closed for a parade",
                "starts_at": (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(),
                "geometry": {"type": "LineString", "coordinates": [[76.92, 43.24], [76.94, 43.24]]},
            },
            headers={"Authorization": f"Bearer {PLANNER}"},
        )
        assert r.status_code == 201, r.text
        new_id = r.json()["id"]
        notice = live.page.locator("#live-notice")
        notice.wait_for(state="visible", timeout=3000)
        assert "New event: Abai Avenue closed for a parade" in notice.inner_text()
        live.page.wait_for_function(
            f"twin.cityEvents.features().some(f => f.id === {new_id})", timeout=3000
        )
        assert live.page.evaluate("twin.cityEvents.features().length") == before + 1
        assert live.page.evaluate(drawn) == before + 1  # the map's layer, redrawn
        assert live.page.evaluate("window.__notReloaded") is True
        assert live.page.locator(f'.city-event-item[data-event-id="{new_id}"]').count() == 1
        # the day map (July 2026) heard it too (a notice); the closure began after that day
        day.page.locator("#live-notice").wait_for(state="visible", timeout=3000)
        assert day.page.evaluate("document.body.dataset.cityEvents") == "20"
        live.screenshot("city-events-live.png")
        assert day.console_errors == [] and live.console_errors == []
    finally:
        day.page.context.close()
        live.page.context.close()


def _click_lnglat(s: Session, lng: float, lat: float) -> None:
    x, y = s.page.evaluate(
        f"(() => {{ const p = twin.map.project([{lng}, {lat}]); return [p.x, p.y]; }})()"
    )
    box = s.page.locator("#map canvas").bounding_box()
    assert box is not None
    s.page.mouse.click(box["x"] + x, box["y"] + y)


def test_staff_create_and_close_an_event_by_drawing_it(browser: Any, events_server: str) -> None:
    """A planner draws a road closure on the map, saves it (it is listed and served), is told
    why a closure ending before it starts is refused, and closes it; a visitor without a key
    has no form; the form follows the language."""
    visitor = _page(browser, events_server)
    staff = _page(browser, events_server)
    try:
        _open(visitor, "#map=14/43.24/76.93&lang=en")
        assert visitor.page.locator("#city-events-staff").count() == 0
        assert visitor.page.locator(".city-event-close").count() == 0

        # the planner key as the sign-in form keeps it (the tab's session storage), then a load
        staff.page.context.add_init_script(f"sessionStorage.setItem('twin.key', '{PLANNER}')")
        _open(staff, "#map=14/43.24/76.93&lang=en")
        page = staff.page
        page.locator("#city-events-staff").wait_for()
        start = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M")
        page.select_option("#ce-kind", "road_closure")
        page.fill("#ce-title", "Drawn closure of Abai")
        page.fill("#ce-starts", start)
        page.select_option("#ce-shape", "line")
        # saving before drawing: the form says what is missing
        page.click("#ce-save")
        page.wait_for_function("document.querySelector('#ce-status').textContent.includes('Draw')")
        page.click("#ce-draw")
        _click_lnglat(staff, 76.925, 43.240)
        _click_lnglat(staff, 76.935, 43.240)
        page.wait_for_function("document.querySelector('#ce-status').textContent.includes('2')")
        # an end before the start is refused, naming the problem
        page.fill("#ce-ends", "2020-01-01T10:00")
        page.click("#ce-save")
        page.wait_for_function(
            "document.querySelector('#ce-status').textContent.includes('is not after')"
        )
        page.fill("#ce-ends", "")
        with page.expect_response(
            lambda r: r.url.endswith("/api/city-events") and r.request.method == "POST"
        ) as posted:
            page.click("#ce-save")
        assert posted.value.status == 201
        created = posted.value.json()
        new_id = created["id"]
        coords = created["geometry"]["coordinates"]
        assert created["geometry"]["type"] == "LineString" and len(coords) == 2
        assert abs(coords[0][0] - 76.925) < 0.0005 and abs(coords[1][0] - 76.935) < 0.0005
        assert abs(coords[0][1] - 43.240) < 0.0005
        item = page.locator(f'.city-event-item[data-event-id="{new_id}"]')
        item.wait_for()
        assert "Drawn closure of Abai" in item.inner_text()
        # the visitor's map hears it live
        visitor.page.locator(f'.city-event-item[data-event-id="{new_id}"]').wait_for(timeout=3000)
        # close it
        page.click(f'.city-event-close[data-close-id="{new_id}"]')
        page.wait_for_function(
            f"!document.querySelector('.city-event-close[data-close-id=\"{new_id}\"]')"
        )
        got = httpx.get(f"{events_server}/api/city-events/{new_id}").json()
        assert got["properties"]["status"] == "resolved"
        # in Kazakh
        page.select_option("#lang-select", "kk")
        page.wait_for_function(
            "document.querySelector('#city-events-staff h4').textContent"
            " === 'Жаңа оқиға (қызметкерлер)'"
        )
        # the refused save is the one failed request the browser reports
        errors = [e for e in staff.console_errors if "status of 400" not in e]
        assert errors == [] and visitor.console_errors == []
        assert len(staff.console_errors) - len(errors) == 1
    finally:
        visitor.page.context.close()
        staff.page.context.close()


def test_staff_edit_an_event_with_a_version_check(browser: Any, events_server: str) -> None:
    """A planner edits an event's kind, severity, status, dates, title, description and adds a
    public update in the map's form (filled from the event as it is); the change is saved
    with its version. When a colleague changed the event meanwhile, the save is refused, the
    form says so and shows the colleague's version, and the planner's change made again is
    saved on top of it."""
    key = {"Authorization": f"Bearer {PLANNER}"}
    start = dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)
    r = httpx.post(
        f"{events_server}/api/city-events",
        json={
            "kind": "planned_works",
            "severity": "minor",
            "title": "Pipe works on Tole bi",
            "starts_at": start.isoformat(),
            "geometry": {"type": "LineString", "coordinates": [[76.90, 43.25], [76.91, 43.25]]},
        },
        headers=key,
    )
    assert r.status_code == 201, r.text
    eid = r.json()["id"]
    local_start = r.json()["properties"]["starts_at"][:16]  # Almaty time, as the form shows it
    staff = _page(browser, events_server)
    try:
        staff.page.context.add_init_script(f"sessionStorage.setItem('twin.key', '{PLANNER}')")
        _open(staff, "#map=13/43.25/76.93&lang=en")
        page = staff.page
        page.click(f'.city-event-edit[data-edit-id="{eid}"]')
        form = page.locator(f'#city-events-edit[data-event-id="{eid}"]')
        form.wait_for()
        assert page.input_value("#ce-edit-title") == "Pipe works on Tole bi"
        assert page.input_value("#ce-edit-kind") == "planned_works"
        assert page.input_value("#ce-edit-starts") == local_start
        assert page.input_value("#ce-edit-ends") == ""

        ends = (dt.datetime.fromisoformat(local_start) + dt.timedelta(hours=6)).strftime(
            "%Y-%m-%dT%H:%M"
        )
        page.select_option("#ce-edit-kind", "road_closure")
        page.select_option("#ce-edit-severity", "critical")
        page.select_option("#ce-edit-status", "active")
        page.fill("#ce-edit-title", "Tole bi closed for pipe works")
        page.fill("#ce-edit-description", "Between Auezov and Baitursynov")
        page.fill("#ce-edit-ends", ends)
        page.fill("#ce-edit-text", "Crews on site")
        with page.expect_response(
            lambda r: r.url.endswith(f"/api/city-events/{eid}") and r.request.method == "PATCH"
        ) as patched:
            page.click("#ce-edit-save")
        assert patched.value.status == 200
        assert patched.value.request.post_data_json["version"] == 1
        form.wait_for(state="detached")
        got = httpx.get(f"{events_server}/api/city-events/{eid}").json()["properties"]
        assert (got["kind"], got["severity"], got["status"]) == (
            "road_closure",
            "critical",
            "active",
        )
        assert got["title"] == "Tole bi closed for pipe works"
        assert got["description"] == "Between Auezov and Baitursynov"
        assert got["ends_at"][:16] == ends and got["starts_at"][:16] == local_start
        assert got["version"] == 2 and got["updates"][-1]["text"] == "Crews on site"
        item = page.locator(f'.city-event-item[data-event-id="{eid}"]')
        item.filter(has_text="Tole bi closed for pipe works").wait_for()

        # a colleague changes the event while the planner has the form open
        page.click(f'.city-event-edit[data-edit-id="{eid}"]')
        form.wait_for()
        r = httpx.patch(
            f"{events_server}/api/city-events/{eid}",
            json={"title": "Tole bi closed (colleague)", "version": 2},
            headers=key,
        )
        assert r.status_code == 200, r.text
        # the live stream tells the map (its list is redrawn; the open form keeps its fields)
        item.filter(has_text="(colleague)").wait_for(timeout=5000)
        assert page.input_value("#ce-edit-title") == "Tole bi closed for pipe works"
        page.select_option("#ce-edit-severity", "major")
        page.click("#ce-edit-save")
        page.locator("#ce-edit-status", has_text="changed this event meanwhile").wait_for()
        assert page.input_value("#ce-edit-title") == "Tole bi closed (colleague)"
        assert page.input_value("#ce-edit-severity") == "critical"  # the stored value again
        assert (
            httpx.get(f"{events_server}/api/city-events/{eid}").json()["properties"]["severity"]
            == "critical"
        )  # nothing of the refused change was written
        page.select_option("#ce-edit-severity", "major")
        with page.expect_response(
            lambda r: r.url.endswith(f"/api/city-events/{eid}") and r.request.method == "PATCH"
        ) as patched:
            page.click("#ce-edit-save")
        assert patched.value.status == 200
        got = httpx.get(f"{events_server}/api/city-events/{eid}").json()["properties"]
        assert (got["severity"], got["title"], got["version"]) == (
            "major",
            "Tole bi closed (colleague)",
            4,
        )
        # the refused save is the one failed request the browser reports
        errors = [e for e in staff.console_errors if "status of 400" not in e]
        assert errors == [] and len(staff.console_errors) == 1
    finally:
        staff.page.context.close()


def test_an_events_card_names_its_provider_in_words(browser: Any, events_server: str) -> None:
    """Issue 15, item 8 (every value a person reads is a word): an outage's card says who
    published it in the interface's language, from the catalog's vocabulary, not the stored
    code "azhk"."""
    for lang in ("ru", "kk", "en"):
        s = _page(browser, events_server)
        _open(s, f"#map=12.00/43.25000/76.92000&lang={lang}")
        page = s.page
        fid = page.evaluate(
            "fetch('/collections/city_event_areas/items?limit=1')"
            ".then((r) => r.json()).then((b) => b.features[0].id)"
        )
        page.evaluate(
            "(fid) => twin.goTo({layer: 'city_event_areas', fid, bbox: [76.9, 43.2, 76.91, 43.21],"
            " point: [76.9, 43.2]})",
            fid,
        )
        provider = page.locator('#card dd[data-prop="provider"]')
        provider.wait_for()
        assert provider.inner_text() == EVENT_PROVIDERS["azhk"].get(lang)
        assert s.console_errors == []
        page.context.close()
