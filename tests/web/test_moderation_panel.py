"""A moderator signs in with their key (``twin.signIn``, what the layers panel's key form
calls) and restores an initiative that residents' reports hid, with a reason, from the queue
in the account box; the API then shows it to everyone again."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.accounts import sign_up_resident
from tests.web.conftest import MODERATOR_KEY, Session


def test_a_moderator_restores_a_hidden_initiative(
    make_session: Any, server: str, caplog: pytest.LogCaptureFixture
) -> None:
    with httpx.Client(base_url=server) as client:
        author, *reporters = [sign_up_resident(client, caplog) for _ in range(4)]  # type: ignore[arg-type]
        r = client.post(
            "/api/initiatives",
            json={
                "category": "greenery",
                "title": "Moderation panel check",
                "text": "trees",
                "geometry": {"type": "Point", "coordinates": [76.94, 43.25]},
            },
            headers=author.headers,
        )
        assert r.status_code == 201, r.text
        iid = r.json()["initiative"]["id"]
        for who in reporters:
            r = client.post(
                "/api/reports",
                json={"kind": "initiative", "id": iid, "reason": "spam"},
                headers=who.headers,
            )
            assert r.status_code == 201, r.text
        assert client.get(f"/api/initiatives/{iid}").status_code == 404  # hidden after 3

    s: Session = make_session()
    s.open()
    page = s.page
    # the key form of the layers panel's Cameras group calls twin.signIn(key)
    assert page.evaluate(f"twin.signIn('{MODERATOR_KEY}')") is True
    page.click("#account-toggle")
    page.click("#mod-load")
    item = page.locator(f'#mod-queue li[data-kind="initiative"][data-id="{iid}"]')
    item.wait_for()
    assert item.get_attribute("data-hidden") == "true"
    item.locator("input").fill("not spam: a real proposal")
    item.locator('button[data-decision="restore"]').click()
    item.wait_for(state="detached")

    r = httpx.get(f"{server}/api/initiatives/{iid}")
    assert r.status_code == 200 and r.json()["properties"]["hidden"] is False
    log = httpx.get(
        f"{server}/api/moderation/log", headers={"Authorization": f"Bearer {MODERATOR_KEY}"}
    ).json()["entries"]
    assert any(e["target_id"] == iid and e["reason"] == "not spam: a real proposal" for e in log), (
        log
    )
