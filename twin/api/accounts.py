"""Resident accounts over HTTP: sign-up, code verification, sign-in (browser session or API
token), sign-out, the account itself, password change and deletion.

Thin: every rule is in :mod:`twin.accounts`; this module turns JSON into calls and sessions
into cookies (:mod:`twin.api.sessions`). The handlers are plain ``def`` because argon2 hashing
takes tens of milliseconds of CPU and must not hold the event loop.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from twin.accounts import Account, Accounts
from twin.api.deps import CallerDep
from twin.api.sessions import clear_session_cookies, set_session_cookies
from twin.core.access import require_account

router = APIRouter(prefix="/api/accounts", tags=["accounts"])


class SignUp(BaseModel):
    login: str = Field(max_length=320, description="e-mail address or phone number")
    password: str = Field(max_length=256)
    display_name: str | None = Field(default=None, max_length=200)


class Verify(BaseModel):
    login: str = Field(max_length=320)
    code: str = Field(max_length=16)
    kind: Literal["session", "bearer"] = "session"


class SignIn(BaseModel):
    login: str = Field(max_length=320)
    password: str = Field(max_length=256)
    kind: Literal["session", "bearer"] = Field(
        default="session", description="'session': cookies for a browser; 'bearer': a token"
    )


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


class Deletion(BaseModel):
    password: str = Field(max_length=256)


def _accounts(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


def account_json(account: Account) -> dict[str, Any]:
    """Return the account as its owner sees it."""
    return {
        "id": account.id,
        "login": account.login,
        "login_kind": account.login_kind,
        "role": account.role,
        "display_name": account.display_name,
        "verified": account.verified,
        "created_at": datetime.fromtimestamp(account.created_at, UTC).isoformat(),
    }


def _signed_in(request: Request, response: Response, account: Account, kind: str) -> dict[str, Any]:
    issued = _accounts(request).issue(account.id, kind)
    out: dict[str, Any] = {"account": account_json(account)}
    if kind == "bearer":
        out["token"] = issued.token
    else:
        set_session_cookies(request, response, issued)
        out["csrf_token"] = issued.csrf
    out["expires_at"] = datetime.fromtimestamp(issued.expires_at, UTC).isoformat()
    return out


@router.post("/signup", status_code=201)
def signup(body: SignUp, request: Request) -> dict[str, Any]:
    """Create an account and send it a 6-digit code (confirm it at ``/verify``)."""
    account = _accounts(request).signup(body.login, body.password, body.display_name)
    return {
        "account": account_json(account),
        "detail": f"a code was sent to {account.login}; confirm it at /api/accounts/verify",
    }


@router.post("/verify")
def verify(body: Verify, request: Request, response: Response) -> dict[str, Any]:
    """Confirm the code and sign in (a browser session, or a bearer token with
    ``kind: bearer``)."""
    account = _accounts(request).verify(body.login, body.code)
    return _signed_in(request, response, account, body.kind)


@router.post("/signin")
def signin(body: SignIn, request: Request, response: Response) -> dict[str, Any]:
    """Sign in: a browser session (cookies ``twin_session`` and ``twin_csrf``; send the
    latter's value in ``X-CSRF-Token`` on writes) or a bearer token for an API client."""
    account = _accounts(request).signin(body.login, body.password)
    return _signed_in(request, response, account, body.kind)


@router.post("/signout", status_code=204)
def signout(caller: CallerDep, request: Request, response: Response) -> None:
    """End this session or token."""
    require_account(caller, "sign out")
    _accounts(request).revoke(request.state.account_token)
    clear_session_cookies(request, response)


@router.get("/me")
def me(caller: CallerDep, request: Request) -> dict[str, Any]:
    """Return the signed-in account."""
    return account_json(_accounts(request).get(require_account(caller, "see your account")))


@router.get("/session")
def session(caller: CallerDep, request: Request) -> dict[str, Any]:
    """Return ``{"account": …}`` for a signed-in caller, ``{"account": null}`` otherwise (the
    map asks at start without provoking a 401)."""
    if caller.account_id is None:
        return {"account": None}
    return {"account": account_json(_accounts(request).get(caller.account_id))}


@router.post("/password", status_code=204)
def change_password(body: PasswordChange, caller: CallerDep, request: Request) -> None:
    """Change the password; every other session and token of the account ends."""
    account_id = require_account(caller, "change your password")
    _accounts(request).change_password(
        account_id, body.current_password, body.new_password, request.state.account_token
    )


@router.delete("/me", status_code=204)
def delete_me(body: Deletion, caller: CallerDep, request: Request, response: Response) -> None:
    """Delete the account (its password confirms it): sessions end, who it was is scrubbed,
    its ratings and votes stay in the aggregates anonymously."""
    account_id = require_account(caller, "delete your account")
    _accounts(request).delete(account_id, body.password)
    clear_session_cookies(request, response)
