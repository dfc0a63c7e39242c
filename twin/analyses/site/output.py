"""Site results as the outside world takes them: hexagons with their explanations, GeoJSON,
and the description of the factors for legends and panels."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.model import t
from twin.analyses.access.output import feature_collection, hexagons
from twin.analyses.site.categories import SiteCategory
from twin.analyses.site.scoring import (
    ACCESS_MINUTES,
    BETA,
    FACTORS,
    MIN_TRIP_MIN,
    TRANSIT_FULL,
)

FACTOR_TITLES = {
    "demand": t("Спрос", "Сұраныс", "Demand"),
    "competition": t("Конкуренция", "Бәсеке", "Competition"),
    "access": t("Доступность", "Қолжетімділік", "Access"),
}

#: The columns of a ranked cell, in the order files and answers give them.
CELL_COLUMNS = [
    "rank", "h3", "district", "score", "demand", "competition", "access",
    "demand_pts", "competition_pts", "access_pts", "residents_cell", "residents_within",
    "captured", "outlets_within", "nearest_min", "nearest_fid", "bus_stops_within",
    "road_class", "pois_within", "transit", "road", "footfall", "place", "place_kind",
    "place_m", "lon", "lat",
]  # fmt: skip


def describe_factors(cat: SiteCategory, weights: dict[str, float]) -> list[dict[str, Any]]:
    """Return, per factor, its titles, weight, share of the score and what it measures."""
    total = sum(weights.values())
    m = f"{cat.minutes:g}"
    what = {
        "demand": f"residents within {m} min walk, scaled by the city's 99th percentile",
        "competition": f"Huff share a new outlet would win of those residents against the "
        f"{cat.name} outlets within {m} min of them (attraction 1/t^{BETA:g}, t >= "
        f"{MIN_TRIP_MIN:g} min); 1 = no competitor",
        "access": f"mean of transit (bus stops within {ACCESS_MINUTES:g} min, "
        f"{TRANSIT_FULL:g}+ = 1), road (busiest street class at the cell) and footfall "
        f"(points of interest within {ACCESS_MINUTES:g} min)",
    }
    return [
        {
            "name": k,
            "title": FACTOR_TITLES[k].as_dict(),
            "weight": weights[k],
            "max_points": round(100.0 * weights[k] / total, 2),
            "measures": what[k],
        }
        for k in FACTORS
    ]


def why(row: pd.Series | dict[str, Any], cat: SiteCategory) -> str:
    """Return one sentence explaining a cell's score (English)."""
    m = f"{cat.minutes:g}"
    label = cat.title.en.lower()
    parts = [f"{row['residents_within']:,.0f} residents within {m} min walk"]
    n = int(row["outlets_within"])
    if n == 0:
        near = row.get("nearest_min")
        beyond = (
            f" (nearest {near:.0f} min)"
            if near is not None and np.isfinite(near)
            else " (none within an hour)"
        )
        parts.append(f"no {label} within {m} min{beyond}")
    else:
        parts.append(
            f"{label} within {m} min: {n} — a new one would win "
            f"{100 * row['competition']:.0f}% of these residents"
        )
    road = row.get("road_class") or "no mapped street"
    stops, pois = int(row["bus_stops_within"]), int(row["pois_within"])
    parts.append(
        f"{stops} bus stop{'' if stops == 1 else 's'} and {pois} "
        f"{'shop or service' if pois == 1 else 'shops and services'} within "
        f"{ACCESS_MINUTES:g} min, {road}"
    )
    return "; ".join(parts)


def ranked_frame(cells: pd.DataFrame, cat: SiteCategory) -> gpd.GeoDataFrame:
    """Return ranked cells as hexagons with the flat columns of :data:`CELL_COLUMNS` and a
    ``why`` sentence (for GeoJSON, GeoPackage and CSV files)."""
    frame = cells[[c for c in CELL_COLUMNS if c in cells]].copy()
    frame["nearest_fid"] = frame["nearest_fid"].where(frame["nearest_fid"] >= 0)
    frame["why"] = [why(r, cat) for _, r in frame.iterrows()]
    out = hexagons(frame.drop(columns=["lon", "lat"]))
    out["lon"], out["lat"] = frame["lon"].round(6).to_numpy(), frame["lat"].round(6).to_numpy()
    return out


def explanation(row: dict[str, Any], weights: dict[str, float]) -> list[dict[str, Any]]:
    """Return a cell's factors as a list for a panel: name, value (0–1), weight, points."""
    return [
        {
            "name": k,
            "title": FACTOR_TITLES[k].as_dict(),
            "value": None if row[k] is None else round(float(row[k]), 4),
            "weight": weights[k],
            "points": None if row[f"{k}_pts"] is None else round(float(row[f"{k}_pts"]), 2),
        }
        for k in FACTORS
    ]


def cells_geojson(
    cells: pd.DataFrame, cat: SiteCategory, used: dict[str, float], **members: Any
) -> dict[str, Any]:
    """Return ranked cells as a GeoJSON FeatureCollection whose features carry the flat
    columns, ``why`` and ``factors`` (see :func:`explanation`)."""
    data = feature_collection(ranked_frame(cells, cat), **members)
    for feature in data["features"]:
        props = feature["properties"]
        props["factors"] = explanation(props, used)
        feature["id"] = props["h3"]
    return data
