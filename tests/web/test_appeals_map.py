"""What residents see of appeals on the map: the hexagons filtered by category and by the time
slider (never a cell under k, the noise kept) and the city services' rating; and what they
never see: the staff's analytics and hot spots (absent from their map, refused by the API).

Known answers come from the store itself (the appeals frame the analyses read), not from the
API the map reads: a shown cell's count is the true count of its appeals within the noise's
±2, and the true count is at least k.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import h3
import httpx
import pandas as pd
import pytest

from layers.sensing import APPEAL_HEXAGON_CLASSES
from tests.web.conftest import MODERATOR_KEY, PLANNER_KEY
from tests.web.test_appeals import _sign_up
from twin.appeals.analytics import read as read_appeals
from twin.core.privacy import nest
from twin.store import open_store

# zoom 11.5 asks for H3 resolution 8 (the tiles' rule: 7 at z10, +0.71 a zoom)
VIEW = "#map=11.50/43.250000/76.920000&layers=appeals,districts"
RES = 8


def _true_counts(url: str, category: str, end: str | None) -> Counter[str]:
    """Return the appeals of ``category`` filed up to ``end`` per H3 cell at :data:`RES`,
    summed from resolution 9 as the public answer sums them."""
    store = open_store(url)
    try:
        frame = read_appeals(store)
    finally:
        store.close()
    rows = frame[frame["category"] == category]
    if end is not None:
        rows = rows[rows["created_on"] <= pd.Timestamp(end)]
    fine = Counter(
        h3.latlng_to_cell(la, lo, 9)
        for lo, la in zip(rows["lon"].tolist(), rows["lat"].tolist(), strict=True)
    )
    return nest(fine, RES)


def _shown(page: Any, end_month: str) -> dict[str, Any]:
    """Wait for the filtered answer asked for ``end_month`` ("" for none) and return it."""
    page.wait_for_function(
        "m => { const s = twin.appealHexagons.shown(); return s.answer && "
        "JSON.parse(s.key).end === m; }",
        arg=end_month,
        timeout=30000,
    )
    shown: dict[str, Any] = page.evaluate("twin.appealHexagons.shown()")
    return shown


def _drawn_cells(page: Any) -> dict[str, int]:
    """Return the filtered layer's features as the map holds them (its GeoJSON source)."""
    return dict(
        page.evaluate(
            "() => twin.map.getSource('twin-appeals-filtered').serialize().data.features"
            ".map(f => [f.properties.cell, f.properties.count])"
        )
    )


def _check_cells(drawn: dict[str, int], truth: Counter[str], k: int) -> None:
    assert drawn, "no hexagon drawn"
    for cell, count in drawn.items():
        assert truth[cell] >= k, f"{cell} shows {count} but holds {truth[cell]} < k"
        assert abs(count - truth[cell]) <= 2, (cell, count, truth[cell])
        assert count >= k


def test_a_resident_filters_the_appeal_hexagons_by_category_and_date(
    make_session: Any, server: str, almaty_url: str
) -> None:
    s = make_session()
    page = s.page
    s.open(VIEW)
    assert page.locator("#appeal-category-filter").is_visible()
    # no filter: the tiles' hexagons, not the filtered layer
    visibility = "id => twin.map.getLayoutProperty(id, 'visibility')"
    assert page.evaluate(visibility, "twin-appeals-filtered") == "none"
    assert page.evaluate(visibility, "appeals-hexagons") == "visible"

    page.select_option("#appeal-category-filter", "waste")
    answer = _shown(page, "")["answer"]
    assert page.evaluate(visibility, "twin-appeals-filtered") == "visible"
    assert page.evaluate(visibility, "appeals-hexagons") == "none"
    k = answer["k"]
    assert k >= 5
    drawn = _drawn_cells(page)
    assert all(h3.get_resolution(c) == RES for c in drawn)
    _check_cells(drawn, _true_counts(almaty_url, "waste", None), k)
    # the same cells and counts as the public API gives anyone for the same question
    api = httpx.get(f"{server}/api/appeals/hexagons", params={"res": RES, "category": "waste"})
    cells = {f["properties"]["cell"]: f["properties"]["count"] for f in api.json()["features"]}
    assert drawn == cells
    status = page.inner_text("#appeal-filter-status")
    assert f"{len(drawn)}" in status and f"{k}" in status

    # the time slider: appeals filed up to the end of the chosen date's month
    page.evaluate("twin.timeline.set('2025-06-15')")
    answer = _shown(page, "2025-06")["answer"]
    assert (answer["start"], answer["end"]) == (None, "2025-06-30")
    drawn_june = _drawn_cells(page)
    _check_cells(drawn_june, _true_counts(almaty_url, "waste", "2025-06-30 23:59:59"), k)
    assert sum(drawn_june.values()) < sum(drawn.values())

    # all categories, a date still set: still the filtered answer (the tiles know no date)
    page.select_option("#appeal-category-filter", "")
    answer = _shown(page, "2025-06")["answer"]
    assert page.evaluate(visibility, "twin-appeals-filtered") == "visible"
    # no filter at all: the tiles' hexagons again
    page.evaluate("twin.timeline.set(null)")
    assert page.evaluate(visibility, "twin-appeals-filtered") == "none"
    assert page.evaluate(visibility, "appeals-hexagons") == "visible"
    s.screenshot("appeals-filter-desktop.png")
    assert s.console_errors == []
    assert s.foreign_hosts() == set()


_RENDERED = """id => twin.map.queryRenderedFeatures({ layers: [id] }).map((f) => {
  const c = f.layer.paint['fill-color'];
  return [f.properties.count, [c.r, c.g, c.b].map((v) => Math.round(v * 255)),
          f.layer.paint['fill-opacity']];
})"""


def _class_of(count: int) -> tuple[list[int], float]:
    """Return the colour (RGB) and opacity the declared classes give ``count``."""
    _, colour, opacity = [c for c in APPEAL_HEXAGON_CLASSES if c[0] <= count][-1]
    return [int(colour[i : i + 2], 16) for i in (1, 3, 5)], opacity


def _check_scale(page: Any, layer: str) -> dict[int, list[int]]:
    """Check every hexagon drawn in ``layer`` has its count's class colour; return them."""
    drawn = page.evaluate(_RENDERED, layer)
    assert len(drawn) > 10, f"too few hexagons drawn in {layer} for the check to say anything"
    for count, rgb, opacity in drawn:
        assert (rgb, opacity) == _class_of(count), (layer, count, rgb, opacity)
    return {count: rgb for count, rgb, _ in drawn}


def test_the_hexagon_colours_keep_one_stated_scale_whatever_the_filter(
    make_session: Any, server: str
) -> None:
    """A resident compares two filters by eye: the same count has the same colour on both
    maps and on the unfiltered one, and the legend says which counts each colour holds."""
    s = make_session()
    page = s.page
    s.open(VIEW)
    rows = page.locator('[data-hexagons="appeals"] ~ li[data-class-from]')
    assert [
        (int(r.get_attribute("data-class-from")), r.get_attribute("data-color")) for r in rows.all()
    ] == [(lo, colour) for lo, colour, _ in APPEAL_HEXAGON_CLASSES]
    labels = [r.text_content() for r in rows.all()]
    assert labels[0] == "меньше 10" and labels[1] == "10–19" and labels[-1] == "500 и больше"
    note = page.locator('[data-hexagons-note="appeals"]').text_content() or ""
    assert "при любой категории и дате" in note
    s.idle()
    unfiltered = _check_scale(page, "appeals-hexagons")

    colours: dict[str, dict[int, list[int]]] = {}
    for category in ("waste", "lighting"):
        page.select_option("#appeal-category-filter", category)
        page.wait_for_function(
            "c => { const s = twin.appealHexagons.shown(); return s.answer && "
            "JSON.parse(s.key).category === c; }",
            arg=category,
            timeout=30000,
        )
        s.idle()
        colours[category] = _check_scale(page, "twin-appeals-filtered")
    # the case of the issue: a count both filters show is one colour on both (a scale
    # stretched to each answer's largest count coloured them apart)
    both = set(colours["waste"]) & set(colours["lighting"]) & set(unfiltered)
    assert both, "no count shown on all three maps"
    for count in both:
        assert colours["waste"][count] == colours["lighting"][count] == unfiltered[count]
    # more than one class on a filtered map: the classes tell its cells apart too
    assert len({tuple(c) for c in colours["waste"].values()}) >= 2

    page.select_option("#lang-select", "kk")
    page.wait_for_function(
        "() => document.querySelector('[data-hexagons=\"appeals\"] ~ li[data-class-from]')"
        "?.textContent === '10 санынан аз'"
    )
    page.select_option("#lang-select", "en")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-hexagons=\"appeals\"] ~ li[data-class-from]')]"
        ".map(li => li.textContent).join('|') === "
        "'fewer than 10|10–19|20–49|50–99|100–199|200–499|500 or more'"
    )
    s.screenshot("appeals-hexagon-scale-en.png")
    assert s.console_errors == []


def test_the_category_filter_on_a_phone(make_session: Any, server: str, almaty_url: str) -> None:
    s = make_session(390, 844, is_mobile=True, has_touch=True)
    page = s.page
    s.open(VIEW)
    page.click("#panel-toggle")
    group = page.locator('details[data-module="appeals"]')
    if group.get_attribute("open") is None:
        group.locator("summary").click()
    page.locator("#appeal-category-filter").scroll_into_view_if_needed()
    page.select_option("#appeal-category-filter", "lighting")
    _shown(page, "")
    box = page.locator("#appeal-category-filter").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    s.screenshot("appeals-filter-phone.png")
    _check_cells(_drawn_cells(page), _true_counts(almaty_url, "lighting", None), 5)
    assert s.console_errors == []


def test_residents_see_the_services_rating(make_session: Any, server: str) -> None:
    s = make_session()
    page = s.page
    s.open(VIEW)
    page.click("#appeals-toggle")
    page.click("#appeal-ratings summary")
    page.wait_for_selector("#appeal-ratings-table")
    api = httpx.get(f"{server}/api/appeals/ratings", params={"lang": "ru"}).json()
    assert api["k"] >= 5
    rows = page.locator("#appeal-ratings-table tbody tr")
    assert rows.count() == len(api["services"])
    for service in api["services"]:
        row = page.locator(f'#appeal-ratings-table tr[data-service="{service["service"]}"]')
        assert service["title"] in row.inner_text()
        if service.get("withheld"):
            assert row.get_attribute("data-withheld") == "true"
            continue
        assert row.get_attribute("data-rank") == str(service["rank"] or "")
        assert row.get_attribute("data-mean") == str(service["mean_rating"] or "")
    best = api["rating"][0]
    first = rows.first
    assert first.get_attribute("data-service") == best
    assert first.inner_text().startswith("1.")
    # the language follows the interface
    page.select_option("#lang-select", "en")
    page.wait_for_function(
        "() => document.querySelector('#appeal-ratings summary').textContent === "
        '"City services\' rating"'
    )
    english = httpx.get(f"{server}/api/appeals/ratings", params={"lang": "en"}).json()
    title = next(x["title"] for x in english["services"] if x["service"] == best)
    page.wait_for_function(
        "([s, t]) => document.querySelector(`#appeal-ratings-table tr[data-service='${s}']`)"
        "?.textContent.includes(t)",
        arg=[best, title],
    )
    s.screenshot("appeals-ratings.png")
    assert s.console_errors == []


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_the_services_rating_fits_a_phone(make_session: Any, server: str, lang: str) -> None:
    """Every column of the rating is on a phone's screen without scrolling sideways (a fifth
    column for the count pushed it past the box in Russian and Kazakh); the count is under
    each service's name."""
    s = make_session(390, 844, is_mobile=True, has_touch=True)
    page = s.page
    s.open(VIEW)
    page.select_option("#lang-select", lang)
    page.click("#appeals-toggle")
    page.click("#appeal-ratings summary")
    page.wait_for_selector("#appeal-ratings-table tbody tr")
    widths = page.evaluate(
        "() => { const s = document.querySelector('#appeal-ratings .table-scroll');"
        " return [s.clientWidth, s.scrollWidth]; }"
    )
    assert widths[1] <= widths[0], widths
    api = httpx.get(f"{server}/api/appeals/ratings", params={"lang": lang}).json()
    shown = next(x for x in api["services"] if not x.get("withheld"))
    row = page.locator(f'#appeal-ratings-table tr[data-service="{shown["service"]}"]')
    assert row.get_attribute("data-count") == str(shown["appeals"])
    count = row.locator(".ap-rating-count").inner_text()
    assert count.replace("\u00a0", "").replace(" ", "").endswith(str(shown["appeals"]))
    box = page.locator("#appeals-box").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert s.console_errors == []


STAFF_PATHS = (
    "/api/analysis/appeals",
    "/api/analysis/appeals/hotspots?res=8&permutations=0",
    "/api/analysis/appeals/emerging?res=8",
    "/api/analysis/appeals/forecast",
)


def _refused_in_page(page: Any) -> list[int]:
    """Return the statuses the page's own fetches (its cookies, no key) get for the staff
    analytics."""
    statuses: list[int] = page.evaluate(
        "paths => Promise.all(paths.map(p => fetch(p, {credentials: 'same-origin'})"
        ".then(r => r.status)))",
        list(STAFF_PATHS),
    )
    return statuses


def test_a_resident_never_sees_the_staff_analytics_or_hot_spots(
    make_session: Any, server: str, caplog: pytest.LogCaptureFixture
) -> None:
    s = make_session()
    page = s.page
    s.open(VIEW)
    _sign_up(page, caplog, "appeal.analytics.resident@example.kz")
    page.evaluate("twin.openPanel('analysis')")
    assert page.locator('#analysis-groups details[data-group="coverage"]').count() == 1
    for absent in ('details[data-group="appeals"]', "#ap-run", "#ap-hot-run", "#ap-fc-run"):
        assert page.locator(absent).count() == 0, absent
    hot = "() => twin.map.getSource('twin-ap-hot').serialize().data.features.length"
    assert page.evaluate(hot) == 0
    assert all(code in (401, 403) for code in _refused_in_page(page)), _refused_in_page(page)

    # a moderator is staff, but not of appeals analytics: nothing either
    assert page.evaluate(f"twin.signIn('{MODERATOR_KEY}')") is True
    page.evaluate("twin.openPanel('analysis')")
    assert page.locator('details[data-group="appeals"]').count() == 0
    key = {"Authorization": f"Bearer {MODERATOR_KEY}"}
    for path in STAFF_PATHS:
        assert httpx.get(f"{server}{path}", headers=key).status_code == 403, path
    page.evaluate("twin.signOut()")

    # a planner's hot spots leave the map with the planner's key
    assert page.evaluate(f"twin.signIn('{PLANNER_KEY}')") is True
    page.evaluate("twin.openPanel('analysis')")
    page.select_option("#ap-hot-res", "8")
    page.click("#ap-hot-run")
    page.wait_for_selector("#ap-hot-legend", timeout=60000)
    assert page.evaluate(hot) > 0
    page.evaluate("twin.signOut()")
    assert page.evaluate("twin.role") not in ("planner", "admin")
    assert page.evaluate(hot) == 0
    assert page.locator("#ap-hot-maplegend").is_hidden()
    assert page.locator('details[data-group="appeals"]').count() == 0
    assert json.loads(page.evaluate("JSON.stringify(twin.analyses.appealStats.state.data)")) is None
    # the probes' own refusals are logged by the browser; nothing else may be
    probes = ("status of 401", "status of 403")
    assert [e for e in s.console_errors if not any(p in e for p in probes)] == []
