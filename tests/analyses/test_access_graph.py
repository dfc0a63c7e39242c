"""The street graph and the Python engine on a hand-built network with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from tests.analyses import access_city as city
from twin.analyses.access.graph import StreetGraph, build_graph
from twin.analyses.access.isochrone import check_minutes, isochrones
from twin.analyses.access.nearest import access_table, district_shares
from twin.analyses.access.profiles import DRIVE, WALK, WHEELCHAIR, categories, category
from twin.analyses.access.schools import school_load
from twin.analyses.access.search import ScipyEngine, Snapped, nearest, snap
from twin.core.errors import BadInput

WALK_MPM = 80.0  # 4.8 km/h
ENGINE = ScipyEngine()


@pytest.fixture(scope="module")
def graph() -> StreetGraph:
    return build_graph(city.roads())


def walk_minutes(
    graph: StreetGraph, frm: tuple[float, float], to: tuple[float, float], profile=WALK
) -> float:  # type: ignore[no-untyped-def]
    mg = graph.for_profile(profile)
    seeds, targets = snap(mg, city.metric(frm)), snap(mg, city.metric(to))
    minutes, _ = nearest(ENGINE, mg, seeds, targets, 60.0)
    return float(minutes[0])


def test_nodes_merge_shared_vertices_but_not_under_a_bridge(graph: StreetGraph) -> None:
    # A B C D E F K G H + (100,75) on B-D + 3 bridge vertices (its middle one kept apart).
    assert graph.n_nodes == 13
    assert graph.n_edges == 11
    assert graph.length.sum() == pytest.approx(
        100 + 250 + 150 + np.hypot(250, 50) + 100 + 200 + 300 + 100 + 100, abs=1e-3
    )


def test_known_shortest_paths(graph: StreetGraph) -> None:
    assert walk_minutes(graph, city.A, city.B) == pytest.approx(100 / WALK_MPM, rel=1e-6)
    assert walk_minutes(graph, city.A, city.E) == pytest.approx(city.E_BY_STEPS / WALK_MPM)
    assert walk_minutes(graph, city.A, city.D) == pytest.approx(250 / WALK_MPM)


def test_wheelchair_avoids_steps(graph: StreetGraph) -> None:
    step_free = walk_minutes(graph, city.A, city.E, WHEELCHAIR)
    assert step_free == pytest.approx(city.E_STEP_FREE / WALK_MPM)
    assert step_free > walk_minutes(graph, city.A, city.E)


def test_walking_avoids_motorways_and_points_snap_to_the_main_component(
    graph: StreetGraph,
) -> None:
    walk, drive = graph.for_profile(WALK), graph.for_profile(DRIVE)
    at_k = city.metric(city.K)
    assert snap(walk, at_k).offset_m[0] == pytest.approx(300.0)  # walked straight to A
    assert snap(drive, at_k).offset_m[0] == pytest.approx(0.0, abs=1e-6)
    # The island is not the main component: a point on it walks to the nearest main street.
    island = snap(walk, city.metric(city.G))
    assert walk.main[island.pos[0]]
    assert island.offset_m[0] > 500
    # And a search never reaches the island's nodes.
    cost, _ = ENGINE.node_costs(walk, snap(walk, city.metric(city.A)), 1e6)
    g_node = graph.u[graph.road_fid == 8][0]
    assert np.isinf(cost[g_node])


def test_one_way_streets_hold_for_driving_only(graph: StreetGraph) -> None:
    drive, walk = graph.for_profile(DRIVE), graph.for_profile(WALK)
    c_f = int(np.flatnonzero(graph.road_fid[drive.edge] == 6)[0])
    at_f = Snapped(np.array([c_f]), np.array([1.0]), np.array([0.0]), city.metric(city.F))
    c_node = drive.u[c_f]
    cost, _ = ENGINE.node_costs(drive, at_f, 1e6)
    assert np.isinf(cost[c_node])  # F → C is against the one-way
    from_c = Snapped(np.array([c_f]), np.array([0.0]), np.array([0.0]), city.metric(city.C))
    cost, _ = ENGINE.node_costs(drive, from_c, 1e6)
    assert cost[drive.v[c_f]] == pytest.approx(200 / (25_000 / 60))  # residential 25 km/h
    w = int(np.flatnonzero(graph.road_fid[walk.edge] == 6)[0])
    at_f_walk = Snapped(np.array([w]), np.array([1.0]), np.array([0.0]), city.metric(city.F))
    cost, _ = ENGINE.node_costs(walk, at_f_walk, 1e6)
    assert cost[walk.u[w]] == pytest.approx(200 / WALK_MPM)
    # One-way traps are not the main component for driving: nothing snaps onto C→F.
    assert not drive.main[c_f]


def test_a_source_on_the_targets_own_segment_is_reached_along_it(graph: StreetGraph) -> None:
    assert walk_minutes(graph, (150.0, 0.0), (160.0, 0.0)) == pytest.approx(10 / WALK_MPM)


def test_nearest_facility_by_category_and_wheelchair_destinations(graph: StreetGraph) -> None:
    frames = city.facilities()
    at_e = city.metric((340.0, 100.0))
    walk = access_table(ENGINE, graph, WALK, frames, at_e, categories("clinic,school"))
    wheel = access_table(ENGINE, graph, WHEELCHAIR, frames, at_e, categories("clinic"))
    assert walk.loc[0, "clinic_fid"] == 1  # the clinic by E, whatever its access
    assert walk.loc[0, "clinic_min"] < 1.0
    assert wheel.loc[0, "clinic_fid"] == 2  # only the accessible one by D counts
    assert wheel.loc[0, "clinic_min"] > 3.0
    assert walk.loc[0, "school_fid"] == 2
    assert walk.loc[0, "score15"] == 2


def test_parks_are_reached_at_their_edge(graph: StreetGraph) -> None:
    frames = city.facilities()
    t = access_table(ENGINE, graph, WALK, frames, city.metric((225.0, 0.0)), [category("park")])
    # The park's outline is 20 m from street B–C; it is sampled every 100 m along.
    assert 20 / WALK_MPM <= t.loc[0, "park_min"] <= (20 + 50) / WALK_MPM


def test_district_shares_weigh_residents() -> None:
    cells = pd.DataFrame(
        {
            "district": ["A", "A", "B", None],
            "population": [100.0, 300.0, 50.0, 10.0],
            "school_min": [5.0, 12.0, np.nan, 1.0],
            "score15": [1, 1, 0, 1],
        }
    )
    table = district_shares(cells, [category("school")], [10, 15]).set_index("district")
    assert table.loc["A", "school_10"] == pytest.approx(0.25)
    assert table.loc["A", "school_15"] == pytest.approx(1.0)
    assert table.loc["B", "school_15"] == 0.0
    assert table.loc["city", "population"] == 460.0
    assert table.loc["city", "school_15"] == pytest.approx(410 / 460)


def test_isochrone_holds_what_is_reachable_and_nothing_else(graph: StreetGraph) -> None:
    iso = isochrones(ENGINE, graph, WALK, tuple(city.metric(city.A)[0]), [4.0, 2.0])
    assert list(iso["minutes"]) == [4.0, 2.0]
    poly4 = iso.to_crs(32643).geometry.iloc[0]
    poly2 = iso.to_crs(32643).geometry.iloc[1]
    assert poly2.difference(poly4).area < 1e-3 * poly2.area

    # 4 min = 320 m: B (100), D (250) and 20 m up the steps from C (300) are reachable ...
    mg = graph.for_profile(WALK)
    origin = snap(mg, city.metric(city.A))
    probes = city.metric(city.B, city.D, (350.0, 15.0), (300.0, 0.0), city.E, city.F, city.G,
                         (100.0, 140.0), (230.0, 150.0))  # fmt: skip
    minutes, _ = nearest(ENGINE, mg, origin, snap(mg, probes), 60.0)
    inside = shapely.contains_xy(poly4, probes[:, 0], probes[:, 1])
    for m, ok in zip(minutes, inside, strict=True):
        if m <= 4.0:
            assert ok, m
        elif m > 4.0 + 50 / WALK_MPM + 0.1:  # beyond the 50 m buffer
            assert not ok, m
    assert inside[:4].all() and not inside[4:7].any()
    # ... and E (450 m) is not, while the step-free isochrone is smaller still there.
    assert not shapely.contains_xy(poly4, *city.metric(city.E)[0])


def test_minutes_are_checked() -> None:
    with pytest.raises(BadInput, match="minutes must be"):
        check_minutes([0])
    with pytest.raises(BadInput, match="minutes must be"):
        check_minutes([61])
    with pytest.raises(BadInput, match="unknown category"):
        categories("pub")


def test_school_load_counts_the_catchment() -> None:
    graph = build_graph(city.roads())
    frames = city.facilities()
    cells = pd.DataFrame({"h3": ["a", "b"], "population": [1000.0, 5000.0]}).assign(
        **dict(zip(("x", "y"), city.metric((0.0, 20.0), (340.0, -20.0)).T, strict=True))
    )
    result = school_load(ENGINE, graph, frames["schools"], cells, age_share=0.1)
    by = result.schools.set_index("fid")
    assert by.loc[1, "catchment_residents"] == 1000.0
    assert by.loc[2, "catchment_residents"] == 5000.0
    assert by.loc[1, "pupils_estimate"] == pytest.approx(100.0)
    assert by.loc[1, "load"] == pytest.approx(1.0)
    assert by.loc[2, "load"] == pytest.approx(0.5)
    assert not by["overloaded"].any()
    assert by.loc[1, "recorded_load"] == pytest.approx(1.2)
    assert result.assumptions["age_share"] == 0.1
    over = school_load(ENGINE, graph, frames["schools"], cells, age_share=0.2)
    assert over.schools.set_index("fid").loc[1, "overloaded"]
