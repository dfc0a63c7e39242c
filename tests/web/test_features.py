"""What a resident does on the map: click a building, search, move the time slider, open a
district dashboard, and (as a planner) unlock the cameras."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import PLANNER_KEY, Known, Session
from tests.web.numbers import shown, with_unit_en
from twin.core.settings import PROJECT_ROOT


def _fly(session: Session, lon: float, lat: float, zoom: float) -> None:
    session.page.evaluate(f"twin.map.jumpTo({{center: [{lon}, {lat}], zoom: {zoom}}})")
    session.idle()


def _click_lnglat(session: Session, lon: float, lat: float) -> None:
    """Click the map where (lon, lat) is drawn, found with ``map.project``."""
    page = session.page
    x, y = page.evaluate(
        f"(() => {{ const p = twin.map.project([{lon}, {lat}]); return [p.x, p.y]; }})()"
    )
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


def _rendered_ids(session: Session, layer: str, lon: float, lat: float) -> list[int]:
    return list(
        session.page.evaluate(
            """([layer, lon, lat]) => {
              const m = twin.map;
              const layers = twin.entries.find(e => e.id === layer).styleLayers;
              return m.queryRenderedFeatures(m.project([lon, lat]), { layers }).map(f => f.id);
            }""",
            [layer, lon, lat],
        )
    )


def test_a_click_on_a_building_opens_its_card(session: Session, known: dict[str, Known]) -> None:
    b = known["building"]
    session.open(f"#map=17.50/{b.lat:.6f}/{b.lon:.6f}&layers=landuse,buildings")
    assert b.fid in _rendered_ids(session, "buildings", b.lon, b.lat)
    _click_lnglat(session, b.lon, b.lat)
    card = session.page.locator("#card")
    card.wait_for(state="visible")
    assert session.page.locator("#card-title").inner_text() == b.name
    assert card.get_attribute("data-layer") == "buildings"
    assert card.get_attribute("data-fid") == str(b.fid)
    # The full feature arrives from the features API: translated labels, units, values.
    session.page.wait_for_selector('#card dd[data-prop="name"]')
    labels = card.locator("dt").all_inner_texts()
    assert "Название" in labels
    session.page.select_option("#lang-select", "en")
    assert "Name" in card.locator("dt").all_inner_texts()
    assert session.page.locator("#card-title").inner_text() == b.name
    session.screenshot("card.png")
    assert session.console_errors == []


def test_generated_features_are_marked_as_demo_data(session: Session) -> None:
    session.open("#map=13.00/43.25000/76.93000&layers=budget_cycle_projects")
    page = session.page
    page.fill("#search-input", "Освещение")
    option = page.locator("#search-list li[data-id^='budget_cycle_projects/']").first
    option.wait_for()
    assert "Демо-данные" in option.inner_text()
    option.click()
    page.wait_for_selector("#card .badge-demo")
    assert "Демо-данные" in page.locator("#card .badge-demo").inner_text()
    assert page.locator("#card dd[data-prop='cost_kzt']").inner_text().endswith("₸")


def test_an_air_stations_card_shows_its_real_latest_reading_and_date(
    session: Session, known: dict[str, Known]
) -> None:
    a = known["air"]
    session.open(f"#map=15.00/{a.lat:.6f}/{a.lon:.6f}&layers=air_sensors")
    assert a.fid in _rendered_ids(session, "air_sensors", a.lon, a.lat)
    _click_lnglat(session, a.lon, a.lat)
    page = session.page
    page.wait_for_selector("#card .card-figure")
    assert page.locator("#card").get_attribute("data-fid") == str(a.fid)
    feature = page.evaluate(f"fetch('/collections/air_sensors/items/{a.fid}').then(r => r.json())")[
        "properties"
    ]
    readings = feature["readings"]  # JSON properties arrive parsed
    # The latest value, its date and the chart's last day are the same day's.
    figure = page.locator("#card .card-figure")
    assert figure.get_attribute("data-last") == feature["latest_day"] == readings[-1]["date"]
    assert figure.get_attribute("data-pollutant") == "pm10"
    assert readings[-1]["pm10"] == feature["pm10"]
    shown_day = page.locator("#card dd[data-prop='latest_day']").inner_text()
    assert shown_day in page.locator("#card .card-figure figcaption").inner_text()
    pm10 = page.locator("#card dd[data-prop='pm10']").inner_text()
    assert pm10.startswith(f"{feature['pm10']:.1f}".split(".")[0]) and "мкг/м³" in pm10
    # Real readings: no demo badge anywhere; a PM10-only station shows no PM2.5 at all.
    assert page.locator("#card .badge-demo").count() == 0
    assert page.locator("#card dd[data-prop='pm25']").count() == 0
    assert page.locator("#card dd[data-prop='aqi']").inner_text() in {
        "Хорошее", "Умеренное", "Вредно для чувствительных групп", "Вредное",
        "Очень вредное", "Опасное",
    }  # fmt: skip
    assert "CC BY-NC 4.0" in page.locator("#card .source").inner_text()
    session.screenshot("card-air.png")
    # The day's surface: drawn over the city, with the method chosen and both methods' errors.
    page.click("#air-surface-open")
    page.wait_for_selector("#card[data-layer='air_surface'] table.air-cv")
    table = page.locator("#card table.air-cv")
    chosen = table.get_attribute("data-chosen")
    assert chosen in {"idw", "kriging"}
    assert page.locator("#card table.air-cv tr[data-method]").count() == 2
    assert "✓" in page.locator(f"#card tr[data-method='{chosen}']").inner_text()
    assert page.locator("#card .air-exposure dd").count() == 8
    assert page.evaluate("Boolean(twin.map.getLayer('twin-air-surface'))")
    # ... with the contour lines of its classes, and the GeoTIFF and bands to download
    assert page.evaluate("twin.map.getLayer('twin-air-contours')?.type") == "line"
    tif = page.locator("#card .air-downloads a", has_text="GeoTIFF").get_attribute("href") or ""
    assert tif.startswith("/api/air/surface.tif?")
    assert page.request.get(session.base + tif).headers["content-type"] == "image/tiff"
    session.screenshot("air-surface.png")
    assert session.console_errors == []


def test_a_search_for_a_known_object_flies_there(session: Session, known: dict[str, Known]) -> None:
    h = known["health"]
    session.open()
    page = session.page
    page.fill("#search-input", h.name)
    first = page.locator("#search-list li[role=option][data-id]").first
    first.wait_for()
    assert first.get_attribute("data-id") == f"health/{h.fid}"
    assert page.get_attribute("#search-input", "aria-expanded") == "true"
    page.keyboard.press("ArrowDown")
    assert page.get_attribute("#search-input", "aria-activedescendant") == "search-opt-0"
    page.keyboard.press("Enter")
    page.wait_for_selector("#card:not([hidden])")
    session.idle()
    lng, lat, zoom = page.evaluate(
        "[twin.map.getCenter().lng, twin.map.getCenter().lat, twin.map.getZoom()]"
    )
    # The map centres on the object (inside the padding left for the panel and the card).
    x, y = page.evaluate(
        f"(() => {{ const p = twin.map.project([{h.lon}, {h.lat}]); return [p.x, p.y]; }})()"
    )
    w, hgt = page.evaluate("[twin.map.getCanvas().clientWidth, twin.map.getCanvas().clientHeight]")
    assert 0 < x < w and 0 < y < hgt and zoom >= 16
    assert abs(lng - h.lon) < 0.02 and abs(lat - h.lat) < 0.02
    assert page.locator("#card-title").inner_text() == h.name
    assert page.locator('input[data-layer="health"]').is_checked()
    assert h.fid in _rendered_ids(session, "health", h.lon, h.lat) or page.evaluate(
        "twin.map.queryRenderedFeatures({layers: ['twin-selection-point']}).length"
    )
    assert session.console_errors == []


def test_a_street_chosen_in_search_is_highlighted_whole(session: Session) -> None:
    """A street comes in many pieces; search gives one hit for it and fits the map to it all
    (issue 15, item 6). The highlight is the whole street too, not the piece the card reads."""
    session.open()
    page = session.page
    hit = page.evaluate(
        "fetch('/api/search?q=' + encodeURIComponent('Абая') + '&limit=1')"
        ".then((r) => r.json()).then((d) => d.results[0])"
    )
    assert hit["layer"] == "roads" and hit["label"] == "Абая прс."
    page.fill("#search-input", "Абая")
    first = page.locator("#search-list li[role=option][data-id]").first
    first.wait_for()
    assert first.get_attribute("data-id") == hit["id"]
    first.click()
    page.wait_for_selector("#card:not([hidden])")
    page.wait_for_function("!document.querySelector('#card .hint')")
    page.wait_for_function(
        "twin.selection?.type === 'MultiLineString' && twin.selection.coordinates.length > 1"
    )
    drawn = page.evaluate("twin.map.getSource('twin-selection').getData()")
    lines = drawn["geometry"]["coordinates"]
    assert drawn["geometry"] == page.evaluate("twin.selection")
    xs = [c[0] for line in lines for c in line]
    ys = [c[1] for line in lines for c in line]
    x0, y0, x1, y1 = hit["bbox"]
    # every piece of the street, and nothing beyond it
    assert (min(xs), min(ys), max(xs), max(ys)) == pytest.approx((x0, y0, x1, y1), abs=1e-6)
    assert page.locator("#card-title").inner_text() == "Абая прс."
    assert session.console_errors == []


def test_the_time_slider_hides_works_not_yet_started(
    session: Session, known: dict[str, Known]
) -> None:
    w = known["work"]
    assert w.start is not None
    session.open(f"#map=15.50/{w.lat:.6f}/{w.lon:.6f}&layers=landuse,works")
    assert w.fid in _rendered_ids(session, "works", w.lon, w.lat)
    page = session.page

    def slide_to(date: str) -> None:
        page.evaluate(
            """(date) => {
              const range = document.getElementById('time-range');
              const [lo] = twin.timeline.bounds();
              const day = (d) => Math.round(Date.parse(d + 'T00:00:00Z') / 86400000);
              range.value = String(day(date) - day(lo));
              range.dispatchEvent(new Event('input', { bubbles: true }));
            }""",
            date,
        )
        session.idle()

    day_before = page.evaluate(
        f"new Date(Date.parse('{w.start}T00:00:00Z') - 86400000).toISOString().slice(0, 10)"
    )
    slide_to(day_before)
    assert f"date={day_before}" in page.evaluate("location.hash")
    assert w.fid not in _rendered_ids(session, "works", w.lon, w.lat)
    slide_to(w.start)
    assert w.fid in _rendered_ids(session, "works", w.lon, w.lat)
    # Back to "all dates", then play: the slider moves by itself, and pauses again.
    page.click("#time-reset")
    session.idle()
    assert "date=" not in page.evaluate("location.hash")
    page.click("#time-play")
    assert page.get_attribute("#time-play", "aria-pressed") == "true"
    page.wait_for_function("location.hash.includes('date=')")
    first = page.locator("#time-output").inner_text()
    page.wait_for_function(f"document.getElementById('time-output').textContent !== {first!r}")
    page.click("#time-play")
    assert page.get_attribute("#time-play", "aria-pressed") == "false"
    assert session.console_errors == []


def _docs_picture(src: Path, dest: Path) -> None:
    """Copy a screenshot for the README, in 256 colours when Pillow is around (< 400 KB)."""
    try:
        from PIL import Image
    except ImportError:
        shutil.copy(src, dest)
        return
    with Image.open(src) as im:
        im.convert("RGB").quantize(256, dither=Image.Dither.NONE).save(dest, optimize=True)


def test_the_district_dashboard_shows_the_api_numbers(make_session: Any) -> None:
    session = make_session(1280, 760)
    session.open("#map=11.00/43.25000/76.92000&layers=districts&lang=en")
    page = session.page
    api = page.request.get(f"{session.base}/api/districts/Almaly").json()
    page.select_option("#district-select", "Almaly")
    page.locator("#district-select + button").click()
    page.wait_for_selector("#dashboard .indicator")
    assert page.locator("#dash-title").inner_text() == "Almaly"
    assert "district=Almaly" in page.evaluate("location.hash")
    blocks = page.locator("#dashboard .indicator")
    assert blocks.count() == len(api["indicators"])
    for ind in api["indicators"]:
        block = page.locator(f'#dashboard .indicator[data-indicator="{ind["name"]}"]')
        latest, unit = ind["latest"], ind["unit"]
        value = block.locator(".indicator-value")
        assert value.inner_text() == with_unit_en(shown(latest["value"], None, "en"), unit)
        assert float(value.get_attribute("data-value")) == latest["value"]
        avg = block.locator(".indicator-avg")
        average = with_unit_en(shown(latest["city_average"], None, "en"), unit)
        assert avg.inner_text() == f"City average: {average}"
        assert float(avg.get_attribute("data-value")) == latest["city_average"]
        rank = block.locator(".indicator-rank").inner_text()
        assert rank == f"rank {ind['latest']['rank']} of {ind['latest']['of']}"
        assert block.locator("svg.chart path.chart-main").count() == 1
        assert block.locator("svg.chart path.chart-other").count() == len(ind["others"])
        # Generated values are marked: the latest one by the demo badge, the years in a note.
        badge = block.locator('.badge-demo[data-demo="latest"]')
        assert badge.count() == (1 if ind["latest"]["generated"] else 0), ind["name"]
        years = [p["year"] for p in ind["history"] if p["generated"]]
        note = block.locator(".indicator-demo")
        assert note.count() == (1 if years else 0), ind["name"]
        if years:
            assert note.get_attribute("data-years") == ",".join(map(str, years))
            assert note.inner_text().startswith("Demo data for ")
        if ind["latest"]["generated"]:
            assert badge.inner_text() == "Demo data"
            assert "computed from generated data" in note.inner_text()
    marked = page.locator('#dashboard .indicator:has(.badge-demo[data-demo="latest"])')
    names = {marked.nth(i).get_attribute("data-indicator") for i in range(marked.count())}
    assert {"cameras_per_10k", "appeals_per_10k", "school_places_per_1k"} <= names
    assert not {"population", "density", "green_m2_per_capita"} & names
    cams = page.locator('#dashboard .indicator[data-indicator="cameras_per_10k"] .indicator-demo')
    assert "computed from generated data (CCTV cameras)" in cams.inner_text()
    page.select_option("#lang-select", "kk")
    assert cams.inner_text().startswith("Демо-деректер: ")
    assert "жасалған деректерден есептелген (Бейнебақылау камералары)" in cams.inner_text()
    page.select_option("#lang-select", "ru")
    assert cams.inner_text().startswith("Демо-данные за ")
    badge = page.locator(
        '#dashboard .indicator[data-indicator="cameras_per_10k"] .badge-demo[data-demo="latest"]'
    )
    assert badge.inner_text() == "Демо-данные"
    page.select_option("#lang-select", "en")
    # Any indicator colours the districts.
    block = page.locator('#dashboard .indicator[data-indicator="green_m2_per_capita"]')
    block.get_by_role("button").click()
    session.idle()
    assert page.locator('input[data-layer="district_indicators"]').is_checked()
    assert page.locator("#choropleth-select").input_value() == "green_m2_per_capita"
    colours = page.evaluate("twin.map.getPaintProperty('twin-choropleth', 'fill-color')")
    assert colours[0] == "match" and "Almaly" in colours
    assert "ind=green_m2_per_capita" in page.evaluate("location.hash")
    # The map's legend marks a generated year's figures too (the latest green space is real).
    legend = page.locator('#choropleth-legend .badge-demo[data-demo="choropleth"]')
    assert page.locator("#choropleth-legend .ramp").count() == 1 and legend.count() == 0
    page.select_option("#choropleth-select", "cameras_per_10k")
    assert legend.inner_text() == "Demo data"
    page.select_option("#choropleth-select", "green_m2_per_capita")
    assert legend.count() == 0
    # The README's picture: the city in Russian, a district's dashboard, streets and works.
    page.select_option("#lang-select", "ru")
    page.evaluate(
        "for (const id of ['buildings', 'roads', 'parks', 'works', 'landuse', 'waterways']) "
        "twin.toggle(id, true)"
    )
    page.evaluate("twin.map.jumpTo({center: [76.905, 43.245], zoom: 12.6})")
    session.idle()
    path = session.screenshot("dashboard.png")
    if os.environ.get("TWIN_UPDATE_DOCS_SCREENSHOT"):
        _docs_picture(path, PROJECT_ROOT / "docs" / "screenshot.png")
    assert session.console_errors == []


def test_a_click_on_a_district_opens_its_dashboard(session: Session) -> None:
    session.open("#map=11.00/43.25000/76.92000&layers=districts")
    page = session.page
    overview = page.request.get(f"{session.base}/api/districts").json()
    zhetysu = next(d for d in overview["districts"] if d["name"] == "Zhetysu")
    lon, lat = zhetysu["label"]
    _click_lnglat(session, lon, lat + 0.004)
    page.wait_for_selector("#dashboard .indicator")
    assert page.locator("#dash-title").inner_text() == "Жетысуский район"
    # the city's real air history (AirData.kz PM2.5, monthly) from March 2017 to April 2026
    page.wait_for_selector("#dashboard .city-air svg.chart path.chart-main")
    air = page.locator("#dashboard .city-air")
    assert (air.get_attribute("data-first"), air.get_attribute("data-last")) == (
        "2017-03",
        "2026-04",
    )
    assert "CC BY-NC 4.0" in air.locator(".source").inner_text()
    page.keyboard.press("Escape")
    assert page.locator("#dashboard").is_hidden()


def test_cameras_need_a_planner_key(session: Session) -> None:
    session.open("#map=14.00/43.25000/76.93000")
    page = session.page
    assert page.locator('input[data-layer="cameras"]').count() == 0
    assert not any("/tiles/cameras" in r.url for r in session.requests)
    page.fill("#planner-key", "wrong")
    page.locator(".key-form button[type=submit]").click()
    page.wait_for_function(
        "document.querySelector('.key-form [role=status]').textContent.includes('Неизвестный')"
    )
    page.fill("#planner-key", PLANNER_KEY)
    page.locator(".key-form button[type=submit]").click()
    page.wait_for_selector('input[data-layer="cameras"]:checked')
    session.idle()
    camera_tiles = [r for r in session.requests if "/tiles/cameras/" in r.url]
    assert camera_tiles, "no camera tile was requested"
    assert all(r.headers.get("authorization") == f"Bearer {PLANNER_KEY}" for r in camera_tiles)
    assert page.locator('input[data-layer="appeals"]').count() == 1
    page.get_by_role("button", name="Выйти").click()
    page.wait_for_function("!document.querySelector('input[data-layer=\"cameras\"]')")
    # The one error logged is the browser's note of the wrong key's 401.
    assert [e for e in session.console_errors if "401 (Unauthorized)" not in e] == []


def test_accessibility_view_colours_objects_by_wheelchair_access(session: Session) -> None:
    session.open("#map=15.00/43.25650/76.94550&layers=landuse,roads,accessibility")
    page = session.page
    found: Any = page.evaluate(
        "twin.map.queryRenderedFeatures({layers: twin.entries.find(e => e.id === "
        "'accessibility').styleLayers.filter(id => twin.map.getLayer(id))})"
        ".map(f => f.properties.wheelchair)"
    )
    assert found and set(found) <= {"yes", "limited", "no", "unknown"}
    legend = (
        page.locator('input[data-layer="accessibility"]').locator("xpath=../..").locator(".legend")
    )
    assert "Доступно" in legend.inner_text()


def test_residents_see_appeals_only_as_counts(session: Session) -> None:
    session.open("#map=13.00/43.25000/76.92000&layers=landuse,appeals")
    page = session.page
    hexes: list[dict[str, Any]] = page.evaluate(
        """() => twin.map.queryRenderedFeatures({ layers: twin.entries.find(e => e.id ===
          'appeals').styleLayers }).map(f => ({ props: f.properties, ring:
          f.geometry.type === 'Polygon' ? f.geometry.coordinates[0] : null }))"""
    )
    assert hexes and all(set(h["props"]) == {"count", "h3", "resolution"} for h in hexes)
    # Click the middle of the busiest hexagon whose middle is well inside the map.
    w, h = page.evaluate("[twin.map.getCanvas().clientWidth, twin.map.getCanvas().clientHeight]")

    def middle(ring: list[list[float]]) -> tuple[float, float]:
        pts = ring[:-1]
        return sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)

    def inside(lon: float, lat: float) -> bool:
        x, y = page.evaluate(
            f"(() => {{ const p = twin.map.project([{lon}, {lat}]); return [p.x, p.y]; }})()"
        )
        return 380 < x < w - 60 and 60 < y < h - 120  # clear of the panel and the time bar

    candidates = [(hx["props"]["count"], middle(hx["ring"])) for hx in hexes if hx["ring"]]
    candidates = sorted((c for c in candidates if inside(*c[1])), reverse=True)
    assert candidates
    _click_lnglat(session, *candidates[0][1])
    page.wait_for_selector("#card:not([hidden])")
    assert page.locator("#card dt").first.inner_text() == "Число обращений"
    count = re.sub(r"\D", "", page.locator('#card dd[data-prop="count"]').inner_text())
    assert int(count) >= 1
    assert session.console_errors == []
