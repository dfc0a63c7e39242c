"""The appeals routes beyond Open311: the duplicate hint before filing, a resident's own appeals,
joining an open appeal, rating an answer, and staff moving an appeal through its lifecycle
(with its timed history). Open311 itself is in ``twin.api.open311``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from twin.api.deps import CallerDep, StoreDep
from twin.appeals import georeport
from twin.appeals.catalog import is_sensitive
from twin.appeals.service import Appeal, Appeals, staff
from twin.core.access import Caller, require_account
from twin.core.errors import BadInput

router = APIRouter(prefix="/api/appeals", tags=["appeals"])


_LANGS = ("ru", "kk", "en")


def _lang(lang: str) -> str:
    if lang not in _LANGS:
        raise BadInput(f"lang must be one of {', '.join(_LANGS)}")
    return lang


def _view(
    appeals: Appeals, appeal: Appeal, caller: Caller, *, history: bool = True, lang: str = "ru"
) -> Any:
    """The appeal as its Open311 record (category and service named in ``lang``), with its
    history; staff see who changed it, the author sees their own appeal in full."""
    mine = caller.account_id is not None and caller.account_id == appeal.author
    record = georeport.request(appeal, exact=staff(caller) or mine, lang=lang)
    record["x_mine"] = mine
    if history:
        steps = appeals.history(appeal)
        shown = []
        for h in steps:
            step = {k: h.get(k) for k in ("status", "at", "by_role", "service", "reason")}
            if staff(caller):
                step["by_account_id"] = h.get("by_account_id")
                step["by_key_id"] = h.get("by_key_id")
            shown.append(step)
        record["x_history"] = shown
    return record


@router.get("/duplicates")
def duplicates(
    store: StoreDep,
    caller: CallerDep,
    service_code: str,
    lat: float,
    long: float,
    lang: str = "ru",
) -> Any:
    """Open appeals of the category within 50 m of a point: offered before filing. Not for a
    sensitive category unless the caller is staff (probed point by point, the answer would
    locate appeals whose points are not public)."""
    if is_sensitive(service_code) and not staff(caller):
        return {"radius_m": 50, "appeals": []}
    found = Appeals(store).nearby_open(service_code, long, lat)
    return {
        "radius_m": 50,
        "appeals": [georeport.request(a, exact=False, lang=_lang(lang)) for a in found],
    }


@router.get("/mine")
def mine(store: StoreDep, caller: CallerDep, lang: str = "ru") -> Any:
    """The signed-in resident's appeals (filed or joined), newest first, with histories;
    categories and services named in ``lang`` (the map's language)."""
    account = require_account(caller, "see your appeals")
    lang = _lang(lang)
    appeals = Appeals(store)
    return {"appeals": [_view(appeals, a, caller, lang=lang) for a in appeals.mine(account)]}


@router.get("/{appeal_id}")
def one(appeal_id: int, store: StoreDep, caller: CallerDep, lang: str = "ru") -> Any:
    """One appeal with its history (who changed it: staff only)."""
    appeals = Appeals(store)
    return _view(appeals, appeals.get(appeal_id), caller, lang=_lang(lang))


@router.post("/{appeal_id}/status")
def change_status(
    appeal_id: int,
    store: StoreDep,
    caller: CallerDep,
    body: dict[str, Any] = Body(...),  # noqa: B008
) -> Any:
    """Staff: move the appeal one step (``{"status", "reason"?, "service"?}``)."""
    status = body.get("status")
    if not isinstance(status, str):
        raise BadInput("status is required")
    reason, service = body.get("reason"), body.get("service")
    if reason is not None and not isinstance(reason, str):
        raise BadInput("reason must be text")
    if service is not None and not isinstance(service, str):
        raise BadInput("service must be a service code")
    appeals = Appeals(store)
    appeal = appeals.change_status(appeal_id, status, caller, reason=reason, service_code=service)
    return _view(appeals, appeal, caller)


@router.post("/{appeal_id}/rating")
def rate(
    appeal_id: int,
    store: StoreDep,
    caller: CallerDep,
    body: dict[str, Any] = Body(...),  # noqa: B008
) -> Any:
    """The author rates the answer: ``{"score": 1..5}``."""
    score = body.get("score")
    if not isinstance(score, int) or isinstance(score, bool):
        raise BadInput("score must be a whole number from 1 to 5")
    appeals = Appeals(store)
    return _view(appeals, appeals.rate(appeal_id, caller, score), caller)


@router.post("/{appeal_id}/join")
def join(appeal_id: int, store: StoreDep, caller: CallerDep) -> Any:
    """A resident joins an open appeal instead of filing a duplicate."""
    appeals = Appeals(store)
    return _view(appeals, appeals.join(appeal_id, caller), caller)
