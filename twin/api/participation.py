"""Residents take part over HTTP: ratings, reviews and likes on ratable features, initiatives
and their supports, reports, and the moderators' queue, decisions and audit log.

Thin: the rules are in :mod:`twin.participation`. This edge adds what only HTTP knows: who is
asking (:data:`CallerDep`; a write needs a signed-in account, and a cookie session's CSRF
token), the per-account and per-address limits keyed on the client's address, a cap on the
body's size, and the announcement of each new rating, reaction and initiative on the live
stream (:func:`twin.live.publish`, topics ``participation.rating``, ``participation.reaction``,
``participation.initiative``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from layers import Layer
from twin import live
from twin.api.deps import CallerDep
from twin.core.access import Caller, Role, require_account, require_planner
from twin.core.errors import BadInput, Conflict, Forbidden, NotFound, TooLarge, Unauthorized
from twin.participation import (
    GroupWriter,
    Initiatives,
    Moderation,
    Ratings,
    WriteLimits,
    ratable_layer,
)
from twin.participation.ratings import Aggregate

#: the largest body a participation write may send (an initiative's drawn area included)
MAX_BODY = 256 * 1024


async def _small_body(request: Request) -> None:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        raise TooLarge(f"request body over {MAX_BODY // 1024} KiB")


router = APIRouter(tags=["participation"], dependencies=[Depends(_small_body)])

LayerId = Annotated[str, Path(max_length=64, description="a ratable layer id")]
Fid = Annotated[int, Path(ge=1, le=2**31 - 1, description="a feature id")]
ItemId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class RatingBody(BaseModel):
    stars: int = Field(strict=True, description="1 to 5")
    review: str | None = Field(default=None, max_length=20_000)


class ReactionBody(BaseModel):
    reaction: Literal["like", "dislike"]


class InitiativeBody(BaseModel):
    category: str = Field(max_length=64)
    title: str = Field(max_length=2_000)
    text: str = Field(max_length=50_000)
    geometry: dict[str, Any] = Field(description="a GeoJSON Point or Polygon (lon, lat)")
    photos: list[str] = Field(
        default_factory=list, max_length=20, description="names from POST /api/photos (≤ 5)"
    )


class StatusBody(BaseModel):
    status: str = Field(max_length=32)
    reason: str | None = Field(default=None, max_length=10_000)


class ReportBody(BaseModel):
    kind: Literal["rating", "initiative"]
    id: int = Field(ge=1, le=2**31 - 1)
    reason: str = Field(max_length=32)
    details: str | None = Field(default=None, max_length=10_000)


class DecisionBody(BaseModel):
    decision: Literal["hide", "restore"]
    reason: str = Field(max_length=10_000)


#: what the ratings' writes raise having written nothing (see Ratings.rate_on)
CLEAN_ERRORS = (BadInput, NotFound, Conflict)


async def _group_write(
    request: Request,
    fn: Callable[..., Any],
    *args: Any,
    key: tuple[Any, ...],
    then: Callable[[Any], None] | None = None,
) -> Any:
    """Return ``fn(conn, *args)`` as committed by the group writer (one thread committing the
    queued ratings and likes together, each in its own savepoint, :mod:`twin.participation.
    writer`), waiting on the event loop; its exception if it failed. ``then(result)`` runs
    after the commit, in commit order (the live announcement).

    Why: each write had a thread of the pool (first 40, then a limiter of 4), its own pooled
    connection and its own commit; under 32 concurrent writers the threads spent their CPU
    handing the GIL and the store's writer lock to each other."""
    kind = key[-1] if key else "rating"
    writer: GroupWriter = (
        request.app.state.reaction_writer if kind == "reaction" else request.app.state.group_writer
    )
    future = writer.submit(fn, *args, key=key, then=then, clean=CLEAN_ERRORS)
    return await asyncio.wrap_future(future)


def _ratings(request: Request) -> Ratings:
    ratings: Ratings = request.app.state.ratings
    return ratings


def _initiatives(request: Request) -> Initiatives:
    initiatives: Initiatives = request.app.state.initiatives
    return initiatives


def _moderation(request: Request) -> Moderation:
    moderation: Moderation = request.app.state.moderation
    return moderation


def _writer(request: Request, caller: Caller, action: str, doing: str) -> int:
    """Return the signed-in account id after counting ``action`` against its limits."""
    account_id = require_account(caller, doing)
    limits: WriteLimits = request.app.state.write_limits
    limits.hit(action, account_id, request.client.host if request.client else None)
    return account_id


async def _async_writer(request: Request, caller: Caller, action: str, doing: str) -> int:
    """:func:`_writer` from the event loop: in place when the limits are counted in this
    process's memory (microseconds, no I/O), in a worker thread when they are in Redis."""
    limits: WriteLimits = request.app.state.write_limits
    if limits.in_memory:
        return _writer(request, caller, action, doing)
    return await anyio.to_thread.run_sync(_writer, request, caller, action, doing)


def _by(caller: Caller) -> str:
    who = caller.key_id or (caller.account_id and f"account {caller.account_id}") or "-"
    return f"{caller.role.value}:{who}"


def require_moderator(caller: Caller) -> None:
    """Raise unless the caller is a moderator or an admin."""
    if caller.role is Role.ANONYMOUS:
        raise Unauthorized("a moderator key is needed (Authorization: Bearer <key>)")
    if caller.role not in (Role.MODERATOR, Role.ADMIN):
        raise Forbidden(f"role {caller.role.value!r} may not moderate; moderator or admin may")


def _staff(caller: Caller) -> bool:
    return caller.role in (Role.MODERATOR, Role.ADMIN, Role.PLANNER)


# -- ratings and reactions -----------------------------------------------------------------
@router.get("/api/participation/{layer_id}")
def layer_aggregates(layer_id: LayerId, caller: CallerDep, request: Request) -> dict[str, Any]:
    """Return the aggregates of every rated feature of a ratable layer, by fid."""
    layer = ratable_layer(caller.role, layer_id)
    aggs = _ratings(request).aggregates(layer.id)
    return {"layer": layer.id, "aggregates": {str(f): a.as_dict() for f, a in aggs.items()}}


@router.get("/api/participation/{layer_id}/{fid}")
def feature_participation(
    layer_id: LayerId, fid: Fid, caller: CallerDep, request: Request
) -> dict[str, Any]:
    """Return what residents think of a feature: the aggregate, the newest reviews and (when
    signed in) one's own rating and reaction."""
    layer = ratable_layer(caller.role, layer_id)
    ratings = _ratings(request)
    ratings.check_feature(layer, fid)
    out: dict[str, Any] = {
        "layer": layer.id,
        "fid": fid,
        "aggregate": ratings.aggregate(layer.id, fid).as_dict(),
        "reviews": ratings.reviews(layer.id, fid),
    }
    if caller.account_id is not None:
        out["mine"] = ratings.mine(caller.account_id, layer.id, fid)
    return out


@router.get("/api/participation/{layer_id}/{fid}/reviews")
def feature_reviews(
    layer_id: LayerId,
    fid: Fid,
    caller: CallerDep,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> dict[str, Any]:
    """Return a page of a feature's visible reviews, newest first."""
    layer = ratable_layer(caller.role, layer_id)
    return {"reviews": _ratings(request).reviews(layer.id, fid, limit, offset)}


async def _rate(
    layer_id: str,
    fid: int,
    body: RatingBody,
    caller: Caller,
    request: Request,
    response: Response,
    *,
    create_only: bool,
) -> dict[str, Any]:
    layer = ratable_layer(caller.role, layer_id)
    account_id = await _async_writer(request, caller, "rate", "rate")
    ratings = _ratings(request)
    created, agg = await _group_write(
        request,
        ratings.rate_on,
        account_id,
        layer,
        fid,
        body.stars,
        body.review,
        create_only,
        key=ratings.group_key(layer, fid, account_id, "rating"),
        then=lambda done: _announce("participation.rating", layer, fid, done[1]),
    )
    if created:
        response.status_code = 201
    return {**_answer(layer, fid, agg), "created": created}


@router.post("/api/participation/{layer_id}/{fid}/rating", status_code=201)
async def create_rating(
    layer_id: LayerId,
    fid: Fid,
    body: RatingBody,
    caller: CallerDep,
    request: Request,
    response: Response,
) -> dict[str, Any]:
    """Rate a feature 1–5 with an optional review; 409 if you rated it already (PUT changes)."""
    return await _rate(layer_id, fid, body, caller, request, response, create_only=True)


@router.put("/api/participation/{layer_id}/{fid}/rating")
async def put_rating(
    layer_id: LayerId,
    fid: Fid,
    body: RatingBody,
    caller: CallerDep,
    request: Request,
    response: Response,
) -> dict[str, Any]:
    """Rate a feature or change your rating (201 when new, 200 when changed)."""
    return await _rate(layer_id, fid, body, caller, request, response, create_only=False)


def _answer(layer: Layer, fid: int, agg: Aggregate) -> dict[str, Any]:
    return {"layer": layer.id, "fid": fid, "aggregate": agg.as_dict()}


def _announce(topic: str, layer: Layer, fid: int, agg: Aggregate) -> None:
    """Publish a feature's new aggregate on the live stream (after its commit)."""
    live.publish(topic, _answer(layer, fid, agg))


async def _write_aggregate(
    request: Request,
    caller: Caller,
    layer_id: str,
    fid: int,
    action: str,
    doing: str,
    kind: str,
    fn: Callable[..., Aggregate],
    *args: Any,
) -> dict[str, Any]:
    """Run a write that answers the feature's new aggregate (a reaction, a withdrawal)
    through the group writer, announce it on the live stream and answer it."""
    layer = ratable_layer(caller.role, layer_id)
    account_id = await _async_writer(request, caller, action, doing)
    topic = f"participation.{kind}"
    agg: Aggregate = await _group_write(
        request,
        fn,
        account_id,
        layer,
        fid,
        *args,
        key=_ratings(request).group_key(layer, fid, account_id, kind),
        then=lambda done: _announce(topic, layer, fid, done),
    )
    return _answer(layer, fid, agg)


@router.delete("/api/participation/{layer_id}/{fid}/rating")
async def delete_rating(
    layer_id: LayerId, fid: Fid, caller: CallerDep, request: Request
) -> dict[str, Any]:
    """Withdraw your rating."""
    ratings = _ratings(request)
    return await _write_aggregate(
        request, caller, layer_id, fid, "rate", "withdraw a rating", "rating",
        ratings.withdraw_rating_on,
    )  # fmt: skip


@router.put("/api/participation/{layer_id}/{fid}/reaction")
async def put_reaction(
    layer_id: LayerId, fid: Fid, body: ReactionBody, caller: CallerDep, request: Request
) -> dict[str, Any]:
    """Like or dislike a feature (replacing your earlier reaction)."""
    ratings = _ratings(request)
    return await _write_aggregate(
        request, caller, layer_id, fid, "react", "like or dislike", "reaction",
        ratings.react_on, body.reaction,
    )  # fmt: skip


@router.delete("/api/participation/{layer_id}/{fid}/reaction")
async def delete_reaction(
    layer_id: LayerId, fid: Fid, caller: CallerDep, request: Request
) -> dict[str, Any]:
    """Withdraw your like or dislike."""
    ratings = _ratings(request)
    return await _write_aggregate(
        request, caller, layer_id, fid, "react", "withdraw a like", "reaction",
        ratings.withdraw_reaction_on,
    )  # fmt: skip


# -- initiatives ---------------------------------------------------------------------------
@router.get("/api/initiatives")
def list_initiatives(
    caller: CallerDep,
    request: Request,
    bbox: Annotated[str | None, Query(max_length=200, description="minx,miny,maxx,maxy")] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> dict[str, Any]:
    """Return the initiatives (newest first) as GeoJSON; hidden ones only to staff."""
    box: tuple[float, float, float, float] | None = None
    if bbox is not None:
        try:
            parts = [float(v) for v in bbox.split(",")]
        except ValueError as exc:
            raise BadInput("bbox: four numbers minx,miny,maxx,maxy") from exc
        if len(parts) != 4 or parts[0] > parts[2] or parts[1] > parts[3]:
            raise BadInput("bbox: four numbers minx,miny,maxx,maxy")
        box = (parts[0], parts[1], parts[2], parts[3])
    return _initiatives(request).list(
        bbox=box, category=category, status=status, limit=limit, staff=_staff(caller)
    )


@router.post("/api/initiatives", status_code=201)
def propose_initiative(body: InitiativeBody, caller: CallerDep, request: Request) -> dict[str, Any]:
    """Propose an initiative at a point or a drawn area; ``similar`` lists initiatives of the
    same category within 50 m from the last 90 days."""
    account_id = _writer(request, caller, "initiative", "propose an initiative")
    feature, similar = _initiatives(request).propose(
        account_id, body.category, body.title, body.text, body.geometry, body.photos
    )
    live.publish("participation.initiative", {"action": "proposed", "initiative": feature})
    return {"initiative": feature, "similar": similar}


@router.get("/api/initiatives/{initiative_id}")
def get_initiative(initiative_id: ItemId, caller: CallerDep, request: Request) -> dict[str, Any]:
    """Return one initiative with its history."""
    return _initiatives(request).get(initiative_id, staff=_staff(caller))


@router.post("/api/initiatives/{initiative_id}/support")
def support_initiative(
    initiative_id: ItemId, caller: CallerDep, request: Request
) -> dict[str, Any]:
    """Support an initiative (once; not your own)."""
    account_id = _writer(request, caller, "support", "support an initiative")
    n = _initiatives(request).support(account_id, initiative_id)
    live.publish(
        "participation.initiative", {"action": "supported", "id": initiative_id, "supports": n}
    )
    return {"id": initiative_id, "supports": n}


@router.delete("/api/initiatives/{initiative_id}/support")
def withdraw_support(initiative_id: ItemId, caller: CallerDep, request: Request) -> dict[str, Any]:
    """Withdraw your support."""
    account_id = _writer(request, caller, "support", "withdraw a support")
    n = _initiatives(request).withdraw_support(account_id, initiative_id)
    live.publish(
        "participation.initiative", {"action": "supported", "id": initiative_id, "supports": n}
    )
    return {"id": initiative_id, "supports": n}


@router.post("/api/initiatives/{initiative_id}/status")
def set_initiative_status(
    initiative_id: ItemId, body: StatusBody, caller: CallerDep, request: Request
) -> dict[str, Any]:
    """Move an initiative along proposed → under_review → accepted | rejected → done
    (planner or admin; a rejection needs a reason)."""
    require_planner(caller.role, "set an initiative's status")
    initiatives = _initiatives(request)
    initiatives.set_status(initiative_id, body.status, body.reason, _by(caller))
    feature = initiatives.get(initiative_id, staff=True)
    live.publish(
        "participation.initiative",
        {"action": "status", "id": initiative_id, "status": feature["properties"]["status"]},
    )
    return feature


# -- reports and moderation ----------------------------------------------------------------
@router.post("/api/reports", status_code=201)
def report(body: ReportBody, caller: CallerDep, request: Request) -> dict[str, Any]:
    """Report a review (``kind: rating``) or an initiative; at three reports it is hidden
    until a moderator decides."""
    account_id = _writer(request, caller, "report", "report content")
    hidden = _moderation(request).report(account_id, body.kind, body.id, body.reason, body.details)
    _queue_changed("reported")
    if hidden:
        live.publish(
            "participation.moderation",
            {"action": "hidden", "kind": body.kind, "id": body.id},
            audience="staff",
        )
    return {"kind": body.kind, "id": body.id, "hidden": hidden}


def _queue_changed(action: str) -> None:
    """Tell open maps that the moderators' queue changed, so a moderator's open queue reloads
    itself. Public on purpose, and so it names nothing (no item, no count): a moderator's map
    signs in with a key held in the page, which an EventSource cannot send, so its stream is
    a public one; the queue itself is then read with the key."""
    live.publish("moderation", {"action": action})


@router.get("/api/moderation/queue")
def moderation_queue(
    caller: CallerDep, request: Request, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> dict[str, Any]:
    """Return what residents reported and no moderator has decided yet (moderator, admin)."""
    require_moderator(caller)
    return {"items": _moderation(request).queue(limit)}


@router.post("/api/moderation/{kind}/{target_id}")
def moderate(
    kind: Literal["rating", "initiative"],
    target_id: ItemId,
    body: DecisionBody,
    caller: CallerDep,
    request: Request,
) -> dict[str, Any]:
    """Hide or restore a review or an initiative, with a reason (moderator, admin)."""
    require_moderator(caller)
    _moderation(request).decide(kind, target_id, body.decision, body.reason, _by(caller))
    _queue_changed("decided")
    return {"kind": kind, "id": target_id, "hidden": body.decision == "hide"}


@router.get("/api/moderation/log")
def moderation_log(
    caller: CallerDep,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Return the moderation audit log, newest first (moderator, admin)."""
    require_moderator(caller)
    return {"entries": _moderation(request).audit_log(limit, offset)}
