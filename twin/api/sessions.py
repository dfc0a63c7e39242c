"""Who a request's account is: a session cookie (browsers) or an account bearer token (API
clients), resolved through :class:`twin.accounts.Accounts`.

Kept apart from :func:`twin.api.deps.get_caller`, which asks here first and falls back to the
staff API keys, so that the two ways in change independently.

Browser sessions are two cookies: ``twin_session`` (HttpOnly, the secret) and ``twin_csrf``
(readable by the page's script). A state-changing request authenticated by the cookie must echo
the CSRF value in ``X-CSRF-Token``; the server compares its digest with the one stored for
that session (a synchronizer token that the double-submit cookie carries), so a page on another
site, which cannot read the cookie, cannot forge the header. Bearer tokens are never sent by a
browser on its own, so they need no CSRF token.
"""

from __future__ import annotations

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from twin.accounts import Accounts, IssuedToken
from twin.accounts.service import BEARER_PREFIX, same_digest
from twin.core.access import Caller, Role
from twin.core.errors import Forbidden, Unauthorized

SESSION_COOKIE = "twin_session"
CSRF_COOKIE = "twin_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def account_caller(request: Request, authorization: str | None) -> Caller | None:
    """Return the signed-in account's caller, or None when the request carries no account
    credential (a staff key or nothing: the caller dependency decides).

    An unknown or expired account bearer token is :class:`Unauthorized`; a stale session
    cookie is ignored (the caller is anonymous); a cookie-authenticated write without the
    session's CSRF token is :class:`Forbidden`.
    """
    accounts: Accounts | None = getattr(request.app.state, "accounts", None)
    if accounts is None:
        return None
    if authorization:
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token.startswith(BEARER_PREFIX):
            return None
        owner = await run_in_threadpool(accounts.owner_of, token, "bearer")
        if owner is None:
            raise Unauthorized("unknown, expired or revoked account token")
        request.state.account_token = token
        return Caller(Role(owner.role), account_id=owner.account_id, org_id=owner.org_id)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    owner = await run_in_threadpool(accounts.owner_of, cookie, "session")
    if owner is None:
        return None
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not same_digest(sent, owner.csrf_hash):
            raise Forbidden(
                f"missing or wrong CSRF token: send the {CSRF_COOKIE} cookie's value "
                f"in the {CSRF_HEADER} header"
            )
    request.state.account_token = cookie
    return Caller(Role(owner.role), account_id=owner.account_id, org_id=owner.org_id)


def set_session_cookies(request: Request, response: Response, issued: IssuedToken) -> None:
    """Set the session and CSRF cookies of a new browser session (Secure over https)."""
    secure = request.url.scheme == "https"
    max_age = max(1, int(issued.expires_at - _now_of(request)))
    response.set_cookie(
        SESSION_COOKIE,
        issued.token,
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    response.set_cookie(
        CSRF_COOKIE,
        issued.csrf or "",
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=False,
        samesite="lax",
    )


def clear_session_cookies(request: Request, response: Response) -> None:
    """Remove the session and CSRF cookies."""
    secure = request.url.scheme == "https"
    for name, http_only in ((SESSION_COOKIE, True), (CSRF_COOKIE, False)):
        response.delete_cookie(name, path="/", secure=secure, httponly=http_only, samesite="lax")


def _now_of(request: Request) -> float:
    accounts: Accounts = request.app.state.accounts
    return accounts.now()
