"""Results of a coverage run as frames: white spots, per-district shares, coverage polygons,
and their GeoJSON form."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin.analyses.coverage.cameras import METRIC_CRS, covering
from twin.analyses.coverage.model import CoverageModel, Totals
from twin.analyses.coverage.targets import Weights
from twin.core import geometry

# A white spot is reported only from this area up: smaller ones are slivers between a view
# sector's edge and a kerb.
MIN_SPOT_M2 = 25.0
NEAREST_STREET_M = 300.0


@dataclass(frozen=True)
class StreetNames:
    """Named street centrelines, for "nearest street" of a spot or a proposed camera."""

    lines: np.ndarray
    names: np.ndarray
    tree: shapely.STRtree

    @classmethod
    def from_roads(cls, roads: gpd.GeoDataFrame) -> StreetNames:
        """Return the index of the roads that have a name (metric frame)."""
        if len(roads) and "name" in roads:
            named = roads[roads["name"].notna() & (roads["name"].astype(str).str.len() > 0)]
        else:
            named = roads.iloc[0:0]
        lines = np.asarray(named.geometry.values, dtype=object)
        return cls(lines, named["name"].astype(str).to_numpy(), shapely.STRtree(lines))

    def nearest(self, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (street name or None, distance in m) for each geometry's representative
        point; streets beyond :data:`NEAREST_STREET_M` are not named."""
        geoms = np.asarray(geoms, dtype=object)
        names = np.full(len(geoms), None, dtype=object)
        dist = np.full(len(geoms), np.nan)
        if len(geoms) == 0 or len(self.lines) == 0:
            return names, dist
        points = shapely.point_on_surface(geoms)
        (src, hit), d = self.tree.query_nearest(
            points, max_distance=NEAREST_STREET_M, return_distance=True, all_matches=False
        )
        names[src] = self.names[hit]
        dist[src] = np.round(d, 1)
        return names, dist


def white_spots(
    model: CoverageModel,
    weights: Weights,
    streets: StreetNames,
    *,
    min_area_m2: float = MIN_SPOT_M2,
) -> gpd.GeoDataFrame:
    """Return the uncovered street space as polygons ranked by weight (metric).

    A white spot is one connected uncovered part of a (250 m tile, district) piece, with its
    ``area_m2``, ``weight`` (area × weight per m²), ``district`` and nearest ``street``.
    """
    t = model.targets
    parts, piece = shapely.get_parts(model.white, return_index=True)
    poly = shapely.get_type_id(parts) == 3
    parts, piece = parts[poly], piece[poly]
    area = shapely.area(parts)
    big = area >= min_area_m2
    parts, piece, area = parts[big], piece[big], area[big]
    weight = model.density(weights)[piece] * area
    order = np.lexsort((piece, -weight))
    parts, piece, area, weight = parts[order], piece[order], area[order], weight[order]
    names, dist = streets.nearest(parts)
    return gpd.GeoDataFrame(
        {
            "rank": np.arange(1, len(parts) + 1),
            "area_m2": np.round(area, 1),
            "weight": np.round(weight, 1),
            "district": np.asarray(t.district_names, dtype=object)[t.district[piece]]
            if len(piece)
            else np.empty(0, dtype=object),
            "street": names,
            "street_distance_m": dist,
        },
        geometry=gpd.GeoSeries(parts, crs=METRIC_CRS),
        crs=METRIC_CRS,
    )


def _row(name: str, totals: Totals) -> dict[str, Any]:
    return {
        "district": name,
        "street_length_m": round(totals.street_length_m, 1),
        "street_covered_m": round(totals.street_covered_m, 1),
        "area_m2": round(totals.area_m2, 1),
        "covered_m2": round(totals.covered_m2, 1),
        "weight": round(totals.weight, 1),
        "covered_weight": round(totals.covered_weight, 1),
        **totals.percent(),
    }


def district_table(model: CoverageModel, weights: Weights) -> pd.DataFrame:
    """Return one row per district with street space in the scope: lengths, areas, weights
    and the three shares in percent, plus the cameras standing in it by status."""
    _, per = model.totals(weights)
    rows = [_row(name, tot) for name, tot in per.items()]
    frame = pd.DataFrame(
        rows,
        columns=[
            "district",
            "street_length_m",
            "street_covered_m",
            "area_m2",
            "covered_m2",
            "weight",
            "covered_weight",
            "street_pct",
            "area_pct",
            "weighted_pct",
        ],
    )
    counts = camera_counts(model)
    for status in ("working", "broken", "planned"):
        frame[f"cameras_{status}"] = [counts.get((d, status), 0) for d in frame["district"]]
    return frame


def camera_counts(model: CoverageModel) -> dict[tuple[str, str], int]:
    """Return {(district, status): number of cameras standing in the district's scope part}."""
    cams = model.camera_frame()
    if len(cams) == 0:
        return {}
    t = model.targets
    points = shapely.points(cams["x"].to_numpy(float), cams["y"].to_numpy(float))
    out: dict[tuple[str, str], int] = {}
    tree = shapely.STRtree(t.regions)
    src, hit = tree.query(points, predicate="intersects")
    first = np.unique(src, return_index=True)[1]
    for p, r in zip(src[first].tolist(), hit[first].tolist(), strict=True):
        key = (t.district_names[r], str(cams["status"].iat[p]))
        out[key] = out.get(key, 0) + 1
    return out


def summary(model: CoverageModel, weights: Weights) -> dict[str, Any]:
    """Return the scope totals, shares in percent and camera counts."""
    total, _ = model.totals(weights)
    cams = model.camera_frame()
    seeing = covering(cams, include_planned=model.include_planned) if len(cams) else np.empty(0)
    return {
        **{k: v for k, v in _row("all", total).items() if k != "district"},
        "cameras": len(cams),
        "cameras_covering": int(np.sum(seeing)),
    }


def coverage_frame(model: CoverageModel) -> gpd.GeoDataFrame:
    """Return what the cameras see, per 250 m tile, clipped to the scope (metric)."""
    keys, geoms = model.coverage_geometry()
    scope = model.targets.scope
    inside = geometry.contains(scope, geoms) if len(geoms) else np.empty(0, bool)
    clipped = geoms.copy()
    if (~inside).any():
        clipped[~inside] = shapely.intersection(geoms[~inside], scope)
    keep = shapely.area(clipped) > 0.01
    return gpd.GeoDataFrame(
        {"tile": keys[keep].astype(str), "area_m2": np.round(shapely.area(clipped[keep]), 1)},
        geometry=gpd.GeoSeries(clipped[keep], crs=METRIC_CRS),
        crs=METRIC_CRS,
    )


def feature_collection(frame: gpd.GeoDataFrame, **members: Any) -> dict[str, Any]:
    """Return a GeoJSON FeatureCollection (WGS 84) of a frame, with extra top-level members."""
    if len(frame) == 0:
        out: dict[str, Any] = {"type": "FeatureCollection", "features": []}
    else:
        out = json.loads(frame.to_crs(4326).to_json(drop_id=True, na="null"))
    out.update(members)
    return out
