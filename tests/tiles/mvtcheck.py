"""Helpers that read tiles back and compute what they should hold, independently of tiles/."""

from __future__ import annotations

import math
from typing import Any

import mapbox_vector_tile
import numpy as np
import pyproj
import shapely

from layers import GeomType, Layer
from twin.store import Store

EXTENT, BUFFER = 4096, 64
SYSTEM = {"fid", "source", "source_id", "synthetic", "row_hash", "loaded_at", "geom"}
_TO_MERCATOR = pyproj.Transformer.from_crs(4326, 3857, always_xy=True)


def decode(raw: bytes) -> dict[str, Any]:
    """Return the decoded tile, coordinates as stored (tile units, y down)."""
    return mapbox_vector_tile.decode(raw, default_options={"y_coord_down": True})


def ids(raw: bytes, layer: str) -> list[int]:
    """Return the sorted feature ids of ``layer`` in a tile."""
    tile = decode(raw)
    return sorted(f["id"] for f in tile[layer]["features"]) if layer in tile else []


def tile_box(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Return a tile's (west, south, east, north), from the slippy-map formulas."""
    n = 2**z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return (x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y))


def expected_ids(
    store: Store, layer: Layer, z: int, x: int, y: int, *, min_px2: float = 4.0, min_px: float = 2.0
) -> tuple[list[int], int]:
    """Return (ids a tile of ``layer`` must hold, how many the size filter drops): the
    features whose geometry intersects the tile, minus polygons under ``min_px2`` square
    pixels and lines under ``min_px`` pixels (512-px tiles, Web Mercator, below maxzoom)."""
    box = tile_box(z, x, y)
    frame = store.read_frame(layer, bbox=box)
    if frame.empty:
        return [], 0
    geoms = np.asarray(frame.geometry.values)
    hit = shapely.intersects(geoms, shapely.box(*box))
    frame, geoms = frame[hit], geoms[hit]
    keep = np.ones(len(frame), dtype=bool)
    if z < layer.maxzoom and layer.geometry is not GeomType.POINT:
        merc = shapely.transform(
            geoms, lambda c: np.column_stack(_TO_MERCATOR.transform(c[:, 0], c[:, 1]))
        )
        px = 2 * math.pi * 6378137 / 2**z / 512
        if layer.geometry is GeomType.POLYGON:
            keep = shapely.area(merc) >= min_px2 * px * px
        else:
            keep = shapely.length(merc) >= min_px * px
    return sorted(frame["fid"][keep].astype(int).tolist()), int((~keep).sum())


def all_coords(geometry: dict[str, Any]) -> np.ndarray:
    """Return every coordinate of a decoded geometry as an (n, 2) array."""
    return np.asarray(shapely.get_coordinates(shapely.geometry.shape(geometry)))
