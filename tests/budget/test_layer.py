"""The cycles' projects as the map's ``budget_cycle_projects`` layer, over both stores: each
project's status follows its cycle (application, review, ballot, won/lost from the count,
implementation, done), the layer is rewritten in the transaction of every change, and the
stage dates replay a cycle (the time slider's state at a date)."""

from __future__ import annotations

import datetime
from typing import Any

import pandas as pd

import layers
from twin.budget import service
from twin.store import Store

LAYER = layers.get("budget_cycle_projects")
POINT = {"type": "Point", "coordinates": [76.93, 43.25]}


def _apply(store: Store, cycle_id: int, account: int, cost: int, title: str) -> int:
    return int(
        service.submit_application(
            store,
            cycle_id,
            account,
            title=title,
            description="a project in the yard",
            category="lighting",
            cost_kzt=cost,
            location=POINT,
        )["id"]
    )


def _features(store: Store) -> dict[int, dict[str, Any]]:
    frame = store.read_frame(LAYER)
    return {
        int(r["project_id"]): {k: (None if _missing(v) else v) for k, v in r.items()}
        for _, r in frame.iterrows()
    }


def _missing(value: Any) -> bool:
    return not isinstance(value, str | list | dict) and bool(pd.isna(value))


def test_the_layer_follows_the_cycle_and_its_count(store: Store) -> None:
    cycle = service.create_cycle(store, year=2025, district="Алмалинский", budget_kzt=100)
    cid = cycle["id"]
    a = _apply(store, cid, 1, 80, "A: most votes")
    b = _apply(store, cid, 2, 50, "B: more votes than C, does not fit")
    c = _apply(store, cid, 3, 20, "C: fewest votes, fits")
    d = _apply(store, cid, 4, 10, "D: not feasible")
    assert {f["status"] for f in _features(store).values()} == {"application"}
    service.advance(store, cid)  # review
    assert _features(store)[a]["status"] == "review"
    for pid in (a, b, c):
        service.review_application(store, pid, feasible=True, reason="ok", reviewer="k")
    service.review_application(store, d, feasible=False, reason="not city land", reviewer="k")
    f = _features(store)
    assert (f[a]["status"], f[d]["status"]) == ("ballot", "rejected")
    assert f[d]["review_reason"] == "not city land"
    service.advance(store, cid)  # voting
    for account, choice in enumerate([[a], [a, c], [a], [b, c], [b]], start=10):
        service.cast_ballot(store, cid, account, choice)
    # counts are secret until voting closes: the layer has none
    assert _features(store)[b]["votes"] is None
    service.advance(store, cid)  # results: A 3, B 2, C 2 -> A wins, B no longer fits, C does
    f = _features(store)
    assert {p: f[p]["status"] for p in (a, b, c, d)} == {
        a: "won",
        b: "lost",
        c: "won",
        d: "rejected",
    }
    assert (f[a]["votes"], f[b]["votes"], f[c]["votes"]) == (3, 2, 2)
    service.advance(store, cid)  # implementation
    service.report_progress(store, a, progress=100, finished=datetime.date(2025, 9, 1))
    f = _features(store)
    assert (f[a]["status"], f[c]["status"], f[b]["status"]) == ("done", "implementation", "lost")
    # the time slider replays the cycle from the stage dates (the default 2025 calendar)
    props = {k: (None if v is None else str(v)[:10]) for k, v in f[b].items()}
    temporal = LAYER.temporal
    assert temporal is not None
    assert temporal.state_at(props, "2025-03-31") == "application"
    assert temporal.state_at(props, "2025-04-15") == "review"
    assert temporal.state_at(props, "2025-05-15") == "ballot"
    assert temporal.state_at(props, "2025-06-15") == "lost"
    done = {k: (None if v is None else str(v)[:10]) for k, v in f[a].items()}
    assert temporal.state_at(done, "2025-06-15") == "won"
    assert temporal.state_at(done, "2025-08-01") == "implementation"
    assert temporal.state_at(done, "2025-09-01") == "done"
    rejected = {k: (None if v is None else str(v)[:10]) for k, v in f[d].items()}
    assert temporal.state_at(rejected, "2025-04-15") == "review"
    assert temporal.state_at(rejected, "2025-05-15") == "rejected"


def test_an_unchanged_cycle_does_not_rewrite_the_layer(store: Store) -> None:
    cid = service.create_cycle(store, year=2025, district="Медеуский", budget_kzt=100)["id"]
    _apply(store, cid, 1, 50, "lights")
    head = store.last_change_id(["budget_cycle_projects"])
    assert service.sync_layer(store) is False
    assert store.last_change_id(["budget_cycle_projects"]) == head
