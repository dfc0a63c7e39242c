"""Request dependencies: the store and the caller's role, from ``app.state``.

They are ``async def`` although they never wait: FastAPI runs a plain ``def`` dependency in
its thread pool, one thread hop (~0.1 ms) per dependency per request, for a dictionary look-up.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from twin.api.sessions import account_caller
from twin.business.orgs import ORG_KEY_PREFIX, Organisations
from twin.core.access import Caller, Role, key_for
from twin.core.errors import Unauthorized
from twin.core.settings import Settings
from twin.store import Store


async def get_store(request: Request) -> Store:
    """Return the store opened in the app's lifespan."""
    store: Store = request.app.state.store
    return store


async def get_caller(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Caller:
    """Return who is asking: an organisation's key (``twb_…``, :mod:`twin.business.orgs`),
    a signed-in account (session cookie or account bearer token, :mod:`twin.api.sessions`),
    else the staff key of ``Authorization: Bearer <key>``."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token.startswith(ORG_KEY_PREFIX):
        orgs: Organisations = request.app.state.orgs
        owner = await run_in_threadpool(orgs.owner_of_key, token)
        if owner is None:
            raise Unauthorized("unknown or revoked organisation key")
        return Caller(Role.BUSINESS, key_id=owner[0], org_id=owner[1])
    account = await account_caller(request, authorization)
    if account is not None:
        return account
    settings: Settings = request.app.state.settings
    entry = key_for(authorization, settings.auth)
    if entry is None:
        return Caller(Role.ANONYMOUS)
    # Which key asked, in the log (its id, never the key): a leaked or misused key is traced
    # to the one who holds it, and revoked by this id (`twin keys revoke <id>`).
    log.info(
        "%s %s by key %s (%s)", request.method, request.url.path, entry.key_id, entry.role.value
    )
    return Caller(entry.role, key_id=entry.key_id)


async def get_role(caller: Annotated[Caller, Depends(get_caller)]) -> Role:
    """Return the caller's role."""
    return caller.role


log = logging.getLogger("twin.api.keys")

StoreDep = Annotated[Store, Depends(get_store)]
CallerDep = Annotated[Caller, Depends(get_caller)]
RoleDep = Annotated[Role, Depends(get_role)]
