"""Small, exact layer frames whose answers are known by hand."""

from __future__ import annotations

import geopandas as gpd
import shapely

import layers


def square(x: float, y: float, size: float = 0.001) -> shapely.MultiPolygon:
    """Return a lon/lat square (as a MultiPolygon) with its south-west corner at (x, y)."""
    return shapely.MultiPolygon([shapely.box(x, y, x + size, y + size)])


def buildings_frame(n: int = 3, *, x0: float = 76.90, y0: float = 43.25) -> gpd.GeoDataFrame:
    """Return ``n`` conformed buildings in a row, ids b1..bn, 0.002° apart."""
    layer = layers.get("buildings")
    data: dict[str, list[object]] = {
        "source_id": [f"b{i + 1}" for i in range(n)],
        "synthetic": [False] * n,
    }
    for p in layer.prop_names:
        data[p] = [None] * n
    data["name"] = [f"Дом {i + 1}" for i in range(n)]
    data["levels"] = [i + 1 for i in range(n)]
    geoms = [square(x0 + 0.002 * i, y0) for i in range(n)]
    return gpd.GeoDataFrame(data, geometry=geoms, crs=4326)


def roads_frame(names: list[str], *, y0: float = 43.26) -> gpd.GeoDataFrame:
    """Return one named east-west street per name, 0.002° apart."""
    layer = layers.get("roads")
    n = len(names)
    data: dict[str, list[object]] = {
        "source_id": [f"r{i + 1}" for i in range(n)],
        "synthetic": [False] * n,
    }
    for p in layer.prop_names:
        data[p] = [None] * n
    data["name"] = names
    data["highway"] = ["residential"] * n
    geoms = [
        shapely.MultiLineString([[(76.90, y0 + 0.002 * i), (76.91, y0 + 0.002 * i)]])
        for i in range(n)
    ]
    return gpd.GeoDataFrame(data, geometry=geoms, crs=4326)
