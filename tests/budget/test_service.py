"""The budget process over both stores: phase rules, applications (in their cycle's district)
and review, the knapsack limit, one ballot per resident (also under 50 concurrent
submissions), ballot secrecy and counting when voting closes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import shapely
import sqlalchemy as sa

from twin.budget import service
from twin.core.errors import BadInput, Conflict, NotFound
from twin.store import Store

POINT = {"type": "Point", "coordinates": [76.93, 43.25]}


def _apply(store: Store, cycle_id: int, account: int, cost: int, title: str) -> dict[str, Any]:
    return service.submit_application(
        store,
        cycle_id,
        account,
        title=title,
        description="a playground in the yard",
        category="playgrounds",
        cost_kzt=cost,
        location=POINT,
    )


def _voting_cycle(store: Store, rule: str = "greedy") -> tuple[int, list[int]]:
    """A cycle of budget 120 with four accepted projects of 40 (ids in order), in voting."""
    cycle = service.create_cycle(
        store, year=2026, district="Алмалинский", budget_kzt=120, rule=rule
    )
    ids = [_apply(store, cycle["id"], 100 + i, 40, f"project {i}")["id"] for i in range(4)]
    for pid in ids:
        service.review_application(store, pid, feasible=True, reason="feasible", reviewer="k1")
    service.advance(store, cycle["id"])  # review
    service.advance(store, cycle["id"])  # voting
    return cycle["id"], ids


def test_phases_decide_what_is_allowed(store: Store) -> None:
    cycle = service.create_cycle(store, year=2026, district="Медеуский", budget_kzt=1_000_000)
    cid = cycle["id"]
    assert cycle["phase"] == "applications"
    app = _apply(store, cid, 1, 300_000, "Lights")
    with pytest.raises(BadInput, match="cannot vote in the 'applications' phase"):
        service.cast_ballot(store, cid, 1, [app["id"]])
    with pytest.raises(BadInput, match="cannot see the counts"):
        service.results(store, cid)
    service.advance(store, cid)
    with pytest.raises(BadInput, match="cannot submit an application in the 'review' phase"):
        _apply(store, cid, 2, 100, "late")
    # voting cannot open while an application awaits review
    with pytest.raises(BadInput, match="1 applications still await review"):
        service.advance(store, cid)
    service.review_application(
        store, app["id"], feasible=True, reason="ok", reviewer="k1", checked_cost_kzt=350_000
    )
    assert service.advance(store, cid)["phase"] == "voting"
    with pytest.raises(BadInput, match="cannot review an application in the 'voting' phase"):
        service.review_application(store, app["id"], feasible=False, reason="no", reviewer="k")
    for phase in ("results", "implementation", "done"):
        assert service.advance(store, cid)["phase"] == phase
    with pytest.raises(BadInput, match="no phase after 'done'"):
        service.advance(store, cid)
    with pytest.raises(Conflict, match="already has a budget cycle for 2026"):
        service.create_cycle(store, year=2026, district="Медеуский", budget_kzt=5)


def test_bad_applications_are_refused(store: Store) -> None:
    cid = service.create_cycle(store, year=2026, district="Бостандыкский", budget_kzt=10**8)["id"]
    for cost in (0, -5, 10**8 + 1, 1.5, "100", True):
        with pytest.raises(BadInput, match="cost_kzt"):
            _apply(store, cid, 1, cost, "x")  # type: ignore[arg-type]
    bad_places: list[Any] = [
        {"type": "Point", "coordinates": [2.35, 48.85]},  # Paris
        {"type": "LineString", "coordinates": [[76.9, 43.2], [76.91, 43.21]]},
        {
            "type": "Polygon",
            "coordinates": [
                [[76.9, 43.2], [76.91, 43.21], [76.91, 43.2], [76.9, 43.21], [76.9, 43.2]]
            ],
        },
        "here",
    ]
    for place in bad_places:
        with pytest.raises(BadInput, match="location"):
            service.submit_application(
                store,
                cid,
                1,
                title="t",
                description="d",
                category="sport",
                cost_kzt=10,
                location=place,
            )
    with pytest.raises(BadInput, match="category"):
        service.submit_application(
            store,
            cid,
            1,
            title="t",
            description="d",
            category="casino",
            cost_kzt=10,
            location=POINT,
        )
    with pytest.raises(NotFound):
        _apply(store, cid + 99, 1, 10, "x")
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM budget_applications")).scalar() == 0


def test_ballots_knapsack_one_per_resident_and_secret(store: Store) -> None:
    cid, ids = _voting_cycle(store)
    with pytest.raises(BadInput, match="cost 160 tenge together, more than the district's budget"):
        service.cast_ballot(store, cid, 7, ids)
    other = service.create_cycle(store, year=2026, district="Ауэзовский", budget_kzt=100)["id"]
    foreign = _apply(store, other, 8, 10, "elsewhere")["id"]
    with pytest.raises(BadInput, match="belongs to another cycle"):
        service.cast_ballot(store, cid, 7, [ids[0], foreign])
    with pytest.raises(BadInput, match="only once"):
        service.cast_ballot(store, cid, 7, [ids[0], ids[0]])
    assert service.my_ballot(store, cid, 7) is None  # nothing stored by the refusals

    ballot = service.cast_ballot(store, cid, 7, ids[:3])
    assert (ballot["projects"], ballot["spent_kzt"], ballot["left_kzt"]) == (ids[:3], 120, 0)
    with pytest.raises(Conflict, match="already voted"):
        service.cast_ballot(store, cid, 7, ids[:1])
    changed = service.change_ballot(store, cid, 7, [ids[3]])
    assert (changed["projects"], changed["left_kzt"]) == ([ids[3]], 80)
    with pytest.raises(NotFound, match="no ballot"):
        service.change_ballot(store, cid, 8, [ids[3]])
    # secret: another resident sees nothing of it, and nobody sees counts while voting
    assert service.my_ballot(store, cid, 8) is None
    assert all("votes" not in p for p in service.list_applications(store, cid))
    # no rule change once a ballot exists
    with pytest.raises(Conflict, match="1 ballots are already cast"):
        service.set_rules(store, cid, rule="mes")
    assert [t["ballots"] for t in service.turnout(store) if t["cycle_id"] == cid] == [1]


def test_one_ballot_per_resident_under_50_concurrent_submissions(store: Store) -> None:
    cid, ids = _voting_cycle(store)

    def submit(_: int) -> str:
        try:
            service.cast_ballot(store, cid, 42, [ids[0]])
            return "cast"
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(submit, range(50)))
    assert outcomes.count("cast") == 1 and outcomes.count("conflict") == 49
    with store.engine.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM budget_ballots WHERE account_id = 42"))
        assert n.scalar() == 1


def test_unique_constraint_holds_in_the_store_itself(store: Store) -> None:
    cid, _ = _voting_cycle(store)
    ballots = store.metadata.tables["budget_ballots"]
    row = {"cycle_id": cid, "account_id": 5, "created_at": 0.0, "updated_at": 0.0}
    with store.write_transaction() as conn:
        conn.execute(ballots.insert().values(**row, synthetic=False))
    with pytest.raises(sa.exc.IntegrityError), store.write_transaction() as conn:
        conn.execute(ballots.insert().values(**row, synthetic=False))


@pytest.mark.parametrize("rule", ["greedy", "mes"])
def test_closing_the_vote_counts_with_the_cycles_rule(store: Store, rule: str) -> None:
    # the hand-worked instance of tests/budget/test_counting.py through the store
    cid, (a, b, c, d) = _voting_cycle(store, rule=rule)
    for voter in range(6):
        service.cast_ballot(store, cid, 1000 + voter, [a, b, c])
    for voter in range(4):
        service.cast_ballot(store, cid, 2000 + voter, [d])
    assert service.advance(store, cid)["phase"] == "results"
    with pytest.raises(BadInput, match="cannot vote in the 'results' phase"):
        service.change_ballot(store, cid, 1000, [d])
    res = service.results(store, cid)
    expected = [a, b, c] if rule == "greedy" else [a, d, b]
    assert [w["id"] for w in res["winners"]] == expected
    assert (res["ballots"], res["spent_kzt"], res["left_kzt"]) == (10, 120, 0)
    loser = res["losers"][0]
    assert loser["id"] == (d if rule == "greedy" else c) and loser["why"]
    apps = {p["id"]: p for p in service.list_applications(store, cid)}
    assert apps[a]["votes"] == 6 and apps[d]["votes"] == 4
    assert {p for p in apps if apps[p]["selected"]} == set(expected)
    assert all(apps[p]["progress"] == 0 for p in expected)
    service.advance(store, cid)
    work = service.report_progress(store, expected[0], progress=60)
    assert work["progress"] == 60
    with pytest.raises(BadInput, match="did not win"):
        service.report_progress(store, loser["id"], progress=10)


def test_a_project_lies_in_its_cycles_district(store: Store) -> None:
    # two districts side by side (tests/appeals/scene.py): POINT is in the west one
    from tests.appeals.scene import EAST, WEST, load_rows

    west = shapely.MultiPolygon([shapely.box(76.85, 43.20, 76.95, 43.30)])
    east = shapely.MultiPolygon([shapely.box(76.95, 43.20, 77.05, 43.30)])
    load_rows(store, "districts", {"source_id": ["w", "e"], "name": [WEST, EAST]}, [west, east])
    cid = service.create_cycle(store, year=2026, district=EAST, budget_kzt=10**8)["id"]
    with pytest.raises(BadInput, match=f"location must be in {EAST}.*it is in {WEST}"):
        _apply(store, cid, 1, 1000, "in the next district")
    area = {
        "type": "Polygon",
        "coordinates": [[[76.90, 43.24], [76.91, 43.24], [76.91, 43.245], [76.90, 43.24]]],
    }
    with pytest.raises(BadInput, match=f"location must be in {EAST}"):
        service.submit_application(
            store,
            cid,
            1,
            title="a park over there",
            description="d",
            category="greening",
            cost_kzt=1000,
            location=area,
        )
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM budget_applications")).scalar() == 0
    inside = {"type": "Point", "coordinates": [77.0, 43.25]}
    app = service.submit_application(
        store,
        cid,
        1,
        title="lights",
        description="d",
        category="lighting",
        cost_kzt=1000,
        location=inside,
    )
    assert app["status"] == "submitted"
    # a cycle whose district the store has no boundary of cannot be told: not refused
    other = service.create_cycle(store, year=2026, district="Somewhere", budget_kzt=10**8)["id"]
    assert _apply(store, other, 1, 1000, "anywhere")["status"] == "submitted"


def _box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_an_application_located_by_an_area(store: Store) -> None:
    """An area within limits is stored and drawn (its point at the centre, its polygon in
    ``budget_cycle_areas``); one that reaches beyond the district's 50 m margin, is over
    1 km² or under 10 m², has too many vertices or crosses itself is refused, naming it, and
    nothing is stored. By hand at 43.25° N: 0.001° of longitude is ~81.1 m, of latitude
    ~111.1 m."""
    import layers
    from tests.appeals.scene import EAST, WEST, load_rows

    west = shapely.MultiPolygon([shapely.box(76.85, 43.20, 76.95, 43.30)])
    east = shapely.MultiPolygon([shapely.box(76.95, 43.20, 77.05, 43.30)])
    load_rows(store, "districts", {"source_id": ["w", "e"], "name": [WEST, EAST]}, [west, east])
    cid = service.create_cycle(store, year=2026, district=EAST, budget_kzt=10**8)["id"]

    def apply(location: dict[str, Any]) -> dict[str, Any]:
        return service.submit_application(
            store,
            cid,
            1,
            title="a square",
            description="benches and trees",
            category="greening",
            cost_kzt=1000,
            location=location,
        )

    refused = {
        # 0.0015° (~122 m) west of the boundary: ~72 m past the margin x ~222 m = ~16,000 m²
        "must lie in": _box(76.9485, 43.249, 76.96, 43.251),
        "1,000,000 m²": _box(76.96, 43.22, 76.98, 43.23),  # ~1,620 m x ~1,110 m
        "less than 10 m²": _box(76.99, 43.25, 76.99002, 43.25002),  # ~1.6 m x ~2.2 m
        "at most 500 vertices, not 501": {
            "type": "Polygon",
            "coordinates": [
                [[77.0 + 0.001 * (i % 2), 43.25 + 0.00001 * i] for i in range(500)]
                + [[77.0, 43.25]]
            ],
        },
        "self-crossing": {
            "type": "Polygon",
            "coordinates": [
                [[77.0, 43.25], [77.01, 43.26], [77.01, 43.25], [77.0, 43.26], [77.0, 43.25]]
            ],
        },
    }
    for words, location in refused.items():
        with pytest.raises(BadInput, match=words) as err:
            apply(location)
        if words == "must lie in":
            outside = int(str(err.value).split(": ")[-1].split(" m²")[0].replace(",", ""))
            assert 15_000 < outside < 17_000, outside
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM budget_applications")).scalar() == 0

    # ~810 m x ~222 m, well inside; and one reaching 0.0003° (~24 m) over the boundary: within
    # the margin
    inside = apply(_box(76.99, 43.249, 77.0, 43.251))
    over = apply(_box(76.9497, 43.249, 76.96, 43.251))
    assert inside["location"]["type"] == "Polygon"
    assert 76.99 < inside["lon"] < 77.0 and 43.249 < inside["lat"] < 43.251
    assert over["lon"] > 76.95  # its centre is in the district
    areas = store.read_frame(layers.get("budget_cycle_areas"))
    points = store.read_frame(layers.get("budget_cycle_projects"))
    assert sorted(areas["project_id"]) == sorted(points["project_id"]) == [inside["id"], over["id"]]
    drawn = areas.set_index("project_id").geometry[inside["id"]]
    assert drawn.geom_type == "MultiPolygon"
    assert drawn.equals(shapely.MultiPolygon([shapely.box(76.99, 43.249, 77.0, 43.251)]))
    assert set(areas["status"]) == {"application"}
    # a point-located project is a point only
    point = apply({"type": "Point", "coordinates": [77.0, 43.25]})
    assert point["id"] not in set(store.read_frame(layers.get("budget_cycle_areas"))["project_id"])
