"""Road closures in the street graph: which segments a closed road (a line drawn along it, or
an area) takes out of every mode's graph while it is closed.

A closure is drawn by staff on a map or read from a file, so it never lies exactly on the
street's vertices. A segment counts as closed when at least :data:`SHARE` of its length lies
within :data:`LINE_TOLERANCE_M` of the closure line (or inside the closure area): a street
running along the line is taken out, a street merely crossing it is not (only a crossing
segment shorter than ~30 m could pass the share, and such a stub carries no through route).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from twin.analyses.access.graph import StreetGraph, metric_xy

LINE_TOLERANCE_M = 12.0
SHARE = 0.75


def _metric(geom: BaseGeometry) -> BaseGeometry:
    def move(coords: np.ndarray) -> np.ndarray:
        return metric_xy(coords[:, 0], coords[:, 1])

    out: BaseGeometry = shapely.transform(geom, move)
    return out


def closed_edges(graph: StreetGraph, closures: Sequence[BaseGeometry]) -> np.ndarray:
    """Return a mask of the graph's edges closed by ``closures`` (lon/lat geometries)."""
    mask = np.zeros(graph.n_edges, dtype=bool)
    if not closures or graph.n_edges == 0:
        return mask
    segments: np.ndarray = np.asarray(
        shapely.linestrings(np.stack([graph.a, graph.b], axis=1)), dtype=object
    )
    tree = shapely.STRtree(segments)
    for geom in closures:
        metric = _metric(geom)
        zone = (
            metric
            if metric.geom_type in ("Polygon", "MultiPolygon")
            else metric.buffer(LINE_TOLERANCE_M)
        )
        idx = tree.query(zone, predicate="intersects")
        if len(idx) == 0:
            continue
        inside = shapely.length(shapely.intersection(segments[idx], zone))
        mask[idx[inside >= SHARE * graph.length[idx]]] = True
    return mask
