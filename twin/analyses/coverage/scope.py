"""Scope: where an analysis runs — the whole city, a district, a bbox or a drawn polygon."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
import shapely.geometry

from twin.analyses.coverage.cameras import to_lonlat, to_metric
from twin.core.errors import BadInput

KINDS = ("city", "district", "bbox", "polygon")


@dataclass(frozen=True)
class Scope:
    """What to analyse. ``district`` is a district name (English, Russian or Kazakh);
    ``bbox`` is (west, south, east, north) in degrees; ``polygon`` a GeoJSON Polygon or
    MultiPolygon (or a Feature holding one) in WGS 84."""

    kind: str = "city"
    district: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    polygon: Mapping[str, Any] | None = None

    def key(self) -> str:
        """Return a string naming this scope exactly (for caches)."""
        if self.kind == "district":
            return f"district:{(self.district or '').casefold()}"
        if self.kind == "bbox":
            return f"bbox:{self.bbox}"
        if self.kind == "polygon":
            return f"polygon:{shapely.to_wkb(shape_of(self.polygon), hex=True)}"
        return "city"


def parse_bbox(values: Sequence[Any]) -> tuple[float, float, float, float]:
    """Return a checked (west, south, east, north) bbox in degrees."""
    try:
        w, s, e, n = (float(v) for v in values)
    except (TypeError, ValueError):
        raise BadInput("bbox must be four numbers: west, south, east, north") from None
    if not all(math.isfinite(v) for v in (w, s, e, n)):
        raise BadInput("bbox values must be finite")
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise BadInput("bbox must be west < east and south < north, in degrees")
    return w, s, e, n


def shape_of(geojson: Mapping[str, Any] | None) -> shapely.Geometry:
    """Return the (multi)polygon of a GeoJSON geometry or Feature; raise :class:`BadInput`
    for anything malformed or not polygonal."""
    if not isinstance(geojson, Mapping):
        raise BadInput("polygon must be a GeoJSON Polygon or MultiPolygon object")
    obj: Mapping[str, Any] = geojson
    if obj.get("type") == "Feature":
        inner = obj.get("geometry")
        if not isinstance(inner, Mapping):
            raise BadInput("polygon: the Feature has no geometry")
        obj = inner
    if obj.get("type") not in ("Polygon", "MultiPolygon"):
        raise BadInput(
            f"polygon must be a GeoJSON Polygon or MultiPolygon, got {obj.get('type')!r}"
        )
    try:
        geom = shapely.geometry.shape(dict(obj))
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise BadInput(f"polygon: malformed GeoJSON coordinates ({exc})") from None
    coords = shapely.get_coordinates(geom)
    if geom.is_empty or len(coords) < 4:
        raise BadInput("polygon: needs at least one ring of three distinct points")
    if (
        not np.isfinite(coords).all()
        or (np.abs(coords[:, 0]) > 180).any()
        or (np.abs(coords[:, 1]) > 90).any()
    ):
        raise BadInput("polygon: coordinates must be lon/lat degrees (WGS 84)")
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if geom.area <= 0:
        raise BadInput("polygon has no area")
    return geom


def _metric(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda c: np.column_stack(to_metric(c[:, 0], c[:, 1])))


def resolve(
    scope: Scope,
    boundary: shapely.Geometry,
    districts: Mapping[str, shapely.Geometry],
    aliases: Mapping[str, str] | None = None,
) -> tuple[shapely.Geometry, str]:
    """Return (metric scope polygon clipped to the city, label) for ``scope``.

    ``boundary`` and ``districts`` are metric; ``aliases`` maps other district names
    (Russian, Kazakh; case-folded) to the canonical ones. Raises :class:`BadInput` for an
    unknown kind or district, and for a bbox or polygon that misses the city.
    """
    if scope.kind not in KINDS:
        raise BadInput(f"scope: kind must be one of {', '.join(KINDS)}, got {scope.kind!r}")
    if scope.kind == "city":
        return boundary, "city"
    if scope.kind == "district":
        wanted = (scope.district or "").strip().casefold()
        names = {n.casefold(): n for n in districts}
        names.update({k.casefold(): v for k, v in (aliases or {}).items()})
        if wanted not in names:
            raise BadInput(
                f"scope: unknown district {scope.district!r}; one of {', '.join(sorted(districts))}"
            )
        name = names[wanted]
        return shapely.intersection(districts[name], boundary), name
    if scope.kind == "bbox":
        if scope.bbox is None:
            raise BadInput("scope: kind 'bbox' needs bbox = [west, south, east, north]")
        w, s, e, n = parse_bbox(scope.bbox)
        xs, ys = to_metric([w, e, e, w], [s, s, n, n])
        area: shapely.Geometry = shapely.Polygon(np.column_stack([xs, ys]))
        label = f"bbox {w:.5f},{s:.5f},{e:.5f},{n:.5f}"
    else:
        area = _metric(shape_of(scope.polygon))
        label = "polygon"
    clipped = shapely.intersection(area, boundary)
    if clipped.is_empty or clipped.area < 1.0:
        raise BadInput(f"scope: the {scope.kind} lies outside the city boundary")
    return clipped, label


def lonlat_bounds(
    geom: shapely.Geometry, margin_m: float = 0.0
) -> tuple[float, float, float, float]:
    """Return the WGS 84 (west, south, east, north) of a metric geometry grown by a margin."""
    minx, miny, maxx, maxy = shapely.bounds(geom).tolist()
    xs = np.array([minx, maxx, maxx, minx]) + np.array([-1, 1, 1, -1]) * margin_m
    ys = np.array([miny, miny, maxy, maxy]) + np.array([-1, -1, 1, 1]) * margin_m
    lon, lat = to_lonlat(xs, ys)
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())
