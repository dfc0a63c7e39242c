"""Staff move a resident's appeal from the map: signed in with their key, they open the
appeals box, assign the appeal to a service with a comment, and the API shows the change."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.accounts import sign_up_resident
from tests.web.conftest import PLANNER_KEY, Session


def test_staff_assign_an_appeal_to_a_service(
    make_session: Any, server: str, caplog: pytest.LogCaptureFixture
) -> None:
    with httpx.Client(base_url=server) as client:
        anna = sign_up_resident(client, caplog)  # type: ignore[arg-type]
        r = client.post(
            "/open311/v2/requests.json",
            data={
                "service_code": "lighting",
                "lat": "43.2501",
                "long": "76.9401",
                "description": "Staff panel check",
            },
            headers=anna.headers,
        )
        assert r.status_code == 201, r.text
        rid = r.json()[0]["service_request_id"]

    s: Session = make_session()
    s.open()
    page = s.page
    assert page.evaluate(f"twin.signIn('{PLANNER_KEY}')") is True
    page.click("#appeals-toggle")
    page.click("#staff-load")
    item = page.locator(f'#staff-appeals li[data-appeal="{rid}"]')
    item.wait_for()
    assert item.get_attribute("data-status") == "received"
    page.select_option(f"#st-status-{rid}", "assigned")
    service = page.locator(f"#st-service-{rid} option").nth(1).get_attribute("value") or ""
    page.select_option(f"#st-service-{rid}", service)
    page.fill(f"#st-reason-{rid}", "to the lighting service")
    item.locator(f'button[data-apply="{rid}"]').click()
    page.wait_for_selector(
        f'#staff-appeals li[data-appeal="{rid}"][data-status="assigned"]', timeout=10000
    )
    got = httpx.get(
        f"{server}/api/appeals/{rid}", headers={"Authorization": f"Bearer {PLANNER_KEY}"}
    ).json()
    assert got["x_status"] == "assigned"
    assert got["x_history"][-1]["service"] == service
    # in English the open list names the categories in English (it kept the Russian names)
    assert "Освещение" in item.inner_text()
    page.select_option("#lang-select", "en")
    page.wait_for_function(
        "id => document.querySelector(`#staff-appeals li[data-appeal='${id}']`)"
        "?.textContent.includes('Street lighting')",
        arg=rid,
        timeout=10000,
    )
    assert s.console_errors == []
