"""The generated past budget cycle per district: deterministic, flagged, ballots within the
budget, written once (a re-load changes nothing) on both stores, counted on first read, and
residents' ballots written afterwards get fresh ids."""

from __future__ import annotations

import datetime

import geopandas as gpd
import numpy as np
import sqlalchemy as sa
from shapely.geometry import Point

from etl.synthesise.budget_cycles import past_cycles, write_cycles
from twin.budget import service
from twin.store import Store

TODAY = datetime.date(2026, 11, 27)


def _projects() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for d, (x, y) in {"Алмалинский": (76.91, 43.25), "Медеуский": (76.96, 43.23)}.items():
        for i in range(12):
            rows.append(
                {
                    "source_id": f"pb-{d}-{i:02d}",
                    "title": f"Двор {i}",
                    "category": "детские площадки",
                    "district": d,
                    "year": 2025,
                    "stage": ["done", "in_progress", "rejected"][i % 3],
                    "budget_kzt": float(rng.integers(10, 60)) * 1e6,
                    "completed_on": "2026-06-01" if i % 3 == 0 else None,
                    "geometry": Point(x + rng.normal(0, 0.01), y + rng.normal(0, 0.01)),
                }
            )
    return gpd.GeoDataFrame(rows, crs="EPSG:4326")


def test_generated_cycles(store: Store) -> None:
    cycles = past_cycles(_projects(), seed=7, today=TODAY)
    again = past_cycles(_projects(), seed=7, today=TODAY)
    assert [c.ballots for c in cycles] == [c.ballots for c in again]
    assert [c.cycle["rule"] for c in cycles] == ["greedy", "mes"]
    for c in cycles:
        assert 600 <= len(c.ballots) <= 1600 and c.cycle["synthetic"]
        costs = [a["cost_kzt"] for a in c.applications]
        ok = {i for i, a in enumerate(c.applications) if a["status"] == "accepted"}
        assert all(sum(costs[j] for j in b) <= c.cycle["budget_kzt"] for b in c.ballots)
        assert all(set(b) <= ok and b for b in c.ballots)
        assert sum(costs[j] for j in ok) > c.cycle["budget_kzt"]  # the vote matters

    assert write_cycles(store, cycles) == 2
    assert write_cycles(store, cycles) == 0  # a re-load changes nothing
    listed = service.list_cycles(store)
    assert {c["phase"] for c in listed} == {"implementation"}
    for cyc in listed:
        res = service.results(store, cyc["id"])
        assert res["ballots"] >= 600 and res["winners"] and res["left_kzt"] >= 0
        assert all(loser["why"] for loser in res["losers"])
        apps = service.list_applications(store, cyc["id"], status="accepted")
        assert {a["id"] for a in apps if a["selected"]} == {w["id"] for w in res["winners"]}
        assert all(a["progress"] is None for a in apps if not a["selected"])

    # a resident's ballot after the demo ones gets a new id (no sequence left behind)
    cid = service.create_cycle(store, year=2026, district="Алмалинский", budget_kzt=100)["id"]
    pid = service.submit_application(
        store,
        cid,
        1,
        title="t",
        description="d",
        category="sport",
        cost_kzt=10,
        location={"type": "Point", "coordinates": [76.9, 43.25]},
    )["id"]
    service.review_application(store, pid, feasible=True, reason="ok", reviewer="k")
    service.advance(store, cid)
    service.advance(store, cid)
    assert service.cast_ballot(store, cid, 1, [pid])["projects"] == [pid]
    with store.engine.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM budget_ballots WHERE synthetic")).scalar()
    assert n == sum(len(c.ballots) for c in cycles)
