"""Generated past participatory-budget cycles, one per district and year of the generated
project pool (2021 to last year), with realistic ballots, so the budget's results, turnout and
history show from the first start (issue 17). Everything is flagged ``synthetic``.

A cycle's applications are its year's projects of the pool
(:func:`etl.synthesise.budget.project_pool`): the same titles, categories, places and costs.
These cycles are the one record of the demo's participatory projects: the map's
``budget_cycle_projects`` layer is written from them and the district indicators count them.
Assumptions, all stated:

* about one application in eight fails technical review (with one of a few usual reasons);
* the district's budget covers ~55 % of the accepted projects' costs, so the vote matters;
* turnout is 0.35 % of the district's ballots' base — 600-1,600 voters per district, the size
  of real city PB votes per district;
* a voter lives near one of the projects (within ~1.5 km) and likes a project the more the
  more popular it is (a log-normal appeal) and the nearer it is (weight halves every ~1.5 km);
  they approve their 1-6 favourites (1 + Poisson(2)) as long as the ballot fits the budget —
  so ballots are local and some projects win on broad appeal, some on a loyal neighbourhood;
* districts alternate counting rules: even positions greedy, odd positions Equal Shares.

Last year's cycle is written in its implementation phase (winners' works carry the progress
the pool's stage implies: done 100 %, in progress 20-90 %), earlier years' cycles are done.
The load counts them (:func:`etl.budget_layer.settle`) and draws them on the map.
"""

from __future__ import annotations

import datetime
import json
import time
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa

from etl.synthesise.frames import stream
from twin.store import Store

#: the layer's Russian category -> the budget's category id (twin.budget.service.CATEGORIES)
CATEGORY_IDS = {
    "благоустройство дворов": "yards",
    "детские площадки": "playgrounds",
    "освещение": "lighting",
    "спорт": "sport",
    "озеленение": "greening",
    "тротуары": "sidewalks",
    "доступная среда": "accessibility",
    "безопасность": "safety",
}
REVIEW_FAILS = (
    "Участок не находится в коммунальной собственности",
    "Работы уже включены в план акимата на этот год",
    "Стоимость превышает норматив для проектов этой категории",
    "Нет согласия собственников помещений дома",
)
REJECT_SHARE = 0.125
BUDGET_SHARE = 0.55
MIN_VOTERS, MAX_VOTERS = 600, 1600
DISTANCE_HALVING_M = 1500.0


@dataclass
class DemoCycle:
    """One district's generated cycle: the cycle's columns, its applications' rows and its
    ballots (each a list of indexes into ``applications``)."""

    cycle: dict[str, Any]
    applications: list[dict[str, Any]] = field(default_factory=list)
    ballots: list[list[int]] = field(default_factory=list)


def past_cycles(projects: gpd.GeoDataFrame, *, seed: int, today: datetime.date) -> list[DemoCycle]:
    """Return a generated cycle per district and year before ``today``'s from ``projects`` (the
    project pool, EPSG:4326), oldest year first, deterministic for ``seed``."""
    rng = stream(seed, "budget_cycles")
    out: list[DemoCycle] = []
    years = sorted(int(y) for y in projects["year"].unique() if int(y) < today.year)
    for year in years:
        out.extend(_year_cycles(rng, projects, year, today))
    return out


def _year_cycles(
    rng: np.random.Generator, projects: gpd.GeoDataFrame, year: int, today: datetime.date
) -> list[DemoCycle]:
    """Return the generated cycles of ``year``, one per district with at least 2 projects."""
    frame = projects[projects["year"] == year].sort_values("source_id")
    over = year < today.year - 1  # an older cycle's works are all finished
    out: list[DemoCycle] = []
    for position, (district, group) in enumerate(
        sorted(frame.groupby("district"), key=lambda g: str(g[0]))
    ):
        n = len(group)
        if n < 2:
            continue
        metric = group.to_crs(32643).geometry
        xy = np.column_stack([metric.x.to_numpy(), metric.y.to_numpy()])
        costs = np.round(group["budget_kzt"].to_numpy(dtype=float), -5).astype(np.int64)
        rejected = rng.random(n) < REJECT_SHARE
        rejected[np.argmax(costs)] = False if rejected.all() else rejected[np.argmax(costs)]
        accepted = np.flatnonzero(~rejected)
        budget = int(round(costs[accepted].sum() * BUDGET_SHARE, -6))
        budget = max(budget, int(costs[accepted].max()))
        start = datetime.date(year, 1, 15)
        cycle = {
            "year": year,
            "district": str(district),
            "budget_kzt": budget,
            "rule": "greedy" if position % 2 == 0 else "mes",
            "phase": "done" if over else "implementation",
            "applications_from": start,
            "review_from": datetime.date(year, 4, 1),
            "voting_from": datetime.date(year, 5, 1),
            "results_from": datetime.date(year, 6, 1),
            "implementation_from": datetime.date(year, 7, 1),
            "done_from": datetime.date(year + 1, 12, 31),
            "synthetic": True,
        }
        demo = DemoCycle(cycle)
        lon = group.geometry.x.to_numpy()
        lat = group.geometry.y.to_numpy()
        for i, row in enumerate(group.itertuples()):
            stage = str(row.stage)
            progress = (
                100
                if stage == "done" or over
                else int(rng.integers(20, 91))
                if stage == "in_progress"
                else 0
            )
            demo.applications.append(
                {
                    "title": str(row.title),
                    "description": f"{row.title}. Заявка жителей района (демонстрационные данные).",
                    "category": CATEGORY_IDS.get(str(row.category), "yards"),
                    "cost_kzt": int(costs[i]),
                    "geometry": json.dumps(
                        {
                            "type": "Point",
                            "coordinates": [round(float(lon[i]), 7), round(float(lat[i]), 7)],
                        }
                    ),
                    "lon": float(lon[i]),
                    "lat": float(lat[i]),
                    "status": "rejected" if rejected[i] else "accepted",
                    "review_reason": str(rng.choice(REVIEW_FAILS))
                    if rejected[i]
                    else "Технически реализуемо",
                    "reviewed_by": "demo",
                    "progress": progress,
                    "work_finished": _date(row.completed_on) if stage == "done" else None,
                    "synthetic": True,
                }
            )
        demo.ballots = _ballots(rng, xy[accepted], costs[accepted], budget, accepted)
        out.append(demo)
    return out


def _date(value: Any) -> datetime.date | None:
    stamp = pd.to_datetime(value, errors="coerce")
    return None if pd.isna(stamp) else stamp.date()


def write_cycles(store: Store, cycles: list[DemoCycle]) -> int:
    """Write ``cycles`` into the budget tables in one transaction; a district that already has
    a cycle for the year is left as it is (so a re-load changes nothing). Return how many
    cycles were written."""
    t = store.metadata.tables
    cyc, apps, bal, items = (
        t["budget_cycles"],
        t["budget_applications"],
        t["budget_ballots"],
        t["budget_ballot_items"],
    )
    written = 0
    now = time.time()
    with store.write_transaction() as conn:
        for demo in cycles:
            c = demo.cycle
            if conn.execute(
                sa.select(cyc.c.id).where(cyc.c.year == c["year"], cyc.c.district == c["district"])
            ).first():
                continue
            cid = conn.execute(cyc.insert().values(**c, created_at=now)).inserted_primary_key[0]  # type: ignore[index]
            app_ids = [
                conn.execute(
                    apps.insert().values(**a, cycle_id=cid, submitted_at=now, reviewed_at=now)
                ).inserted_primary_key[0]  # type: ignore[index]
                for a in demo.applications
            ]
            # ballot ids come from the store (an explicit id would not move PostgreSQL's
            # sequence, and the next resident's ballot would collide with it)
            ballot_ids = (
                conn.execute(
                    bal.insert().returning(bal.c.id, sort_by_parameter_order=True),
                    [
                        {
                            "cycle_id": cid,
                            "account_id": None,
                            "created_at": now,
                            "updated_at": now,
                            "synthetic": True,
                        }
                        for _ in demo.ballots
                    ],
                )
                .scalars()
                .all()
            )
            conn.execute(
                items.insert(),
                [
                    {"ballot_id": ballot_id, "application_id": app_ids[j]}
                    for ballot_id, ballot in zip(ballot_ids, demo.ballots, strict=True)
                    for j in ballot
                ],
            )
            written += 1
    return written


def _ballots(
    rng: np.random.Generator, xy: np.ndarray, costs: np.ndarray, budget: int, index: np.ndarray
) -> list[list[int]]:
    """Return voters' approval ballots over the accepted projects (indexes into the
    district's applications), each within ``budget``."""
    m = len(costs)
    voters = int(rng.integers(MIN_VOTERS, MAX_VOTERS + 1))
    appeal = rng.normal(0.0, 0.8, m)
    homes = xy[rng.integers(0, m, voters)] + rng.normal(0.0, 900.0, (voters, 2))
    dist = np.hypot(homes[:, None, 0] - xy[None, :, 0], homes[:, None, 1] - xy[None, :, 1])
    score = (
        appeal[None, :]
        - np.log(2.0) * dist / DISTANCE_HALVING_M
        + rng.gumbel(0.0, 0.7, (voters, m))
    )
    wants = 1 + rng.poisson(2.0, voters)
    ballots: list[list[int]] = []
    for v in range(voters):
        chosen: list[int] = []
        spent = 0
        for j in np.argsort(-score[v]):
            if len(chosen) == min(int(wants[v]), 6):
                break
            if spent + costs[j] <= budget:
                chosen.append(int(index[j]))
                spent += int(costs[j])
        ballots.append(sorted(chosen))
    return ballots
