"""Rasters: the coverage count per cell (a GeoTIFF for analysts) and cell labelling used to
turn uncovered street space into demand points for placement.

Cells are squares of ``cell`` metres in EPSG:32643 aligned to multiples of the cell size, so
rasters of different scopes line up.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from affine import Affine
from rasterio.enums import MergeAlg
from rasterio.features import rasterize
from rasterio.io import MemoryFile

from twin.analyses.coverage.cameras import METRIC_CRS

COUNT_DTYPE = np.uint16


def bounds_of(geom: shapely.Geometry) -> tuple[float, float, float, float]:
    """Return (minx, miny, maxx, maxy) of one geometry."""
    b = shapely.bounds(geom).tolist()
    return float(b[0]), float(b[1]), float(b[2]), float(b[3])


@dataclass(frozen=True)
class RasterGrid:
    """A north-up grid: origin at the top-left corner, ``width`` × ``height`` cells."""

    x0: float
    y1: float
    cell: float
    width: int
    height: int

    @classmethod
    def around(cls, bounds: tuple[float, float, float, float], cell: float) -> RasterGrid:
        """Return the aligned grid covering ``bounds`` (minx, miny, maxx, maxy)."""
        minx, miny, maxx, maxy = bounds
        x0 = math.floor(minx / cell) * cell
        y0 = math.floor(miny / cell) * cell
        x1 = math.ceil(maxx / cell) * cell
        y1 = math.ceil(maxy / cell) * cell
        return cls(x0, y1, cell, max(round((x1 - x0) / cell), 1), max(round((y1 - y0) / cell), 1))

    @property
    def transform(self) -> Affine:
        """Return the affine transform of the grid."""
        return Affine(self.cell, 0.0, self.x0, 0.0, -self.cell, self.y1)

    def window(self, bounds: np.ndarray) -> tuple[int, int, int, int]:
        """Return (row0, row1, col0, col1) of the cells under a bounding box, clipped."""
        minx, miny, maxx, maxy = (float(v) for v in bounds)
        c0 = max(math.floor((minx - self.x0) / self.cell), 0)
        c1 = min(math.ceil((maxx - self.x0) / self.cell), self.width)
        r0 = max(math.floor((self.y1 - maxy) / self.cell), 0)
        r1 = min(math.ceil((self.y1 - miny) / self.cell), self.height)
        return r0, r1, c0, c1

    def sub(self, r0: int, r1: int, c0: int, c1: int) -> RasterGrid:
        """Return the part of the grid in rows r0:r1 and columns c0:c1."""
        return RasterGrid(
            self.x0 + c0 * self.cell, self.y1 - r0 * self.cell, self.cell, c1 - c0, r1 - r0
        )

    def centres(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the metric centres of cells."""
        return self.x0 + (cols + 0.5) * self.cell, self.y1 - (rows + 0.5) * self.cell


class CountRaster:
    """How many cameras see each cell; updated in place as cameras change."""

    def __init__(self, grid: RasterGrid) -> None:
        self.grid = grid
        self.counts = np.zeros((grid.height, grid.width), dtype=COUNT_DTYPE)

    def add(self, geoms: np.ndarray, sign: int = 1) -> None:
        """Add (``sign`` 1) or take away (-1) polygons, one count per polygon per cell."""
        geoms = np.asarray(geoms, dtype=object)
        geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
        if len(geoms) == 0:
            return
        if sign > 0 and len(geoms) > 16:
            rasterize(
                ((g, 1) for g in geoms),
                out=self.counts,
                transform=self.grid.transform,
                merge_alg=MergeAlg.add,
            )
            return
        for g in geoms:
            r0, r1, c0, c1 = self.grid.window(shapely.bounds(g))
            if r1 <= r0 or c1 <= c0:
                continue
            sub = self.grid.sub(r0, r1, c0, c1)
            mask = rasterize(
                [(g, 1)], out_shape=(sub.height, sub.width), transform=sub.transform, dtype="uint8"
            ).astype(bool)
            view = self.counts[r0:r1, c0:c1]
            if sign > 0:
                view[mask] += 1
            else:
                view[mask] -= np.minimum(view[mask], 1)


def geotiff_bytes(counts: np.ndarray, grid: RasterGrid, **tags: Any) -> bytes:
    """Return a tiled, deflate-compressed GeoTIFF of a count raster (EPSG:32643)."""
    with MemoryFile() as mem:
        with mem.open(**_profile(counts, grid)) as dst:
            dst.write(counts, 1)
            dst.update_tags(**{k: str(v) for k, v in tags.items()})
            dst.set_band_description(1, "cameras seeing the cell")
        return bytes(mem.read())


def write_geotiff(path: Path, counts: np.ndarray, grid: RasterGrid, **tags: Any) -> None:
    """Write a count raster to ``path`` as a GeoTIFF."""
    import rasterio

    with rasterio.open(path, "w", **_profile(counts, grid)) as dst:
        dst.write(counts, 1)
        dst.update_tags(**{k: str(v) for k, v in tags.items()})
        dst.set_band_description(1, "cameras seeing the cell")


def _profile(counts: np.ndarray, grid: RasterGrid) -> dict[str, Any]:
    tiled = grid.width >= 256 and grid.height >= 256
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": 1,
        "dtype": str(counts.dtype),
        "crs": METRIC_CRS,
        "transform": grid.transform,
        "compress": "deflate",
    }
    if tiled:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    return profile


def label_cells(
    geoms: np.ndarray, grid: RasterGrid, chunk: int = 2048
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield (rows, cols, geometry index) of the cells whose centre lies in a geometry.

    Works through the grid in chunks of ``chunk`` × ``chunk`` cells so memory stays bounded
    for a whole-city scope. Geometries must not overlap (a cell gets the last one drawn).
    """
    geoms = np.asarray(geoms, dtype=object)
    live = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    if len(live) == 0:
        return
    tree = shapely.STRtree(geoms[live])
    for r0 in range(0, grid.height, chunk):
        for c0 in range(0, grid.width, chunk):
            r1, c1 = min(r0 + chunk, grid.height), min(c0 + chunk, grid.width)
            sub = grid.sub(r0, r1, c0, c1)
            box = shapely.box(
                sub.x0, sub.y1 - sub.height * sub.cell, sub.x0 + sub.width * sub.cell, sub.y1
            )
            hit = live[tree.query(box)]
            if len(hit) == 0:
                continue
            labels = rasterize(
                ((geoms[i], int(i) + 1) for i in hit),
                out_shape=(sub.height, sub.width),
                transform=sub.transform,
                dtype="int32",
            )
            rr, cc = np.nonzero(labels)
            yield rr + r0, cc + c0, labels[rr, cc] - 1
