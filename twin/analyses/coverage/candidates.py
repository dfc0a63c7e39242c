"""Candidate sites for new cameras: along the streets and at intersections, or given points;
and one candidate camera per (site, heading) to try."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from etl.network import street_nodes
from twin.analyses.coverage.placement import Template
from twin.analyses.coverage.targets import street_lines
from twin.analyses.coverage.visibility import Obstacles
from twin.core import geometry
from twin.core.errors import BadInput


def _bearing(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(dx, dy)) % 360.0


def street_sites(
    roads: gpd.GeoDataFrame, scope: shapely.Geometry, spacing_m: float, intersections: bool
) -> pd.DataFrame:
    """Return candidate sites on the streets in ``scope``: every ``spacing_m`` metres along
    each centreline (evenly, at least one per piece) and, optionally, every intersection
    where three or more street ends meet. Columns: x, y, kind, headings (a tuple of the
    street directions there, degrees)."""
    if not (5.0 <= spacing_m <= 5000.0):
        raise BadInput(f"candidates: spacing_m must be between 5 and 5000, got {spacing_m}")
    lines, _, _ = street_lines(roads)
    frames = []
    if len(lines):
        lines = lines[shapely.intersects(lines, scope)]
        parts = shapely.get_parts(shapely.intersection(lines, scope))
        parts = parts[(shapely.get_type_id(parts) == 1) & (shapely.length(parts) > 1.0)]
        length = shapely.length(parts)
        n = np.maximum(np.floor(length / spacing_m), 1).astype(np.int64)
        owner = np.repeat(np.arange(len(parts)), n)
        k = np.arange(len(owner)) - np.repeat(np.cumsum(n) - n, n)
        d = (k + 0.5) * (length / n)[owner]
        at = shapely.line_interpolate_point(parts[owner], d)
        ahead = shapely.line_interpolate_point(parts[owner], np.minimum(d + 1.0, length[owner]))
        behind = shapely.line_interpolate_point(parts[owner], np.maximum(d - 1.0, 0.0))
        head = _bearing(
            shapely.get_x(ahead) - shapely.get_x(behind),
            shapely.get_y(ahead) - shapely.get_y(behind),
        )
        frames.append(
            pd.DataFrame(
                {
                    "x": shapely.get_x(at),
                    "y": shapely.get_y(at),
                    "kind": "street",
                    "headings": [(h, (h + 180.0) % 360.0) for h in head.tolist()],
                }
            )
        )
        if intersections:
            frames.append(_intersections(lines, scope))
    if not frames:
        return pd.DataFrame({"x": [], "y": [], "kind": [], "headings": []})
    return pd.concat(frames, ignore_index=True)


def _intersections(lines: np.ndarray, scope: shapely.Geometry) -> pd.DataFrame:
    """Return street nodes where three or more segment ends meet, with the bearings of the
    streets leaving them."""
    net = street_nodes(lines)
    if len(net.coords) < 2:
        return pd.DataFrame({"x": [], "y": [], "kind": [], "headings": []})
    coords, first, last, node, nodes = net.coords, net.first, net.last, net.node, net.nodes
    hub = net.degree >= 3
    rows = []
    # Bearings of every segment leaving a hub vertex: to the next and the previous vertex.
    idx = np.arange(len(coords))
    for step, valid in ((1, ~last), (-1, ~first)):
        sel = idx[valid & hub[node]]
        other = sel + step
        d = coords[other] - coords[sel]
        rows.append(pd.DataFrame({"node": node[sel], "bearing": _bearing(d[:, 0], d[:, 1])}))
    bearings = pd.concat(rows)
    # Directions within 10° of each other are one street leaving the node.
    pairs = np.unique(
        np.column_stack(
            [bearings["node"].to_numpy(), (np.round(bearings["bearing"] / 10.0) * 10.0) % 360.0]
        ),
        axis=0,
    )
    if len(pairs) == 0:
        return pd.DataFrame({"x": [], "y": [], "kind": [], "headings": []})
    hubs, start = np.unique(pairs[:, 0].astype(np.int64), return_index=True)
    headings = [tuple(h.tolist()) for h in np.split(pairs[:, 1], start[1:])]
    at = nodes[hubs]
    inside = geometry.contains_xy(scope, at[:, 0], at[:, 1])
    return pd.DataFrame(
        {
            "x": at[inside, 0],
            "y": at[inside, 1],
            "kind": "intersection",
            "headings": [h for h, keep in zip(headings, inside.tolist(), strict=True) if keep],
        }
    )


def given_sites(x: np.ndarray, y: np.ndarray, heading: np.ndarray | None = None) -> pd.DataFrame:
    """Return candidate sites from a given layer: metric points, headings where known
    (NaN: eight directions 45° apart are tried)."""
    head = np.full(len(x), np.nan) if heading is None else np.asarray(heading, float)
    options = [
        tuple(np.arange(0.0, 360.0, 45.0)) if not np.isfinite(h) else (float(h) % 360.0,)
        for h in head.tolist()
    ]
    return pd.DataFrame(
        {"x": np.asarray(x, float), "y": np.asarray(y, float), "kind": "given", "headings": options}
    )


def candidates(sites: pd.DataFrame, template: Template, obstacles: Obstacles) -> pd.DataFrame:
    """Return one candidate camera per (site, heading); a PTZ dome needs one per site.

    Sites standing in a building are dropped (they would see nothing). Columns: site, x, y,
    heading_deg, kind (of site).
    """
    if len(sites) and len(obstacles):
        points = np.asarray(shapely.points(sites["x"], sites["y"]), dtype=object)
        sites = sites[~obstacles.inside(points)]
    sites = sites.reset_index(drop=True)
    # A dome turns, so one option per site; a fixed camera tries each street direction.
    heads = [(0.0,)] * len(sites) if template.fov >= 360.0 else sites["headings"].tolist()
    count = np.array([len(h) for h in heads], dtype=np.int64)
    site = np.repeat(np.arange(len(sites)), count)
    flat = [h for hs in heads for h in hs]
    return pd.DataFrame(
        {
            "site": site,
            "x": sites["x"].to_numpy(float)[site],
            "y": sites["y"].to_numpy(float)[site],
            "heading_deg": np.asarray(flat, float),
            "kind": sites["kind"].to_numpy(object)[site],
        }
    )
