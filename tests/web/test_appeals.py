"""A resident files an appeal by clicking the map, a staff member moves it to resolved, the
resident's map shows each status change live (the stream), and the resident rates the answer."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from tests.support.accounts import code_from_log
from tests.web.conftest import PLANNER_KEY

LON, LAT = 76.9200, 43.2500


def test_a_resident_files_by_clicking_and_sees_the_answer_live(
    make_session: Any, server: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="twin.accounts")
    s = make_session()
    page = s.page
    s.open(f"#map=16.00/{LAT:.6f}/{LON:.6f}")
    page.click("#account-toggle")
    page.get_by_role("button", name="Создать аккаунт").click()
    page.fill("#p-login", "appeal.web@example.kz")
    page.fill("#p-password", "a long web password")
    page.click("#signup")
    page.wait_for_selector("#p-code")
    page.fill("#p-code", code_from_log(caplog, "appeal.web@example.kz"))
    page.get_by_role("button", name="Подтвердить").click()
    page.wait_for_selector("#signout")
    page.click("#account-toggle")

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
