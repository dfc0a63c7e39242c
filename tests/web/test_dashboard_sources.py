"""Issue 15, item 12: the district dashboard says beside each indicator how old and how
complete the data it is counted from are ("Здания 58 — OSM 2012, очень неполные"), and a zero
counted from a sparse source reads "нет данных" rather than a fact (Alatau's 0 m² of green
space is a gap of the 2012 map). Desktop and phone, Russian and English."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Session

SOURCES = """() => [...document.querySelectorAll('#dashboard .indicator')].map((li) => ({
  name: li.dataset.indicator,
  source: li.querySelector('.indicator-source')?.textContent ?? null,
  nodata: li.querySelector('.indicator-source')?.dataset.nodata ?? null,
  inside: (() => {
    const r = li.querySelector('.indicator-source')?.getBoundingClientRect();
    return r ? r.width > 0 && r.right <= window.innerWidth + 1 : false;
  })(),
}))"""


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_each_indicator_shows_its_data_age_and_completeness(
    make_session: Any, width: int, height: int
) -> None:
    session: Session = make_session(width=width, height=height)
    session.open("#map=11/43.25/76.92&district=Alatau")
    page = session.page
    page.locator("#dashboard .indicator-source").first.wait_for()
    rows = {r["name"]: r for r in page.evaluate(SOURCES)}
    assert len(rows) >= 10
    for name, row in rows.items():
        assert row["source"], f"{name}: no source line"
        assert row["inside"], f"{name}: the source line is off screen"
    assert rows["buildings"]["source"] == "OSM 2012, очень неполные"
    assert rows["buildings"]["nodata"] == "false"
    assert rows["green_m2_per_capita"]["nodata"] == "true"
    assert rows["green_m2_per_capita"]["source"].startswith("нет данных — OSM 2012")
    assert rows["population"]["source"] == "gov.kz, неполные"
    assert rows["cameras_per_10k"]["source"] == "демо-данные, не городские"
    assert rows["schools_per_10k"]["source"] == "OSM 2012, частично демо-данные"
    session.screenshot(f"dashboard-sources-{width}.png")

    page.select_option("#lang-select", "en")
    page.wait_for_function(
        "document.querySelector('#dashboard [data-indicator=buildings] .indicator-source')"
        "?.textContent === 'OSM 2012, sparse'"
    )
    rows = {r["name"]: r for r in page.evaluate(SOURCES)}
    assert rows["green_m2_per_capita"]["source"].startswith("no data — OSM 2012, sparse")
    assert session.console_errors == []
