"""Staff panels follow the shared live stream (one EventSource per map, web/src/live.js), in two
browsers: a staff member (an admin key) has the appeals list, the moderators' queue and the
budget's applications to review open; a resident, in another browser, files an appeal by
clicking the map, reports an initiative and submits a budget project — each appears in the
staff's panels without a reload. The staff member then resolves the appeal from the panel and
the resident sees the status change live and rates the answer (issue 18's browser test)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from tests.support.accounts import sign_up_resident
from tests.web.conftest import ADMIN_KEY, Session

LON, LAT = 76.9150, 43.2450
STAFF = {"Authorization": f"Bearer {ADMIN_KEY}"}


def test_staff_panels_update_live_and_the_resident_sees_the_answer(
    make_session: Any, server: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="twin.accounts")
    api = httpx.Client(base_url=server)
    cycle = api.post(
        "/api/budget/cycles",
        json={"year": 2032, "district": "Auezov", "budget_kzt": 50_000_000},
        headers=STAFF,
    )
    assert cycle.status_code == 201, cycle.text
    cid = cycle.json()["id"]
    author = sign_up_resident(api, caplog)  # type: ignore[arg-type]
    r = api.post(
        "/api/initiatives",
        json={
            "category": "greenery",
            "title": "Live queue check",
            "text": "trees",
            "geometry": {"type": "Point", "coordinates": [76.93, 43.26]},
        },
        headers=author.headers,
    )
    assert r.status_code == 201, r.text
    iid = r.json()["initiative"]["id"]

    # the staff browser: every staff list loaded once, then left alone
    staff: Session = make_session()
    staff.open()
    sp = staff.page
    assert sp.evaluate(f"twin.signIn('{ADMIN_KEY}')") is True
    sp.click("#appeals-toggle")
    sp.click("#staff-load")
    sp.wait_for_selector("#staff-appeals li, #appeals-staff .hint")
    sp.click("#appeals-toggle")  # closed: a hidden list is kept up to date all the same
    sp.click("#account-toggle")
    sp.click("#mod-load")
    sp.wait_for_selector("#mod-queue li, #moderation .hint")
    sp.click("#account-toggle")
    sp.click("#budget-toggle")
    sp.wait_for_selector("#budget-cycle")
    sp.select_option("#budget-cycle", str(cid))
    sp.wait_for_selector("#budget-review-none")
    requests_before = len(staff.requests)

    # the resident's browser: signs up, files an appeal by clicking the map
    res: Session = make_session()
    res.open(f"#map=16.00/{LAT:.6f}/{LON:.6f}")
    rp = res.page
    login = "live.staff@example.kz"
    csrf = res.sign_up(caplog, login, "a long live pass")
    rp.click("#appeals-toggle")
    rp.click("#appeal-file")
    res.click_lnglat(LON, LAT)
    rp.wait_for_selector("#appeal-form")
    rp.select_option("#a-category", "lighting")
    rp.fill("#a-text", "Live staff list check")
    rp.get_by_role("button", name="Отправить").click()
    mine = rp.locator("#my-appeals li").first
    mine.wait_for()
    rid = mine.get_attribute("data-appeal")

    # … which the staff list shows without a reload
    sp.wait_for_selector(f'#staff-appeals li[data-appeal="{rid}"]', state="attached")

    # a report: the moderators' queue gains the initiative
    r = rp.request.post(
        res.base + "/api/reports",
        data={"kind": "initiative", "id": iid, "reason": "spam"},
        headers=csrf,
    )
    assert r.status == 201, r.text()
    sp.wait_for_selector(
        f'#mod-queue li[data-kind="initiative"][data-id="{iid}"]', state="attached"
    )

    # a budget application: the staff's applications to review gain it
    r = rp.request.post(
        res.base + f"/api/budget/cycles/{cid}/projects",
        data={
            "title": "Live review check",
            "description": "во дворе",
            "category": "yards",
            "cost_kzt": 10_000_000,
            "location": {"type": "Point", "coordinates": [76.88, 43.22]},
        },
        headers=csrf,
    )
    assert r.status == 201, r.text()
    pid = r.json()["id"]
    sp.wait_for_selector(f'#budget-review li[data-app="{pid}"]')
    # the staff page never reloaded: no second document, one stream
    assert not any(q.resource_type == "document" for q in staff.requests[requests_before:])
    streams = [q for q in staff.requests if "/api/events" in q.url]
    assert len({q.url for q in streams}) == 1, [q.url for q in streams]

    # the staff member resolves the appeal from the panel; the resident sees it live, rates it
    sp.click("#appeals-toggle")
    for status, note in (("assigned", "в службу освещения"), ("resolved", "фонарь заменён")):
        sp.select_option(f"#st-status-{rid}", status)
        sp.fill(f"#st-reason-{rid}", note)
        sp.click(f'#staff-appeals button[data-apply="{rid}"]')
        # the staff's own list shows the step (a resolved appeal leaves the list of open ones)
        if status == "assigned":
            sp.wait_for_selector(f'#staff-appeals li[data-appeal="{rid}"][data-status="assigned"]')
        else:
            sp.wait_for_selector(f'#staff-appeals li[data-appeal="{rid}"]', state="detached")
        rp.wait_for_selector(f'#my-appeals li[data-appeal="{rid}"][data-status="{status}"]')
    assert "Решено" in rp.locator(f'#my-appeals li[data-appeal="{rid}"]').inner_text()
    rp.click(f'#my-appeals li[data-appeal="{rid}"] button[data-stars="5"]')
    rp.wait_for_selector(
        f'#my-appeals li[data-appeal="{rid}"] button[data-stars="5"][aria-pressed="true"]'
    )
    got = api.get(f"/api/appeals/{rid}", headers=STAFF).json()
    assert got["x_status"] == "resolved"
    assert got["x_history"][-1]["reason"] == "фонарь заменён"
    public = api.get(f"/open311/v2/requests/{rid}.json").json()[0]
    assert (public["status"], public["x_satisfaction"]) == ("closed", 5)
    assert staff.console_errors == [] and res.console_errors == []
    api.close()
