"""A resident files an appeal by clicking the map, a staff member moves it to resolved, the
resident's map shows each status change live (the stream), and the resident rates the answer."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from tests.support.accounts import code_from_log, sign_up_resident
from tests.web.conftest import PLANNER_KEY

LON, LAT = 76.9200, 43.2500


def _sign_up(page: Any, caplog: pytest.LogCaptureFixture, login: str) -> None:
    """Create and verify a resident's account in the map's account box (the code read from
    the server's log), and close the box."""
    caplog.set_level(logging.INFO, logger="twin.accounts")
    page.click("#account-toggle")
    page.get_by_role("button", name="Создать аккаунт").click()
    page.fill("#p-login", login)
    page.fill("#p-password", "a long web password")
    page.click("#signup")
    page.wait_for_selector("#p-code")
    page.fill("#p-code", code_from_log(caplog, login))
    page.get_by_role("button", name="Подтвердить").click()
    page.wait_for_selector("#signout")
    page.click("#account-toggle")


def test_a_resident_files_by_clicking_and_sees_the_answer_live(
    make_session: Any, server: str, caplog: pytest.LogCaptureFixture
) -> None:
    s = make_session()
    page = s.page
    s.open(f"#map=16.00/{LAT:.6f}/{LON:.6f}")
    _sign_up(page, caplog, "appeal.web@example.kz")

    page.click("#appeals-toggle")
    page.click("#appeal-file")
    s.click_lnglat(LON, LAT)
    page.wait_for_selector("#appeal-form")
    page.select_option("#a-category", "lighting")
    page.fill("#a-text", "Не горит фонарь у подъезда")
    page.get_by_role("button", name="Отправить").click()
    item = page.locator("#my-appeals li").first
    item.wait_for()
    assert item.get_attribute("data-status") == "received"
    rid = item.get_attribute("data-appeal")
    assert "Не горит фонарь" in item.inner_text()

    staff = {"Authorization": f"Bearer {PLANNER_KEY}"}
    for status in ("assigned", "resolved"):
        r = httpx.post(f"{server}/api/appeals/{rid}/status", json={"status": status}, headers=staff)
        assert r.status_code == 200, r.text
        page.wait_for_selector(
            f'#my-appeals li[data-appeal="{rid}"][data-status="{status}"]', timeout=10000
        )
    assert "Решено" in page.locator(f'#my-appeals li[data-appeal="{rid}"]').inner_text()

    page.click(f'#my-appeals li[data-appeal="{rid}"] button[data-stars="4"]')
    page.wait_for_selector(
        f'#my-appeals li[data-appeal="{rid}"] button[data-stars="4"][aria-pressed="true"]'
    )
    public = httpx.get(f"{server}/open311/v2/requests/{rid}.json").json()[0]
    assert (public["status"], public["x_satisfaction"]) == ("closed", 4)
    assert s.console_errors == []
    assert s.foreign_hosts() == set()


def test_a_resident_joins_an_open_appeal_nearby_instead_of_filing_a_duplicate(
    make_session: Any, server: str, caplog: pytest.LogCaptureFixture
) -> None:
    lon, lat = 76.9300, 43.2600
    with httpx.Client(base_url=server) as client:
        boris = sign_up_resident(client, caplog)  # type: ignore[arg-type]
        r = client.post(
            "/open311/v2/requests.json",
            data={
                "service_code": "waste",
                "lat": str(lat),
                "long": str(lon),
                "description": "Мусор",
            },
            headers=boris.headers,
        )
        assert r.status_code == 201, r.text
        rid = r.json()[0]["service_request_id"]

    s = make_session()
    page = s.page
    s.open(f"#map=17.00/{lat:.6f}/{lon:.6f}")
    _sign_up(page, caplog, "appeal.join@example.kz")
    page.click("#appeals-toggle")
    page.click("#appeal-file")
    s.click_lnglat(lon + 0.0001, lat + 0.0001)  # ~14 m away
    page.wait_for_selector("#appeal-form")
    page.select_option("#a-category", "waste")
    offered = page.locator(f'#appeal-nearby li[data-nearby="{rid}"]')
    offered.wait_for()
    offered.locator(f'button[data-join="{rid}"]').click()
    joined = page.locator(f'#my-appeals li[data-appeal="{rid}"][data-mine="false"]')
    joined.wait_for()
    assert page.locator("#appeal-form").count() == 0  # joined, not filed
    assert page.locator("#my-appeals li").count() == 1
    got = httpx.get(f"{server}/open311/v2/requests/{rid}.json").json()[0]
    assert got["x_followers"] == 1
    assert s.console_errors == []
