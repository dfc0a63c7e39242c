"""Placement: the lazy greedy is the plain greedy, never worse than the best single camera,
and close to the exact maximal covering optimum (spopt, CBC) on a small instance."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from tests.analyses import coverage_scene as sc
from twin.analyses.coverage.analysis import PreparedScope
from twin.analyses.coverage.placement import Demand, Problem, Template, lazy_greedy, merge_demand
from twin.analyses.coverage.targets import Weights
from twin.core.errors import BadInput


def plain_greedy(k: int, cover: list[np.ndarray], weight: np.ndarray) -> list[tuple[int, float]]:
    covered = np.zeros(len(weight), bool)
    out = []
    for _ in range(k):
        gains = np.array([weight[c[~covered[c]]].sum() for c in cover])
        best = int(np.argmax(gains))
        if gains[best] <= 0:
            break
        out.append((best, float(gains[best])))
        covered[cover[best]] = True
    return out


@pytest.mark.parametrize("seed", range(8))
def test_lazy_greedy_with_loose_bounds_is_the_plain_greedy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_demand, n_cand = 400, 120
    weight = rng.uniform(0.1, 5.0, n_demand)
    cover = [rng.choice(n_demand, size=rng.integers(0, 40), replace=False) for _ in range(n_cand)]
    exact = np.array([weight[c].sum() for c in cover])
    bound = exact * rng.uniform(1.0, 4.0, n_cand) + 1e-9  # any upper bound will do
    calls = []

    def evaluate(idx: np.ndarray) -> list[np.ndarray]:
        calls.append(len(idx))
        return [cover[i] for i in idx]

    picks, evaluated = lazy_greedy(15, bound, evaluate, weight, batch=8)
    expected = plain_greedy(15, cover, weight)
    assert [p.candidate for p in picks] == [c for c, _ in expected]
    assert [p.gain for p in picks] == pytest.approx([g for _, g in expected])
    assert evaluated == sum(calls) <= n_cand


@pytest.fixture(scope="module")
def prepared() -> PreparedScope:
    return PreparedScope(sc.grid_city(), sc.box(-600, -600, 600, 600), "grid")


def _problem(prepared: PreparedScope, template: Template, spacing: float) -> Problem:
    cand = prepared.candidates(template, spacing_m=spacing)
    demand = Demand.from_model(prepared.model, Weights(), 5.0)
    return Problem.build(cand, template, demand, prepared.obstacles)


def test_bounds_are_upper_bounds(prepared: PreparedScope) -> None:
    problem = _problem(prepared, Template(fov_deg=70, range_m=90), 60.0)
    idx = np.arange(len(problem))
    exact = np.array([problem.demand.weight[c].sum() for c in problem.covers(idx)])
    assert (problem.bound >= exact - 1e-6).all()
    assert exact.max() > 0


def test_placement_is_never_worse_than_the_best_single_candidate(prepared: PreparedScope) -> None:
    template = Template(fov_deg=70, range_m=90)
    result = prepared.placement(6, template=template, spacing_m=60.0)
    problem = _problem(prepared, template, 60.0)
    idx = np.arange(len(problem))
    single = max(problem.demand.weight[c].sum() for c in problem.covers(idx))
    gains = result.proposed["gain_weight"].to_numpy()
    assert gains[0] == pytest.approx(single, rel=1e-6, abs=0.1)
    assert gains.sum() >= single - 0.1
    assert (np.diff(gains) <= 1e-6).all()  # marginal gains never grow
    assert result.after["covered_weight"] > result.before["covered_weight"]
    assert len(result.proposed) == 6 and result.stats["evaluated"] <= len(problem)
    # The proposed cameras stand where candidates were, looking along the street.
    pts = np.asarray(result.proposed.geometry.values, dtype=object)
    assert not prepared.obstacles.inside(pts).any()


def test_greedy_reaches_95_percent_of_the_mclp_optimum(prepared: PreparedScope) -> None:
    # The maximal covering location model solved exactly with CBC (the formulation spopt's
    # MCLP builds; bench/coverage.py runs spopt itself on a bigger instance).
    import pulp

    template = Template(fov_deg=80, range_m=80)
    problem = _problem(prepared, template, 120.0)
    cover = problem.covers(np.arange(len(problem)))
    k = 5
    picks, _ = lazy_greedy(k, problem.bound, lambda i: [cover[j] for j in i], problem.demand.weight)
    ours = sum(p.gain for p in picks)
    # The same problem with identical demand cells merged (exact solvers grow with demand).
    merged, weight = merge_demand(cover, problem.demand.weight)
    again, _ = lazy_greedy(k, np.full(len(merged), 1e18), lambda i: [merged[j] for j in i], weight)
    assert sum(p.gain for p in again) == pytest.approx(ours)
    covering: list[list[int]] = [[] for _ in weight]
    for j, cells in enumerate(merged):
        for i in cells.tolist():
            covering[i].append(j)
    mclp = pulp.LpProblem("mclp", pulp.LpMaximize)
    x = [pulp.LpVariable(f"x{j}", cat="Binary") for j in range(len(merged))]
    y = [pulp.LpVariable(f"y{i}", cat="Binary") for i in range(len(weight))]
    mclp += pulp.lpSum(float(w) * yi for w, yi in zip(weight, y, strict=True))
    mclp += pulp.lpSum(x) == k
    for i, js in enumerate(covering):
        mclp += y[i] <= pulp.lpSum(x[j] for j in js)
    mclp.solve(pulp.PULP_CBC_CMD(msg=False))
    optimum = float(pulp.value(mclp.objective))
    assert ours <= optimum * (1 + 1e-9) + 1e-6  # nothing beats the optimum
    assert ours >= 0.95 * optimum


def test_k_must_fit_the_candidates(prepared: PreparedScope) -> None:
    with pytest.raises(BadInput, match="candidate cameras in the scope"):
        prepared.placement(100000 // 200, spacing_m=2000.0, intersections=False)
    with pytest.raises(BadInput, match="k must be between 1"):
        prepared.placement(0)
    with pytest.raises(BadInput, match="spacing_m must be between"):
        prepared.placement(1, spacing_m=1.0)


def test_given_candidates_with_and_without_heading(prepared: PreparedScope) -> None:
    x = np.array([sc.X0 - 300.0, sc.X0 + 100.0, sc.X0 + 5000.0])
    y = np.array([sc.Y0 + 250.0, sc.Y0 - 250.0, sc.Y0])
    heading = np.array([90.0, np.nan, 0.0])
    cand = prepared.candidates(Template(), given=(x, y, heading))
    # the third point is outside the scope; the second tries eight directions
    assert len(cand) == 1 + 8
    result = prepared.placement(2, given=(x, y, heading))
    assert set(result.proposed["site"]) == {"given"}
    with pytest.raises(BadInput, match="none of the given points"):
        prepared.candidates(Template(), given=(x[2:], y[2:], heading[2:]))


def test_ptz_template_needs_one_candidate_per_site(prepared: PreparedScope) -> None:
    fixed = prepared.candidates(Template(), spacing_m=100.0)
    dome = prepared.candidates(Template(kind="ptz"), spacing_m=100.0)
    assert len(dome) == fixed["site"].nunique() < len(fixed)
    result = prepared.placement(3, template=Template(kind="ptz", range_m=60), spacing_m=100.0)
    assert (result.proposed["fov_deg"] == 360).all()
    disc = shapely.area(shapely.Point(0, 0).buffer(60, 64))
    assert result.proposed["gain_m2"].iloc[0] <= disc * 1.01


def test_candidates_that_cover_nothing(prepared: PreparedScope) -> None:
    demand = Demand.from_model(prepared.model, Weights(), 5.0)
    far = shapely.box(sc.X0 + 5000, sc.Y0, sc.X0 + 5010, sc.Y0 + 10)
    assert [len(c) for c in demand.covered_by(np.array([far, far]))] == [0, 0]
