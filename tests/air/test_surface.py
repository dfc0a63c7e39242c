"""The surface's interpolators and their leave-one-out cross-validation, on hand-made fields
whose answers are known."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from twin.air import surface
from twin.core.errors import BadInput


def test_idw_loo_on_three_points_matches_the_hand_computation() -> None:
    # Leaving out the end point at 0: weights 1/1 (value 1) and 1/4 (value 2) give 1.2.
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    r = surface.loo_residuals("idw", xy, np.array([0.0, 1.0, 2.0]))
    np.testing.assert_allclose(r, [1.2, 0.0, -1.2])


def test_a_constant_field_has_no_error_whatever_the_method() -> None:
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 20_000, (8, 2))
    cv = surface.cross_validate(xy, np.full(8, 42.0))
    for method in surface.METHODS:
        assert cv.errors[method]["rmse"] == pytest.approx(0.0, abs=1e-6)
    assert cv.chosen == "idw"  # a tie goes to the simpler method


def test_kriging_wins_on_a_smooth_gradient_and_the_errors_say_why() -> None:
    # z = 10 per km eastwards on a 5 x 5 km grid: IDW pulls every estimate towards the
    # mean (bull's-eyes), kriging follows the gradient.
    gx, gy = np.meshgrid(np.arange(5.0), np.arange(5.0))
    xy = np.column_stack([gx.ravel(), gy.ravel()]) * 1000.0
    z = xy[:, 0] / 100.0
    cv = surface.cross_validate(xy, z)
    assert cv.chosen == "kriging"
    assert cv.errors["kriging"]["rmse"] < cv.errors["idw"]["rmse"] / 2
    assert cv.n == 25


def test_a_grid_reproduces_the_stations_and_is_bounded() -> None:
    xy = np.array([[500.0, 500.0], [1500.0, 500.0], [500.0, 1500.0], [1500.0, 1500.0]])
    z = np.array([1.0, 2.0, 3.0, 4.0])
    g = surface.grid_over("idw", xy, z, (0.0, 0.0, 2000.0, 2000.0), 1000.0)
    assert g.shape == (2, 2)
    # row 0 is the north row: the stations at y = 1500
    np.testing.assert_allclose(g.values, [[3.0, 4.0], [1.0, 2.0]])
    with pytest.raises(BadInput, match="cells"):
        surface.grid_over("idw", xy, z, (0.0, 0.0, 1e6, 1e6), 100.0)


def test_too_few_stations_is_a_clear_error() -> None:
    with pytest.raises(BadInput, match="at least 4"):
        surface.cross_validate(np.zeros((3, 2)), np.ones(3))


def test_docstring_examples_run() -> None:
    assert doctest.testmod(surface).failed == 0
