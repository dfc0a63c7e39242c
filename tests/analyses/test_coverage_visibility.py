"""Visibility polygons against answers worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from twin.analyses.coverage.visibility import Obstacles, view_sectors, visibility_polygons

NONE = Obstacles.from_geometries(np.empty(0, dtype=object))


def vis(x, y, heading, fov, reach, obstacles=NONE, active=None):
    return visibility_polygons(
        np.atleast_1d(np.asarray(x, float)),
        np.atleast_1d(np.asarray(y, float)),
        np.atleast_1d(np.asarray(heading, float)),
        np.atleast_1d(np.asarray(fov, float)),
        np.atleast_1d(np.asarray(reach, float)),
        obstacles,
        active=active,
    )


@pytest.mark.parametrize("fov", [1.0, 30.0, 90.0, 179.0, 270.0, 359.5, 360.0])
@pytest.mark.parametrize("heading", [0.0, 37.5, 200.0])
def test_one_camera_in_the_open_covers_exactly_its_sector(fov: float, heading: float) -> None:
    reach = 120.0
    (poly,) = vis(0, 0, heading, fov, reach)
    assert shapely.area(poly) == pytest.approx(fov / 360 * math.pi * reach**2, rel=0.005)
    # The sector points where it should: along the heading (clockwise from north) …
    ahead = shapely.Point(
        60 * math.sin(math.radians(heading)), 60 * math.cos(math.radians(heading))
    )
    assert poly.contains(ahead)
    # … and not straight behind, unless it sees all around.
    behind = shapely.Point(-ahead.x, -ahead.y)
    assert poly.contains(behind) == (fov >= 360)
    assert not poly.contains(shapely.Point(0, reach * 1.01))


def test_a_360_camera_is_a_disc() -> None:
    (poly,) = vis(5, 7, 123.0, 360.0, 80.0)
    assert shapely.area(poly) == pytest.approx(math.pi * 80**2, rel=0.001)
    assert shapely.hausdorff_distance(poly, shapely.Point(5, 7).buffer(80, 64)) < 0.5


def test_a_wall_across_the_sector_removes_what_lies_behind_it() -> None:
    # Camera at the origin looking north, 90° wide, 100 m. A 60 m wall 40 m ahead (1 m
    # thick) spans ±atan(30/40) = ±36.87°, inside the sector. It hides the wedge beyond
    # y = 40: (2·36.87°/360°)·π·100² minus the triangle (0,0), (±30, 40) in front of it.
    wall = Obstacles.from_geometries(np.array([shapely.box(-30, 40, 30, 41)]))
    (poly,) = vis(0, 0, 0.0, 90.0, 100.0, wall)
    half = math.degrees(math.atan2(30, 40))
    shadow = 2 * half / 360 * math.pi * 100**2 - 0.5 * 60 * 40
    sector = 90 / 360 * math.pi * 100**2
    assert shapely.area(poly) == pytest.approx(sector - shadow, rel=0.005)
    assert poly.contains(shapely.Point(0, 30))  # in front of the wall
    assert not poly.intersects(shapely.Point(0, 60))  # right behind it
    assert not poly.intersects(shapely.Point(25, 90))  # behind, near the shadow's edge
    assert poly.contains(shapely.Point(-45, 50))  # beside the shadow, inside the sector
    assert not poly.intersects(shapely.Point(0, 40.5))  # the wall itself


def test_a_building_outside_the_sector_changes_nothing() -> None:
    behind = Obstacles.from_geometries(np.array([shapely.box(-10, -50, 10, -40)]))
    (poly,) = vis(0, 0, 0.0, 90.0, 100.0, behind)
    assert shapely.area(poly) == pytest.approx(90 / 360 * math.pi * 100**2, rel=0.001)


def test_a_non_convex_footprint_shadows_like_its_convex_parts() -> None:
    # An L-shaped block (edge shadows) against the same L as two boxes (hull shadows).
    a, b = shapely.box(-30, 40, 30, 50), shapely.box(-30, 50, -20, 80)
    ell = Obstacles.from_geometries(np.array([shapely.union(a, b)]))
    two = Obstacles.from_geometries(np.array([a, b]))
    assert not ell.convex.any() and two.convex.all()
    (p1,) = vis(-60, 0, 30.0, 120.0, 150.0, ell)
    (p2,) = vis(-60, 0, 30.0, 120.0, 150.0, two)
    assert shapely.area(shapely.symmetric_difference(p1, p2)) < 0.5
    # The inner corner of the L is visible from a viewpoint that looks into it.
    (p3,) = vis(40, 100, 225.0, 90.0, 150.0, ell)
    assert p3.contains(shapely.Point(-15, 55))


def test_a_camera_in_a_courtyard_sees_only_the_courtyard() -> None:
    block = shapely.Polygon(
        [(-50, -50), (50, -50), (50, 50), (-50, 50)], [[(-10, -10), (10, -10), (10, 10), (-10, 10)]]
    )
    (poly,) = vis(0, 0, 0.0, 360.0, 200.0, Obstacles.from_geometries(np.array([block])))
    assert shapely.area(poly) == pytest.approx(400.0, rel=1e-6)


def test_a_camera_inside_a_building_sees_nothing() -> None:
    house = Obstacles.from_geometries(np.array([shapely.box(-5, -5, 5, 5)]))
    inside, outside = vis([0, 0], [0, 20], [0, 0], [360, 360], [50, 50], house)
    assert inside.is_empty
    assert not outside.is_empty


def test_a_broken_camera_covers_nothing() -> None:
    polys = vis([0, 0], [0, 0], [0, 0], [90, 90], [50, 50], active=np.array([False, True]))
    assert polys[0].is_empty
    assert shapely.area(polys[1]) > 0


def test_a_camera_touching_a_wall_does_not_see_into_the_building() -> None:
    house = Obstacles.from_geometries(np.array([shapely.box(0, 10, 20, 20)]))
    (poly,) = vis(10, 9.9, 0.0, 120.0, 60.0, house)
    assert shapely.area(shapely.intersection(poly, house.parts[0])) < 1e-6
    assert not poly.intersects(shapely.Point(10, 30))


def test_sectors_are_valid_for_every_field_of_view() -> None:
    fov = np.linspace(0.5, 360, 50)
    polys = view_sectors(np.zeros(50), np.zeros(50), fov * 7 % 360, fov, np.full(50, 10.0))
    assert shapely.is_valid(polys).all()
    assert np.allclose(shapely.area(polys), fov / 360 * math.pi * 100, rtol=1e-9)


def test_many_random_cameras_among_many_buildings_stay_valid() -> None:
    rng = np.random.default_rng(3)
    centres = rng.uniform(-400, 400, (300, 2))
    sizes = rng.uniform(5, 40, (300, 2))
    houses = shapely.box(*(centres - sizes / 2).T, *(centres + sizes / 2).T)
    rot = [
        shapely.affinity.rotate(h, a) for h, a in zip(houses, rng.uniform(0, 90, 300), strict=True)
    ]
    obstacles = Obstacles.from_geometries(np.array(rot, dtype=object))
    n = 400
    polys = vis(
        rng.uniform(-400, 400, n),
        rng.uniform(-400, 400, n),
        rng.uniform(0, 360, n),
        rng.uniform(20, 360, n),
        rng.uniform(20, 200, n),
        obstacles,
    )
    assert shapely.is_valid(polys).all()
    built = shapely.union_all(obstacles.parts)
    assert shapely.area(shapely.intersection(shapely.union_all(polys), built)) < 1.0


def _mixed_blocks() -> Obstacles:
    """A courtyard block (a hole), an L, a box given clockwise, and a multi-polygon."""
    court = shapely.Polygon(
        [(0, 0), (40, 0), (40, 40), (0, 40)], [[(10, 10), (30, 10), (30, 30), (10, 30)]]
    )
    ell = shapely.union(shapely.box(60, 0, 90, 10), shapely.box(60, 10, 70, 40))
    cw = shapely.Polygon([(100, 0), (100, 20), (120, 20), (120, 0)])
    pair = shapely.MultiPolygon([shapely.box(0, 60, 10, 70), shapely.box(20, 60, 25, 90)])
    return Obstacles.from_geometries(np.array([court, ell, cw, pair]))


def _same_obstacles(a: Obstacles, b: Obstacles) -> bool:
    names = ("owner", "convex", "vx", "vy", "vstart", "vcount")
    names += ("ax", "ay", "bx", "by", "estart", "ecount")
    arrays = all(
        getattr(a, k).dtype == getattr(b, k).dtype and np.array_equal(getattr(a, k), getattr(b, k))
        for k in names
    )
    return arrays and bool(shapely.equals_exact(a.parts, b.parts, tolerance=0.0).all())


@pytest.mark.parametrize("idx", [[0, 1, 2, 3, 4], [1, 3], [0, 4], [2], []])
def test_taken_parts_are_the_obstacles_of_those_parts(idx: list[int]) -> None:
    # (what a Dask task gets instead of building them again from its footprints)
    blocks = _mixed_blocks()
    assert len(blocks) == 5 and blocks.ecount[0] == 8  # the hole's edges too
    taken = blocks.take(np.array(idx, dtype=np.int64))
    assert _same_obstacles(taken, Obstacles.from_geometries(blocks.parts[idx]))
    assert len(taken.tree) == len(idx)


def test_obstacles_pickle_as_the_same_obstacles() -> None:
    import pickle

    blocks = _mixed_blocks()
    back = pickle.loads(pickle.dumps(blocks, protocol=5))
    assert _same_obstacles(back, blocks)
    cams = (np.array([50.0, 20.0]), np.array([20.0, 20.0]), np.zeros(2), np.full(2, 360.0))
    reach = np.full(2, 80.0)
    assert shapely.equals_exact(
        visibility_polygons(*cams, reach, back), visibility_polygons(*cams, reach, blocks), 0.0
    ).all()
