"""A small city for the appeals tests: two districts side by side and a few appeals of known
place, category and status (loaded as a generated source, as the demo data is)."""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import shapely

import layers
from etl.transform import conform
from twin.store import Batch, Store

WEST, EAST = "Алмалинский", "Медеуский"
#: a point inside the west district
LON, LAT = 76.90, 43.25
M_PER_DEG_LAT = 111_195.0


def north_of(lon: float, lat: float, metres: float) -> tuple[float, float]:
    """Return the point ``metres`` north of (lon, lat)."""
    return lon, lat + metres / M_PER_DEG_LAT


def east_of(lon: float, lat: float, metres: float) -> tuple[float, float]:
    """Return the point ``metres`` east of (lon, lat)."""
    return lon + metres / (M_PER_DEG_LAT * math.cos(math.radians(lat))), lat


def load_rows(
    store: Store,
    layer_id: str,
    data: dict[str, list[Any]],
    geoms: list[Any],
    source: str | None = None,
) -> None:
    """Load generated rows of ``layer_id`` (properties not given are null) as ``source``."""
    layer = layers.get(layer_id)
    n = len(geoms)
    for p in layer.prop_names:
        data.setdefault(p, [None] * n)
    raw = gpd.GeoDataFrame(data, geometry=geoms, crs=4326)
    result = conform(raw, layer, origin="scene", id_column="source_id", synthetic=True)
    assert not result.rejected, result.rejected
    store.load(
        [
            Batch(
                layer=layer,
                source=source or f"scene-{layer_id}",
                frame=result.frame,
                file="scene",
                sha256="0",
                licence="test",
            )
        ]
    )


def load_scene(store: Store) -> None:
    """Load the two districts and three generated appeals near (LON, LAT)."""
    west = shapely.MultiPolygon([shapely.box(76.85, 43.20, 76.95, 43.30)])
    east = shapely.MultiPolygon([shapely.box(76.95, 43.20, 77.05, 43.30)])
    load_rows(store, "districts", {"source_id": ["w", "e"], "name": [WEST, EAST]}, [west, east])
    load_rows(
        store,
        "appeals",
        {
            "source_id": ["g1", "g2", "g3"],
            "category": ["lighting", "lighting", "healthcare"],
            "status": ["resolved", "in_progress", "received"],
            "created_on": ["2026-10-01", "2026-10-02", "2026-10-03"],
            "assigned_on": ["2026-10-02", "2026-10-03", None],
            "started_on": ["2026-10-03", "2026-10-04", None],
            "resolved_on": ["2026-10-05", None, None],
            "deadline_on": ["2026-10-22", "2026-10-23", "2026-10-24"],
            "service": ["city_lighting", "city_lighting", "public_health"],
            "district": [WEST, WEST, WEST],
            "satisfaction": [4, None, None],
        },
        [
            shapely.Point(*north_of(LON, LAT, 200)),
            shapely.Point(*north_of(LON, LAT, 400)),
            shapely.Point(*north_of(LON, LAT, 600)),
        ],
    )
