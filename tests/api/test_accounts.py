"""Resident accounts through the HTTP API, on both stores: sign-up, verification code from the
log, sign-in as a browser session (cookies + CSRF) or as an API client (bearer), lockout,
sign-out, password change, deletion, and staff keys still working beside accounts."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from tests.support.accounts import PASSWORD, code_from_log, sign_up_resident
from tests.support.app import app_client
from twin.store import open_store


def test_signup_verify_session_signout(store_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="twin.accounts")
    with app_client(store_url) as client:
        r = client.post(
            "/api/accounts/signup",
            json={"login": " Alice@Example.KZ ", "password": PASSWORD, "display_name": "Алия"},
        )
        assert r.status_code == 201, r.text
        assert r.json()["account"]["verified"] is False
        login = r.json()["account"]["login"]
        assert login == "alice@example.kz"
        code = code_from_log(caplog, login)
        # not verified yet: no sign-in
        r = client.post("/api/accounts/signin", json={"login": login, "password": PASSWORD})
        assert r.status_code == 403 and "code" in r.json()["detail"]
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        r = client.post("/api/accounts/verify", json={"login": login, "code": wrong})
        assert r.status_code == 400 and r.json()["detail"] == "wrong code"
        r = client.post("/api/accounts/verify", json={"login": login, "code": code})
        assert r.status_code == 200, r.text
        csrf = r.json()["csrf_token"]
        cookies = r.headers.get_list("set-cookie")
        session = next(c for c in cookies if c.startswith("twin_session="))
        assert "HttpOnly" in session and "SameSite=lax" in session and "Secure" not in session
        assert any(c.startswith(f"twin_csrf={csrf}") and "HttpOnly" not in c for c in cookies)
        # a used code does not verify twice
        r = client.post("/api/accounts/verify", json={"login": login, "code": code})
        assert r.status_code == 409

        me = client.get("/api/accounts/me")
        assert me.status_code == 200
        assert me.json()["display_name"] == "Алия" and me.json()["role"] == "resident"
        # a write with the cookie but without (or with a wrong) CSRF token is refused
        assert client.post("/api/accounts/signout").status_code == 403
        bad = client.post("/api/accounts/signout", headers={"X-CSRF-Token": csrf[:-1] + "x"})
        assert bad.status_code == 403 and "CSRF" in bad.json()["detail"]
        assert (
            client.post("/api/accounts/signout", headers={"X-CSRF-Token": csrf}).status_code == 204
        )
        assert client.get("/api/accounts/me").status_code == 401

        # over https the cookies are Secure
        r = client.post(
            "https://testserver/api/accounts/signin", json={"login": login, "password": PASSWORD}
        )
        assert r.status_code == 200
        assert all("Secure" in c for c in r.headers.get_list("set-cookie"))

    # nothing secret in the clear in the store
    store = open_store(store_url)
    try:
        with store.engine.connect() as conn:
            account = conn.execute(sa.text("SELECT password_hash FROM accounts")).scalar_one()
            tokens = conn.execute(sa.text("SELECT token_hash, csrf_hash FROM account_tokens")).all()
    finally:
        store.close()
    assert account.startswith("$argon2id$")
    assert tokens and all(len(t) == 64 and t != csrf for row in tokens for t in row if t)
    assert all(csrf not in row for row in tokens)


def test_bad_input_duplicates_and_lockout(store_url: str, caplog: pytest.LogCaptureFixture) -> None:
    with app_client(store_url) as client:
        for body, needle in [
            ({"login": "not a login", "password": PASSWORD}, "login"),
            ({"login": "bob@example.kz", "password": "short"}, "password"),
            ({"login": "x" * 400 + "@a.kz", "password": PASSWORD}, "login"),
            ({"login": "+7 701", "password": PASSWORD}, "phone"),
        ]:
            r = client.post("/api/accounts/signup", json=body)
            assert r.status_code == 400 and needle in r.json()["detail"], r.text
        bob = sign_up_resident(client, caplog, login="8 (701) 123-45-67")
        assert bob.login == "+77011234567"
        r = client.post(
            "/api/accounts/signup", json={"login": "+77011234567", "password": PASSWORD}
        )
        assert r.status_code == 409
        # unknown login and wrong password answer alike
        r = client.post(
            "/api/accounts/signin", json={"login": "no@example.kz", "password": PASSWORD}
        )
        assert r.status_code == 401 and r.json()["detail"] == "wrong login or password"
        for _ in range(5):
            r = client.post(
                "/api/accounts/signin", json={"login": bob.login, "password": "wrong pass"}
            )
            assert r.status_code == 401 and r.json()["detail"] == "wrong login or password"
        # locked: even the right password waits
        r = client.post("/api/accounts/signin", json={"login": bob.login, "password": PASSWORD})
        assert r.status_code == 429 and 800 < int(r.headers["Retry-After"]) <= 900
        # the bearer token issued before the lockout still works
        assert client.get("/api/accounts/me", headers=bob.headers).json()["id"] == bob.account_id


def test_bearer_tokens_staff_keys_password_and_deletion(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with app_client(store_url, api_keys="planner:plan-key,moderator:mod-key") as client:
        alice = sign_up_resident(client, caplog)
        assert client.get("/api/accounts/me", headers=alice.headers).json()["login"] == alice.login
        # bearer clients need no CSRF token
        r = client.post(
            "/api/accounts/signin",
            json={"login": alice.login, "password": PASSWORD, "kind": "bearer"},
        )
        second = r.json()["token"]
        assert second.startswith("twa_") and "set-cookie" not in r.headers
        r = client.get("/api/accounts/me", headers={"Authorization": "Bearer twa_forged"})
        assert r.status_code == 401 and "account token" in r.json()["detail"]
        # staff keys keep working and are not accounts
        r = client.get("/api/accounts/me", headers={"Authorization": "Bearer plan-key"})
        assert r.status_code == 401 and "sign in" in r.json()["detail"]
        assert (
            client.get("/collections", headers={"Authorization": "Bearer nope"}).status_code == 401
        )

        # password change: the asking token stays, the other ends
        r = client.post(
            "/api/accounts/password",
            headers=alice.headers,
            json={"current_password": "wrong password", "new_password": "a new long one"},
        )
        assert r.status_code == 403
        r = client.post(
            "/api/accounts/password",
            headers=alice.headers,
            json={"current_password": PASSWORD, "new_password": "a new long one"},
        )
        assert r.status_code == 204
        assert client.get("/api/accounts/me", headers=alice.headers).status_code == 200
        other = {"Authorization": f"Bearer {second}"}
        assert client.get("/api/accounts/me", headers=other).status_code == 401
        r = client.post("/api/accounts/signin", json={"login": alice.login, "password": PASSWORD})
        assert r.status_code == 401

        # deletion: needs the password, ends every token, frees the login
        r = client.request(
            "DELETE", "/api/accounts/me", headers=alice.headers, json={"password": PASSWORD}
        )
        assert r.status_code == 403
        r = client.request(
            "DELETE", "/api/accounts/me", headers=alice.headers, json={"password": "a new long one"}
        )
        assert r.status_code == 204
        assert client.get("/api/accounts/me", headers=alice.headers).status_code == 401
        again = sign_up_resident(client, caplog, login=alice.login)
        assert again.account_id != alice.account_id
