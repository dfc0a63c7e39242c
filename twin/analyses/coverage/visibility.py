"""Visibility polygons: each camera's view sector cut by building footprints.

The line of sight is 2-D: a building hides what lies behind it, whatever the heights. The
shadow a footprint casts from a viewpoint ``P`` is built exactly and in closed form:

* a **convex** footprint casts the convex hull of its vertices, their projections along the
  rays from ``P`` to a far radius ``R``, and the projection of the bisector of its angular
  extent (that last point keeps every far chord within 45° of a ray, so the truncated hull
  reaches at least ``R·cos 45°`` everywhere);
* a **non-convex** footprint (an L, a courtyard block) casts the union of the shadows of its
  front-facing edges, each a pentagon ``a, b, b', m', a'`` built the same way.

``R`` is 1.5 × the camera's range, so every shadow reaches past the view sector (``1.5 ×
cos 45° > 1``). A camera's visibility polygon is then its sector minus the union of the
shadows of the footprints that meet the sector; everything runs as shapely 2 array
operations over all (camera, footprint) pairs at once, found with one STRtree query.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import shapely

from twin.analyses import wkb
from twin.analyses.coverage.grid import union_by

# Angular step of the arc of a view sector. The arc's vertices sit slightly outside the
# circle so that the polygon's area equals the true sector's (see :func:`view_sectors`).
ARC_STEP_DEG = 4.0
# Shadows are projected to this multiple of the camera's range (> 1 / cos 45°).
FAR = 1.5
# A footprint whose area is within this fraction of its hull's is treated as convex.
CONVEX_TOLERANCE = 1e-9


def view_sectors(
    x: np.ndarray, y: np.ndarray, heading_deg: np.ndarray, fov_deg: np.ndarray, range_m: np.ndarray
) -> np.ndarray:
    """Return the view sector polygons of cameras (a disc where the field of view is 360°).

    Headings are clockwise from north. Arc vertices lie at ``r·sqrt(δ/sin δ)`` so that the
    polygon has exactly the area ``fov/360·π·r²`` of the true sector.

    Examples
    --------
    >>> s = view_sectors(np.array([0.0]), np.array([0.0]), np.array([0.0]),
    ...                  np.array([90.0]), np.array([100.0]))
    >>> round(float(shapely.area(s[0])) / (np.pi * 100**2 / 4), 6)
    1.0
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    heading, fov, r = (np.asarray(a, float) for a in (heading_deg, fov_deg, range_m))
    n = len(x)
    if n == 0:
        return np.empty(0, dtype=object)
    full = fov >= 360.0
    segs = np.maximum(np.ceil(np.where(full, 360.0, fov) / ARC_STEP_DEG), 1).astype(np.int64)
    delta = np.radians(np.where(full, 360.0, fov)) / segs
    r_poly = r * np.sqrt(delta / np.sin(delta))
    # Per camera: the apex (sectors only), segs + 1 arc points (a disc's last one closes it).
    arc_pts = segs + 1
    count = arc_pts + np.where(full, 0, 2)
    owner = np.repeat(np.arange(n), count)
    start = np.cumsum(count) - count
    k = np.arange(len(owner)) - start[owner]
    # Sector rings: apex, arc 0..segs, apex. Disc rings: arc 0..segs (segs == 0 again).
    arc_k = np.where(full[owner], k, k - 1)
    is_apex = ~full[owner] & ((k == 0) | (k == count[owner] - 1))
    first = np.radians(heading - np.where(full, 0.0, fov / 2.0))
    ang = first[owner] + arc_k * delta[owner]
    px = np.where(is_apex, x[owner], x[owner] + r_poly[owner] * np.sin(ang))
    py = np.where(is_apex, y[owner], y[owner] + r_poly[owner] * np.cos(ang))
    # A disc's closing vertex must equal its first one bit for bit.
    last_disc = full[owner] & (k == count[owner] - 1)
    px[last_disc] = px[start[owner[last_disc]]]
    py[last_disc] = py[start[owner[last_disc]]]
    rings = shapely.linearrings(np.column_stack([px, py]), indices=owner)
    return np.asarray(shapely.polygons(rings), dtype=object)


@dataclass(frozen=True)
class Obstacles:
    """Building footprints prepared for line-of-sight queries (metric CRS).

    ``parts`` are single polygons (multi-polygons exploded), oriented with counter-clockwise
    shells; ``owner`` maps each part to its input row. Vertices and edges are kept as flat
    arrays with per-part offsets so that shadows of many pairs are built without a loop.
    """

    parts: np.ndarray
    owner: np.ndarray
    tree: shapely.STRtree
    convex: np.ndarray
    # Shell vertices (closing vertex dropped) per part: vx, vy[vstart[i] : vstart[i] + vcount[i]]
    vx: np.ndarray
    vy: np.ndarray
    vstart: np.ndarray
    vcount: np.ndarray
    # Edges of every ring (shells and holes) per part: (ax, ay) -> (bx, by)
    ax: np.ndarray
    ay: np.ndarray
    bx: np.ndarray
    by: np.ndarray
    estart: np.ndarray
    ecount: np.ndarray

    @classmethod
    def from_geometries(cls, geometries: np.ndarray) -> Obstacles:
        """Return obstacles for metric (multi)polygons; empty and null entries are skipped."""
        geoms = np.asarray(geometries, dtype=object).reshape(-1)
        rows = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
        parts, idx = shapely.get_parts(geoms[rows], return_index=True)
        polygonal = shapely.get_type_id(parts) == 3
        parts, owner = parts[polygonal], rows[idx[polygonal]]
        parts = shapely.orient_polygons(parts, exterior_cw=False)
        hull = shapely.convex_hull(parts)
        area = shapely.area(parts)
        convex = (shapely.get_num_interior_rings(parts) == 0) & (
            area >= shapely.area(hull) * (1.0 - CONVEX_TOLERANCE)
        )
        shells = shapely.get_exterior_ring(parts)
        sc, si = shapely.get_coordinates(shells, return_index=True)
        scount = np.bincount(si, minlength=len(parts))
        # Drop each ring's closing vertex.
        sstart = np.cumsum(scount) - scount
        last = sstart + scount - 1
        drop = np.zeros(len(sc), dtype=bool)
        drop[last[scount > 0]] = True
        vx, vy = sc[~drop, 0], sc[~drop, 1]
        vcount = np.maximum(scount - 1, 0)
        vstart = np.cumsum(vcount) - vcount

        rings, ring_part = shapely.get_rings(parts, return_index=True)
        rc, ri = shapely.get_coordinates(rings, return_index=True)
        same = ri[1:] == ri[:-1]
        ea, eb = rc[:-1][same], rc[1:][same]
        epart = ring_part[ri[:-1][same]]
        ecount = np.bincount(epart, minlength=len(parts))
        estart = np.cumsum(ecount) - ecount
        return cls(
            parts=parts,
            owner=owner,
            tree=shapely.STRtree(parts),
            convex=convex,
            vx=vx,
            vy=vy,
            vstart=vstart,
            vcount=vcount,
            ax=ea[:, 0],
            ay=ea[:, 1],
            bx=eb[:, 0],
            by=eb[:, 1],
            estart=estart,
            ecount=ecount,
        )

    def take(self, idx: np.ndarray) -> Obstacles:
        """Return the obstacles of parts ``idx`` (ascending), in that order: the same, array
        for array, as :meth:`from_geometries` of those parts (``owner`` then counts them),
        gathered from this one's arrays instead of computed again from the geometries.

        >>> blocks = Obstacles.from_geometries(np.array([shapely.box(i, 0, i + 0.5, 1)
        ...                                              for i in range(3)]))
        >>> two = blocks.take(np.array([0, 2]))
        >>> two.vx.tolist() == Obstacles.from_geometries(blocks.parts[[0, 2]]).vx.tolist()
        True
        """
        idx = np.asarray(idx, dtype=np.int64)
        parts = self.parts[idx]
        vcount, ecount = self.vcount[idx], self.ecount[idx]
        _, v = _ranges(self.vstart[idx], vcount)
        _, e = _ranges(self.estart[idx], ecount)
        return Obstacles(
            parts=parts,
            owner=np.arange(len(idx)),
            tree=shapely.STRtree(parts),
            convex=self.convex[idx],
            vx=self.vx[v],
            vy=self.vy[v],
            vstart=np.cumsum(vcount) - vcount,
            vcount=vcount,
            ax=self.ax[e],
            ay=self.ay[e],
            bx=self.bx[e],
            by=self.by[e],
            estart=np.cumsum(ecount) - ecount,
            ecount=ecount,
        )

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Pickled (to a Dask worker) as one WKB buffer and the flat arrays: shapely pickles a
        # geometry at a time, ~10x slower (see twin.analyses.wkb); the tree is built again
        # (a few ms), not shipped.
        arrays = {f.name: getattr(self, f.name) for f in fields(self)}
        arrays.pop("tree")
        arrays["parts"] = wkb.pack(arrays["parts"])
        return (_unpickle, (arrays,))

    def __len__(self) -> int:
        return len(self.parts)

    def inside(self, points: np.ndarray) -> np.ndarray:
        """Return, per point, whether it lies in or on a footprint."""
        points = np.asarray(points, dtype=object)
        out = np.zeros(len(points), dtype=bool)
        if len(points) and len(self.parts):
            src, _ = self.tree.query(points, predicate="intersects")
            out[src] = True
        return out


def _unpickle(arrays: dict[str, Any]) -> Obstacles:
    """Return the obstacles :meth:`Obstacles.__reduce__` pickled."""
    parts = wkb.unpack(*arrays.pop("parts"))
    return Obstacles(parts=parts, tree=shapely.STRtree(parts), **arrays)


def _ranges(start: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (group index, flat index) enumerating ``start[g] .. start[g] + count[g]``."""
    group = np.repeat(np.arange(len(count)), count)
    offset = np.arange(len(group)) - np.repeat(np.cumsum(count) - count, count)
    return group, start[group] + offset


def _convex_shadows(
    obs: Obstacles, part: np.ndarray, px: np.ndarray, py: np.ndarray, far: np.ndarray
) -> np.ndarray:
    """Return the shadows of convex footprints ``part`` seen from (px, py), one per pair."""
    pair, v = _ranges(obs.vstart[part], obs.vcount[part])
    vx, vy = obs.vx[v], obs.vy[v]
    dx, dy = vx - px[pair], vy - py[pair]
    dist = np.maximum(np.hypot(dx, dy), 1e-12)
    first = np.cumsum(obs.vcount[part]) - obs.vcount[part]
    # Project beyond the farthest vertex too, or the hull would reach in front of it.
    if len(dist):
        far = np.maximum(far, 1.5 * np.maximum.reduceat(dist, first))
    scale = far[pair] / dist
    fx, fy = px[pair] + dx * scale, py[pair] + dy * scale
    # Angular extent of each footprint around a reference ray (towards its first vertex).
    ref = np.arctan2(dx[first], dy[first])
    rel = (np.arctan2(dx, dy) - ref[pair] + np.pi) % (2 * np.pi) - np.pi
    lo = np.minimum.reduceat(rel, first) if len(rel) else rel
    hi = np.maximum.reduceat(rel, first) if len(rel) else rel
    mid = ref + (lo + hi) / 2.0
    mx, my = px + far * np.sin(mid), py + far * np.cos(mid)
    xs = np.concatenate([vx, fx, mx])
    ys = np.concatenate([vy, fy, my])
    idx = np.concatenate([pair, pair, np.arange(len(part))])
    order = np.argsort(idx, kind="stable")
    points = shapely.multipoints(np.column_stack([xs[order], ys[order]]), indices=idx[order])
    return np.asarray(shapely.convex_hull(points), dtype=object)


def _edge_shadows(
    obs: Obstacles,
    part: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    far: np.ndarray,
    reach: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (shadow pentagons, pair index) of the front-facing edges of footprints
    ``part`` seen from (px, py), skipping edges farther than ``reach``."""
    pair, e = _ranges(obs.estart[part], obs.ecount[part])
    ax, ay, bx, by = obs.ax[e], obs.ay[e], obs.bx[e], obs.by[e]
    qx, qy = px[pair], py[pair]
    # Shells are counter-clockwise and holes clockwise, so the solid lies left of every edge:
    # an edge faces the viewpoint when the viewpoint is strictly on its right.
    cross = (bx - ax) * (qy - ay) - (by - ay) * (qx - ax)
    ex, ey = bx - ax, by - ay
    t = np.clip(((qx - ax) * ex + (qy - ay) * ey) / np.maximum(ex * ex + ey * ey, 1e-24), 0, 1)
    near = np.hypot(ax + t * ex - qx, ay + t * ey - qy)
    keep = (cross < 0) & (near < reach[pair])
    pair, ax, ay, bx, by, qx, qy = (a[keep] for a in (pair, ax, ay, bx, by, qx, qy))
    dax, day, dbx, dby = ax - qx, ay - qy, bx - qx, by - qy
    la = np.maximum(np.hypot(dax, day), 1e-12)
    lb = np.maximum(np.hypot(dbx, dby), 1e-12)
    # Beyond both ends by 1 / cos 45°, so the far chords never cross the edge itself.
    f = np.maximum(far[pair], 1.5 * np.maximum(la, lb))
    a2x, a2y = qx + dax * f / la, qy + day * f / la
    b2x, b2y = qx + dbx * f / lb, qy + dby * f / lb
    # The bisector of the angle a-P-b: the sum of the unit vectors.
    sx, sy = dax / la + dbx / lb, day / la + dby / lb
    ls = np.maximum(np.hypot(sx, sy), 1e-12)
    mx, my = qx + sx * f / ls, qy + sy * f / ls
    coords = np.stack(
        [
            np.column_stack([ax, ay]),
            np.column_stack([bx, by]),
            np.column_stack([b2x, b2y]),
            np.column_stack([mx, my]),
            np.column_stack([a2x, a2y]),
            np.column_stack([ax, ay]),
        ],
        axis=1,
    )
    return np.asarray(shapely.polygons(coords), dtype=object), pair


def visibility_polygons(
    x: np.ndarray,
    y: np.ndarray,
    heading_deg: np.ndarray,
    fov_deg: np.ndarray,
    range_m: np.ndarray,
    obstacles: Obstacles,
    *,
    active: np.ndarray | None = None,
) -> np.ndarray:
    """Return each camera's visibility polygon: its view sector minus the building shadows.

    Cameras that are not ``active`` (broken ones) and cameras standing in or on a footprint
    get an empty polygon. Coordinates are metric (EPSG:32643).

    Examples
    --------
    >>> wall = Obstacles.from_geometries(np.array([shapely.box(-50, 40, 50, 41)]))
    >>> vis = visibility_polygons(np.array([0.0]), np.array([0.0]), np.array([0.0]),
    ...                           np.array([360.0]), np.array([100.0]), wall)
    >>> bool(shapely.intersects(vis[0], shapely.Point(0, 60)))
    False
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = len(x)
    out = np.full(n, shapely.Polygon(), dtype=object)
    if n == 0:
        return out
    on = np.ones(n, dtype=bool) if active is None else np.asarray(active, dtype=bool).copy()
    if len(obstacles):
        on &= ~obstacles.inside(np.asarray(shapely.points(x, y), dtype=object))
    cams = np.flatnonzero(on)
    if len(cams) == 0:
        return out
    reach = np.asarray(range_m, float)[cams]
    sectors = view_sectors(
        x[cams], y[cams], np.asarray(heading_deg, float)[cams], np.asarray(fov_deg)[cams], reach
    )
    if len(obstacles) == 0:
        out[cams] = sectors
        return out
    cam, part = obstacles.tree.query(sectors, predicate="intersects")
    # Each camera's shadows in footprint order, not the tree's: then a camera's polygon does
    # not depend on which other footprints the tree holds (the Dask run's cells hold a part).
    order = np.lexsort((part, cam))
    cam, part = cam[order], part[order]
    px, py = x[cams][cam], y[cams][cam]
    far = FAR * reach[cam]
    conv = obstacles.convex[part]
    shadows_c = _convex_shadows(obstacles, part[conv], px[conv], py[conv], far[conv])
    shadows_e, epair = _edge_shadows(
        obstacles, part[~conv], px[~conv], py[~conv], far[~conv], reach[cam[~conv]]
    )
    shadow = np.concatenate([shadows_c, shadows_e])
    owner = np.concatenate([cam[conv], cam[~conv][epair]])
    has, union = union_by(owner, shadow)
    vis = sectors.copy()
    vis[has] = shapely.difference(sectors[has], union)
    out[cams] = polygonal_part(vis)
    return out


def polygonal_part(geoms: np.ndarray) -> np.ndarray:
    """Return only the polygonal parts of each geometry (slivers collapsed to lines go)."""
    geoms = np.asarray(geoms, dtype=object)
    for i in np.flatnonzero(shapely.get_type_id(geoms) == 7):
        parts = shapely.get_parts(shapely.get_parts(geoms[i]))
        polys = parts[shapely.get_type_id(parts) == 3]
        geoms[i] = shapely.multipolygons(polys) if len(polys) else shapely.Polygon()
    return geoms
