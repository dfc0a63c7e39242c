"""Road closures in the access analyses, on the hand-built city whose routes are known
(tests/analyses/access_city.py): closing B–C sends A→E round by D, on both stores and both
engines, and a closure posted as a city event changes the isochrone served over HTTP while it
is in force, and only then."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest
import shapely

from tests.analyses import access_city as city
from tests.support.app import app_client
from tests.support.postgres import create_database
from twin.analyses.access.closures import closed_edges
from twin.analyses.access.graph import build_graph, to_lonlat
from twin.analyses.access.profiles import WALK
from twin.analyses.access.search import snap
from twin.analyses.access.service import AccessService
from twin.store import Store, open_store

SPEED = WALK.metres_per_minute


def _lonlat_line(*pts: tuple[float, float]) -> shapely.LineString:
    xy = city.metric(*pts)
    lon, lat = to_lonlat().transform(xy[:, 0], xy[:, 1])
    return shapely.LineString(np.column_stack([lon, lat]))


# B–C drawn by hand: a little off the street's axis (5 m north) and short of its ends
CLOSE_BC = _lonlat_line((110.0, 5.0), (340.0, 5.0))


@pytest.fixture(scope="module")
def toy_urls(tmp_path_factory: pytest.TempPathFactory, postgis_url: str) -> Iterator[list[str]]:
    urls = [
        f"gpkg:///{tmp_path_factory.mktemp('closures')}/toy.gpkg",
        create_database(postgis_url, f"twin_closures_toy_{os.getpid()}"),
    ]
    for url in urls:
        s = open_store(url)
        city.load_city(s)
        s.close()
    yield urls


def _minutes_to_e(svc: AccessService) -> float:
    mg = svc.graph.for_profile(WALK)
    seeds = snap(mg, city.metric(city.A))
    cost, _ = svc.engine.node_costs(mg, seeds, 60.0)
    e_node = int(np.argmin(np.hypot(*(svc.graph.node_xy - city.metric(city.E)[0]).T)))
    return float(cost[e_node])


def test_closure_takes_out_the_street_along_it_only() -> None:
    graph = build_graph(city.roads())
    mask = closed_edges(graph, [CLOSE_BC])
    roads = city.roads().set_index("fid")["source_id"]
    assert sorted({roads[f] for f in graph.road_fid[mask]}) == ["b-c"]
    # a short line across the bridge, over B–D: neither is closed (it runs along neither)
    across = _lonlat_line((100.0, 60.0), (100.0, 90.0))
    assert not closed_edges(graph, [across]).any()
    # an area over C closes the streets inside it, not those it merely touches
    area = _lonlat_line((300.0, -20.0), (560.0, -20.0)).buffer(0.0004)
    inside = {roads[f] for f in graph.road_fid[closed_edges(graph, [area])]}
    assert inside == {"c-f"}


def test_closed_road_changes_the_known_route_on_both_stores_and_engines(
    toy_urls: list[str],
) -> None:
    for url in toy_urls:
        store: Store = open_store(url)
        try:
            engines = ["python", "pgrouting"] if store.routing else ["python"]
            for engine in engines:
                open_ = AccessService(store, engine=engine)
                closed = AccessService(store, engine=engine, closures=[CLOSE_BC])
                # A→E: by the steps (A-B-C-E 450 m) while B–C is open, round by D when closed
                assert _minutes_to_e(open_) * SPEED == pytest.approx(city.E_BY_STEPS, rel=1e-6)
                assert _minutes_to_e(closed) * SPEED == pytest.approx(city.E_STEP_FREE, rel=1e-6), (
                    engine
                )
        finally:
            store.close()


def test_a_closure_event_changes_the_isochrone_while_in_force(toy_urls: list[str]) -> None:
    start = city.metric(city.A)[0]
    lon, lat = to_lonlat().transform(start[0], start[1])
    params = {"lon": lon, "lat": lat, "minutes": "3", "mode": "walk"}
    with app_client(toy_urls[0], "planner:plan-cl") as client:
        before = client.get("/api/analysis/isochrone", params={**params, "at": "2026-07-02T12:00"})
        assert before.status_code == 200 and "closed_edges" not in before.json()
        posted = client.post(
            "/api/city-events",
            json={
                "kind": "road_closure",
                "title": "B–C closed",
                "starts_at": "2026-07-01T00:00",
                "ends_at": "2026-07-05T00:00",
                "geometry": shapely.geometry.mapping(CLOSE_BC),
            },
            headers={"Authorization": "Bearer plan-cl"},
        )
        assert posted.status_code == 201, posted.text
        during = client.get("/api/analysis/isochrone", params={**params, "at": "2026-07-02T12:00"})
        after = client.get("/api/analysis/isochrone", params={**params, "at": "2026-07-06T12:00"})
    assert during.json()["closed_edges"] >= 1
    area = {
        name: r.json()["features"][0]["properties"]["streets_km"]
        for name, r in (("before", before), ("during", during), ("after", after))
    }
    # 3 minutes of walking (~250 m) from A: along A-B-C while open; B-C is gone while closed
    assert area["during"] < area["before"] - 0.1
    assert area["after"] == area["before"]
