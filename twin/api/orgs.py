"""Business customers over HTTP (issue 21): sign-up with an organisation, the organisation's
keys, its plan and usage, and staff's management of plans.

``/api/business/…``. Thin: the rules are in :mod:`twin.business` (organisations, plans,
metering). Members manage keys with their session (CSRF on writes) or account token; an
organisation key only runs analyses and reads usage. The plans themselves are public.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from twin.accounts import Accounts
from twin.api.accounts import account_json
from twin.api.deps import CallerDep
from twin.api.limits import RowId
from twin.api.metering import meter_of
from twin.business.orgs import Org, Organisations, OrgKey, usage_csv
from twin.core.access import Caller, Role
from twin.core.errors import Forbidden, Unauthorized

router = APIRouter(prefix="/api/business", tags=["business"])

DayQ = Annotated[
    str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="a UTC day, YYYY-MM-DD")
]


class BusinessSignUp(BaseModel):
    login: str = Field(max_length=320, description="e-mail address or phone number")
    password: str = Field(max_length=256)
    organisation: str = Field(max_length=200, description="the business's name")
    display_name: str | None = Field(default=None, max_length=200)


class NewKey(BaseModel):
    label: str = Field(default="", max_length=200, description="what the key is for")


class PlanChange(BaseModel):
    plan: str = Field(max_length=32, description="a plan's name (GET /api/business/plans)")


def _orgs(request: Request) -> Organisations:
    orgs: Organisations = request.app.state.orgs
    return orgs


def _ts(value: float | None) -> str | None:
    return None if value is None else datetime.fromtimestamp(value, UTC).isoformat()


def org_json(org: Org) -> dict[str, Any]:
    """Return an organisation as the API shows it."""
    return {"id": org.id, "name": org.name, "plan": org.plan, "created_at": _ts(org.created_at)}


def _key_json(key: OrgKey) -> dict[str, Any]:
    return {
        "key_id": key.key_id,
        "label": key.label,
        "created_by": key.created_by,
        "created_at": _ts(key.created_at),
        "revoked_at": _ts(key.revoked_at),
        "live": key.revoked_at is None,
    }


def _own_org(caller: Caller, what: str) -> int:
    """Return the caller's organisation; 401 anonymous, 403 for anyone else."""
    if caller.org_id is not None:
        return caller.org_id
    if caller.role is Role.ANONYMOUS:
        raise Unauthorized(f"sign in as a business, or send an organisation key, to {what}")
    raise Forbidden(f"only a business account may {what}; this {caller.role} has no organisation")


def _member(caller: Caller, what: str) -> int:
    """Return the organisation of a signed-in member (not an organisation key)."""
    org_id = _own_org(caller, what)
    if caller.account_id is None:
        raise Forbidden(f"sign in as a member of the organisation to {what} (a key may not)")
    return org_id


def _admin(caller: Caller, what: str) -> None:
    if caller.role is Role.ANONYMOUS:
        raise Unauthorized(f"an admin key is needed to {what} (Authorization: Bearer <key>)")
    if caller.role is not Role.ADMIN:
        raise Forbidden(f"role {caller.role.value!r} may not {what}; admin may")


def _org_for(caller: Caller, org_id: int, what: str) -> int:
    """Return ``org_id`` if the caller may see it: staff (admin), or its own members/keys."""
    if caller.role is Role.ADMIN:
        return org_id
    own = _own_org(caller, what)
    if own != org_id:
        raise Forbidden(f"organisation {org_id} is not yours: this key or account is of another")
    return org_id


@router.get("/plans")
def plans(request: Request) -> dict[str, Any]:
    """Return every plan: its daily and monthly quota in units, the most rows a batch may
    send, and the analyses it unlocks with each one's weight (units per call; per row for
    ``batch``)."""
    meter = meter_of(request)
    return {
        "plans": [p.summary(meter.plans.weights) for p in meter.plans.plans.values()],
        "weights": meter.plans.weights,
        "headers": ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"],
    }


@router.post("/signup", status_code=201)
def signup(body: BusinessSignUp, request: Request) -> dict[str, Any]:
    """Sign a business up: an account (role ``business``) and its organisation on the
    ``free`` plan; confirm the 6-digit code at ``/api/accounts/verify`` to sign in."""
    accounts: Accounts = request.app.state.accounts
    account, org = _orgs(request).signup(
        accounts, body.login, body.password, body.organisation, body.display_name
    )
    return {
        "account": account_json(account),
        "organisation": org_json(org),
        "detail": f"a code was sent to {account.login}; confirm it at /api/accounts/verify",
    }


@router.get("/org")
def my_org(caller: CallerDep, request: Request) -> dict[str, Any]:
    """Return the caller's organisation, its plan and where it stands in today's and this
    month's quota."""
    org_id = _own_org(caller, "see your organisation")
    return {
        "organisation": org_json(_orgs(request).get(org_id)),
        **meter_of(request).status(org_id),
    }


@router.get("/keys")
def list_keys(caller: CallerDep, request: Request) -> dict[str, Any]:
    """Return the organisation's keys (ids and labels; a secret is shown only when made)."""
    org_id = _own_org(caller, "list your organisation's keys")
    return {"keys": [_key_json(k) for k in _orgs(request).list_keys(org_id)]}


@router.post("/keys", status_code=201)
def create_key(body: NewKey, caller: CallerDep, request: Request) -> dict[str, Any]:
    """Create an organisation key: ``key`` is shown this once (only its digest is kept);
    send it as ``Authorization: Bearer <key>``."""
    org_id = _member(caller, "create keys")
    orgs = _orgs(request)
    key = orgs.create_key(org_id, body.label, caller.account_id)
    key_id = key.split("_")[1]
    made = next(k for k in orgs.list_keys(org_id) if k.key_id == key_id)
    return {**_key_json(made), "key": key}


@router.delete("/keys/{key_id}", status_code=204)
def revoke_key(key_id: str, caller: CallerDep, request: Request) -> None:
    """Revoke an organisation key (at once, in every server process)."""
    org_id = _member(caller, "revoke keys")
    _orgs(request).revoke_key(org_id, key_id[:16])


def _usage(request: Request, org_id: int, first: str | None, last: str | None) -> Any:
    meter_of(request).flush()  # this process's calls of the last second too
    today = datetime.now(UTC).date()
    last = last or today.isoformat()
    first = first or (today - timedelta(days=30)).isoformat()
    return first, last, _orgs(request).usage(org_id, first, last)


def _usage_json(request: Request, org_id: int, first: str | None, last: str | None) -> Any:
    first, last, rows = _usage(request, org_id, first, last)
    return {
        "organisation": org_json(_orgs(request).get(org_id)),
        **meter_of(request).status(org_id),
        "from": first,
        "to": last,
        "usage": [r.__dict__ for r in rows],
        "calls": sum(r.calls for r in rows),
        "units": sum(r.units for r in rows),
    }


@router.get("/usage")
def usage(
    caller: CallerDep,
    request: Request,
    first: Annotated[DayQ, Query(alias="from")] = None,
    last: Annotated[DayQ, Query(alias="to")] = None,
) -> dict[str, Any]:
    """Return the organisation's usage per UTC day, key (``session`` for a signed-in
    member) and analysis — calls and units — from ``from`` to ``to`` (default: the last 30
    days), and today's and this month's quota."""
    org_id = _own_org(caller, "see your organisation's usage")
    return _usage_json(request, org_id, first, last)


@router.get("/usage.csv", response_class=Response)
def usage_export(
    caller: CallerDep,
    request: Request,
    first: Annotated[DayQ, Query(alias="from")] = None,
    last: Annotated[DayQ, Query(alias="to")] = None,
) -> Response:
    """The usage as CSV: ``day,key_id,label,analysis,calls,units``."""
    org_id = _own_org(caller, "export your organisation's usage")
    first, last, rows = _usage(request, org_id, first, last)
    return Response(
        usage_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="usage-{first}-{last}.csv"'},
    )


@router.get("/orgs")
def all_orgs(caller: CallerDep, request: Request) -> dict[str, Any]:
    """Return every organisation and its plan (admin)."""
    _admin(caller, "list organisations")
    return {"organisations": [org_json(o) for o in _orgs(request).all()]}


@router.get("/orgs/{org_id}/usage")
def org_usage(
    org_id: RowId,
    caller: CallerDep,
    request: Request,
    first: Annotated[DayQ, Query(alias="from")] = None,
    last: Annotated[DayQ, Query(alias="to")] = None,
) -> dict[str, Any]:
    """An organisation's usage (admin, or the organisation itself)."""
    return _usage_json(request, _org_for(caller, org_id, "see its usage"), first, last)


@router.put("/orgs/{org_id}/plan")
def set_plan(org_id: RowId, body: PlanChange, caller: CallerDep, request: Request) -> Any:
    """Put an organisation on a plan (admin); its quota changes with its next call."""
    _admin(caller, "change an organisation's plan")
    org = _orgs(request).set_plan(org_id, body.plan)
    meter_of(request).forget(org_id)
    return org_json(org)
