"""Feature edits (OGC API – Features Part 4): create, replace, update and delete one feature.

An edit is validated like a file load — the submitted GeoJSON feature becomes a one-row
frame that :func:`etl.transform.conform` checks (geometry kind, lon/lat range, property
types, choices, ranges), except that an invalid geometry is refused rather than repaired —
and written through ``Store.load`` with ``replace=False``, so it is one transaction, leaves
provenance and lands in the change log that drops stale tiles. Nothing is written when
anything is wrong.

Who may edit: planners and admins. Without a key the answer is 401 (authenticate); with a
resident key it is 403 (authenticated, not allowed). Planner-only layers stay 404 for
everyone else before any of this (see :func:`twin.core.access.require_layer`).

Sources: a created feature gets source ``"api"`` and a fresh ``source_id``; a replaced or
updated feature keeps its (source, source_id), so it stays the same row (same fid). A later
load of its source file brings the file's version back: the file is the source of truth.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import shapely
import shapely.geometry

from etl.transform import conform
from layers import Layer
from layers.model import PropType
from twin.core.access import Role, require_planner
from twin.core.errors import BadInput, Forbidden, NotFound, TooLarge
from twin.features.query import FeatureQueries
from twin.store import Batch, Store
from twin.store.tables import audit as audit_log

API_SOURCE = "api"
_ROW_PREFIX = re.compile(r"^api: row \d+: ")


def require_editor(role: Role) -> None:
    """Raise :class:`Unauthorized` without a key, :class:`Forbidden` for a non-editor role."""
    require_planner(role, "edit features")


@dataclass
class Submitted:
    """What a request body gave: properties, geometry (None when not given) and the
    synthetic flag (None when not given)."""

    properties: dict[str, Any]
    geometry: shapely.Geometry | None
    synthetic: bool | None


def read_feature(body: Any, layer: Layer, *, partial: bool = False) -> Submitted:
    """Return the submitted feature; raise :class:`BadInput` naming what is wrong.

    A full feature (POST, PUT) is a GeoJSON ``Feature`` with a geometry; a partial one
    (PATCH) may carry only ``properties`` or only ``geometry``.
    """
    if not isinstance(body, dict):
        raise BadInput("the body must be a GeoJSON Feature object")
    kind = body.get("type")
    if kind != "Feature" and not (partial and kind is None):
        raise BadInput(f"the body must be a GeoJSON Feature (type {kind!r} given)")
    geometry = None
    raw_geom = body.get("geometry")
    if raw_geom is not None:
        if not isinstance(raw_geom, dict):
            raise BadInput("geometry must be a GeoJSON geometry object")
        try:
            geometry = shapely.geometry.shape(raw_geom)
        except Exception as exc:  # shapely raises several types for malformed GeoJSON
            raise BadInput(f"geometry is not valid GeoJSON: {exc}") from None
        if geometry.is_empty:
            raise BadInput("geometry is empty")
        # Files are repaired on load (and the repair noted); an edit is refused instead, so
        # that the editor sees the problem rather than a silently different shape.
        if not shapely.is_valid(geometry):
            raise BadInput(f"geometry is invalid: {shapely.is_valid_reason(geometry)}")
        bounds = shapely.bounds(geometry).tolist()
        if not (-180 <= bounds[0] <= bounds[2] <= 180 and -90 <= bounds[1] <= bounds[3] <= 90):
            where = ", ".join(f"{v:.10g}" for v in bounds)
            raise BadInput(
                f"geometry coordinates are outside lon/lat (GeoJSON is CRS84): bounds {where}"
            )
        west, south, east, north = EDIT_BOUNDS
        if not (
            west <= bounds[0] and bounds[2] <= east and south <= bounds[1] and bounds[3] <= north
        ):
            where = ", ".join(f"{v:.6g}" for v in bounds)
            raise BadInput(
                f"geometry (bounds {where}) is not in Almaty: edits must lie within "
                f"{west}–{east} E, {south}–{north} N"
            )
    elif not partial:
        raise BadInput("geometry is required")
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise BadInput("properties must be an object")
    synthetic = props.get("synthetic")
    if synthetic is not None and not isinstance(synthetic, bool):
        raise BadInput("properties.synthetic must be true or false")
    declared = set(layer.prop_names)
    unknown = [k for k in props if k not in declared and k != "synthetic"]
    if unknown:
        raise BadInput(
            f"unknown propert{'ies' if len(unknown) > 1 else 'y'} "
            f"{', '.join(repr(k[:40]) for k in unknown[:5])} for collection {layer.id!r} "
            f"(properties: {', '.join(layer.prop_names)})"
        )
    values = {k: v for k, v in props.items() if k != "synthetic"}
    kinds = {p.name: p.type for p in layer.properties}
    for name, value in values.items():
        check_value(name, kinds[name], value)
    return Submitted(values, geometry, synthetic)


#: Where an edited geometry may lie: Almaty's extent (76.7–77.2 E, 43.0–43.4 N) with half a
#: degree around it. A feature at (0, 0) moved the buildings' TileJSON centre to Africa.
EDIT_BOUNDS = (76.2, 42.5, 77.7, 43.9)
#: The longest text a property may hold, and the largest JSON value (encoded): a 5 MB name
#: made every public tile over it 5 MB.
MAX_TEXT = 10_000
MAX_JSON_BYTES = 100_000
#: Layers that define the city itself: loaded from files, never deleted through the API.
REFERENCE_LAYERS = frozenset({"districts", "city_boundary"})


def check_value(name: str, kind: PropType, value: Any) -> None:
    """Raise :class:`BadInput` unless ``value`` fits property ``name`` declared as ``kind``
    (sizes, NUL characters, objects for scalars; the type conversion itself is the load's)."""
    if value is None:
        return
    what = f"properties.{name[:40]}"
    if kind is not PropType.JSON and isinstance(value, dict | list):
        raise BadInput(f"{what} is declared {kind.value}, not an object or a list")
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise BadInput(f"{what} is {len(value):,} characters, over the limit of {MAX_TEXT:,}")
        if "\x00" in value:
            raise BadInput(f"{what} contains a NUL character")
    if kind in (PropType.INT, PropType.FLOAT) and isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise BadInput(f"{what} must be a finite number")
        if not -(2**63) <= value <= 2**63 - 1:
            raise BadInput(f"{what} is outside the 64-bit range")
    if kind is PropType.JSON:
        size = len(json.dumps(value, ensure_ascii=False, default=str).encode())
        if size > MAX_JSON_BYTES:
            raise BadInput(
                f"{what} is {size:,} bytes of JSON, over the limit of {MAX_JSON_BYTES:,}"
            )
        if "\\u0000" in json.dumps(value):
            raise BadInput(f"{what} contains a NUL character")


#: A vector tile's size budget (uncompressed), the tiles' ``tiles.zoom.MAX_TILE_BYTES`` (this
#: package may not import ``tiles``; a test keeps the two equal). Tiles over it were only
#: logged; an edit whose one feature would fill a tile alone is now refused.
TILE_BUDGET = 500_000
#: Bytes a vertex takes in a tile at most zooms (two zig-zag varints and the command share).
VERTEX_BYTES = 4


def check_tile_size(properties: dict[str, Any], geometry: Any) -> None:
    """Raise :class:`TooLarge` (413) when the feature alone would pass :data:`TILE_BUDGET` in
    a tile that holds it whole: its properties (repeated in every tile it touches) and its
    vertices."""
    props = len(json.dumps(properties, ensure_ascii=False, default=str).encode())
    vertices = int(shapely.get_num_coordinates(geometry)) if geometry is not None else 0
    size = props + VERTEX_BYTES * vertices
    if size > TILE_BUDGET:
        raise TooLarge(
            f"the feature would take about {size:,} bytes of a vector tile ({vertices:,} "
            f"vertices, {props:,} bytes of properties), over the tile budget of "
            f"{TILE_BUDGET:,} bytes; simplify the geometry or shorten the properties"
        )


def _digest(body: Any) -> str:
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def _write(
    store: Store,
    layer: Layer,
    key: tuple[str, str],
    properties: dict[str, Any],
    geometry: shapely.Geometry,
    synthetic: bool,
    digest: str,
) -> None:
    """Conform one feature to ``layer`` and upsert it under ``key``; nothing on failure."""
    source, source_id = key
    data: dict[str, list[Any]] = {"source_id": [source_id]}
    for name in layer.prop_names:
        if name in properties:
            data[name] = [properties[name]]
    raw = gpd.GeoDataFrame(data, geometry=[geometry], crs=4326)
    result = conform(raw, layer, origin="api", id_column="source_id", synthetic=synthetic)
    if result.rejected:
        reason = _ROW_PREFIX.sub("", result.rejected[0].reason)
        raise BadInput(f"feature rejected: {reason}")
    batch = Batch(
        layer=layer,
        source=source,
        frame=result.frame,
        file=f"api:{layer.id}",
        sha256=digest,
        licence=layer.licence,
        replace=False,
    )
    store.load([batch])


def content_hash(store: Store, layer: Layer, fid: int) -> str | None:
    """Return a SHA-256 of feature ``fid``'s properties and geometry (None if there is none)."""
    queries = FeatureQueries(store, layer)
    if queries.key(fid) is None:
        return None
    one = queries.one(fid)
    doc = {
        "properties": {name: one.values[name][0] for name in layer.prop_names},
        "geometry": shapely.to_wkb(one.geoms[0], hex=True),
        "synthetic": one.synthetic[0],
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def audit(
    store: Store, layer: Layer, fid: int, action: str, actor: Actor | None, before: str | None
) -> None:
    """Append the edit to the audit log (key id, role, content hashes before and after)."""
    key_id, role = actor or (None, "unknown")
    after = None if action == "delete" else content_hash(store, layer, fid)
    audit_log.record(
        store, key_id=key_id, role=role, action=action, layer=layer.id, fid=fid,
        before_hash=before, after_hash=after,
    )  # fmt: skip


#: Who edits: the API key's id (None for a session) and the role.
Actor = tuple[str | None, str]


def create(store: Store, layer: Layer, body: Any, actor: Actor | None = None) -> int:
    """Store a new feature from a GeoJSON body; return its fid."""
    sub = read_feature(body, layer)
    assert sub.geometry is not None
    check_tile_size(sub.properties, sub.geometry)
    key = (API_SOURCE, uuid.uuid4().hex)
    _write(store, layer, key, sub.properties, sub.geometry, bool(sub.synthetic), _digest(body))
    fid = FeatureQueries(store, layer).fid_of(*key)
    assert fid is not None
    audit(store, layer, fid, "create", actor, None)
    return fid


def replace(store: Store, layer: Layer, fid: int, body: Any, actor: Actor | None = None) -> None:
    """Replace feature ``fid`` (every property; those not given become null)."""
    queries = FeatureQueries(store, layer)
    key = queries.key(fid)
    if key is None:
        raise NotFound(f"no feature {fid} in collection {layer.id!r}")
    sub = read_feature(body, layer)
    assert sub.geometry is not None
    check_tile_size(sub.properties, sub.geometry)
    synthetic = sub.synthetic
    if synthetic is None:
        synthetic = queries.one(fid, ()).synthetic[0]
    before = content_hash(store, layer, fid)
    _write(store, layer, key, sub.properties, sub.geometry, synthetic, _digest(body))
    audit(store, layer, fid, "replace", actor, before)


def update(store: Store, layer: Layer, fid: int, body: Any, actor: Actor | None = None) -> None:
    """Update feature ``fid`` with the properties and/or geometry given (a merge patch:
    a property given as null becomes null, one not given is kept)."""
    queries = FeatureQueries(store, layer)
    key = queries.key(fid)
    if key is None:
        raise NotFound(f"no feature {fid} in collection {layer.id!r}")
    sub = read_feature(body, layer, partial=True)
    current = queries.one(fid)
    properties = {name: current.values[name][0] for name in layer.prop_names}
    properties.update(sub.properties)
    geometry = sub.geometry if sub.geometry is not None else current.geoms[0]
    synthetic = current.synthetic[0] if sub.synthetic is None else sub.synthetic
    check_tile_size(properties, geometry)
    before = content_hash(store, layer, fid)
    _write(store, layer, key, properties, geometry, synthetic, _digest(body))
    audit(store, layer, fid, "update", actor, before)


def delete(store: Store, layer: Layer, fid: int, actor: Actor | None = None) -> None:
    """Delete feature ``fid``; raise :class:`NotFound` if there is none, and
    :class:`Forbidden` in a reference layer (the districts, the city boundary)."""
    if layer.id in REFERENCE_LAYERS:
        raise Forbidden(
            f"{layer.id!r} defines the city and is not deleted through the API "
            "(reload it from its source with twin load)"
        )
    before = content_hash(store, layer, fid)
    if before is None or not store.delete_features(layer, [fid]):
        raise NotFound(f"no feature {fid} in collection {layer.id!r}")
    audit(store, layer, fid, "delete", actor, before)


_EDIT_TYPES: dict[PropType, dict[str, Any]] = {
    PropType.STR: {"type": ["string", "null"], "maxLength": MAX_TEXT},
    PropType.INT: {"type": ["integer", "null"], "minimum": -(2**63), "maximum": 2**63 - 1},
    PropType.FLOAT: {"type": ["number", "null"]},
    PropType.BOOL: {"type": ["boolean", "null"]},
    PropType.DATE: {"type": ["string", "null"], "format": "date"},
    PropType.DATETIME: {"type": ["string", "null"], "format": "date-time"},
    PropType.JSON: {"description": f"any JSON value, at most {MAX_JSON_BYTES:,} bytes encoded"},
}
#: The GeoJSON geometry types an edit of each layer geometry may send (lines and polygons are
#: stored as multi-geometries; a single one is taken as a one-part multi).
_EDIT_GEOMETRIES = {
    "Point": ("Point",),
    "MultiLineString": ("LineString", "MultiLineString"),
    "MultiPolygon": ("Polygon", "MultiPolygon"),
}


def edit_schema(layer: Layer, *, partial: bool = False) -> dict[str, Any]:
    """Return the JSON Schema (OpenAPI 3.1) of a feature sent to edit ``layer``: a GeoJSON
    Feature whose ``properties`` are the layer's declared ones with their types and the sizes
    :func:`read_feature` enforces. ``partial`` is PATCH's: nothing is required."""
    west, south, east, north = EDIT_BOUNDS
    props: dict[str, Any] = {}
    for p in layer.properties:
        schema: dict[str, Any] = {"title": p.title.get("en"), **_EDIT_TYPES[p.type]}
        if p.choices:
            schema["enum"] = [*p.choices, None]
        if p.minimum is not None:
            schema["minimum"] = p.minimum
        if p.maximum is not None:
            schema["maximum"] = p.maximum
        props[p.name] = schema
    props["synthetic"] = {"type": "boolean", "description": "generated (demo) data"}
    geometry = {
        "type": "object",
        "description": f"GeoJSON in lon/lat (CRS84), within {west}–{east} E, {south}–{north} N",
        "required": ["type", "coordinates"],
        "properties": {
            "type": {"enum": list(_EDIT_GEOMETRIES[layer.geometry.value])},
            "coordinates": {"type": "array"},
        },
    }
    return {
        "title": f"{layer.id} feature" + (" (partial)" if partial else ""),
        "type": "object",
        "required": [] if partial else ["type", "geometry"],
        "properties": {
            "type": {"const": "Feature"},
            "geometry": geometry,
            "properties": {"type": "object", "properties": props, "additionalProperties": False},
        },
    }
