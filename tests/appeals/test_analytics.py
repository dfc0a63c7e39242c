"""The staff summary and the rating of services on a hand-made table whose answers are known,
and the public hexagons' k threshold on both stores."""

from __future__ import annotations

import datetime as dt

import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from tests.appeals.scene import LAT, LON, load_rows, load_scene, north_of
from twin.appeals.analytics import MIN_RANKED, Window, handling, rating, summary
from twin.appeals.insights import PUBLIC_K, PUBLIC_RESOLUTIONS, Insights, Scope
from twin.store import Store

TODAY = dt.date(2026, 6, 30)


def _row(service: str, created: str, resolved: str | None, deadline: str, **kw: object) -> dict:
    status = kw.pop("status", "resolved" if resolved else "in_progress")
    return {
        "category": kw.pop("category", "other"),
        "service": service,
        "status": status,
        "district": kw.pop("district", "A"),
        "created_on": pd.Timestamp(created),
        "resolved_on": pd.Timestamp(resolved) if resolved else pd.NaT,
        "deadline_on": pd.Timestamp(deadline),
        "satisfaction": kw.pop("satisfaction", np.nan),
        "synthetic": True,
    }


def _frame() -> pd.DataFrame:
    rows = [
        # fast: answered in 2, 4, 6, 8 days, all on time, ratings 5, 5
        _row("tazalyk", "2026-05-01", "2026-05-03", "2026-05-04", satisfaction=5),
        _row("tazalyk", "2026-05-01", "2026-05-05", "2026-05-06", satisfaction=5),
        _row("tazalyk", "2026-05-01", "2026-05-07", "2026-05-08"),
        _row("tazalyk", "2026-05-01", "2026-05-09", "2026-05-22"),
        # slow: 10 and 30 days (the second late), one rejected, one open past its deadline
        _row("mobility", "2026-04-01", "2026-04-11", "2026-04-22", satisfaction=2),
        _row("mobility", "2026-04-01", "2026-05-01", "2026-04-22", satisfaction=1),
        _row("mobility", "2026-04-01", "2026-04-05", "2026-04-22", status="rejected"),
        _row("mobility", "2026-04-01", None, "2026-04-22"),
        # outside the window
        _row("mobility", "2025-04-01", "2025-04-02", "2025-04-22", category="waste"),
    ]
    return pd.DataFrame(rows)


def test_handling_times_deadlines_and_ratings_by_hand() -> None:
    inside = _frame().iloc[:8]
    table = handling(inside, TODAY)
    fast, slow = table.loc["tazalyk"], table.loc["mobility"]
    assert fast["median_days"] == 5.0 and fast["p90_days"] == pytest.approx(7.4)
    assert fast["past_deadline_share"] == 0.0
    assert slow["median_days"] == 10.0  # 10, 30 and 4 days answered
    # due: 3 answered + 1 open past its deadline; late: the 30-day one and the open one
    assert slow["past_deadline_share"] == pytest.approx(2 / 4)
    assert slow["mean_rating"] == 1.5 and fast["mean_rating"] == 5.0
    ranked = rating(table)
    city = (5 + 5 + 2 + 1) / 4
    shrunk_fast = (10 + 20 * city) / 22
    expected_fast = 100 * (0.5 * 1.0 + 0.3 * (shrunk_fast - 1) / 4 + 0.2 * 1.0)
    assert ranked.loc["tazalyk", "score"] == pytest.approx(expected_fast)
    shrunk_slow = (3 + 20 * city) / 22
    expected_slow = 100 * (0.5 * 0.5 + 0.3 * (shrunk_slow - 1) / 4 + 0.2 * (2 / 3))
    assert ranked.loc["mobility", "score"] == pytest.approx(expected_slow)
    assert list(ranked.index) == ["tazalyk", "mobility"]
    assert ranked["rank"].isna().all()  # fewer than MIN_RANKED appeals each
    assert MIN_RANKED == 30


def test_summary_counts_months_trend_and_the_stated_formula() -> None:
    frame = _frame()
    out = summary(frame, Window(dt.date(2026, 1, 1), TODAY, TODAY), "en")
    assert out["appeals"] == 8
    assert out["by_service"] == {"mobility": 4, "tazalyk": 4}
    assert out["by_month"] == {"2026-04": 4, "2026-05": 4}
    april = next(t for t in out["trend"] if t["month"] == "2026-04")
    assert (april["same_month_last_year"], april["change"]) == (1, 3.0)
    assert "0.5 × on_time" in out["formula"]
    assert out["services"][0]["title"] == "Almaty Tazalyk (sanitation)"


def test_public_hexagons_never_show_fewer_than_k_at_any_resolution(store: Store) -> None:
    load_scene(store)
    # 7 appeals within a few metres, 3 more 2 km away: at every resolution the 7 are one
    # cell (shown) and the 3 one other (withheld)
    pts = [north_of(LON, LAT, 900 + i) for i in range(7)] + [
        north_of(LON, LAT, 3000 + i) for i in range(3)
    ]
    load_rows(
        store,
        "appeals",
        {
            "source_id": [f"k{i}" for i in range(10)],
            "category": ["waste"] * 10,
            "status": ["received"] * 10,
            "created_on": ["2026-11-01"] * 10,
            "district": ["Алмалинский"] * 10,
        },
        [shapely.Point(*p) for p in pts],
        source="k-test",
    )
    insights = Insights()
    for res in PUBLIC_RESOLUTIONS:
        out = insights.public_hexagons(store, Scope(), res)
        counts = [f["properties"]["count"] for f in out["features"]]
        assert all(n >= PUBLIC_K for n in counts), res
        assert out["k"] == PUBLIC_K >= 5
        waste = insights.public_hexagons(store, Scope(category="waste"), res)
        whole = {f["properties"]["cell"]: f["properties"]["count"] for f in out["features"]}
        for f in waste["features"]:  # no difference to the unfiltered answer is 1-4
            assert whole[f["properties"]["cell"]] - f["properties"]["count"] in (0, *range(5, 99))
            assert h3.get_resolution(f["properties"]["cell"]) == res
        # a filtered cell only where the unfiltered answer shows it (a coarser unfiltered
        # answer would otherwise give the scene's 3 appeals away by subtraction)
        assert {f["properties"]["cell"] for f in waste["features"]} <= set(whole)
    stricter = insights.public_hexagons(store, Scope(category="waste"), 9, k=8)
    assert stricter["features"] == [] and stricter["k"] == 8
    assert insights.public_hexagons(store, Scope(category="waste"), 9, k=2)["k"] == PUBLIC_K
    dated = insights.public_hexagons(
        store, Scope(start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31)), 9
    )
    assert dated["features"] == [] and dated["withheld_cells"] >= 1
