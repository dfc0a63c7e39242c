"""Point-in-polygon and containment on geometries that several threads share.

GEOS prepared geometries are not thread-safe (libgeos #825): two server threads that prepare,
or use, the same prepared polygon at once crash the whole process. It happened under
``bench.abuse``: eight planners asking for a city-wide placement at once made the request-side
cost estimate prepare the cached city boundary in eight threads, and the server died of a
segmentation fault (faulthandler: ``estimate.py`` in ``shapely.contains``). Eight threads
sizing the city scope at once crash 3 runs of 3 even when the boundary was prepared and used
once beforehand (``tests/core/test_geometry_threads.py`` runs it in a child process). And
``shapely.contains_xy`` / ``intersects_xy`` prepare their polygon in place.

So a geometry that outlives a request (a cached boundary, district shapes, a store's frames)
is never prepared itself: these functions prepare a private copy for the call, or, for a few
points, test them unprepared (:func:`contains_few`). The copy is a
WKB round trip, about 1 µs per vertex (the city boundary, ~6,000 vertices: ~0.5 ms with its
preparation), small beside what the callers do with it. ``tests/test_architecture.py`` keeps
``shapely.prepare``, ``contains_xy`` and ``intersects_xy`` out of the modules that run in
request threads.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely


def private(geom: shapely.Geometry) -> shapely.Geometry:
    """Return a prepared copy of ``geom`` that no other thread holds.

    >>> g = shapely.box(0, 0, 1, 1)
    >>> p = private(g)
    >>> bool(shapely.is_prepared(p)), bool(shapely.is_prepared(g)), bool(shapely.equals(p, g))
    (True, False, True)
    """
    own = shapely.from_wkb(shapely.to_wkb(geom))
    shapely.prepare(own)
    return own


def contains_xy(geom: shapely.Geometry, x: Any, y: Any) -> np.ndarray:
    """Return :func:`shapely.contains_xy` of a private prepared copy of ``geom``.

    >>> contains_xy(shapely.box(0, 0, 1, 1), [0.5, 2.0], [0.5, 0.5]).tolist()
    [True, False]
    """
    return np.asarray(shapely.contains_xy(private(geom), x, y), dtype=bool)


def contains_few(geom: shapely.Geometry, x: Any, y: Any, *, boundary: bool = False) -> np.ndarray:
    """Return whether each of a few points is in ``geom`` (on its boundary too with
    ``boundary``), tested unprepared: nothing is prepared, so nothing shared changes, and for
    a handful of points (one isochrone's origin, a search's hits) that costs less than the
    private prepared copy of :func:`contains_xy`.

    >>> contains_few(shapely.box(0, 0, 1, 1), [0.5, 1.0], [0.5, 0.5]).tolist()
    [True, False]
    >>> contains_few(shapely.box(0, 0, 1, 1), [1.0], [0.5], boundary=True).tolist()
    [True]
    """
    points = shapely.points(
        np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float))
    )
    test = shapely.intersects if boundary else shapely.contains
    return np.asarray(test(geom, points), dtype=bool)


def contains(geom: shapely.Geometry, others: Any) -> np.ndarray:
    """Return :func:`shapely.contains` of a private prepared copy of ``geom`` and each of
    ``others`` (which are only read: they may be shared).

    >>> contains(shapely.box(0, 0, 2, 2), shapely.box([0.5, 1.5], 0.5, [1, 3], 1)).tolist()
    [True, False]
    """
    return np.asarray(shapely.contains(private(geom), others), dtype=bool)
