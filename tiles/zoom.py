"""What a zoom level keeps: the size filter and simplification tolerance of a layer at zoom z,
and how a dense point layer is served there (points or H3 hexagons).

Both tile paths (PostGIS and embedded) take their numbers from here, so they drop the same
features. The rules, in screen pixels of a 512-pixel tile (how MapLibre draws vector tiles):

* polygons smaller than ``MIN_AREA_PX2`` square pixels and lines shorter than
  ``MIN_LENGTH_PX`` pixels are left out — measured on the whole feature in Web Mercator,
  before clipping, so a feature is in all the tiles it touches or in none;
* geometry is simplified (topology-preserving) with a tolerance of ``SIMPLIFY_PX`` pixels;
* from a layer's ``maxzoom`` on, nothing is dropped or simplified, because clients overzoom
  the maxzoom tile and must find every feature in it; ``Layer.simplify = False`` turns both
  off at every zoom;
* a tile must stay within ``MAX_TILE_BYTES`` (uncompressed): if it would not, its biggest
  polygon or line layer is drawn again with :func:`coarser` rules until it fits (tippecanoe's
  "drop the smallest as needed"). The bundled city never needs it; a 10x denser one may.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from layers import GeomType, Layer, Prop, PropType
from layers.model import RATING_PROPS
from tiles.grid import EARTH_RADIUS, MAX_LAT, Tile, pixel_m

MAX_TILE_BYTES = 500_000
MIN_AREA_PX2 = 4.0
MIN_LENGTH_PX = 2.0
SIMPLIFY_PX = 0.5

#: Public H3 aggregates of planner-only points (residents' appeals) never go finer than this
#: resolution (hexagons of ~0.1 km²), so a single appeal cannot be located from the counts.
PUBLIC_MAX_RES = 9


def tile_props(layer: Layer) -> tuple[Prop, ...]:
    """Return the properties a tile carries: every declared one except JSON documents (the
    air sensors' daily series would make one z9 tile 180 KB); those stay in the features API.
    A ratable layer's tiles add residents' ``rating_mean`` and ``rating_count``
    (``layers.model.RATING_PROPS``), which the style colours works by.

    >>> from layers import get
    >>> "readings" in [p.name for p in tile_props(get("air_sensors"))]
    False
    """
    declared = tuple(p for p in layer.properties if p.type is not PropType.JSON)
    return declared + RATING_PROPS if layer.ratable else declared


class Mode(StrEnum):
    """How a layer is drawn in one tile."""

    FEATURES = "features"
    HEXAGONS = "hexagons"


@dataclass(frozen=True)
class ZoomRules:
    """The size filter and simplification of one layer at one zoom, in Mercator units."""

    min_area_m2: float = 0.0
    min_length_m: float = 0.0
    tolerance_m: float = 0.0

    @property
    def min_size(self) -> float:
        """Return the one threshold that applies (area for polygons, length for lines)."""
        return self.min_area_m2 or self.min_length_m


def zoom_rules(layer: Layer, z: int, *, maxzoom: int | None = None) -> ZoomRules:
    """Return what ``layer`` drops and how much it simplifies at zoom ``z``.

    ``maxzoom`` lowers the layer's own (an archive that stops earlier must keep every
    feature in its last zoom, which clients overzoom).

    >>> from layers import get
    >>> zoom_rules(get("buildings"), 16)
    ZoomRules(min_area_m2=0.0, min_length_m=0.0, tolerance_m=0.0)
    >>> round(zoom_rules(get("buildings"), 14).min_area_m2, 1)
    91.3
    """
    top = layer.maxzoom if maxzoom is None else min(maxzoom, layer.maxzoom)
    if layer.geometry is GeomType.POINT or not layer.simplify or z >= top:
        return ZoomRules()
    px = pixel_m(z)
    if layer.geometry is GeomType.POLYGON:
        return ZoomRules(min_area_m2=MIN_AREA_PX2 * px * px, tolerance_m=SIMPLIFY_PX * px)
    return ZoomRules(min_length_m=MIN_LENGTH_PX * px, tolerance_m=SIMPLIFY_PX * px)


def envelope_floor(rules: ZoomRules, tile: Tile) -> tuple[float, float]:
    """Return ``(min_deg2, lat_bound)``: a polygon whose lon/lat envelope covers less than
    ``min_deg2`` square degrees while staying within ``±lat_bound`` cannot reach
    ``rules.min_area_m2`` in Web Mercator, so the embedded encoder skips such rows in its
    R-tree query, before any geometry is read (at z12 most buildings). (PostGIS leaves it out:
    there its own test costs more than the ``ST_Area`` it would save.)

    Why it is safe: Mercator stretches latitude by 1/cos φ, at most 1/cos(lat_bound) inside
    ±lat_bound, so a feature's Mercator area is at most its envelope's square degrees times
    (R·π/180)² / cos(lat_bound). Rows reaching beyond ±lat_bound (one degree past the tile)
    are always read. Index envelopes are rounded outwards, which only keeps more rows.
    """
    if rules.min_area_m2 <= 0:
        return 0.0, 90.0
    _, south, _, north = tile.bounds_lonlat()
    bound = min(max(abs(south), abs(north)) + 1.0, MAX_LAT)
    k = EARTH_RADIUS * math.pi / 180
    return rules.min_area_m2 * math.cos(math.radians(bound)) / (k * k) * (1 - 1e-9), bound


def coarser(rules: ZoomRules, layer: Layer, z: int) -> ZoomRules:
    """Return stricter rules for a tile over the size budget: features must be twice as wide
    (four times the area, twice the length) and the simplification doubles.

    From ``maxzoom`` on, where nothing is normally dropped, it starts at the usual rule of
    that zoom. Points have no size, so their rules stay as they are.
    """
    if layer.geometry is GeomType.POINT:
        return rules
    if rules.min_size == 0:
        px = pixel_m(z)
        if layer.geometry is GeomType.POLYGON:
            return ZoomRules(min_area_m2=MIN_AREA_PX2 * px * px, tolerance_m=SIMPLIFY_PX * px)
        return ZoomRules(min_length_m=MIN_LENGTH_PX * px, tolerance_m=SIMPLIFY_PX * px)
    return ZoomRules(rules.min_area_m2 * 4, rules.min_length_m * 2, rules.tolerance_m * 2)


def mode_at(layer: Layer, z: int, *, aggregate_only: bool) -> Mode:
    """Return whether ``layer`` is drawn as features or as H3 hexagons at zoom ``z``.

    ``aggregate_only`` is for a caller who may see only the layer's public counts.
    """
    if aggregate_only:
        return Mode.HEXAGONS
    if layer.h3_below_zoom is not None and z < layer.h3_below_zoom:
        return Mode.HEXAGONS
    return Mode.FEATURES


def h3_resolution(z: int, *, cap: int = 15) -> int:
    """Return the H3 resolution for hexagons at zoom ``z``: about a dozen across a tile.

    Each zoom halves the tile, each H3 resolution divides the edge by √7, so the resolution
    grows by log(2)/log(√7) ≈ 0.71 per zoom, anchored at resolution 7 (1.2 km edges) at z10.

    >>> [h3_resolution(z) for z in (0, 8, 10, 12, 14, 16)]
    [0, 6, 7, 8, 10, 11]
    """
    res = round(7 + (z - 10) * math.log(2) / math.log(math.sqrt(7)))
    return max(0, min(res, cap, 15))
