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
    # staff moved the cycle on today: the stage dates are today's, not the 2025 plan's
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    assert (str(f[b]["review_on"])[:10], str(f[b]["lost_on"])[:10]) == (today, today)
    # as if staff had moved it on during 2025, two days after each planned day (review on
    # 3 April …; done stays as planned, not reached): the time slider replays the cycle from
    # those days, the planned ones only for what was not recorded
    changes = store.metadata.tables["budget_phase_changes"]
    with store.write_transaction() as conn:
        for phase, day in (("review", 3), ("voting", 3), ("results", 3), ("implementation", 3)):
            month = {"review": 4, "voting": 5, "results": 6, "implementation": 7}[phase]
            at = datetime.datetime(2025, month, day, 9, tzinfo=datetime.UTC).timestamp()
            conn.execute(
                changes.update()
                .where(changes.c.cycle_id == cid, changes.c.phase == phase)
                .values(at=at)
            )
    assert service.sync_layer(store) is True
    f = _features(store)
    assert str(f[b]["review_on"])[:10] == "2025-04-03"
    assert str(f[a]["works_on"])[:10] == "2025-07-03"
    props = {k: (None if v is None else str(v)[:10]) for k, v in f[b].items()}
    temporal = LAYER.temporal
    assert temporal is not None
    assert temporal.state_at(props, "2025-04-02") == "application"  # planned: review
    assert temporal.state_at(props, "2025-04-15") == "review"
    assert temporal.state_at(props, "2025-05-15") == "ballot"
    assert temporal.state_at(props, "2025-06-15") == "lost"
    done = {k: (None if v is None else str(v)[:10]) for k, v in f[a].items()}
    assert temporal.state_at(done, "2025-06-15") == "won"
    assert temporal.state_at(done, "2025-07-02") == "won"
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


def test_a_load_through_the_etl_alone_leaves_the_layer_drawn(almaty_url: str) -> None:
    """The bundled Almaty set loaded by ``etl.load.load_bundled`` alone (no service, no app
    start): every district's flagged past cycles are counted and on the map, the layer has one
    feature per application, and it is already in line (a sync writes nothing). The district
    indicators count the same projects (one source: the cycles)."""
    from twin.store import open_store

    store = open_store(almaty_url)
    try:
        cycles = service.list_cycles(store)
        features = _features(store)
        head = store.last_change_id(["budget_cycle_projects"])
        assert service.sync_layer(store) is False
        assert store.last_change_id(["budget_cycle_projects"]) == head
        indicators = store.read_frame(layers.get("district_indicators"))
        generated = [c for c in cycles if c["synthetic"]]
        apps = {a["id"]: c for c in generated for a in service.list_applications(store, c["id"])}
    finally:
        store.close()
    districts = {c["district"] for c in generated}
    assert len(districts) == 8
    assert all(c["counted_at"] is not None for c in generated)
    assert set(apps) <= set(features)
    statuses = {features[a]["status"] for a in apps}
    assert {"rejected", "lost", "implementation", "done"} <= statuses
    assert "ballot" not in statuses and "application" not in statuses
    # counted: every project that went to the ballot shows its votes, the rejected none
    for a in apps:
        f = features[a]
        assert (f["votes"] is None) == (f["status"] == "rejected"), f
    per = pd.Series([(features[a]["district"], features[a]["year"]) for a in apps]).value_counts()
    ind = indicators.set_index(["district", "period"])["budget_projects"]
    for (district, year), n in per.items():
        assert ind.loc[(district, year)] == n, (district, year)


def test_a_phase_change_is_recorded_with_when_and_who(store: Store) -> None:
    cid = service.create_cycle(store, year=2031, district="Медеуский", budget_kzt=100)["id"]
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    service.advance(store, cid, by="key 7")
    after = datetime.datetime.now(datetime.UTC)
    phases = {p["phase"]: p for p in service.get_cycle(store, cid)["phases"]}
    assert list(phases) == ["applications", "review", "voting", "results", "implementation", "done"]
    assert phases["review"]["planned"] == "2031-04-01"
    assert phases["review"]["started_by"] == "key 7"
    started = datetime.datetime.fromisoformat(phases["review"]["started_at"])
    assert before <= started <= after
    # not (yet) moved into: the plan only
    assert phases["voting"] == {
        "phase": "voting",
        "planned": "2031-05-01",
        "started_at": None,
        "started_by": None,
    }
    assert phases["applications"]["started_at"] is None  # a cycle is created in it
    listed = next(c for c in service.list_cycles(store) if c["id"] == cid)
    assert listed["phases"] == service.get_cycle(store, cid)["phases"]
