"""CCTV cameras along main roads and at intersections."""

from __future__ import annotations

import datetime

import geopandas as gpd
import numpy as np
import shapely

from etl.network import street_nodes
from etl.synthesise.city import City
from etl.synthesise.frames import choose, conform, day, ids, iso, stream
from etl.synthesise.frames import points as frame_points
from layers.city import CARRIAGEWAYS, MAIN_ROADS

# Heavier roads carry more cameras per kilometre (speed enforcement, the Sergek programme).
_CLASS_FACTOR = {"motorway": 1.5, "trunk": 1.5, "primary": 1.5, "secondary": 1.2, "tertiary": 1.0}
_LINK_FACTOR = 0.5
_DENSITY_FLOOR = 500.0  # people/km²: an empty stretch of avenue still gets some cameras
INSTALL_START = datetime.date(2015, 1, 1)


def _main_road_parts(city: City) -> tuple[np.ndarray, np.ndarray]:
    """Return the main-road pieces inside the city (LineStrings) and their class factors."""
    roads = city.roads[city.roads["highway"].isin(MAIN_ROADS)]
    if len(roads) == 0:
        return np.empty(0, dtype=object), np.empty(0)
    clipped = shapely.intersection(np.asarray(roads.geometry.values, dtype=object), city.boundary)
    parts, owner = shapely.get_parts(clipped, return_index=True)
    keep = (shapely.get_type_id(parts) == 1) & (shapely.length(parts) > 20.0)
    highway = roads["highway"].to_numpy(dtype=object)[owner[keep]]
    factor = np.array([_CLASS_FACTOR.get(h, _LINK_FACTOR) for h in highway])
    return parts[keep], factor


def intersections(city: City) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the road intersections inside the city: metric points, weights, bearings.

    A node is an intersection where at least three carriageway segments meet (an OSM way
    passing through a shared node counts twice, a way ending there once) and at least one
    of them is a main road. Its weight is the population density there, tripled where two
    or more distinct main roads meet: the crossings of avenues are where cameras go first.
    The bearing (radians, clockwise from north) is that of a main road leaving the node,
    so cameras can stand on the corners between the roads rather than in the carriageway.
    """
    roads = city.roads[city.roads["highway"].isin(CARRIAGEWAYS)]
    if len(roads) == 0:
        return np.empty(0, dtype=object), np.empty(0), np.empty(0)
    net = street_nodes(np.asarray(roads.geometry.values, dtype=object))
    coords, line, last, node, nodes, total = (
        net.coords,
        net.line,
        net.last,
        net.node,
        net.nodes,
        net.degree,
    )
    is_main = roads["highway"].isin(MAIN_ROADS).to_numpy()[line]
    pairs = np.unique(np.column_stack([node[is_main], line[is_main]]), axis=0)
    mains = (
        np.bincount(pairs[:, 0], minlength=len(nodes))
        if len(pairs)
        else np.zeros(len(nodes), dtype=np.int64)
    )
    chosen = np.flatnonzero((total >= 3) & (mains >= 1))
    inside = shapely.contains_xy(city.boundary, nodes[chosen, 0], nodes[chosen, 1])
    chosen = chosen[inside]
    points = frame_points(nodes[chosen, 0], nodes[chosen, 1])
    weight = (city.density(points) + _DENSITY_FLOOR) * np.where(mains[chosen] >= 2, 3.0, 1.0)
    # Bearing of a main road at each node: from its first main-road vertex there to the
    # next vertex of that way (or the previous one at the way's last vertex).
    occurrence = np.flatnonzero(is_main)
    at_node = node[occurrence]
    order = np.argsort(at_node, kind="stable")
    first_of = np.unique(at_node[order], return_index=True)
    lookup = dict(zip(first_of[0].tolist(), occurrence[order][first_of[1]].tolist(), strict=True))
    idx = np.array([lookup[c] for c in chosen.tolist()], dtype=np.int64)
    other = np.where(last[idx], idx - 1, idx + 1)
    delta = coords[other] - coords[idx]
    bearing = np.arctan2(delta[:, 0], delta[:, 1])
    return points, weight, bearing


def _heading(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Return compass headings (degrees clockwise from north, in [0, 360)) of vectors."""
    return np.round(np.degrees(np.arctan2(dx, dy)) % 360.0, 1) % 360.0


def cameras(
    city: City,
    *,
    seed: int = 2026,
    today: datetime.date = datetime.date(2026, 11, 27),
    n: int = 3000,
    intersection_share: float = 0.45,
) -> gpd.GeoDataFrame:
    """Return about ``n`` synthetic CCTV cameras on main roads and at intersections.

    Assumptions: a city of 2.35 M has a few thousand public cameras; ``intersection_share``
    of them stand in groups of one to four at intersections (:func:`intersections`), facing
    the crossing, the rest along main roads, facing along the street, a few metres off the
    centreline. Both are drawn in proportion to the calibrated population density. Fixed
    cameras (85 %) have a 50-110° field of view and 30-120 m range; PTZ domes see 360° to
    60-150 m and are commoner at intersections. Status: working 90 %, broken 7 %, planned
    3 %; ``installed_on`` lies in 2015-``today``, skewed to recent years as the network
    grew, and is null for planned cameras.

    Parameters
    ----------
    city : City
        The prepared real layers.
    seed : int
        Seed of the ``"cameras"`` random stream.
    today : datetime.date
        Last possible installation date.
    n : int
        Target number of cameras (the result is within a few of it).
    intersection_share : float
        Share of the cameras placed at intersections.

    Returns
    -------
    GeoDataFrame
        The ``cameras`` layer frame, EPSG:4326, ``source_id`` "cam-000001"….

    Examples
    --------
    >>> from etl.synthesise.toy import toy_layers
    >>> cams = cameras(City.from_layers(toy_layers()), seed=1, n=50)
    >>> len(cams), sorted(set(cams["district"]))
    (50, ['Almaly', 'Medeu'])
    """
    rng = stream(seed, "cameras")
    nodes, node_weight, bearing = intersections(city)
    parts, factor = _main_road_parts(city)

    # Intersections: choose crossings without replacement, then 1-4 cameras on each corner.
    xs, ys, hs, at_node = [], [], [], []
    n_nodes = round(n * intersection_share)
    if len(nodes) and n_nodes:
        per_node = np.minimum(1 + rng.poisson(1.2, size=len(nodes)), 4)
        k = min(len(nodes), max(1, round(float(n_nodes / per_node.mean()))))
        picked = rng.choice(len(nodes), size=k, replace=False, p=node_weight / node_weight.sum())
        count = per_node[picked]
        owner = np.repeat(picked, count)[:n_nodes]
        # On a corner: diagonal to the road axes, so off every carriageway of a crossing.
        corner = rng.integers(0, 4, size=len(owner))
        angle = bearing[owner] + np.pi / 4 + corner * np.pi / 2 + rng.normal(0, 0.1, len(owner))
        dist = rng.uniform(8.0, 18.0, size=len(owner))
        cx, cy = shapely.get_x(nodes[owner]), shapely.get_y(nodes[owner])
        px, py = cx + dist * np.sin(angle), cy + dist * np.cos(angle)
        jitter = rng.normal(0.0, 10.0, size=len(owner))
        xs.append(px)
        ys.append(py)
        hs.append((_heading(cx - px, cy - py) + jitter) % 360.0)
        at_node.append(np.ones(len(owner), dtype=bool))

    # Along roads: a stretch drawn by length x class x density, a random spot on it.
    n_roads = n - sum(len(a) for a in xs)
    if len(parts) and n_roads > 0:
        mid = shapely.line_interpolate_point(parts, 0.5, normalized=True)
        w = shapely.length(parts) * factor * (city.density(mid) + _DENSITY_FLOOR)
        seg = parts[rng.choice(len(parts), size=n_roads, p=w / w.sum())]
        length = shapely.length(seg)
        at = rng.uniform(0.0, 1.0, size=n_roads) * length
        ahead = shapely.line_interpolate_point(seg, np.minimum(at + 2.0, length))
        behind = shapely.line_interpolate_point(seg, np.maximum(at - 2.0, 0.0))
        here = shapely.line_interpolate_point(seg, at)
        tx = shapely.get_x(ahead) - shapely.get_x(behind)
        ty = shapely.get_y(ahead) - shapely.get_y(behind)
        norm = np.maximum(np.hypot(tx, ty), 1e-9)
        side = rng.choice([-1.0, 1.0], size=n_roads)
        off = rng.uniform(3.0, 9.0, size=n_roads) * side
        # The normal (ty, -tx) points to the right of the direction of travel.
        xs.append(shapely.get_x(here) + off * ty / norm)
        ys.append(shapely.get_y(here) - off * tx / norm)
        backwards = rng.random(n_roads) < 0.5
        hs.append(_heading(np.where(backwards, -tx, tx), np.where(backwards, -ty, ty)))
        at_node.append(np.zeros(n_roads, dtype=bool))

    if not xs:
        return conform(
            {"source_id": [], "synthetic": []}, "cameras", geometry=np.empty(0, dtype=object)
        )
    x, y, heading = np.concatenate(xs), np.concatenate(ys), np.concatenate(hs)
    node_cam = np.concatenate(at_node)
    total = len(x)
    ptz = rng.random(total) < np.where(node_cam, 0.25, 0.08)
    fov = np.where(ptz, 360.0, np.round(rng.uniform(50.0, 110.0, total), 0))
    reach = np.where(ptz, rng.uniform(60.0, 150.0, total), rng.uniform(30.0, 120.0, total))
    height = np.where(ptz, rng.uniform(6.0, 10.0, total), rng.uniform(3.0, 8.0, total))
    status = choose(rng, ("working", "broken", "planned"), (0.90, 0.07, 0.03), total)
    span = (day(today) - day(INSTALL_START)).astype(int)
    installed = day(INSTALL_START) + np.floor(rng.random(total) ** 0.75 * span).astype(
        "timedelta64[D]"
    )
    installed = np.where(status == "planned", np.datetime64("NaT"), installed)
    points = frame_points(x, y)
    data = {
        "source_id": ids("cam", total),
        "synthetic": np.ones(total, dtype=bool),
        "kind": np.where(ptz, "ptz", "fixed").astype(object),
        "status": status,
        "mount_height_m": np.round(height, 1),
        "heading_deg": np.round(heading, 1) % 360.0,
        "fov_deg": fov,
        "range_m": np.round(reach, 0),
        "installed_on": iso(installed),
        "district": city.district_of(points),
    }
    return conform(data, "cameras", geometry=points, crs="EPSG:32643")
