"""Vectorised spatial sampling on the metric city: where generated points go.

All functions take and return numpy arrays of shapely geometries in EPSG:32643.
"""

from __future__ import annotations

import numpy as np
import shapely

from etl.synthesise.city import City
from etl.synthesise.frames import points as make_points


def points_in_polygons(
    polygons: np.ndarray, owner: np.ndarray, rng: np.random.Generator, max_rounds: int = 40
) -> np.ndarray:
    """Return one point drawn uniformly inside ``polygons[owner[i]]`` for every ``i``.

    Rejection sampling in each polygon's bounding box, all points of a round at once. A
    point still unplaced after ``max_rounds`` (a sliver polygon) falls back to the polygon's
    representative point.
    """
    polygons = np.asarray(polygons, dtype=object)
    owner = np.asarray(owner, dtype=np.int64)
    bounds = shapely.bounds(polygons)[owner]
    x = np.full(len(owner), np.nan)
    y = np.full(len(owner), np.nan)
    todo = np.arange(len(owner))
    for _ in range(max_rounds):
        if len(todo) == 0:
            break
        b = bounds[todo]
        tx = b[:, 0] + rng.random(len(todo)) * (b[:, 2] - b[:, 0])
        ty = b[:, 1] + rng.random(len(todo)) * (b[:, 3] - b[:, 1])
        inside = shapely.contains_xy(polygons[owner[todo]], tx, ty)
        x[todo[inside]], y[todo[inside]] = tx[inside], ty[inside]
        todo = todo[~inside]
    if len(todo):
        fallback = shapely.point_on_surface(polygons[owner[todo]])
        x[todo], y[todo] = shapely.get_x(fallback), shapely.get_y(fallback)
    return make_points(x, y)


def populated_cells(
    city: City, n: int, rng: np.random.Generator, district: str | None = None
) -> np.ndarray:
    """Return ``n`` grid-cell indices drawn with probability proportional to population.

    The weights are the gov.kz-calibrated ones (:attr:`City.grid`); with ``district`` only
    that district's cells are drawn. A district with no populated cell draws its cells
    uniformly, so it still gets its share of features.
    """
    weight = city.grid["weight"].to_numpy(dtype=float)
    candidates = np.arange(len(weight))
    if district is not None:
        candidates = np.flatnonzero(city.grid["district"].to_numpy(dtype=object) == district)
        if len(candidates) == 0:
            return candidates
        weight = weight[candidates]
    total = weight.sum()
    p = weight / total if total > 0 else np.full(len(candidates), 1.0 / len(candidates))
    return candidates[rng.choice(len(candidates), size=n, p=p)]


def populated_points(
    city: City, n: int, rng: np.random.Generator, district: str | None = None
) -> np.ndarray:
    """Return ``n`` points uniform inside population-weighted cells (see :func:`populated_cells`).

    With ``district`` the points are kept inside that district: a draw whose cell straddles
    the border and lands outside is redrawn.
    """
    cells = np.asarray(city.grid.geometry.values, dtype=object)
    if district is None:
        return points_in_polygons(cells, populated_cells(city, n, rng), rng)
    polygon = city.districts.geometry.values[city.district_names.index(district)]
    shapely.prepare(polygon)
    out = np.empty(n, dtype=object)
    todo = np.arange(n)
    for _ in range(20):
        owner = populated_cells(city, len(todo), rng, district)
        if len(owner) == 0:
            break
        pts = points_in_polygons(cells, owner, rng)
        inside = shapely.intersects(polygon, pts)
        out[todo[inside]] = pts[inside]
        todo = todo[~inside]
        if len(todo) == 0:
            break
    if len(todo):
        out[todo] = points_in_polygons(
            np.array([polygon], dtype=object), np.zeros(len(todo), dtype=np.int64), rng
        )
    return out


def snap_to_buildings(
    points: np.ndarray,
    city: City,
    rng: np.random.Generator,
    max_distance: float = 50.0,
    offset: tuple[float, float] = (1.0, 5.0),
) -> np.ndarray:
    """Return the points moved next to the nearest building within ``max_distance`` metres.

    A snapped point lands ``offset`` metres outside the building wall, on the side it came
    from (an appeal about a courtyard is filed at the building's door, not on its roof);
    points with no building in reach, or already inside one, stay where they are.
    """
    points = np.asarray(points, dtype=object)
    out = points.copy()
    if len(city.buildings) == 0 or len(points) == 0:
        return out
    src, hit = city.building_tree.query_nearest(
        points, max_distance=max_distance, all_matches=False
    )
    if len(src) == 0:
        return out
    buildings = np.asarray(city.buildings.geometry.values, dtype=object)[hit]
    wall = shapely.get_point(shapely.shortest_line(points[src], buildings), 1)
    dx = shapely.get_x(points[src]) - shapely.get_x(wall)
    dy = shapely.get_y(points[src]) - shapely.get_y(wall)
    length = np.hypot(dx, dy)
    outside = length > 1e-6
    step = rng.uniform(offset[0], offset[1], size=len(src))
    scale = np.where(outside, step / np.where(outside, length, 1.0), 0.0)
    moved = make_points(shapely.get_x(wall) + dx * scale, shapely.get_y(wall) + dy * scale)
    out[src[outside]] = moved[outside]
    return out


def onto_buildings(
    points: np.ndarray, city: City, max_distance: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return the points moved onto the nearest building within reach, and that building.

    A moved point is the building's point on surface (a facility sits in its building); the
    second array holds the building index, or -1 where no building was in reach.
    """
    points = np.asarray(points, dtype=object)
    out = points.copy()
    which = np.full(len(points), -1, dtype=np.int64)
    if len(city.buildings) == 0 or len(points) == 0:
        return out, which
    src, hit = city.building_tree.query_nearest(
        points, max_distance=max_distance, all_matches=False
    )
    surface = shapely.point_on_surface(
        np.asarray(city.buildings.geometry.values, dtype=object)[hit]
    )
    out[src] = surface
    which[src] = hit
    return out, which


def outside_parks(points: np.ndarray, city: City) -> np.ndarray:
    """Return a boolean mask of the points that are not inside a park."""
    points = np.asarray(points, dtype=object)
    if len(city.parks) == 0:
        return np.ones(len(points), dtype=bool)
    return ~shapely.intersects(city.park_union, points)
