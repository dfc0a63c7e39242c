"""The appeals analytics for staff in the map's analysis panel: counts per category and
district over a chosen period (checked against the store's own appeals), the services'
handling and ratings (against the API), the hot spots drawn on the map with a legend of their
significance classes, the emerging hot spots, and the forecast with its model and back-test;
an answer still on its way at a sign-out is dropped when it comes.

The period is fixed in the past (2025), so appeals other tests file today change nothing.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import httpx
import pandas as pd

from tests.web.conftest import PLANNER_KEY
from twin.appeals.analytics import read as read_appeals
from twin.store import open_store

START, END = "2025-01-01", "2025-12-31"
STAFF = {"Authorization": f"Bearer {PLANNER_KEY}"}


def _staff_page(make_session: Any, width: int = 1100, height: int = 720, **kw: Any) -> Any:
    s = make_session(width, height, **kw)
    s.open("#map=11.00/43.250000/76.920000")
    assert s.page.evaluate(f"twin.signIn('{PLANNER_KEY}')") is True
    s.page.evaluate("twin.openPanel('analysis')")
    s.page.wait_for_selector('#analysis-groups details[data-group="appeals"]')
    return s


def _download(page: Any, button: str) -> tuple[str, str]:
    """Click a download button; return the file's name and text as the browser saved them."""
    with page.expect_download(timeout=60000) as got:
        page.click(button)
    data = got.value.path().read_bytes()
    # a file for a spreadsheet: the UTF-8 byte-order mark first (twin.core.spreadsheet; the
    # GeoJSON has none)
    assert data.startswith(codecs.BOM_UTF8) == got.value.suggested_filename.endswith(".csv")
    return got.value.suggested_filename, data.decode("utf-8-sig")


def _period(page: Any) -> None:
    page.fill("#ap-start", START)
    page.fill("#ap-end", END)


def test_staff_see_appeal_counts_handling_and_ratings_for_a_period(
    make_session: Any, server: str, almaty_url: str
) -> None:
    s = _staff_page(make_session)
    page = s.page
    _period(page)
    page.click("#ap-run")
    page.wait_for_selector("#ap-by-category tbody tr", timeout=30000)

    store = open_store(almaty_url)
    try:
        frame = read_appeals(store)
    finally:
        store.close()
    inside = frame[
        (frame["created_on"] >= pd.Timestamp(START)) & (frame["created_on"] <= pd.Timestamp(END))
    ]
    assert int(page.get_attribute("#ap-total", "data-count") or -1) == len(inside)
    by_category = Counter(inside["category"])
    shown = {
        r.get_attribute("data-category"): int(r.get_attribute("data-count"))
        for r in page.locator("#ap-by-category tbody tr").all()
    }
    assert shown == dict(by_category)
    waste = page.locator('#ap-by-category tr[data-category="waste"]')
    assert waste.locator("td").inner_text().replace("\u00a0", "").replace(" ", "") == str(
        by_category["waste"]
    )
    by_district = {
        r.get_attribute("data-district"): int(r.get_attribute("data-count"))
        for r in page.locator("#ap-by-district tbody tr").all()
    }
    assert by_district == dict(Counter(inside["district"].dropna()))

    api = httpx.get(
        f"{server}/api/analysis/appeals",
        params={"start": START, "end": END, "lang": "ru"},
        headers=STAFF,
    ).json()
    rows = page.locator("#ap-services tbody tr")
    assert rows.count() == len(api["services"])
    for service in api["services"]:
        row = page.locator(f'#ap-services tr[data-service="{service["service"]}"]')
        assert row.get_attribute("data-count") == str(service["appeals"])
        assert row.get_attribute("data-overdue") == str(service["past_deadline_share"])
    assert rows.first.get_attribute("data-service") == api["rating"][0]

    # the services' table as a CSV file: the API's figures, row for row
    name, text = _download(page, "#ap-export-csv")
    assert name == f"appeal-services-{START}-{END}-ru.csv"
    table = list(csv.DictReader(io.StringIO(text)))
    assert [r["service"] for r in table] == [x["service"] for x in api["services"]]
    for row, service in zip(table, api["services"], strict=True):
        for column, value in row.items():
            want = service[column]
            assert value == ("" if want is None else str(want)), (column, value, want)
    assert sum(int(r["appeals"]) for r in table) == len(inside)
    s.screenshot("appeals-analytics-desktop.png")
    assert s.console_errors == []


def _gi_class(label: str, p: float) -> str | None:
    if label not in ("hot", "cold"):
        return None
    return f"{label}{'99' if p <= 0.01 else '95'}"


def test_staff_draw_hot_spots_and_emerging_hot_spots_with_a_legend(
    make_session: Any, server: str
) -> None:
    s = _staff_page(make_session)
    page = s.page
    _period(page)
    page.select_option("#ap-hot-category", "waste")
    page.select_option("#ap-hot-res", "8")
    page.click("#ap-hot-run")
    page.wait_for_selector("#ap-hot-legend", timeout=60000)

    api = httpx.get(
        f"{server}/api/analysis/appeals/hotspots",
        params={"res": 8, "category": "waste", "start": START, "end": END},
        headers=STAFF,
        timeout=60,
    ).json()
    want = Counter(
        c
        for f in api["features"]
        if (c := _gi_class(f["properties"]["label"], f["properties"]["p"])) is not None
    )
    assert sum(want.values()) > 0, "no significant cell: the check would say nothing"
    legend = {
        li.get_attribute("data-class"): int(li.get_attribute("data-count"))
        for li in page.locator("#ap-hot-legend li").all()
    }
    assert legend == {c: want.get(c, 0) for c in ("hot99", "hot95", "cold95", "cold99")}
    drawn = page.evaluate(
        "() => twin.map.getSource('twin-ap-hot').serialize().data.features"
        ".map(f => [f.properties.cell, f.properties.class])"
    )
    assert Counter(c for _, c in drawn) == want
    assert page.evaluate("twin.map.getLayoutProperty('twin-ap-hot', 'visibility')") != "none"

    # the cells as GeoJSON and CSV files: the API's cells and figures
    name, text = _download(page, "#ap-hot-export-geojson")
    assert name == f"appeal-hotspots-res8-waste-{START}-{END}.geojson"
    assert json.loads(text)["features"] == api["features"]
    name, text = _download(page, "#ap-hot-export-csv")
    assert name == f"appeal-hotspots-res8-waste-{START}-{END}.csv"
    table = {r["cell"]: r for r in csv.DictReader(io.StringIO(text))}
    for f in api["features"]:
        row, want = table[f["properties"]["cell"]], f["properties"]
        assert (int(row["count"]), float(row["z"]), float(row["p"]), row["label"]) == (
            want["count"],
            want["z"],
            want["p"],
            want["label"],
        )
    # every other cell of the file holds no appeal and no verdict
    listed = {f["properties"]["cell"] for f in api["features"]}
    rest = [r for c, r in table.items() if c not in listed]
    assert rest and all(r["count"] == "0" and r["label"] == "" for r in rest)
    s.page.evaluate("twin.closePanels()")
    s.idle()
    s.screenshot("appeals-hotspots-desktop.png")

    page.evaluate("twin.openPanel('analysis')")
    page.select_option("#ap-hot-mode", "emerging")
    page.click("#ap-hot-run")
    page.wait_for_selector('#ap-hot-legend li[data-class="new"]', timeout=60000)
    emerging = httpx.get(
        f"{server}/api/analysis/appeals/emerging",
        params={"res": 8, "category": "waste", "as_of": END},
        headers=STAFF,
        timeout=60,
    ).json()
    legend = {
        li.get_attribute("data-class"): int(li.get_attribute("data-count"))
        for li in page.locator("#ap-hot-legend li").all()
    }
    classes = ("new", "intensifying", "persistent", "diminishing", "sporadic")
    assert legend == {c: emerging["classes"].get(c, 0) for c in classes}

    assert page.locator("#ap-hot-maplegend").is_visible()
    page.click("#ap-hot-clear")
    assert page.evaluate("twin.map.getSource('twin-ap-hot').serialize().data.features.length") == 0
    assert page.locator("#ap-hot-maplegend").is_hidden()
    assert s.console_errors == []


def test_staff_see_the_forecast_with_its_model_and_back_test(
    make_session: Any, server: str
) -> None:
    s = _staff_page(make_session)
    page = s.page
    page.select_option("#ap-fc-district", "Alatau")
    page.wait_for_selector('#ap-fc-category option[value="waste"]', state="attached")
    page.select_option("#ap-fc-category", "waste")
    page.click("#ap-fc-run")
    page.wait_for_selector("#ap-fc-table tbody tr", timeout=90000)
    api = httpx.get(
        f"{server}/api/analysis/appeals/forecast",
        params={"district": "Alatau", "category": "waste"},
        headers=STAFF,
        timeout=90,
    ).json()
    assert page.get_attribute("#ap-fc-model", "data-model") == api["model"]
    assert api["model"] in page.inner_text("#ap-fc-model")
    assert page.get_attribute("#ap-fc-error", "data-mase") == str(api["backtest"]["mase"])
    assert "MASE" in page.inner_text("#ap-fc-error")
    months = [
        (r.get_attribute("data-month"), float(r.get_attribute("data-mean")))
        for r in page.locator("#ap-fc-table tbody tr").all()
    ]
    assert months == [(p["month"], p["mean"]) for p in api["forecast"]]
    assert len(months) == 3
    # the chart: the history line, the forecast line and its interval band
    assert page.locator("#ap-fc-chart path.chart-main").count() == 1
    assert page.locator("#ap-fc-chart path.ap-fc-line").count() == 1
    assert page.locator("#ap-fc-chart polygon.ap-fc-band").count() == 1
    # the forecast as a CSV file: the actual months, then the three ahead as the API gives them
    name, text = _download(page, "#ap-fc-export-csv")
    assert name == "appeal-forecast-Alatau-waste.csv"
    table = list(csv.DictReader(io.StringIO(text)))
    ahead = [r for r in table if r["kind"] == "forecast"]
    assert [
        (r["month"], float(r["mean"]), float(r["lower"]), float(r["upper"])) for r in ahead
    ] == [(p["month"], p["mean"], p["lower"], p["upper"]) for p in api["forecast"]]
    actual = [(r["month"], int(r["appeals"])) for r in table if r["kind"] == "actual"]
    assert actual == [(p["month"], p["appeals"]) for p in api["history"]]
    assert {r["model"] for r in table} == {api["model"]}
    assert {float(r["backtest_mase"]) for r in table} == {api["backtest"]["mase"]}
    assert {r["district"] for r in table} == {"Alatau"}
    # in Kazakh too
    page.select_option("#lang-select", "kk")
    page.wait_for_function(
        "() => document.querySelector('#ap-fc-run')?.textContent === 'Болжам жасау'"
    )
    page.wait_for_selector('#ap-hot-category option[value="waste"]', state="attached")
    page.wait_for_selector('#ap-fc-category option[value="waste"]', state="attached")
    # the hot-spot and forecast views (and the map's filter) share one list per language
    asked = Counter(
        r.url.rsplit("lang=", 1)[-1] for r in s.requests if "/open311/v2/services.json" in r.url
    )
    assert asked == {"ru": 1, "kk": 1}, asked
    names = page.locator("#ap-fc-category option").all_text_contents()
    assert names == page.locator("#ap-hot-category option").all_text_contents()
    s.screenshot("appeals-forecast-kk.png")
    assert s.console_errors == []


def test_the_staff_analytics_on_a_phone(make_session: Any, server: str) -> None:
    s = _staff_page(make_session, 390, 844, is_mobile=True, has_touch=True)
    page = s.page
    _period(page)
    page.click("#ap-run")
    page.wait_for_selector("#ap-services tbody tr", timeout=30000)
    page.locator("#ap-by-category").scroll_into_view_if_needed()
    box = page.locator("#ap-by-category").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    s.screenshot("appeals-analytics-phone.png")
    page.click("#ap-hot-run")
    page.wait_for_selector("#ap-hot-legend", timeout=60000)
    page.evaluate("twin.closePanels()")
    s.idle()
    # the panel closed, the map keeps the legend
    legend = page.locator("#ap-hot-maplegend")
    assert legend.is_visible()
    box = legend.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390
    in_panel = page.locator("#ap-hot-legend li").all()
    in_map = legend.locator("li").all()
    assert [li.get_attribute("data-count") for li in in_map] == [
        li.get_attribute("data-count") for li in in_panel
    ]
    s.screenshot("appeals-hotspots-phone.png")
    assert s.console_errors == []


def test_an_answer_still_on_its_way_at_a_sign_out_is_dropped(make_session: Any) -> None:
    """Staff ask for the period's figures and sign out before the answer comes: the answer,
    when it does come, is not kept (the staff's figures may not outlive the sign-out), and
    signed in again the section holds no figures until asked."""
    s = _staff_page(make_session)
    page = s.page
    held: list[Any] = []
    stats = "/api/analysis/appeals"
    page.route(lambda url: urlsplit(url).path == stats, lambda route: held.append(route))
    _period(page)
    page.click("#ap-run")
    page.wait_for_selector("#ap-status.busy")
    for _ in range(200):  # the route's handler runs while Playwright waits on the page
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1
    page.evaluate("twin.signOut()")

    with page.expect_response(lambda r: urlsplit(r.url).path == stats) as got:
        held[0].continue_()
    # the answer came, figures and all (asked with the key the page had then) ...
    assert got.value.status == 200 and got.value.json()["appeals"] > 0
    got.value.finished()
    page.evaluate("() => new Promise((done) => setTimeout(done, 500))")
    # ... and the page dropped it
    state = json.loads(page.evaluate("JSON.stringify(twin.analyses.appealStats.state)"))
    assert (state["data"], state["busy"], state["error"]) == (None, False, None)

    assert page.evaluate(f"twin.signIn('{PLANNER_KEY}')") is True
    page.evaluate("twin.openPanel('analysis')")
    page.wait_for_selector("#ap-run")
    assert page.locator("#ap-total").count() == 0
    assert s.console_errors == []
