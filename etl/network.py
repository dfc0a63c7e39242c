"""Where streets meet: the nodes of a street network drawn as lines, from the geometry alone.

One reading of the network for everyone who needs its crossings — the synthesised cameras
stand at intersections (:mod:`etl.synthesise.cameras`), and the camera placement analysis
tries them as candidate sites (:mod:`twin.analyses.coverage.candidates`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely


@dataclass(frozen=True)
class StreetNodes:
    """The vertices of a set of lines, merged into nodes.

    ``coords`` and ``line`` are every vertex and the index of its line; ``first``/``last``
    mark a line's end vertices; ``node`` is each vertex's node, ``nodes`` each node's
    coordinates; ``degree`` counts the segment ends meeting at each node (a line passing
    through a node counts twice, a line ending there once).
    """

    coords: np.ndarray
    line: np.ndarray
    first: np.ndarray
    last: np.ndarray
    node: np.ndarray
    nodes: np.ndarray
    degree: np.ndarray


def street_nodes(lines: np.ndarray, decimals: int = 2) -> StreetNodes:
    """Return the nodes of ``lines`` (metric LineStrings): vertices whose coordinates agree to
    ``decimals`` places are one node (OSM ways share node coordinates exactly; rounding to a
    centimetre absorbs reprojection).

    >>> import shapely
    >>> tee = [shapely.LineString([(0, 0), (1, 0), (2, 0)]), shapely.LineString([(1, 0), (1, 1)])]
    >>> n = street_nodes(np.array(tee, dtype=object))
    >>> [tuple(map(float, n.nodes[i])) for i in np.flatnonzero(n.degree >= 3)]
    [(1.0, 0.0)]
    """
    coords, line = shapely.get_coordinates(lines, return_index=True)
    first = np.r_[True, line[1:] != line[:-1]]
    last = np.r_[line[1:] != line[:-1], True]
    ends = np.where(first | last, 1, 2)
    nodes, node = np.unique(np.round(coords, decimals), axis=0, return_inverse=True)
    node = node.ravel()
    degree = np.bincount(node, weights=ends, minlength=len(nodes))
    return StreetNodes(coords, line, first, last, node, nodes, degree)
