"""Staff run a participatory-budget cycle from the map (issue 17, item 7): signed in with their
key, they open the budget panel, review the applications (one feasible at a checked cost, one
not, with reasons), move the cycle through its phases, see turnout by district and the
results — winners, money left, and why a project with more votes lost, in Russian — and the
API agrees with every step."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.accounts import sign_up_resident
from tests.web.conftest import PLANNER_KEY, Session

STAFF = {"Authorization": f"Bearer {PLANNER_KEY}"}


def _project(title: str, cost: int) -> dict[str, object]:
    return {
        "title": title,
        "description": "во дворе",
        "category": "lighting",
        "cost_kzt": cost,
        "location": {"type": "Point", "coordinates": [76.97, 43.22]},  # in Medeu
    }


def test_staff_review_advance_and_see_results(
    make_session: Any, server: str, caplog: pytest.LogCaptureFixture
) -> None:
    api = httpx.Client(base_url=server)
    r = api.post(
        "/api/budget/cycles",
        json={"year": 2031, "district": "Medeu", "budget_kzt": 100_000_000, "rule": "greedy"},
        headers=STAFF,
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    voters = [sign_up_resident(api, caplog) for _ in range(4)]  # type: ignore[arg-type]
    ids = {}
    for title, cost in (
        ("Стадион", 80_000_000),
        ("Сквер", 50_000_000),
        ("Фонари", 16_000_000),
        ("Фонтан", 90_000_000),
    ):
        r = api.post(
            f"/api/budget/cycles/{cid}/projects",
            json=_project(title, cost),
            headers=voters[0].headers,
        )
        assert r.status_code == 201, r.text
        ids[title] = r.json()["id"]

    s: Session = make_session()
    s.open()
    page = s.page
    assert page.evaluate(f"twin.signIn('{PLANNER_KEY}')") is True
    page.click("#budget-toggle")
    page.wait_for_selector("#budget-cycle")
    page.select_option("#budget-cycle", str(cid))
    review = page.locator("#budget-review")
    review.locator(f'li[data-app="{ids["Фонтан"]}"]').wait_for()
    assert review.locator("li").count() == 4

    # the lights are feasible at a checked 15 M (the applicant estimated 16 M) …
    page.fill(f"#budget-cost-{ids['Фонари']}", "15000000")
    page.fill(f"#budget-reason-{ids['Фонари']}", "смета проверена")
    review.locator(f'li[data-app="{ids["Фонари"]}"] button[data-feasible="true"]').click()
    page.wait_for_function(
        f"!document.querySelector('#budget-review li[data-app=\"{ids['Фонари']}\"]')"
    )
    assert "№" in page.locator("#budget-staff-status").inner_text()
    # … the fountain is not (a reason, no cost); a refusal without a reason is a clear error
    fountain = review.locator(f'li[data-app="{ids["Фонтан"]}"]')
    fountain.locator('button[data-feasible="false"]').click()
    page.wait_for_selector("#budget-staff-status[role='alert']")
    assert "reason" in page.locator("#budget-staff-status").inner_text()
    page.fill(f"#budget-reason-{ids['Фонтан']}", "нет места для фонтана")
    fountain.locator('button[data-feasible="false"]').click()
    fountain.wait_for(state="detached")
    for title in ("Стадион", "Сквер"):
        page.fill(f"#budget-reason-{ids[title]}", "реализуемо")
        review.locator(f'li[data-app="{ids[title]}"] button[data-feasible="true"]').click()
        page.wait_for_selector(f'#budget-review li[data-app="{ids[title]}"]', state="detached")
    page.wait_for_selector("#budget-review-none")

    got = {p["id"]: p for p in api.get(f"/api/budget/cycles/{cid}/projects").json()}
    lights, fountain_row = got[ids["Фонари"]], got[ids["Фонтан"]]
    assert (lights["status"], lights["cost_kzt"], lights["estimated_cost_kzt"]) == (
        "accepted",
        15_000_000,
        16_000_000,
    )
    assert lights["review_reason"] == "смета проверена"
    assert (fountain_row["status"], fountain_row["review_reason"]) == (
        "rejected",
        "нет места для фонтана",
    )

    # applications → review → voting, from the panel
    for phase in ("review", "voting"):
        page.click("#budget-advance")
        page.wait_for_selector(f'#budget-phase[data-phase="{phase}"]')
        assert api.get(f"/api/budget/cycles/{cid}").json()["phase"] == phase

    # residents vote: the stadium 2 votes, the square 2, the lights 1 (greedy: the stadium
    # first, then the square no longer fits — 20 M left — and the lights with fewer votes do)
    for voter, chosen in zip(
        voters,
        (["Стадион"], ["Стадион"], ["Сквер", "Фонари"], ["Сквер"]),
        strict=True,
    ):
        r = api.post(
            f"/api/budget/cycles/{cid}/ballot",
            json={"projects": [ids[t] for t in chosen]},
            headers=voter.headers,
        )
        assert r.status_code == 201, r.text

    page.click("#budget-advance")
    page.wait_for_selector('#budget-phase[data-phase="results"]')
    page.wait_for_selector("#budget-winners li")
    winners = page.locator("#budget-winners").inner_text()
    assert "Стадион" in winners and "Фонари" in winners and "Сквер" not in winners
    square = page.locator(f'#budget-losers li[data-project="{ids["Сквер"]}"]').inner_text()
    # why the square (2 votes) lost to the lights (1 vote), in the panel's language, the word
    # in its CLDR plural form (it read "2 голосов")
    assert "когда подошла его очередь (2 голоса)" in square and "«Фонари»" in square, square
    assert "· 2 голоса" in winners and "· 1 голос" in winners and "голосов" not in winners
    assert "5 000 000" in page.locator("#budget-ballots").inner_text().replace("\u00a0", " ")
    page.click("#budget-explain summary")
    assert "по числу голосов" in page.locator("#budget-explain").inner_text()
    turnout = page.locator(f'#budget-turnout tr[data-cycle="{cid}"]')
    assert turnout.get_attribute("data-ballots") == "4"

    res = api.get(f"/api/budget/cycles/{cid}/results").json()
    assert [w["id"] for w in res["winners"]] == [ids["Стадион"], ids["Фонари"]]
    assert (res["ballots"], res["left_kzt"]) == (4, 5_000_000)
    assert res["losers"][0]["why_facts"] == {
        "kind": "no_money",
        "left_kzt": 20_000_000,
        "after": [ids["Фонари"]],
    }
    mine = [t for t in api.get("/api/budget/turnout", headers=STAFF).json() if t["cycle_id"] == cid]
    assert mine[0]["ballots"] == 4

    # the words follow the language
    page.select_option("#lang-select", "kk")
    page.wait_for_function(
        "document.querySelector('#budget-losers')?.textContent.includes('кезегі келгенде')"
    )
    page.select_option("#lang-select", "en")
    page.wait_for_function(
        "document.querySelector('#budget-losers')?.textContent.includes('when its turn came')"
    )
    assert "Turnout by district" in page.locator("#budget-turnout caption").inner_text()
    # the one refused review (no reason) is the only error the page logged
    assert all("400" in e for e in s.console_errors), s.console_errors
    api.close()
