"""Geometry for one tile, vectorised over a whole layer with shapely 2: project to Web
Mercator, filter by size, clip to the buffered tile, simplify, snap to the tile grid.

The steps mirror what the PostGIS path does with ``ST_Transform``, ``ST_Area``/``ST_Length``,
``ST_SimplifyPreserveTopology`` and ``ST_AsMVTGeom`` so that both stores put the same
features in the same tile.
"""

from __future__ import annotations

import numpy as np
import shapely

from layers import GeomType
from tiles.grid import BUFFER, EXTENT, Tile, lonlat_to_mercator
from tiles.mvt import LINESTRING, POINT, POLYGON

MVT_KIND = {GeomType.POINT: POINT, GeomType.LINE: LINESTRING, GeomType.POLYGON: POLYGON}

# Simplifying a geometry of a few vertices gains nothing that snapping to the 4096 grid does
# not already give, and topology-preserving simplification is the costliest step here.
SIMPLIFY_MIN_COORDS = 24


def to_mercator(geoms: np.ndarray) -> np.ndarray:
    """Return lon/lat geometries projected to Web Mercator metres."""
    return shapely.transform(geoms, lonlat_to_mercator)


def size_filter(merc: np.ndarray, kind: GeomType, min_area: float, min_length: float) -> np.ndarray:
    """Return a mask of the Mercator geometries big enough to keep (areas and lengths are
    measured on the whole feature, before clipping, as in the PostGIS path)."""
    if kind is GeomType.POLYGON and min_area > 0:
        return np.asarray(shapely.area(merc) >= min_area)
    if kind is GeomType.LINE and min_length > 0:
        return np.asarray(shapely.length(merc) >= min_length)
    return np.ones(len(merc), dtype=bool)


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Return only the polygons of each geometry (collections lose their lines and points)."""
    out = geoms.copy()
    mixed = shapely.get_type_id(out) == 7
    for i in np.flatnonzero(mixed):
        parts = [p for p in shapely.get_parts(out[i]) if shapely.get_type_id(p) in (3, 6)]
        polys = [q for p in parts for q in shapely.get_parts(p)]
        out[i] = shapely.multipolygons(polys) if polys else shapely.Polygon()
    return out


def _linear(geoms: np.ndarray) -> np.ndarray:
    """Return only the lines of each geometry (clipping a line can leave stray points)."""
    out = geoms.copy()
    mixed = shapely.get_type_id(out) == 7
    for i in np.flatnonzero(mixed):
        parts = [p for p in shapely.get_parts(out[i]) if shapely.get_type_id(p) in (1, 5)]
        lines = [q for p in parts for q in shapely.get_parts(p)]
        out[i] = shapely.multilinestrings(lines) if lines else shapely.LineString()
    return out


def tile_geometries(
    merc: np.ndarray, tile: Tile, kind: GeomType, tolerance_m: float = 0.0
) -> np.ndarray:
    """Return the Mercator geometries in integer tile coordinates (0..4096, y down), clipped
    to the tile plus its buffer; an element is empty where nothing drawable is left.

    Polygons come out valid with exterior rings clockwise on screen, as MVT requires.
    """
    minx, miny, maxx, maxy = tile.bounds_m()
    scale = EXTENT / tile.size_m
    pad = BUFFER / scale
    g = merc
    if kind is not GeomType.POINT:
        g = shapely.clip_by_rect(g, minx - pad, miny - pad, maxx + pad, maxy + pad)
        if tolerance_m > 0:
            big = np.flatnonzero(shapely.get_num_coordinates(g) >= SIMPLIFY_MIN_COORDS)
            if len(big):
                g[big] = shapely.simplify(g[big], tolerance_m, preserve_topology=True)

    def to_grid(c: np.ndarray) -> np.ndarray:
        out = np.empty_like(c)
        out[:, 0] = np.rint((c[:, 0] - minx) * scale)
        out[:, 1] = np.rint((maxy - c[:, 1]) * scale)
        return out

    g = shapely.transform(g, to_grid)
    if kind is GeomType.POLYGON:
        g = _polygonal(g)
        bad = np.flatnonzero(~shapely.is_valid(g))
        if len(bad):
            fixed = shapely.make_valid(g[bad], method="structure", keep_collapsed=False)
            g[bad] = _polygonal(fixed)
        # y points down in tile space, so "clockwise on screen" is counter-clockwise in the
        # y-up sense shapely uses
        g = shapely.orient_polygons(g, exterior_cw=False)
    elif kind is GeomType.LINE:
        g = _linear(g)
    return np.asarray(g)
