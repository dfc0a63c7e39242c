"""Site selection on hand-built towns: known answers for demand, competition, weights,
catchments across a river, niches, and the walks between many points."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.analyses import access_city
from tests.analyses import site_city as city
from twin.analyses.access.graph import build_graph
from twin.analyses.access.profiles import WALK
from twin.analyses.access.search import ScipyEngine, nearest, snap
from twin.analyses.site.catchments import catchments, niches
from twin.analyses.site.categories import categories, category, outlets
from twin.analyses.site.reach import local_times
from twin.analyses.site.scoring import DEFAULT_WEIGHTS, parse_weights, score
from twin.core.errors import BadInput


def cell_row(ranked: pd.DataFrame, model: object, x: float, y: float) -> pd.Series:
    """Return the ranked row of the cell holding local point (x, y)."""
    lon, lat = city.lonlat(x, y)
    grid = model.cells(9)  # type: ignore[attr-defined]
    code = grid.h3[grid.locate(np.array([lon]), np.array([lat]))[0]]
    return ranked.set_index("h3").loc[code]


def test_no_competitor_outranks_same_demand_next_to_an_outlet() -> None:
    model = city.twin_towns()
    ranked = score(model.factors(city.PHARMACY), DEFAULT_WEIGHTS)
    west = cell_row(ranked, model, *city.W)
    east = cell_row(ranked, model, *city.E)
    # Every resident of each town is within 20 minutes of its centre: same demand.
    assert west["residents_within"] == pytest.approx(1000.0)
    assert east["residents_within"] == pytest.approx(1000.0)
    assert west["demand"] == pytest.approx(east["demand"])
    assert west["access"] == pytest.approx(east["access"])
    # E has no pharmacy within reach: the new one would serve everyone.
    assert east["competition"] == pytest.approx(1.0)
    assert east["captured"] == pytest.approx(1000.0)
    assert east["outlets_within"] == 0 and west["outlets_within"] == 1
    assert 0.3 < west["competition"] < 0.75
    assert east["score"] > west["score"] and east["rank"] < west["rank"]
    # The contributions add up to the score.
    pts = ranked[["demand_pts", "competition_pts", "access_pts"]].sum(axis=1)
    np.testing.assert_allclose(pts, ranked["score"])


def test_weights_change_the_order_as_they_should() -> None:
    model = city.twin_towns(busy_west=True)
    factors = model.factors(city.PHARMACY)

    def order(weights: str) -> tuple[float, float]:
        ranked = score(factors, parse_weights(weights))
        return cell_row(ranked, model, *city.W)["score"], cell_row(ranked, model, *city.E)["score"]

    w_default, e_default = order("")
    assert e_default > w_default  # competition beats W's bus stops and shops
    w_access, e_access = order("access:5")
    assert w_access > e_access  # access weighs most: busy W wins
    w_demand, e_demand = order("demand:1,competition:0,access:0")
    assert w_demand == pytest.approx(e_demand)  # demand alone cannot tell them apart
    w_comp, e_comp = order("demand:0,competition:1,access:0")
    assert e_comp == pytest.approx(100.0) and w_comp < 75.0
    west = cell_row(score(factors, DEFAULT_WEIGHTS), model, *city.W)
    assert west["bus_stops_within"] == 3 and west["transit"] == pytest.approx(1.0)
    assert west["pois_within"] == 6  # the cafés; its own pharmacy is not footfall


def test_catchments_follow_the_network_not_the_crow() -> None:
    model = city.river_town()
    factors = model.factors(city.PHARMACY)
    found = model.outlets(city.PHARMACY)
    assert list(found.fid) == [1, 2]
    grid = model.cells(9)
    lon, lat = city.lonlat(0.0, -110.0)
    south = grid.locate(np.array([lon]), np.array([lat]))[0]
    lon, lat = city.lonlat(0.0, 110.0)
    north = grid.locate(np.array([lon]), np.array([lat]))[0]
    # As the crow flies the south-bank cell is nearer N; on foot N is 4 km away, by the bridge.
    d_north = np.hypot(*(grid.xy[south] - found.xy[0]))
    d_south = np.hypot(*(grid.xy[south] - found.xy[1]))
    assert d_north < d_south
    assert factors.loc[south, "nearest_fid"] == 2
    assert factors.loc[north, "nearest_fid"] == 1
    assert factors.loc[south, "nearest_min"] < 20
    shapes = catchments(factors, found)
    assert list(shapes["fid"]) == [1, 2]
    assert (shapes["residents"] > 0).all() and shapes.geometry.notna().all()
    assigned = factors.loc[factors["nearest_fid"] >= 0, "residents_cell"].sum()
    assert shapes["residents"].sum() == pytest.approx(assigned)
    # The catchments do not overlap, and each holds its own outlet.
    n, s = shapes.geometry.iloc[0], shapes.geometry.iloc[1]
    assert n.intersection(s).area < 1e-12
    assert n.contains(_point(found.lon[0], found.lat[0]))
    assert s.contains(_point(found.lon[1], found.lat[1]))


def _point(lon: float, lat: float) -> object:
    import shapely

    return shapely.Point(lon, lat)


def test_niches_are_high_scoring_cells_without_an_outlet() -> None:
    model = city.twin_towns()
    ranked = score(model.factors(city.PHARMACY), DEFAULT_WEIGHTS)
    found = niches(ranked, city.PHARMACY, quantile=0.5)
    assert len(found) >= 1
    east = cell_row(ranked, model, *city.E)
    # The first niche is town E (its best cells tie with E's centre: everyone in reach).
    assert found.iloc[0].geometry.contains(_cell_centre(east.name))
    assert found.iloc[0]["best_score"] == pytest.approx(east["score"])
    assert found.iloc[0]["captured"] == pytest.approx(1000.0)
    assert (found["cells"] >= 1).all()
    # No niche cell has a pharmacy within reach.
    west = cell_row(ranked, model, *city.W).name
    assert all(not g.contains(_cell_centre(west)) for g in found.geometry)


def _cell_centre(code: str) -> object:
    import h3
    import shapely

    lat, lon = h3.cell_to_latlng(code)
    return shapely.Point(lon, lat)


def test_population_is_kept() -> None:
    model = city.river_town()
    grid = model.cells(9)
    assert grid.residents.sum() == pytest.approx(800.0 * 20)
    assert grid.inside.sum() > 0


def test_local_times_equal_the_access_engine() -> None:
    """On the hand-built access network (one-way street, steps, a bridge over a street)."""
    mg = build_graph(access_city.roads()).for_profile(WALK)
    rng = np.random.default_rng(3)
    xy = access_city.ORIGIN + rng.uniform([-100, -100], [600, 300], size=(60, 2))
    pts = snap(mg, xy)
    pairs = local_times(mg, pts, pts, 8.0, tile_m=150.0)  # small tiles: many sub-graphs
    got = pd.Series(pairs.minutes, index=pd.MultiIndex.from_arrays([pairs.src, pairs.dst]))
    for s in range(len(pts)):
        ref, _ = nearest(ScipyEngine(), mg, pts.take(np.array([s])), pts, 8.0)
        reached = np.flatnonzero(np.isfinite(ref))
        mine = got.loc[s] if s in got.index.get_level_values(0) else pd.Series(dtype=float)
        assert sorted(mine.index) == list(reached)
        np.testing.assert_allclose(mine.to_numpy(), ref[mine.index.to_numpy()], atol=1e-9)


def test_weights_and_categories_reject_bad_input() -> None:
    assert parse_weights(None) == DEFAULT_WEIGHTS
    assert parse_weights("demand:2, access:0")["demand"] == 2.0
    for bad in ("demand:-1", "demand:x", "footfall:1", "demand", "demand:inf",
                "demand:0,competition:0,access:0"):  # fmt: skip
        with pytest.raises(BadInput):
            parse_weights(bad)
    with pytest.raises(BadInput, match="unknown category"):
        category("casino")
    assert category("Supermarket").name == "grocery"
    assert {"pharmacy", "cafe", "grocery", "bank", "fuel", "clinic"} <= set(categories())
    pois = city.twin_towns(busy_west=True).frames["pois"]
    assert list(outlets(pois, category("cafe"))["category"]) == ["cafe"] * 6
