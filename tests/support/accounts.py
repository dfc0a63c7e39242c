"""Signed-in residents for API tests, made through the real HTTP API: sign up, read the code
from the server log (the default code sender writes it there), verify.

    from tests.support.accounts import sign_up_resident

    def test_x(store_url, caplog):
        with app_client(store_url) as client:
            alice = sign_up_resident(client, caplog)               # bearer token
            client.post("/api/...", headers=alice.headers, json=...)
            bob = sign_up_resident(client, caplog, kind="session")  # cookies in client
            client.post("/api/...", headers=bob.headers, json=...)  # X-CSRF-Token

A ``session`` resident lives in the client's cookie jar, so a client holds at most one of
those at a time; bearer residents can be many.
"""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


@dataclass(frozen=True)
class Resident:
    """A verified, signed-in resident: ``headers`` authenticate its requests."""

    account_id: int
    login: str
    password: str
    headers: dict[str, str]


def code_from_log(caplog: pytest.LogCaptureFixture, login: str) -> str:
    """Return the last verification code the log sender wrote for ``login``."""
    pattern = re.compile(rf"verification code for {re.escape(login)}: ([0-9]{{6}})$")
    codes = [m.group(1) for r in caplog.records if (m := pattern.search(r.getMessage()))]
    assert codes, f"no verification code for {login} in the log"
    return codes[-1]


def sign_up_resident(
    client: TestClient,
    caplog: pytest.LogCaptureFixture,
    login: str | None = None,
    password: str = PASSWORD,
    kind: str = "bearer",
    display_name: str | None = None,
) -> Resident:
    """Sign up and verify a resident through the HTTP API; ``kind`` "bearer" returns an
    ``Authorization`` header, "session" leaves the cookies in ``client`` and returns the
    ``X-CSRF-Token`` header."""
    caplog.set_level(logging.INFO, logger="twin.accounts")
    login = login or f"resident{next(_numbers)}@example.kz"
    r = client.post(
        "/api/accounts/signup",
        json={"login": login, "password": password, "display_name": display_name},
    )
    assert r.status_code == 201, r.text
    login = r.json()["account"]["login"]
    r = client.post(
        "/api/accounts/verify",
        json={"login": login, "code": code_from_log(caplog, login), "kind": kind},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    if kind == "bearer":
        headers = {"Authorization": f"Bearer {body['token']}"}
    else:
        headers = {"X-CSRF-Token": body["csrf_token"]}
    return Resident(body["account"]["id"], login, password, headers)


@dataclass(frozen=True)
class Business:
    """A verified, signed-in business member: ``headers`` authenticate as the member, ``org``
    is its organisation's id."""

    account_id: int
    org: int
    login: str
    headers: dict[str, str]


def sign_up_business(
    client: TestClient,
    caplog: pytest.LogCaptureFixture,
    organisation: str = "ТОО Аптека",
    kind: str = "bearer",
) -> Business:
    """Sign a business up with its organisation through the HTTP API and sign it in
    (``kind`` as for :func:`sign_up_resident`)."""
    caplog.set_level(logging.INFO, logger="twin.accounts")
    login = f"business{next(_numbers)}@example.kz"
    r = client.post(
        "/api/business/signup",
        json={"login": login, "password": PASSWORD, "organisation": organisation},
    )
    assert r.status_code == 201, r.text
    org = r.json()["organisation"]["id"]
    r = client.post(
        "/api/accounts/verify",
        json={"login": login, "code": code_from_log(caplog, login), "kind": kind},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["account"]["role"] == "business"
    if kind == "bearer":
        headers = {"Authorization": f"Bearer {body['token']}"}
    else:
        headers = {"X-CSRF-Token": body["csrf_token"]}
    return Business(body["account"]["id"], org, login, headers)


def org_key(client: TestClient, member: Business, label: str = "") -> dict[str, str]:
    """Create a key of the member's organisation; return its ``Authorization`` header."""
    r = client.post("/api/business/keys", json={"label": label}, headers=member.headers)
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['key']}"}
