"""A resident fills a participatory-budget ballot on the map: sees the money left as they
choose (a project that no longer fits cannot be ticked), submits, changes it, and after staff
close the vote sees the results in the panel."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.web.conftest import PLANNER_KEY

STAFF = {"Authorization": f"Bearer {PLANNER_KEY}"}


def test_a_resident_votes_changes_and_sees_results(
    make_session: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="twin.accounts")
    s = make_session()
    s.open()
    req = s.page.request
    login = "budget.voter@example.kz"
    csrf = s.sign_up(caplog, login)

    cycle = req.post(
        s.base + "/api/budget/cycles",
        data={"year": 2026, "district": "Almaly", "budget_kzt": 100_000_000, "rule": "greedy"},
        headers=STAFF,
    )
    assert cycle.status == 201, cycle.text()
    cid = cycle.json()["id"]
    ids = {}
    for title, cost in (("Сквер", 50_000_000), ("Фонари", 30_000_000), ("Площадка", 40_000_000)):
        r = req.post(
            s.base + f"/api/budget/cycles/{cid}/projects",
            data={
                "title": title,
                "description": "во дворе",
                "category": "yards",
                "cost_kzt": cost,
                "location": {"type": "Point", "coordinates": [76.92, 43.26]},
            },
            headers=csrf,
        )
        assert r.status == 201, r.text()
        ids[title] = r.json()["id"]
        ok = {"feasible": True, "reason": "ok"}
        assert req.post(
            s.base + f"/api/budget/projects/{ids[title]}/review", data=ok, headers=STAFF
        ).ok
    for _ in range(2):
        assert req.post(s.base + f"/api/budget/cycles/{cid}/advance", headers=STAFF).ok

    page = s.page
    page.click("#budget-toggle")
    # other tests' cycles may be voting too (the panel opens the first): choose this one
    page.wait_for_selector("#budget-cycle")
    page.select_option("#budget-cycle", str(cid))
    page.wait_for_selector(f"#budget-p{ids['Сквер']}")
    left = page.locator("#budget-left")
    assert "100" in left.inner_text()
    page.check(f"#budget-p{ids['Сквер']}")
    page.check(f"#budget-p{ids['Площадка']}")
    assert left.inner_text().replace("\u00a0", " ").endswith("10 000 000 ₸")
    assert page.locator(f"#budget-p{ids['Фонари']}").is_disabled()  # 30 M no longer fits
    page.click("#budget-submit")
    page.wait_for_function(
        "document.querySelector('#budget-status').textContent.includes('сохранён')"
    )
    mine = req.get(s.base + f"/api/budget/cycles/{cid}/ballot").json()
    assert mine["projects"] == sorted([ids["Сквер"], ids["Площадка"]])

    # change it: the lights instead of the playground
    page.uncheck(f"#budget-p{ids['Площадка']}")
    page.check(f"#budget-p{ids['Фонари']}")
    assert left.inner_text().replace("\u00a0", " ").endswith("20 000 000 ₸")
    page.evaluate("document.querySelector('#budget-status').textContent = ''")
    page.click("#budget-submit")
    page.wait_for_function(
        "document.querySelector('#budget-status').textContent.includes('сохранён')"
    )
    mine = req.get(s.base + f"/api/budget/cycles/{cid}/ballot").json()
    assert mine["projects"] == sorted([ids["Сквер"], ids["Фонари"]])

    # staff close the vote; the panel shows the results
    assert req.post(s.base + f"/api/budget/cycles/{cid}/advance", headers=STAFF).ok
    page.select_option("#budget-cycle", str(cid))
    page.click("#budget-close")
    page.click("#budget-toggle")
    page.wait_for_selector("#budget-winners li")
    winners = page.locator("#budget-winners").inner_text()
    assert "Сквер" in winners and "Фонари" in winners and "Площадка" not in winners
    assert "Площадка" in page.locator("#budget-losers").inner_text()
    assert s.console_errors == []
