"""The analysis panel in Chromium: isochrones from a click or a facility, access by category,
school load, business site selection, the planner's camera coverage, their translations, the
URL, the keyboard, the phone layout and axe-core. Figures on the page are compared with the
API's answer to the same request."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.web.conftest import PLANNER_KEY, Known, Session
from tests.web.numbers import percent, shown
from tests.web.test_a11y import serious_violations

# Only the streets under the analyses: less to draw in software GL, so a faster suite.
CENTRE = "#map=14.00/43.25650/76.94550&layers=roads"


def _number(text: str) -> float:
    """Return the first number in ``text`` as the page writes it (ru/kk: '1 234,5')."""
    match = re.search(r"-?\d[\d\s\u00a0\u202f]*(?:[.,]\d+)?", text)
    assert match, text
    return float(re.sub(r"[\s\u00a0\u202f]", "", match.group()).replace(",", "."))


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _open_analyses(session: Session) -> None:
    page = session.page
    page.click("#analysis-toggle")
    assert page.get_attribute("#analysis-toggle", "aria-expanded") == "true"
    assert page.locator("#analysis-panel").is_visible()
    assert page.locator("#panel").is_hidden()  # one side panel at a time


def _rendered(session: Session, layer: str, until: str = "f => true") -> list[dict[str, Any]]:
    """Return the properties of what ``layer`` draws, once a drawn feature passes the JS
    predicate ``until`` (no need to wait for every basemap tile as ``session.idle`` does)."""
    session.page.wait_for_function(
        "([layer, until]) => !twin.map.isMoving() && twin.map.queryRenderedFeatures("
        "{ layers: [layer] }).some(eval(until))",
        arg=[layer, until],
        polling=100,
    )
    found: list[dict[str, Any]] = session.page.evaluate(
        "(layer) => twin.map.queryRenderedFeatures({ layers: [layer] }).map(f => f.properties)",
        layer,
    )
    return found


def _bands(session: Session) -> list[tuple[int, float]]:
    """Return (minutes, km²) of the isochrone card's legend, once its four bands are in."""
    page = session.page
    page.wait_for_function(
        "document.querySelectorAll('#card[data-layer=isochrone] .iso-legend .legend-figure')"
        ".length === 4"
    )
    rows = page.locator("#card .iso-legend li")
    return [
        (
            int(rows.nth(i).get_attribute("data-minutes")),
            _number(rows.nth(i).locator(".legend-figure").inner_text()),
        )
        for i in range(rows.count())
    ]


def _is_isochrone(r: Any) -> bool:
    return "/api/analysis/isochrone" in r.url


def test_isochrone_mode_and_from_a_facility(session: Session, known: dict[str, Known]) -> None:
    session.open(CENTRE)
    page = session.page
    _open_analyses(session)
    toggle = page.locator("#iso-toggle")
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "true"
    assert page.locator("#map-tool").is_visible()
    with page.expect_response(_is_isochrone) as answer:
        session.click_lnglat(76.9455, 43.2565)
    api = answer.value.json()
    assert _query(answer.value.url)["minutes"] == "5,10,15,20"
    bands = _bands(session)
    assert [m for m, _ in bands] == [5, 10, 15, 20]
    expected = {
        int(f["properties"]["minutes"]): f["properties"]["area_km2"] for f in api["features"]
    }
    for minutes, km2 in bands:
        assert abs(km2 - expected[minutes]) < 0.051, (minutes, km2, expected)
    assert [km2 for _, km2 in bands] == sorted(km2 for _, km2 in bands)
    drawn = {p["minutes"] for p in _rendered(session, "twin-an-iso-fill")}
    assert drawn == {5, 10, 15, 20}
    assert "iso=76.9" in page.evaluate("location.hash")
    # Another mode asks again, in the same place.
    with page.expect_response(_is_isochrone) as answer:
        page.select_option("#iso-card-mode", "wheelchair")
    assert _query(answer.value.url)["mode"] == "wheelchair"
    _bands(session)
    assert "isomode=wheelchair" in page.evaluate("location.hash")
    # Escape closes the card, then leaves the mode.
    page.keyboard.press("Escape")
    assert page.locator("#card").is_hidden()
    page.keyboard.press("Escape")
    assert page.locator("#map-tool").is_hidden()
    assert toggle.get_attribute("aria-pressed") == "false"

    # "Isochrone from here" in a clinic's card starts at the feature.
    h = known["health"]
    page.fill("#search-input", h.name)
    page.locator("#search-list li[role=option][data-id]").first.click()
    page.wait_for_selector("#card[data-layer=health]")
    with page.expect_response(_is_isochrone) as answer:
        page.click("#card-isochrone")
    q = _query(answer.value.url)
    assert (q["layer"], q["fid"], q["mode"]) == ("health", str(h.fid), "wheelchair")
    assert len(_bands(session)) == 4
    assert page.locator("#card-title").inner_text() == h.name
    assert session.console_errors == []


def test_access_by_category_asks_for_the_view(session: Session) -> None:
    session.open(CENTRE)
    page = session.page
    _open_analyses(session)

    def cells(r: Any) -> bool:
        return "/api/analysis/access?" in r.url and "view=cells" in r.url

    with page.expect_response(cells) as answer:
        page.select_option("#access-category", "clinic")
    q = _query(answer.value.url)
    assert (q["category"], q["profile"]) == ("clinic", "walk")
    w, s, e, n = map(float, q["bbox"].split(","))
    view = page.evaluate("twin.map.getBounds().toArray().flat()")
    assert w <= view[0] and s <= view[1] and e >= view[2] and n >= view[3]
    page.wait_for_selector("#access-status:not(.busy)")
    drawn = _rendered(session, "twin-an-access-fill")
    assert drawn and all("clinic_min" in p and "population" in p for p in drawn)
    assert page.locator("#access-legend li").count() == 6
    # The wheelchair asks again; a view far away asks for its own bbox.
    with page.expect_response(cells) as answer:
        page.select_option("#access-profile", "wheelchair")
    assert _query(answer.value.url)["profile"] == "wheelchair"
    with page.expect_response(cells) as answer:
        page.evaluate("twin.map.jumpTo({center: [76.86, 43.22], zoom: 14})")
    w, s, e, n = map(float, _query(answer.value.url)["bbox"].split(","))
    assert w < 76.86 < e and s < 43.22 < n
    assert "access=clinic,wheelchair" in page.evaluate("location.hash")
    # A click on a hexagon opens its card.
    page.wait_for_selector("#access-status:not(.busy)")
    _rendered(session, "twin-an-access-fill")
    # The centre of a drawn hexagon, clear of the panel (left) and the time bar (bottom).
    clear = page.evaluate(
        """() => twin.map.queryRenderedFeatures({ layers: ['twin-an-access-fill'] })
          .filter(f => f.geometry.type === 'Polygon').map(f => {
            const r = f.geometry.coordinates[0].slice(0, -1);
            return [r.reduce((a, c) => a + c[0], 0) / r.length,
                    r.reduce((a, c) => a + c[1], 0) / r.length]; })
          .filter(c => { const p = twin.map.project(c); return p.x > 360 && p.x < 1060
                                                           && p.y > 40 && p.y < 560; })"""
    )
    assert clear
    session.click_lnglat(*clear[0])
    page.wait_for_selector("#card[data-layer=access-cell] dd[data-prop=population]")
    assert session.console_errors == []


def test_school_load_highlights_overloaded_schools(session: Session) -> None:
    session.open("#map=12.00/43.25000/76.92000&layers=roads")
    page = session.page
    _open_analyses(session)
    with page.expect_response(lambda r: "/api/analysis/schools?" in r.url) as answer:
        page.select_option("#schools-kind", "school")
    api = answer.value.json()
    assert api["overloaded"], "the bundled city has overloaded schools"
    summary = page.locator("#schools-summary")
    summary.wait_for()
    assert int(summary.get_attribute("data-overloaded")) == len(api["overloaded"])
    listed = page.locator("#schools-overloaded button")
    fids = [int(listed.nth(i).get_attribute("data-fid")) for i in range(listed.count())]
    assert fids == [o["fid"] for o in api["overloaded"][: len(fids)]] and fids
    drawn = _rendered(session, "twin-an-schools", "f => !f.properties.overloaded")
    assert any(p["overloaded"] for p in drawn) and not all(p["overloaded"] for p in drawn)
    share = round(api["assumptions"]["age_share"] * 100)
    assert f"{share}%" in page.locator("#schools-assumptions").inner_text()
    # The most loaded school's card, and an isochrone from it.
    top = api["overloaded"][0]
    listed.first.click()
    page.wait_for_selector("#card[data-layer=school-load]")
    assert page.locator("#card-title").inner_text() == top["name"]
    assert page.locator("#card .badge-alert").inner_text() == "Перегружена"
    load = page.locator('#card dd[data-prop="load"]').inner_text()
    assert load == percent(top["load"] * 100, 0, "ru")
    with page.expect_response(_is_isochrone) as answer:
        page.click("#card-isochrone")
    q = _query(answer.value.url)
    assert (q["layer"], q["fid"]) == ("schools", str(top["fid"]))
    assert len(_bands(session)) == 4
    assert session.console_errors == []


def test_business_panel_ranks_pharmacies_and_explains_a_cell(session: Session) -> None:
    session.open("#map=13.00/43.25000/76.93000&layers=roads")
    page = session.page
    _open_analyses(session)

    def site(r: Any) -> bool:
        return "/api/analysis/site?" in r.url

    with page.expect_response(site) as answer:
        page.select_option("#site-category", "pharmacy")
    q = _query(answer.value.url)
    assert q == {
        "category": "pharmacy",
        "top": "20",
        "res": "9",
        "weights": "demand:1,competition:1,access:0.5",
    }
    api = answer.value.json()
    page.wait_for_selector("#site-ranked li")
    listed = page.locator("#site-ranked button")
    order = [listed.nth(i).get_attribute("data-h3") for i in range(listed.count())]
    assert order == [f["id"] for f in api["features"][: len(order)]]
    best = api["features"][0]
    ring = best["geometry"]["coordinates"][0][:-1]
    centre = (sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))
    page.evaluate("(c) => twin.map.jumpTo({center: c, zoom: 14})", list(centre))
    ranks = {
        p["rank"] for p in _rendered(session, "twin-an-site-fill", "f => f.properties.rank === 1")
    }
    assert 1 in ranks and ranks <= {f["properties"]["rank"] for f in api["features"]}
    session.click_lnglat(*centre)
    card = page.locator("#card[data-layer=site-cell]")
    card.wait_for()
    assert card.get_attribute("data-fid") == best["id"]
    score = best["properties"]["score"]
    assert page.locator("#site-score").inner_text() == shown(score, 0, "ru")
    assert float(page.get_attribute("#site-score", "data-value")) == score
    cells = page.locator("#card td.points")
    points = [float(cells.nth(i).get_attribute("data-points")) for i in range(cells.count())]
    assert len(points) == 3 and abs(sum(points) - score) <= 1
    assert page.locator("#card .factor-seg").count() == 3
    why = page.locator("#card .site-why").inner_text()
    assert "жителей" in why and "остановок" in why
    # The keyboard moves a weight: no competition at all re-ranks the city.
    page.focus("#site-w-competition")
    with page.expect_response(lambda r: site(r) and "competition%3A0%2C" in r.url) as answer:
        page.keyboard.press("Home")
    again = answer.value.json()
    assert all(f["properties"]["competition_pts"] == 0 for f in again["features"])
    page.wait_for_function(
        "(id) => document.querySelector('#site-ranked button').dataset.h3 === id",
        arg=again["features"][0]["id"],
    )
    assert "sitew=demand:1,competition:0,access:0.5" in page.evaluate(
        "decodeURIComponent(location.hash)"
    )
    # Niches follow the same weights.
    with page.expect_response(lambda r: "/api/analysis/niches?" in r.url) as answer:
        page.check("#site-niches")
    assert _query(answer.value.url)["weights"] == "demand:1,competition:0,access:0.5"
    assert answer.value.json()["features"]
    if card.is_visible():  # the open cell is still ranked: its breakdown follows
        page.wait_for_function(
            "document.querySelector('#card tr[data-factor=competition] td.points')"
            ".dataset.points === '0'"
        )
    assert session.console_errors == []


def test_coverage_panel_is_for_planners_and_shows_the_api_figures(session: Session) -> None:
    session.open("#map=13.00/43.25500/76.93000&layers=roads")
    page = session.page
    _open_analyses(session)
    page.wait_for_selector("#site-category")
    # Signed out, the coverage section says what it is and takes the key (issue 15, item 10).
    assert page.locator('#analysis-panel details[data-group="coverage"] #an-key').count() == 1
    assert page.locator("#cov-run").count() == 0
    # Sign in from the layers panel: the coverage section appears.
    page.click("#panel-toggle")
    page.fill("#planner-key", PLANNER_KEY)
    page.locator(".key-form button[type=submit]").click()
    page.wait_for_selector('input[data-layer="cameras"]:checked')
    page.uncheck('input[data-layer="cameras"]')  # fewer tiles to draw
    page.click("#analysis-toggle")
    page.wait_for_selector("#cov-run")
    posts: list[Any] = []

    def keep_post(r: Any) -> None:
        if r.method == "POST" and "/api/analysis/" in r.url:
            posts.append(r)

    page.on("request", keep_post)
    tile_requests: list[Any] = []
    geojson_requests: list[Any] = []

    def keep_result(r: Any) -> None:
        if "/api/analysis/results/" in r.url:
            (tile_requests if ".mvt" in r.url else geojson_requests).append(r)

    page.on("request", keep_result)

    # A mistake is the API's 400 detail, shown as an alert: a view outside the city.
    page.evaluate("twin.map.jumpTo({center: [77.9, 43.75], zoom: 14})")
    page.check("#cov-scope-view")
    page.click("#cov-run")
    alert = page.locator("#cov-status[role=alert]")
    alert.wait_for()
    assert "outside the city" in alert.inner_text()

    page.evaluate("twin.map.jumpTo({center: [76.93, 43.255], zoom: 13})")
    page.check("#cov-scope-district")
    page.select_option("#cov-district", "Almaly")
    page.click("#cov-run")
    assert page.locator("#cov-run").is_disabled()
    assert page.get_attribute("#an-coverage", "aria-busy") == "true"
    page.wait_for_selector("#cov-street", timeout=60000)
    body = json.loads(posts[-1].post_data)
    assert body == {"scope": {"kind": "district", "district": "Almaly"}, "cameras": {"add": []}}
    assert posts[-1].headers.get("authorization") == f"Bearer {PLANNER_KEY}"
    api = page.request.post(
        f"{session.base}/api/analysis/coverage",
        data=body,
        headers={"Authorization": f"Bearer {PLANNER_KEY}"},
    ).json()
    for key in ("street_pct", "area_pct", "weighted_pct"):
        figure = page.locator(f"#cov-{key.removesuffix('_pct')}")
        assert figure.inner_text() == percent(api["summary"][key], 1, "ru"), key
        assert float(figure.get_attribute("data-value")) == api["summary"][key], key
    assert "Алмалинский" in page.locator("#cov-result-title").inner_text()
    spots = _rendered(session, "twin-an-spots-fill")
    assert spots and {p["layer"] for p in spots} == {"white_spots"}
    assert _rendered(session, "twin-an-cov-fill")
    # Coverage and white spots come as vector tiles of the kept result, with the key.
    source = page.evaluate(
        """() => ({
          type: twin.map.getSource('twin-an-cov').type,
          tiles: twin.map.getSource('twin-an-cov').tiles,
          layers: ['twin-an-cov-fill', 'twin-an-spots-fill', 'twin-an-spots-line'].map(
            (id) => twin.map.getLayer(id).sourceLayer),
        })"""
    )
    rid = posts[-1].response().json()["id"]
    assert source["type"] == "vector"
    assert source["layers"] == ["coverage", "white_spots", "white_spots"]
    assert source["tiles"] == [
        f"{session.base}/api/analysis/results/{rid}/{{z}}/{{x}}/{{y}}.mvt"
        "?layer=coverage&layer=white_spots"
    ]
    assert tile_requests and all(r.headers.get("authorization") for r in tile_requests)
    assert not [r for r in geojson_requests if "layer=" in r.url]  # no GeoJSON download
    # A click on a white spot opens its card, the API's numbers in it.
    top = max(spots, key=lambda p: p["area_m2"])
    find = """(rank) => {
      const layers = ['twin-an-spots-fill'];
      const f = twin.map.queryRenderedFeatures({ layers }).find((f) => f.properties.rank === rank);
      const ring = f.geometry.type === 'Polygon' ? f.geometry.coordinates[0]
        : f.geometry.coordinates[0][0];
      const pts = ring.map((c) => twin.map.project(c));
      const cx = pts.reduce((a, p) => a + p.x, 0) / pts.length;
      const cy = pts.reduce((a, p) => a + p.y, 0) / pts.length;
      const rect = twin.map.getCanvas().getBoundingClientRect();
      // a pixel where this spot is drawn and nothing covers the map: from its ring's mean
      // towards each vertex
      for (let k = 0; k <= 20; k++) {
        for (const p of pts) {
          const x = cx + (p.x - cx) * k / 20, y = cy + (p.y - cy) * k / 20;
          const hit = twin.map.queryRenderedFeatures([x, y], { layers });
          const shown = document.elementFromPoint(rect.left + x, rect.top + y);
          if (shown === twin.map.getCanvas() && hit.some((h) => h.properties.rank === rank)) {
            return { x: rect.left + x, y: rect.top + y, centre: twin.map.unproject([cx, cy]) };
          }
        }
      }
      return { centre: twin.map.unproject([cx, cy]) };
    }"""
    found = page.evaluate(find, top["rank"])
    if "x" not in found:  # under the panel: bring it to the middle of the map
        page.evaluate("(c) => twin.map.jumpTo({ center: c })", found["centre"])
        _rendered(session, "twin-an-spots-fill", f"f => f.properties.rank === {top['rank']}")
        found = page.evaluate(find, top["rank"])
    assert "x" in found, "the biggest white spot has a pixel of its own"
    page.mouse.click(found["x"], found["y"])
    card = page.locator("#card[data-layer=white-spot]")
    card.wait_for()
    assert str(top["rank"]) in page.locator("#card-title").inner_text()
    assert card.locator("dd").first.inner_text() == f"{shown(top['area_m2'], 0, 'ru')} м²"

    # Suggest three cameras, add them, and the next run sends them as what-if cameras.
    page.fill("#cov-k", "3")
    page.click("#cov-suggest")
    page.wait_for_selector("#cov-proposed-list li", timeout=60000)
    assert page.locator("#cov-proposed-list li").count() == 3
    placement = json.loads(posts[-1].post_data)
    assert placement["k"] == 3 and placement["scope"] == body["scope"]
    assert len(_rendered(session, "twin-an-cams")) >= 1
    page.click("#cov-add")
    page.wait_for_selector("#cov-whatif")
    page.wait_for_function("!document.getElementById('cov-run').disabled", timeout=60000)
    rerun = json.loads(posts[-1].post_data)
    assert "k" not in rerun and len(rerun["cameras"]["add"]) == 3
    assert {c["status"] for c in rerun["cameras"]["add"]} == {"working"}
    after = posts[-1].response().json()["summary"]["weighted_pct"]
    assert after > api["summary"]["weighted_pct"]
    page.wait_for_function(
        "(text) => document.getElementById('cov-weighted').textContent === text",
        arg=percent(after, 1, "ru"),
    )
    assert float(page.get_attribute("#cov-weighted", "data-value")) == after
    # the map now draws the new run's tiles
    rerun_id = posts[-1].response().json()["id"]
    assert rerun_id in page.evaluate("twin.map.getSource('twin-an-cov').tiles[0]")
    assert _rendered(session, "twin-an-spots-fill")

    with page.expect_download() as download:
        page.click("#cov-export-csv")
    lines = download.value.path().read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("district,street_pct,area_pct,weighted_pct")
    assert lines[1].split(",")[0] == "Almaly" and float(lines[1].split(",")[3]) == after
    with page.expect_download() as download:
        page.click("#cov-export-geotiff")
    assert download.value.path().read_bytes()[:4] in (b"II*\x00", b"MM\x00*")
    assert serious_violations(session) == []
    # The one error logged is the browser's note of the outside-the-city 400.
    assert [e for e in session.console_errors if "400 (Bad Request)" not in e] == []


def test_panels_follow_the_language_and_the_url(session: Session) -> None:
    session.open(
        "#map=13.00/43.25000/76.93000&layers=roads&panel=analysis&site=pharmacy&schools=school"
    )
    page = session.page
    page.wait_for_selector("#site-ranked li")
    page.wait_for_selector("#schools-summary")
    assert page.locator("#analysis-panel").is_visible() and page.locator("#panel").is_hidden()
    assert page.locator("#site-category").input_value() == "pharmacy"
    assert page.locator("#schools-kind").input_value() == "school"
    business = page.locator('details[data-group="business"] > summary')
    assert business.inner_text() == "Место для бизнеса"
    page.locator("#site-ranked button").first.click()
    page.wait_for_selector("#card[data-layer=site-cell]")
    factor = page.locator('#card tr[data-factor="demand"] th')
    assert factor.inner_text().strip() == "Спрос"

    page.select_option("#lang-select", "kk")
    assert page.locator("#analysis-panel h2").inner_text() == "Талдау"
    assert business.inner_text() == "Бизнеске орын"
    assert page.locator("#site-category option:checked").inner_text() == "Дәріханалар"
    assert page.locator("#iso-toggle").inner_text() == "Картаны басу арқылы изохрона"
    assert "Шамадан тыс" in page.locator("#schools-summary").inner_text()
    assert factor.inner_text().strip() == "Сұраныс"
    page.select_option("#lang-select", "en")
    assert page.locator("#analysis-panel h2").inner_text() == "Analyses"
    assert business.inner_text() == "Business site selection"
    assert page.locator("#site-category option:checked").inner_text() == "Pharmacies"
    assert factor.inner_text().strip() == "Demand"
    assert "residents within 10 min walk" in page.locator("#card .site-why").inner_text()
    hash_ = page.evaluate("location.hash")
    assert all(k in hash_ for k in ("lang=en", "panel=analysis", "site=pharmacy", "schools=school"))
    assert serious_violations(session) == []
    assert session.console_errors == []


def test_the_analysis_panel_by_keyboard(session: Session) -> None:
    session.open(CENTRE)
    page = session.page
    page.focus("#analysis-toggle")
    page.keyboard.press("Enter")
    assert page.locator("#analysis-panel").is_visible()
    seen = []
    for _ in range(10):
        ring = page.evaluate(
            """() => { const el = document.activeElement; const cs = getComputedStyle(el);
            return { id: el.id, tag: el.tagName, inside: !!el.closest('#analysis-panel'),
                     outline: cs.outlineStyle, width: parseFloat(cs.outlineWidth) }; }"""
        )
        assert ring["inside"] and ring["outline"] != "none" and ring["width"] >= 2, ring
        seen.append(ring["id"] or ring["tag"])
        page.keyboard.press("Tab")
    wanted = {"iso-toggle", "iso-mode", "access-category", "access-profile", "schools-kind"}
    assert wanted <= set(seen)
    # Space turns the isochrone mode on, Escape off.
    page.focus("#iso-toggle")
    page.keyboard.press("Space")
    assert page.get_attribute("#iso-toggle", "aria-pressed") == "true"
    page.keyboard.press("Escape")
    assert page.get_attribute("#iso-toggle", "aria-pressed") == "false"


def test_analysis_panel_on_a_phone(make_session: Any) -> None:
    session = make_session(360, 740, is_mobile=True, has_touch=True, device_scale_factor=1)
    session.open(CENTRE)
    page = session.page
    page.click("#analysis-toggle")
    panel = page.locator("#analysis-panel")
    assert panel.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('#analysis-panel select, #analysis-panel button')]
          .map(el => el.getBoundingClientRect()).filter(r => r.width > 0)
          .map(r => [r.left, r.right])"""
    )
    assert boxes and all(left >= 0 and right <= 360 for left, right in boxes)
    assert serious_violations(session) == []
    # The mode closes the panel so the map can be tapped; the card is a bottom sheet.
    page.click("#iso-toggle")
    assert panel.is_hidden()
    tool = page.locator("#map-tool").bounding_box()
    assert tool and tool["x"] >= 0 and tool["x"] + tool["width"] <= 360
    session.click_lnglat(76.9455, 43.2565)
    assert len(_bands(session)) == 4
    card = page.locator("#card").bounding_box()
    assert card and card["width"] <= 360 and card["y"] > 200
    session.screenshot("phone-isochrone.png")
    assert session.console_errors == []


def test_the_district_dashboard_shows_walking_access(session: Session) -> None:
    session.open("#map=11.00/43.25000/76.92000&layers=districts&district=Almaly")
    page = session.page
    api = page.request.get(f"{session.base}/api/analysis/access").json()
    almaly = next(r for r in api["districts"] if r["district"] == "Almaly")
    page.wait_for_selector("#dash-access tbody tr")
    city = next(r for r in api["districts"] if r["district"] == "city")

    def share(v: float) -> str:  # a share of residents, in per cent (district-analyses.js)
        return percent(v * 100, 0, "ru")

    assert almaly["share"]
    for category, shares in almaly["share"].items():
        row = page.locator(f'#dash-access tr[data-category="{category}"] td')
        assert row.nth(0).inner_text() == share(shares["10"]), category
        assert row.nth(1).inner_text() == share(shares["15"]), category
        assert row.nth(2).inner_text() == share(city["share"][category]["15"]), category
        assert float(row.nth(0).get_attribute("data-value")) == shares["10"]
        assert float(row.nth(1).get_attribute("data-value")) == shares["15"]
    clinic = page.locator("#dash-access ~ dl dd").nth(1)
    clinics = almaly["accessible_clinic_15"], city["accessible_clinic_15"]
    assert clinic.inner_text() == f"{share(clinics[0])} (город: {share(clinics[1])})"
    assert float(clinic.get_attribute("data-value")) == clinics[0]
    # Camera coverage of the district is public, on request (no key).
    with page.expect_response(
        lambda r: "/api/analysis/coverage/districts" in r.url, timeout=60000
    ) as answer:
        page.click("#dash-coverage-load")
    shares = answer.value.json()
    public = next(r for r in shares["districts"] if r["district"] == "Almaly")
    figures = page.locator("#dash-coverage dd")
    figures.first.wait_for()
    for i, key in enumerate(("street_pct", "area_pct", "weighted_pct")):
        mine, city_pct = percent(public[key], 1, "ru"), percent(shares["city"][key], 1, "ru")
        assert figures.nth(i).inner_text() == f"{mine} (город: {city_pct})", key
        assert float(figures.nth(i).get_attribute("data-value")) == public[key], key
    assert session.console_errors == []
