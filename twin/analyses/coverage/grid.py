"""The tile grid that cuts the analysis into independent square cells.

Targets, coverage and white spots are kept per tile (default 250 m, anchored at the origin
of EPSG:32643 so every scope shares one grid). A camera edit only touches the few tiles its
old and new visibility polygons overlap, which is what makes recomputation incremental.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

_SHIFT = 1 << 24  # tile keys pack (ix, iy) into one int64


@dataclass(frozen=True)
class TileGrid:
    """Square tiles of ``size`` metres; a tile is named by an int64 key."""

    size: float = 250.0

    def key(self, ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
        """Return the keys of tiles (ix, iy)."""
        return np.asarray(ix, np.int64) * _SHIFT + np.asarray(iy, np.int64)

    def ixy(self, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (ix, iy) of tile keys."""
        key = np.asarray(key, np.int64)
        return key // _SHIFT, key % _SHIFT

    def at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Return the key of the tile holding each point."""
        return self.key(np.floor(np.asarray(x) / self.size), np.floor(np.asarray(y) / self.size))

    def covering(self, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (row, tile key) pairs: every tile that each bounding box overlaps.

        ``bounds`` is an (n, 4) array of (minx, miny, maxx, maxy); NaN rows (empty
        geometries) give no pairs.
        """
        b = np.asarray(bounds, float).reshape(-1, 4)
        ok = np.isfinite(b).all(axis=1)
        rows = np.flatnonzero(ok)
        ix0 = np.floor(b[ok, 0] / self.size).astype(np.int64)
        iy0 = np.floor(b[ok, 1] / self.size).astype(np.int64)
        ix1 = np.floor(b[ok, 2] / self.size).astype(np.int64)
        iy1 = np.floor(b[ok, 3] / self.size).astype(np.int64)
        nx, ny = ix1 - ix0 + 1, iy1 - iy0 + 1
        count = nx * ny
        row = np.repeat(rows, count)
        k = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        nxr = np.repeat(nx, count)
        ix = np.repeat(ix0, count) + k % nxr
        iy = np.repeat(iy0, count) + k // nxr
        return row, self.key(ix, iy)

    def boxes(self, keys: np.ndarray) -> np.ndarray:
        """Return the square polygons of tiles."""
        ix, iy = self.ixy(keys)
        s = self.size
        return np.asarray(shapely.box(ix * s, iy * s, (ix + 1) * s, (iy + 1) * s), dtype=object)

    def centres(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the centre (x, y) of tiles."""
        ix, iy = self.ixy(keys)
        return (ix + 0.5) * self.size, (iy + 0.5) * self.size


def clip_to_tiles(
    grid: TileGrid, geoms: np.ndarray, *, only: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (row, tile key, clipped geometry) for each geometry and tile it overlaps.

    ``only``: sorted tile keys to keep (others are skipped before clipping). Geometries
    lying wholly inside one tile are passed through without clipping.
    """
    geoms = np.asarray(geoms, dtype=object)
    row, key = grid.covering(shapely.bounds(geoms))
    single = np.bincount(row, minlength=len(geoms))[row] == 1
    if only is not None:
        keep = np.isin(key, only)
        row, key, single = row[keep], key[keep], single[keep]
    clipped = np.asarray(geoms[row], dtype=object).copy()
    if (~single).any():
        clipped[~single] = shapely.intersection(geoms[row[~single]], grid.boxes(key[~single]))
    nonempty = ~shapely.is_empty(clipped)
    return row[nonempty], key[nonempty], clipped[nonempty]


def union_by(keys: np.ndarray, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (unique keys, union of the geometries of each key), one GEOS call per group
    but a single Python call overall."""
    keys = np.asarray(keys)
    if len(keys) == 0:
        return keys, np.empty(0, dtype=object)
    order = np.argsort(keys, kind="stable")
    uniq, inverse = np.unique(keys[order], return_inverse=True)
    collections = shapely.geometrycollections(
        np.asarray(geoms, dtype=object)[order], indices=inverse
    )
    # ``lib.unary_union`` is the ufunc behind ``shapely.union_all``: applied to an array of
    # collections it unions each group in C, where union_all would need a Python loop.
    return uniq, np.asarray(shapely.lib.unary_union(collections), dtype=object)
