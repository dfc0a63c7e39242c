"""Transform: bring geometries to a layer's one stored type, repairing what can be repaired.

Vectorised with shapely 2: every step works on an object array of geometries and reports
per-row problems (positions into that array) and per-row repair notes, so the caller can
reject rows with a reason and log what was changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from layers.model import GeomType, Layer

TYPE_NAMES = (
    "Point",
    "LineString",
    "LinearRing",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)
POINT, LINESTRING, LINEARRING, POLYGON, MULTIPOINT, MULTILINESTRING, MULTIPOLYGON, COLLECTION = (
    range(8)
)
# Raw types a layer accepts before repair; collections are searched for parts of its kind.
_ACCEPTS = {
    GeomType.POINT: {POINT, MULTIPOINT},
    GeomType.LINE: {LINESTRING, LINEARRING, MULTILINESTRING, COLLECTION},
    GeomType.POLYGON: {POLYGON, MULTIPOLYGON, COLLECTION},
}
# The single-part types that make up a layer's geometry.
_PARTS = {
    GeomType.POINT: {POINT},
    GeomType.LINE: {LINESTRING, LINEARRING},
    GeomType.POLYGON: {POLYGON},
}
_TARGET = {GeomType.POINT: POINT, GeomType.LINE: MULTILINESTRING, GeomType.POLYGON: MULTIPOLYGON}
_SINGLE = {GeomType.LINE: LINESTRING, GeomType.POLYGON: POLYGON}
_KIND_WORDS = {GeomType.POINT: "point", GeomType.LINE: "line", GeomType.POLYGON: "polygon"}


@dataclass
class Shaped:
    """The result of :func:`shape_geometries`.

    ``geoms`` holds the stored geometry per input position (``None`` where rejected);
    ``problems`` and ``notes`` are keyed by input position.
    """

    geoms: np.ndarray
    problems: dict[int, str] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)


def shape_geometries(geoms: np.ndarray, layer: Layer) -> Shaped:
    """Return ``geoms`` (2D, lon/lat, none empty) as ``layer.geometry`` with per-row problems.

    Wrong kinds are rejected ("Polygon where layer 'pois' takes Point"); invalid lines and
    polygons are repaired with ``shapely.make_valid`` (noted with GEOS's reason); only the
    parts of the layer's dimension are kept; single parts are promoted to multi-geometries
    for line and polygon layers and a one-point MultiPoint becomes a Point.
    """
    n = len(geoms)
    out = Shaped(geoms=np.full(n, None, dtype=object))
    if n == 0:
        return out
    kind = layer.geometry
    type_ids = shapely.get_type_id(geoms)
    wrong = ~np.isin(type_ids, list(_ACCEPTS[kind]))
    if kind is GeomType.POINT:
        many = (type_ids == MULTIPOINT) & (shapely.get_num_geometries(geoms) != 1)
        for i in map(int, np.flatnonzero(many)):
            k = shapely.get_num_geometries(geoms[i])
            out.problems[i] = (
                f"MultiPoint of {k} points where layer {layer.id!r} takes {kind.value}"
            )
        wrong &= ~many
    for i in map(int, np.flatnonzero(wrong)):
        out.problems[i] = f"{TYPE_NAMES[type_ids[i]]} where layer {layer.id!r} takes {kind.value}"
    live = np.flatnonzero(~wrong & ~np.isin(np.arange(n), list(out.problems)))
    work = geoms[live].copy()
    repaired = np.zeros(len(live), dtype=bool)
    why: dict[int, str] = {}
    if kind is not GeomType.POINT:
        invalid = ~shapely.is_valid(work)
        if invalid.any():
            reasons = shapely.is_valid_reason(work[invalid])
            work[invalid] = shapely.make_valid(work[invalid])
            repaired = invalid
            for j, reason in zip(np.flatnonzero(invalid), reasons, strict=True):
                i = int(live[j])
                why[i] = str(reason)
                what = _describe(why[i], TYPE_NAMES[type_ids[i]])
                out.notes[i] = f"{what} repaired (make_valid; GEOS: {reason})"
    # Rows already of the stored type need nothing more; only the others are taken apart
    # and rebuilt (promotion, collections, repaired results).
    simple = (type_ids[live] == _TARGET[kind]) & ~repaired
    shaped = work.copy()
    single = (type_ids[live] == _SINGLE.get(kind, -1)) & ~repaired
    if single.any():
        # One part each: promote without taking anything apart.
        make = shapely.multipolygons if kind is GeomType.POLYGON else shapely.multilinestrings
        shaped[single] = make(work[single], indices=np.arange(int(single.sum())))
    rest = np.flatnonzero(~simple & ~single)
    built, kept_count, dropped = _assemble(work[rest], kind)
    shaped[rest] = built
    for j in rest[kept_count == 0]:
        i = int(live[j])
        raw = TYPE_NAMES[type_ids[i]]
        if repaired[j]:
            out.notes.pop(i, None)
            out.problems[i] = (
                f"invalid {raw} ({why[i]}) could not be repaired: make_valid left no "
                f"{_KIND_WORDS[kind]}"
            )
        else:
            members = sorted(
                {TYPE_NAMES[t] for t in shapely.get_type_id(shapely.get_parts(geoms[i]))}
            ) or ["nothing"]
            out.problems[i] = (
                f"{raw} of {', '.join(members)} where layer {layer.id!r} takes {kind.value}"
            )
    for j, k in zip(rest, dropped, strict=True):
        i = int(live[j])
        if k and i not in out.problems:
            note = f"dropped {k} part(s) that are not {_KIND_WORDS[kind]}s"
            out.notes[i] = f"{out.notes[i]}; {note}" if i in out.notes else note
    out.geoms[live] = shaped
    return out


def _assemble(geoms: np.ndarray, kind: GeomType) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return geometries rebuilt from their parts of ``kind`` (None where there are none),
    with the count of parts kept and dropped per geometry."""
    n = len(geoms)
    # Flatten twice: a collection may hold multi-geometries (make_valid returns those).
    parts, at = shapely.get_parts(geoms, return_index=True)
    parts, at2 = shapely.get_parts(parts, return_index=True)
    at = at[at2]
    part_types = shapely.get_type_id(parts)
    keep = np.isin(part_types, list(_PARTS[kind]))
    dropped = np.bincount(at[~keep], minlength=n)
    kept = np.bincount(at[keep], minlength=n)
    parts, at = parts[keep], at[keep]
    if kind is GeomType.LINE and (part_types[keep] == LINEARRING).any():
        rings = shapely.get_type_id(parts) == LINEARRING
        parts[rings] = [shapely.LineString(r.coords) for r in parts[rings]]
    out = np.full(n, None, dtype=object)
    if kind is GeomType.POINT:
        out[at] = parts
    elif kind is GeomType.LINE:
        shapely.multilinestrings(parts, indices=at, out=out)
    else:
        shapely.multipolygons(parts, indices=at, out=out)
    return out, kept, dropped


def _describe(reason: str, raw_type: str) -> str:
    """Return a GEOS validity reason as words, e.g. "self-intersecting polygon"."""
    noun = raw_type.lower().replace("multi", "multi-")
    r = reason.lower()
    if r.startswith("ring self-intersection"):
        return f"{noun} with a self-touching ring"
    if r.startswith("self-intersection"):
        return f"self-intersecting {noun}"
    if r.startswith("too few points"):
        return f"{noun} with too few distinct points"
    if r.startswith("hole lies outside shell"):
        return f"{noun} with a hole outside its shell"
    if r.startswith("nested holes"):
        return f"{noun} with nested holes"
    if r.startswith("interior is disconnected"):
        return f"{noun} whose interior is disconnected"
    if r.startswith("nested shells"):
        return f"{noun} with nested shells"
    if r.startswith("duplicate rings"):
        return f"{noun} with duplicate rings"
    return f"invalid {noun}"


def raw_wkt(geom: shapely.Geometry | None, limit: int = 10_000) -> str | None:
    """Return a geometry as WKT cut to ``limit`` characters (None for no geometry).

    A huge geometry is not written out in full only to be cut: its first coordinates are
    written after the WKT head of its type, which gives the same prefix cheaply.
    """
    if geom is None:
        return None
    count = int(shapely.get_num_coordinates(geom))
    if count <= limit // 4:
        return str(shapely.to_wkt(geom, rounding_precision=-1))[:limit]
    type_id = int(shapely.get_type_id(geom))
    depth = {POLYGON: 2, MULTILINESTRING: 2, MULTIPOINT: 2, MULTIPOLYGON: 3}.get(type_id, 1)
    head = TYPE_NAMES[type_id].upper() + " " + "(" * depth
    coords = shapely.get_coordinates(geom)[: limit // 8]
    body = str(shapely.to_wkt(shapely.linestrings(coords), rounding_precision=-1))
    return (head + body[len("LINESTRING (") :])[:limit]
