"""A resident's first use of the participatory-budget panel, as it happens: on a first visit
(the guide is showing) they open the panel on a phone and can tick projects at once; the panel
says "sign in to vote", they sign up in the account box beside it, and the ballot opens in
the panel they already have open — no closing and reopening."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from tests.support.accounts import code_from_log
from tests.web.conftest import PLANNER_KEY, Session

STAFF = {"Authorization": f"Bearer {PLANNER_KEY}"}


def _voting_cycle(server: str, caplog: pytest.LogCaptureFixture, year: int) -> tuple[int, int]:
    """A cycle in its voting phase with one accepted project; return (cycle id, project id)."""
    caplog.set_level(logging.INFO, logger="twin.accounts")
    api = httpx.Client(base_url=server)
    r = api.post(
        "/api/budget/cycles",
        json={"year": year, "district": "Turksib", "budget_kzt": 50_000_000, "rule": "greedy"},
        headers=STAFF,
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    login = f"applicant{year}@example.kz"
    api.post("/api/accounts/signup", json={"login": login, "password": "a long pb password"})
    r = api.post(
        "/api/accounts/verify",
        json={"login": login, "code": code_from_log(caplog, login), "kind": "bearer"},
    )
    assert r.status_code == 200, r.text
    applicant = {"Authorization": f"Bearer {r.json()['token']}"}
    r = api.post(
        f"/api/budget/cycles/{cid}/projects",
        json={
            "title": "Скамейки у арыка",
            "description": "во дворе",
            "category": "yards",
            "cost_kzt": 20_000_000,
            "location": {"type": "Point", "coordinates": [76.95, 43.33]},
        },
        headers=applicant,
    )
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    ok = {"feasible": True, "reason": "ok"}
    assert api.post(f"/api/budget/projects/{pid}/review", json=ok, headers=STAFF).is_success
    for _ in range(2):
        assert api.post(f"/api/budget/cycles/{cid}/advance", headers=STAFF).is_success
    return cid, pid


def test_on_a_first_visit_the_phone_panel_is_not_under_the_guide(
    make_session: Any, server: str, caplog: pytest.LogCaptureFixture
) -> None:
    cid, _ = _voting_cycle(server, caplog, 2041)
    s: Session = make_session(390, 844, is_mobile=True, has_touch=True)
    s.open()  # the bare address: a first visit, the guide shows
    page = s.page
    assert page.locator("#guide").is_visible()
    page.locator("#budget-toggle").tap()
    page.locator("#budget-panel").wait_for(state="visible")
    page.wait_for_selector("#budget-cycle")
    page.select_option("#budget-cycle", str(cid))
    page.wait_for_selector("#budget-ballot")
    # opening the panel puts the guide away, as opening the layers or analysis panel does
    assert page.locator("#guide").is_hidden()
    # the ballot's first project is what a finger on it reaches, not the guide over it
    hit = page.evaluate(
        """() => { const r = document.querySelector('#budget-ballot .budget-row')
                     .getBoundingClientRect();
                   const at = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
                   return at ? at.closest('#budget-panel, #guide')?.id ?? at.tagName : null; }"""
    )
    assert hit == "budget-panel"
    assert s.console_errors == []


def test_signing_in_beside_the_open_panel_opens_the_ballot(
    make_session: Any, server: str, caplog: pytest.LogCaptureFixture
) -> None:
    cid, pid = _voting_cycle(server, caplog, 2042)
    s: Session = make_session()
    s.open("#lang=ru")  # a shared view: no guide
    page = s.page
    page.click("#budget-toggle")
    page.wait_for_selector("#budget-cycle")
    page.select_option("#budget-cycle", str(cid))
    page.wait_for_selector(f"#budget-p{pid}")
    assert page.locator(f"#budget-p{pid}").is_disabled()
    assert page.locator(".budget-signin").is_visible()

    # the resident signs up in the account box while the panel stays open
    login = "first.voter@example.kz"
    page.click("#account-toggle")
    page.click("#account-box .btn-link")  # to the sign-up form
    page.fill("#p-login", login)
    page.fill("#p-password", "a long pb password")
    page.click("#signup")
    page.wait_for_selector("#p-code")
    page.fill("#p-code", code_from_log(caplog, login))
    page.press("#p-code", "Enter")
    page.wait_for_selector("#signout")
    page.click("#account-toggle")  # the box closes; the budget panel is still open

    # the ballot opens where they are, on the cycle they chose
    page.wait_for_function(f"!document.querySelector('#budget-p{pid}').disabled", timeout=10000)
    assert page.locator("#budget-cycle").input_value() == str(cid)
    assert page.locator(".budget-signin").count() == 0
    page.check(f"#budget-p{pid}")
    page.click("#budget-submit")
    page.wait_for_function(
        "document.querySelector('#budget-status').textContent.includes('сохранён')"
    )
    mine = page.request.get(s.base + f"/api/budget/cycles/{cid}/ballot").json()
    assert mine["projects"] == [pid]

    # signing out closes the ballot again
    page.click("#account-toggle")
    page.click("#signout")
    page.wait_for_function(f"document.querySelector('#budget-p{pid}').disabled", timeout=10000)
    assert s.console_errors == []
