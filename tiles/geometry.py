"""Geometry for one tile, vectorised over a whole layer: project to tile coordinates, filter
by size, clip to the buffered tile, simplify, snap to the integer grid.

The steps mirror the PostGIS path (``ST_Transform``, ``ST_Area``/``ST_Length``,
``ST_SimplifyPreserveTopology``, ``ST_AsMVTGeom``) so both stores put the same features in
the same tile. For speed the common case never builds a GEOS geometry: coordinates are taken
out once (``to_ragged_array``) and projected, measured, snapped and de-duplicated as numpy
arrays. Only the features that cross the tile's buffer or are long enough to simplify go
through shapely (clip, simplify) and come back as arrays.

Snapping can make a ring cross itself; like most tile encoders (and unlike ``ST_AsMVTGeom``,
which repairs with wagyu) such rings are kept as they are — renderers fill them fine — while
rings that collapse to no area are dropped, as PostGIS drops them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.errors import GEOSException

from layers import GeomType
from tiles.grid import BUFFER, EXTENT, Tile, lonlat_to_mercator
from tiles.zoom import ZoomRules

# Simplifying a geometry of a few vertices gains nothing that snapping to the 4096 grid does
# not already give, and topology-preserving simplification is the costliest step here.
SIMPLIFY_MIN_COORDS = 24


@dataclass(frozen=True)
class Paths:
    """Rings, lines or points of many features, back to back.

    Path ``i`` is ``coords[offsets[i]:offsets[i + 1]]`` and belongs to feature
    ``feature[i]``; for polygons ``exterior[i]`` marks the ring that begins a polygon (its
    holes follow it). Paths of one feature are contiguous and in feature order.
    """

    coords: np.ndarray
    offsets: np.ndarray
    feature: np.ndarray
    exterior: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        """Return the number of coordinates of each path."""
        return np.diff(self.offsets)

    @property
    def point_path(self) -> np.ndarray:
        """Return the path index of every coordinate."""
        return np.repeat(np.arange(len(self.feature)), self.lengths)

    def take(self, keep: np.ndarray) -> Paths:
        """Return only the paths where ``keep`` (a boolean per path) is true."""
        lengths = self.lengths[keep]
        return Paths(
            self.coords[np.repeat(keep, self.lengths)],
            np.concatenate(([0], np.cumsum(lengths))).astype(np.int64),
            self.feature[keep],
            self.exterior[keep],
        )


def _empty() -> Paths:
    return Paths(np.empty((0, 2)), np.zeros(1, np.int64), np.empty(0, np.int64), np.empty(0, bool))


def paths_of(geoms: np.ndarray, kind: GeomType, features: np.ndarray | None = None) -> Paths:
    """Return the paths of ``geoms`` (one geometry family), numbered by ``features``
    (default: their positions)."""
    n = len(geoms)
    ids = np.arange(n) if features is None else np.asarray(features, dtype=np.int64)
    if n == 0:
        return _empty()
    if kind is GeomType.POINT:
        coords = shapely.get_coordinates(geoms)
        return Paths(coords, np.arange(len(coords) + 1), ids, np.zeros(n, bool))
    if kind is GeomType.POLYGON:
        return _polygon_paths(geoms, ids)
    _, coords, offs = shapely.to_ragged_array(geoms)
    line_off = offs[0]
    geom_off = offs[1] if len(offs) == 2 else np.arange(n + 1)
    feature = np.repeat(ids, np.diff(geom_off))
    return Paths(coords, line_off.astype(np.int64), feature, np.zeros(len(feature), bool))


def _polygon_paths(geoms: np.ndarray, ids: np.ndarray) -> Paths:
    """Return the rings of polygons. Most features (a building) are one ring: those are read
    straight from their coordinates, without building ring objects as ``to_ragged_array``
    does (a third of the time of a dense tile); the rest go through ``to_ragged_array``."""
    n = len(geoms)
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    counts = np.bincount(owner, minlength=n)
    ends = np.cumsum(counts)
    starts = ends - counts
    simple = (shapely.get_num_geometries(geoms) == 1) & (counts >= 4)
    if len(coords):
        first = coords[np.minimum(starts, len(coords) - 1)]
        last = coords[np.maximum(ends - 1, 0)]
        again = np.bincount(owner, weights=(coords == first[owner]).all(axis=1), minlength=n)
        # one closed ring: its first point comes back once, as its last point
        simple &= (first == last).all(axis=1) & (again == 2)
    one_ring = Paths(coords, np.concatenate(([0], ends)).astype(np.int64), ids, np.ones(n, bool))
    if simple.all():
        return one_ring
    rest = np.flatnonzero(~simple)
    return _merge(one_ring.take(simple), _ragged_polygon_paths(geoms[rest], ids[rest]))


def _ragged_polygon_paths(geoms: np.ndarray, ids: np.ndarray) -> Paths:
    n = len(geoms)
    if n == 0:
        return _empty()
    _, coords, offs = shapely.to_ragged_array(geoms)
    ring_off, part_off = offs[0], offs[1]
    geom_off = offs[2] if len(offs) == 3 else np.arange(n + 1)
    rings_per_part = np.diff(part_off)
    feature = np.repeat(np.repeat(ids, np.diff(geom_off)), rings_per_part)
    exterior = np.zeros(len(ring_off) - 1, dtype=bool)
    exterior[part_off[:-1][rings_per_part > 0]] = True
    return Paths(coords, ring_off.astype(np.int64), feature, exterior)


def ring_areas(paths: Paths) -> np.ndarray:
    """Return the signed area of every path by the surveyor's formula (closed rings)."""
    x, y = paths.coords[:, 0], paths.coords[:, 1]
    cross = np.zeros(len(x))
    cross[:-1] = x[:-1] * y[1:] - x[1:] * y[:-1]
    cross[paths.offsets[1:] - 1] = 0.0  # the last point of a path pairs with no one
    return 0.5 * np.bincount(paths.point_path, weights=cross, minlength=len(paths.feature))


def feature_sizes(paths: Paths, kind: GeomType, n: int) -> np.ndarray:
    """Return each feature's area (polygons: shells minus holes) or length (lines)."""
    if kind is GeomType.POLYGON:
        a = np.abs(ring_areas(paths))
        return np.bincount(paths.feature, weights=np.where(paths.exterior, a, -a), minlength=n)
    step = np.zeros(len(paths.coords))
    step[1:] = np.hypot(*np.diff(paths.coords, axis=0).T)
    step[paths.offsets[:-1][paths.lengths > 0]] = 0.0  # no step into a path's first point
    return np.bincount(np.repeat(paths.feature, paths.lengths), weights=step, minlength=n)


def _only(geoms: np.ndarray, kind: GeomType) -> np.ndarray:
    """Return each geometry reduced to ``kind``'s family (clipping can leave collections)."""
    out = geoms.copy()
    want = (3, 6) if kind is GeomType.POLYGON else (1, 5)
    for i in np.flatnonzero(shapely.get_type_id(out) == 7):
        parts = [q for p in shapely.get_parts(out[i]) for q in shapely.get_parts(p)]
        keep = [p for p in parts if shapely.get_type_id(p) in want]
        if kind is GeomType.POLYGON:
            out[i] = shapely.multipolygons(keep) if keep else shapely.Polygon()
        else:
            out[i] = shapely.multilinestrings(keep) if keep else shapely.LineString()
    return out


def _snap(paths: Paths, kind: GeomType) -> Paths:
    """Return the paths on the integer grid without repeated points, collapsed paths and
    (for polygons) with exteriors clockwise on screen and holes counter-clockwise."""
    coords = np.rint(paths.coords)
    if kind is GeomType.POINT:
        return Paths(coords, paths.offsets, paths.feature, paths.exterior)
    first = np.zeros(len(coords), dtype=bool)
    first[paths.offsets[:-1][paths.lengths > 0]] = True
    same = np.zeros(len(coords), dtype=bool)
    same[1:] = (coords[1:] == coords[:-1]).all(axis=1)
    keep_pt = first | ~same
    kept_before = np.concatenate(([0], np.cumsum(keep_pt)))
    p = Paths(coords[keep_pt], kept_before[paths.offsets], paths.feature, paths.exterior)
    if kind is GeomType.LINE:
        return p.take(p.lengths >= 2)
    area = ring_areas(p)  # zero for a ring of fewer than three distinct points
    # MVT: exterior rings have positive area in tile coordinates (y down), holes negative
    part = np.cumsum(p.exterior) - 1
    dead_part = np.zeros(len(p.feature) + 1, dtype=bool)
    dead_part[part[p.exterior & (area == 0)]] = True
    alive = (area != 0) & ~dead_part[part] & (part >= 0)
    flip = alive & (np.where(p.exterior, area < 0, area > 0))
    if flip.any():
        idx = np.arange(len(p.coords))
        starts, ends = p.offsets[:-1], p.offsets[1:]
        rev = np.repeat(flip, p.lengths)
        s, e = np.repeat(starts, p.lengths)[rev], np.repeat(ends, p.lengths)[rev]
        idx[rev] = s + e - 1 - idx[rev]
        p = Paths(p.coords[idx], p.offsets, p.feature, p.exterior)
    return p.take(alive)


def _clip(geoms: np.ndarray, kind: GeomType) -> np.ndarray:
    """Return ``geoms`` (tile coordinates) clipped to the tile and its buffer.

    GEOS's rectangle clipper refuses a polygon with a collapsed ring (one that goes out to a
    point and back: four positions, two distinct) — an analysis that unions and subtracts
    areas can leave such a sliver in a multipolygon. Those geometries are made valid first
    (the collapsed part becomes a line, which :func:`_only` drops) and the clip runs again;
    valid input never pays for the check.
    """
    box = (-BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)
    try:
        return shapely.clip_by_rect(geoms, *box)
    except GEOSException:
        fixed = geoms.copy()
        bad = ~shapely.is_valid(fixed)
        fixed[bad] = _only(shapely.make_valid(fixed[bad]), kind)
        return shapely.clip_by_rect(fixed, *box)


def draw(
    geoms: np.ndarray, tile: Tile, kind: GeomType, rules: ZoomRules
) -> tuple[Paths, np.ndarray]:
    """Return the drawable paths of lon/lat ``geoms`` in ``tile`` (integer tile coordinates,
    clipped to the tile plus its buffer) and the indices of the geometries that survive
    the size filter and snapping, in order; ``Paths.feature`` refers to those indices."""
    n = len(geoms)
    if n == 0:
        return _empty(), np.empty(0, np.int64)
    minx, _, _, maxy = tile.bounds_m()
    scale = EXTENT / tile.size_m

    def to_tile(c: np.ndarray) -> np.ndarray:
        m = lonlat_to_mercator(c)
        m[:, 0] = (m[:, 0] - minx) * scale
        m[:, 1] = (maxy - m[:, 1]) * scale
        return m

    paths = paths_of(geoms, kind)
    paths = Paths(to_tile(paths.coords), paths.offsets, paths.feature, paths.exterior)
    keep = np.ones(n, dtype=bool)
    if kind is GeomType.POLYGON and rules.min_area_m2 > 0:
        keep = feature_sizes(paths, kind, n) >= rules.min_area_m2 * scale * scale
    elif kind is GeomType.LINE and rules.min_length_m > 0:
        keep = feature_sizes(paths, kind, n) >= rules.min_length_m * scale

    if kind is not GeomType.POINT:
        pt_feature = np.repeat(paths.feature, paths.lengths)
        c = paths.coords
        outside = ((c < -BUFFER) | (c > EXTENT + BUFFER)).any(axis=1)
        special = np.bincount(pt_feature, weights=outside, minlength=n) > 0
        tol = rules.tolerance_m * scale
        if tol > 0:
            special |= np.bincount(pt_feature, minlength=n) >= SIMPLIFY_MIN_COORDS
        special &= keep
        if special.any():
            idx = np.flatnonzero(special)
            g = _clip(shapely.transform(geoms[idx], to_tile), kind)
            if tol > 0:
                g = shapely.simplify(g, tol, preserve_topology=True)
            g = _only(g, kind)
            redone = paths_of(g, kind, features=idx)
            plain = paths.take(keep[paths.feature] & ~special[paths.feature])
            paths = _merge(plain, redone)
        else:
            paths = paths.take(keep[paths.feature])
    else:
        paths = paths.take(keep[paths.feature])
    paths = _snap(paths, kind)
    survivors, paths_feature = np.unique(paths.feature, return_inverse=True)
    return Paths(paths.coords, paths.offsets, paths_feature, paths.exterior), survivors


def _merge(a: Paths, b: Paths) -> Paths:
    """Return the paths of ``a`` and ``b`` together, grouped by feature in feature order."""
    feature = np.concatenate((a.feature, b.feature))
    order = np.argsort(feature, kind="stable")
    both = Paths(
        np.concatenate((a.coords, b.coords)),
        np.concatenate((a.offsets, a.offsets[-1] + b.offsets[1:])),
        feature,
        np.concatenate((a.exterior, b.exterior)),
    )
    lengths = both.lengths[order]
    starts = both.offsets[:-1][order]
    gather = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    gather += np.arange(len(gather))
    return Paths(
        both.coords[gather],
        np.concatenate(([0], np.cumsum(lengths))).astype(np.int64),
        feature[order],
        both.exterior[order],
    )
