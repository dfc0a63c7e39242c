"""Results as the outside world takes them: GeoJSON dicts, H3 hexagons, district rows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from twin.core.errors import BadInput


def parse_floats(text: str | None, what: str) -> list[float] | None:
    """Return the numbers of a comma list ("5,10,15"); ``None`` for an empty one.

    >>> parse_floats("5, 10", "minutes")
    [5.0, 10.0]
    """
    if text is None or not text.strip():
        return None
    try:
        return [float(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise BadInput(f"{what} must be comma-separated numbers, got {text!r}") from None


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """Return (minx, miny, maxx, maxy) from "minx,miny,maxx,maxy" (lon/lat)."""
    values = parse_floats(text, "bbox")
    if values is None:
        return None
    if len(values) != 4 or values[0] >= values[2] or values[1] >= values[3]:
        raise BadInput("bbox must be minx,miny,maxx,maxy with min < max")
    return values[0], values[1], values[2], values[3]


def hexagons(cells: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return ``cells`` (with an ``h3`` column) as hexagon polygons in EPSG:4326."""
    rings = [np.array(h3.cell_to_boundary(c))[:, ::-1] for c in cells["h3"]]
    polys = shapely.polygons(rings) if rings else np.empty(0, object)
    return gpd.GeoDataFrame(cells.drop(columns=["lon", "lat"], errors="ignore"),
                            geometry=polys, crs=4326)  # fmt: skip


def rounded(frame: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """Return ``frame`` with float columns rounded (smaller, friendlier output)."""
    out = frame.copy()
    for col in out.columns:
        if col != "geometry" and pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(digits)
    return out


def feature_collection(frame: gpd.GeoDataFrame, **members: Any) -> dict[str, Any]:
    """Return ``frame`` as a GeoJSON FeatureCollection dict (NaN → null, coordinates to
    1e-6°), with ``members`` added as foreign members."""
    frame = rounded(frame)
    if len(frame):
        frame = frame.set_geometry(shapely.set_precision(frame.geometry.values, 1e-6))
    data: dict[str, Any] = json.loads(frame.to_json(na="null", drop_id=True))
    data.pop("bbox", None)
    data.update(members)
    return data


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return ``frame`` rows as JSON-ready dicts (NaN → None)."""
    out = rounded(frame, 4).astype(object)
    rows: list[dict[str, Any]] = out.where(out.notna(), None).to_dict("records")  # type: ignore[assignment]
    return rows


def district_rows(
    table: pd.DataFrame, cats: Sequence[str], minutes: Sequence[float]
) -> list[dict[str, Any]]:
    """Return district share rows nested as ``share[category][minutes]``."""
    rows = []
    for rec in records(table):
        rows.append(
            {
                "district": rec["district"],
                "population": round(float(rec["population"] or 0)),
                "share": {c: {f"{m:g}": rec[f"{c}_{m:g}"] for m in minutes} for c in cats},
                "score15_mean": rec["score15_mean"],
                "accessible_clinic_15": rec.get("accessible_clinic_15"),
            }
        )
    return rows
