"""Vector tiles of layers held in memory — an analysis result rather than a catalog layer.

A result is indexed once, when it is kept (lon/lat geometries, an STRtree, property columns as
arrays); a tile is then one tree query and the same vectorised geometry steps
(:func:`tiles.geometry.draw`) and array encoder (:mod:`tiles.mvt`) as the catalog's tiles.
Nothing here knows about HTTP or about which analysis made the layers.

Zoom rules differ from the catalog's (:mod:`tiles.zoom`) in one way: below ``maxzoom`` polygons
are simplified but no size filter drops them, because an analysis layer's small features (a
25 m² white spot) are what its reader looks for at city zoom. Only rings that collapse when
snapped to the tile grid go, and a tile over :data:`~tiles.zoom.MAX_TILE_BYTES` is drawn
again with a size filter that grows until it fits (the smallest features go first).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers import GeomType
from tiles.cache import Bounds
from tiles.geometry import draw
from tiles.grid import Tile, pixel_m
from tiles.mvt import MVT_KIND, encode_layer, geometry_commands
from tiles.tilejson import union_bounds
from tiles.zoom import MAX_TILE_BYTES, MIN_AREA_PX2, MIN_LENGTH_PX, SIMPLIFY_PX, ZoomRules

#: From this zoom on nothing is simplified; clients overzoom its tiles.
MAXZOOM = 16

_KIND_OF_DIMENSION = {0: GeomType.POINT, 1: GeomType.LINE, 2: GeomType.POLYGON}
_FAMILY = {GeomType.POINT: (0, 4), GeomType.LINE: (1, 5), GeomType.POLYGON: (3, 6)}


def geometry_kind(geoms: np.ndarray) -> GeomType:
    """Return the one geometry family of ``geoms``, by dimension: a collection counts as its
    highest-dimension part (a clip or an intersection can leave a polygon with a stray line).

    >>> geometry_kind(np.array([shapely.Point(0, 0), shapely.MultiPoint([(1, 1)])]))
    <GeomType.POINT: 'Point'>
    """
    dims = set(shapely.get_dimensions(geoms).tolist())
    if len(dims) != 1 or not dims <= set(_KIND_OF_DIMENSION):
        raise ValueError(f"a tile layer needs one geometry family, got dimensions {sorted(dims)}")
    return _KIND_OF_DIMENSION[dims.pop()]


def _only(geoms: np.ndarray, kind: GeomType) -> np.ndarray:
    """Return each geometry reduced to ``kind``'s family (empty when nothing of it is left)."""
    out = geoms.copy()
    want = _FAMILY[kind]
    for i in np.flatnonzero(~np.isin(shapely.get_type_id(out), want)):
        parts = [p for p in shapely.get_parts(out[i]) if shapely.get_type_id(p) in want]
        if kind is GeomType.POLYGON:
            out[i] = shapely.multipolygons(parts) if parts else shapely.Polygon()
        else:
            out[i] = shapely.multilinestrings(parts) if parts else shapely.LineString()
    return out


def _column(values: pd.Series) -> tuple[np.ndarray, str]:
    """Return a property column as the encoder takes it (missing values as None or NaN) and
    its TileJSON field type."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype) and not values.isna().any():
        return values.to_numpy(dtype=bool), "Boolean"
    if pd.api.types.is_integer_dtype(dtype) and not values.isna().any():
        return values.to_numpy(dtype=np.int64), "Number"
    if pd.api.types.is_float_dtype(dtype):
        return values.to_numpy(dtype=float, na_value=np.nan), "Number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        text = values.dt.strftime("%Y-%m-%dT%H:%M:%S")
        return text.astype(object).where(text.notna(), None).to_numpy(), "String"
    column = values.astype(object).where(values.notna(), None).to_numpy()
    if all(isinstance(v, bool) for v in column if v is not None):
        return column, "Boolean"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in column if v is not None):
        return column, "Number"
    return np.array([None if v is None else str(v) for v in column], dtype=object), "String"


@dataclass(frozen=True)
class FrameLayer:
    """One in-memory tile layer: lon/lat geometries, their index and property columns.

    ``ids[i]`` is the row of geometry ``i`` in the frame it came from (the MVT feature id);
    rows with an empty geometry are left out.
    """

    name: str
    kind: GeomType
    geoms: np.ndarray
    ids: np.ndarray
    columns: tuple[tuple[str, np.ndarray], ...]
    fields: Mapping[str, str]
    tree: shapely.STRtree

    @classmethod
    def from_frame(
        cls, name: str, frame: gpd.GeoDataFrame, constants: Mapping[str, str] | None = None
    ) -> FrameLayer:
        """Return the layer of ``frame`` (any CRS; reprojected to lon/lat once), every column
        a property, plus ``constants`` given to every feature.

        >>> frame = gpd.GeoDataFrame({"n": [1, 2]}, geometry=[shapely.Point(76.9, 43.2),
        ...     shapely.Point(77.0, 43.3)], crs=4326)
        >>> layer = FrameLayer.from_frame("pts", frame, {"layer": "pts"})
        >>> layer.kind, dict(layer.fields), layer.bounds
        (<GeomType.POINT: 'Point'>, {'n': 'Number', 'layer': 'String'}, (76.9, 43.2, 77.0, 43.3))
        """
        if frame.crs is not None and frame.crs.to_epsg() != 4326:
            frame = frame.to_crs(4326)
        geoms = np.asarray(frame.geometry.values, dtype=object)
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        kind = geometry_kind(geoms[present]) if present.any() else GeomType.POINT
        if kind is GeomType.POINT and (shapely.get_type_id(geoms[present]) != 0).any():
            # the point encoder takes one position per feature
            raise ValueError(f"layer {name!r}: a point layer may hold single points only")
        if present.any():
            geoms = geoms.copy()
            geoms[present] = _only(geoms[present], kind)
            present &= ~shapely.is_empty(geoms)
        rows = np.flatnonzero(present)
        columns: list[tuple[str, np.ndarray]] = []
        fields: dict[str, str] = {}
        for key in frame.columns:
            if key == frame.geometry.name:
                continue
            column, field_type = _column(frame[key])
            columns.append((str(key), column[rows]))
            fields[str(key)] = field_type
        for key, value in (constants or {}).items():
            columns.append((key, np.full(len(rows), value, dtype=object)))
            fields[key] = "String"
        geoms = geoms[rows]
        return cls(name, kind, geoms, rows, tuple(columns), fields, shapely.STRtree(geoms))

    def __len__(self) -> int:
        return len(self.geoms)

    @property
    def bounds(self) -> Bounds | None:
        """Return the layer's (west, south, east, north), None when it has no feature."""
        if len(self.geoms) == 0:
            return None
        w, s, e, n = shapely.total_bounds(self.geoms).tolist()
        return (w, s, e, n)

    def encode(self, tile: Tile, rules: ZoomRules) -> bytes:
        """Return the MVT layer of the features that intersect ``tile`` (``b""`` when none),
        drawn with ``rules``."""
        box = shapely.box(*tile.bounds_lonlat())
        idx = np.sort(self.tree.query(box, predicate="intersects"))
        if len(idx) == 0:
            return b""
        paths, survivors = draw(self.geoms[idx], tile, self.kind, rules)
        idx = idx[survivors]
        mvt_kind = MVT_KIND[self.kind]
        commands, offsets = geometry_commands(mvt_kind, paths, len(idx))
        props = [(key, column[idx]) for key, column in self.columns]
        return encode_layer(self.name, mvt_kind, self.ids[idx], commands, offsets, props)


def rules_at(kind: GeomType, z: int, maxzoom: int = MAXZOOM) -> ZoomRules:
    """Return how an in-memory layer of ``kind`` is drawn at zoom ``z``: simplified by
    half a pixel below ``maxzoom``, never filtered by size (see the module docstring).

    >>> rules_at(GeomType.POLYGON, 16)
    ZoomRules(min_area_m2=0.0, min_length_m=0.0, tolerance_m=0.0)
    >>> rules_at(GeomType.POLYGON, 12).min_area_m2
    0.0
    """
    if kind is GeomType.POINT or z >= maxzoom:
        return ZoomRules()
    return ZoomRules(tolerance_m=SIMPLIFY_PX * pixel_m(z))


def coarser(rules: ZoomRules, kind: GeomType, z: int) -> ZoomRules:
    """Return stricter rules for a tile over budget: first a size filter of a quarter of
    the catalog's (a quarter of a square pixel; a quarter of its length for lines), then
    features twice as wide and twice the simplification each time.

    >>> r = coarser(rules_at(GeomType.POLYGON, 12), GeomType.POLYGON, 12)
    >>> round(r.min_area_m2), round(coarser(r, GeomType.POLYGON, 12).min_area_m2)
    (91, 365)
    """
    if kind is GeomType.POINT:
        return rules
    if rules.min_size == 0:
        px = pixel_m(z)
        tolerance = max(rules.tolerance_m, SIMPLIFY_PX * px)
        if kind is GeomType.POLYGON:
            return ZoomRules(min_area_m2=MIN_AREA_PX2 / 16 * px * px, tolerance_m=tolerance)
        return ZoomRules(min_length_m=MIN_LENGTH_PX / 4 * px, tolerance_m=tolerance)
    return ZoomRules(rules.min_area_m2 * 4, rules.min_length_m * 2, rules.tolerance_m * 2)


class FrameTiles:
    """Several in-memory layers served as one tile set."""

    def __init__(self, layers: Sequence[FrameLayer], *, maxzoom: int = MAXZOOM) -> None:
        self.layers = tuple(layers)
        self.maxzoom = maxzoom

    @classmethod
    def from_frames(
        cls,
        frames: Mapping[str, gpd.GeoDataFrame],
        *,
        maxzoom: int = MAXZOOM,
        name_property: str | None = None,
    ) -> FrameTiles:
        """Return the tile set of named frames, in order; with ``name_property`` every
        feature also carries its layer's name under that key (as a GeoJSON export that
        merges the layers does)."""
        return cls(
            [
                FrameLayer.from_frame(name, frame, {name_property: name} if name_property else {})
                for name, frame in frames.items()
            ],
            maxzoom=maxzoom,
        )

    @property
    def bounds(self) -> Bounds | None:
        """Return the box around every layer's features (None when all are empty)."""
        return union_bounds([layer.bounds for layer in self.layers])

    def render(self, tile: Tile) -> bytes:
        """Return the uncompressed MVT of every layer in ``tile`` (``b""`` when empty).

        Over :data:`~tiles.zoom.MAX_TILE_BYTES` the biggest polygon or line layer is drawn
        again with :func:`coarser` rules until the tile fits (at most 12 times).
        """
        rules = [rules_at(layer.kind, tile.z, self.maxzoom) for layer in self.layers]
        parts = [layer.encode(tile, r) for layer, r in zip(self.layers, rules, strict=True)]
        for _ in range(12):
            if sum(map(len, parts)) <= MAX_TILE_BYTES:
                break
            shrinkable = [
                i
                for i, layer in enumerate(self.layers)
                if layer.kind is not GeomType.POINT and parts[i]
            ]
            if not shrinkable:
                break
            i = max(shrinkable, key=lambda k: len(parts[k]))
            rules[i] = coarser(rules[i], self.layers[i].kind, tile.z)
            parts[i] = self.layers[i].encode(tile, rules[i])
        return b"".join(parts)

    def tilejson(self, tiles_url: str, *, name: str, description: str = "") -> dict[str, Any]:
        """Return the TileJSON 3.0.0 of this set served at ``tiles_url`` (an XYZ template)."""
        b = self.bounds or (-180.0, -85.051129, 180.0, 85.051129)
        return {
            "tilejson": "3.0.0",
            "name": name,
            "description": description,
            "scheme": "xyz",
            "tiles": [tiles_url],
            "minzoom": 0,
            "maxzoom": self.maxzoom,
            # outwards, so that rounding never cuts a feature's tile off
            "bounds": [
                math.floor(b[0] * 1e6) / 1e6,
                math.floor(b[1] * 1e6) / 1e6,
                math.ceil(b[2] * 1e6) / 1e6,
                math.ceil(b[3] * 1e6) / 1e6,
            ],
            "center": [
                round((b[0] + b[2]) / 2, 6),
                round((b[1] + b[3]) / 2, 6),
                min(12, self.maxzoom),
            ],
            "vector_layers": [
                {
                    "id": layer.name,
                    "fields": dict(layer.fields),
                    "minzoom": 0,
                    "maxzoom": self.maxzoom,
                    "description": f"{layer.name}: {len(layer)} features ({layer.kind.value})",
                }
                for layer in self.layers
            ],
        }
