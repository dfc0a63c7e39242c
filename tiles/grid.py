"""The Web Mercator tile grid (EPSG:3857, the XYZ scheme of OSM, MapLibre and PMTiles).

Plain functions over numbers: a tile's bounds in metres and in degrees, the tiles covering a
lon/lat box, and the projection of lon/lat arrays to Web Mercator metres.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from twin.core.errors import BadInput

MAX_ZOOM = 22
EARTH_RADIUS = 6378137.0
#: Half the width of the Web Mercator square, in metres.
ORIGIN_SHIFT = math.pi * EARTH_RADIUS
WORLD_SIZE = 2 * ORIGIN_SHIFT
#: The latitude where the Web Mercator square ends.
MAX_LAT = math.degrees(math.atan(math.sinh(math.pi)))

EXTENT = 4096
"""Tile coordinates run 0..EXTENT (the MVT default)."""
BUFFER = 64
"""Geometry is kept this many tile units beyond each tile edge, so that strokes and fills of
neighbouring tiles join without seams (what ``ST_AsMVTGeom`` calls ``buffer``)."""


@dataclass(frozen=True, order=True)
class Tile:
    """One tile of the XYZ grid, validated: ``0 <= z <= 22`` and x, y inside the grid.

    >>> Tile(1, 1, 0).bounds_lonlat()
    (0.0, 0.0, 180.0, 85.0511287798066)
    """

    z: int
    x: int
    y: int

    def __post_init__(self) -> None:
        if not 0 <= self.z <= MAX_ZOOM:
            raise BadInput(f"zoom {self.z} is outside 0–{MAX_ZOOM}")
        n = 1 << self.z
        if not (0 <= self.x < n and 0 <= self.y < n):
            raise BadInput(f"tile {self.z}/{self.x}/{self.y} is outside the grid (0–{n - 1})")

    @property
    def size_m(self) -> float:
        """Return the tile's width (and height) in Web Mercator metres."""
        return WORLD_SIZE / (1 << self.z)

    def bounds_m(self) -> tuple[float, float, float, float]:
        """Return (minx, miny, maxx, maxy) in Web Mercator metres, as ``ST_TileEnvelope``."""
        size = self.size_m
        minx = -ORIGIN_SHIFT + self.x * size
        maxy = ORIGIN_SHIFT - self.y * size
        return (minx, maxy - size, minx + size, maxy)

    def bounds_lonlat(self) -> tuple[float, float, float, float]:
        """Return (west, south, east, north) in degrees."""
        n = 1 << self.z
        west = self.x / n * 360.0 - 180.0
        east = (self.x + 1) / n * 360.0 - 180.0
        return (west, _tile_lat(self.y + 1, n), east, _tile_lat(self.y, n))

    def parent(self) -> Tile:
        """Return the tile one zoom out that contains this one."""
        return Tile(self.z - 1, self.x >> 1, self.y >> 1)

    def __str__(self) -> str:
        return f"{self.z}/{self.x}/{self.y}"


def _tile_lat(y: int, n: int) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))


def lonlat_to_tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    """Return the (x, y) of the zoom-``z`` tile holding (lon, lat), clamped to the grid."""
    n = 1 << z
    lat = max(min(lat, MAX_LAT), -MAX_LAT)
    x = int((lon + 180.0) / 360.0 * n)
    rad = math.radians(lat)
    y = int((1 - math.asinh(math.tan(rad)) / math.pi) / 2 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def tiles_covering(bbox: tuple[float, float, float, float], z: int) -> Iterator[Tile]:
    """Yield the zoom-``z`` tiles that meet the lon/lat box ``bbox``, row by row.

    >>> [str(t) for t in tiles_covering((76.9, 43.2, 76.95, 43.25), 10)]
    ['10/730/375']
    """
    west, south, east, north = bbox
    x0, y0 = lonlat_to_tile_xy(west, north, z)
    x1, y1 = lonlat_to_tile_xy(east, south, z)
    for y in range(y0, y1 + 1):
        for x in range(x0, x1 + 1):
            yield Tile(z, x, y)


def lonlat_to_mercator(xy: np.ndarray) -> np.ndarray:
    """Return an (n, 2) array of lon/lat degrees as Web Mercator metres (spherical, as PROJ).

    Latitudes beyond the Mercator square are clamped to it rather than sent to infinity.
    """
    out = np.empty_like(xy, dtype=float)
    out[:, 0] = np.radians(xy[:, 0]) * EARTH_RADIUS
    lat = np.radians(np.clip(xy[:, 1], -MAX_LAT, MAX_LAT))
    out[:, 1] = np.log(np.tan(np.pi / 4 + lat / 2)) * EARTH_RADIUS
    return out


def pixel_m(z: int, tile_px: int = 512) -> float:
    """Return the size of one screen pixel at zoom ``z`` in Web Mercator metres.

    MapLibre draws a vector tile over 512 CSS pixels, so that is the default ``tile_px``.
    """
    return WORLD_SIZE / (1 << z) / tile_px
