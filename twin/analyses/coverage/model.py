"""The coverage model: street-space pieces, per-camera visibility polygons and per-tile
coverage, kept so that changing one camera recomputes only the tiles it touches.

State (all metric):

* per camera: its row, its visibility polygon and the tiles it overlaps;
* per tile: the visibility polygons clipped to it, keyed by camera (the coverage-count
  structure: how many and which cameras see into the tile) and their union;
* per target piece: covered area, covered street length and the uncovered rest (white).

An edit (add, move, change, remove; one camera or many) computes the changed cameras'
polygons, swaps them in the tiles they left or entered, and redoes those tiles' unions and
pieces — a handful of tiles for one camera whatever the size of the scope.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from twin.analyses.coverage import distributed
from twin.analyses.coverage.cameras import (
    COLUMNS,
    CameraEdits,
    covering,
    edit_rows,
    effective_fov,
    validate,
)
from twin.analyses.coverage.grid import clip_to_tiles, union_by
from twin.analyses.coverage.raster import CountRaster, RasterGrid, bounds_of
from twin.analyses.coverage.targets import Targets, Weights
from twin.analyses.coverage.visibility import Obstacles

_EMPTY = shapely.Polygon()


@dataclass(frozen=True)
class Totals:
    """Coverage of one district (or of the whole scope)."""

    street_length_m: float
    street_covered_m: float
    area_m2: float
    covered_m2: float
    weight: float
    covered_weight: float

    def percent(self) -> dict[str, float | None]:
        """Return the three shares in percent (None where there is nothing to cover)."""

        def pct(a: float, b: float) -> float | None:
            return round(100.0 * a / b, 2) if b > 0 else None

        return {
            "street_pct": pct(self.street_covered_m, self.street_length_m),
            "area_pct": pct(self.covered_m2, self.area_m2),
            "weighted_pct": pct(self.covered_weight, self.weight),
        }


class CoverageModel:
    """Coverage of :class:`Targets` by a set of cameras, updated incrementally.

    Examples
    --------
    An open 200 m square watched by one dome of 50 m range, then the dome turned into a
    fixed 90° camera (only the tiles it touches are recomputed):

    >>> import geopandas as gpd
    >>> from twin.analyses.coverage.grid import TileGrid
    >>> from twin.analyses.coverage.targets import WeightField, build_targets
    >>> square = shapely.box(660_000, 4_790_000, 660_200, 4_790_200)
    >>> grid = TileGrid(250.0)
    >>> none = Obstacles.from_geometries(np.empty(0, dtype=object))
    >>> field = WeightField.build(np.array([square]), np.array([1.0]), np.empty(0),
    ...                           np.empty(0), 40_000.0, grid)
    >>> roads = gpd.GeoDataFrame({"highway": [], "tunnel": []}, geometry=[], crs=32643)
    >>> targets = build_targets(scope=square, districts={"Almaly": square}, roads=roads,
    ...                         parks=np.array([square]), obstacles=none, field=field, grid=grid)
    >>> cams = pd.DataFrame([{"id": "a", "x": 660_100.0, "y": 4_790_100.0, "kind": "ptz",
    ...                       "status": "working", "mount_height_m": 6.0, "heading_deg": 0.0,
    ...                       "fov_deg": 90.0, "range_m": 50.0}])
    >>> model = CoverageModel(targets, none, cams)
    >>> total, _ = model.totals(Weights())
    >>> round(total.covered_m2 / (np.pi * 50**2), 4)
    1.0
    >>> _ = model.upsert([{**cams.iloc[0].to_dict(), "kind": "fixed"}])
    >>> round(model.totals(Weights())[0].covered_m2 / (np.pi * 50**2 / 4), 4)
    1.0
    """

    def __init__(
        self,
        targets: Targets,
        obstacles: Obstacles,
        cameras: pd.DataFrame,
        *,
        include_planned: bool = False,
    ) -> None:
        validate(cameras)
        self.targets = targets
        self.obstacles = obstacles
        self.grid = targets.grid
        self.include_planned = include_planned
        self.tiles = np.unique(targets.tile)
        order = np.argsort(targets.tile, kind="stable")
        pos = np.searchsorted(self.tiles, targets.tile[order])
        self._tile_pieces = np.split(order, np.flatnonzero(np.diff(pos)) + 1) if len(order) else []
        self._piece_tile = np.searchsorted(self.tiles, targets.tile)
        n_tiles = len(self.tiles)
        self.tile_parts: list[dict[str, shapely.Geometry]] = [{} for _ in range(n_tiles)]
        self.tile_cover = np.full(n_tiles, _EMPTY, dtype=object)
        n = len(targets)
        self.covered_area = np.zeros(n)
        self.covered_length = np.zeros(n)
        self.white = np.asarray(targets.geometry, dtype=object).copy()
        self.rows: dict[str, dict[str, Any]] = {}
        self.vis: dict[str, shapely.Geometry] = {}
        self.cam_tiles: dict[str, np.ndarray] = {}
        self._raster: CountRaster | None = None
        records = cameras[list(COLUMNS)].to_dict("records")
        self._set([{str(k): v for k, v in r.items()} for r in records], [])

    # -- cameras ------------------------------------------------------------------------
    def camera_frame(self) -> pd.DataFrame:
        """Return the current cameras as a table (:data:`COLUMNS`)."""
        return pd.DataFrame(list(self.rows.values()), columns=list(COLUMNS))

    def _set(self, rows: Sequence[dict[str, Any]], removed: Sequence[str]) -> np.ndarray:
        """Insert or replace ``rows`` and drop ``removed``; return the recomputed tile indices."""
        touched: list[np.ndarray] = []
        gone: list[shapely.Geometry] = []
        for cid in [*removed, *(r["id"] for r in rows)]:
            old = self.cam_tiles.pop(cid, None)
            if old is not None:
                for t in old:
                    self.tile_parts[t].pop(cid, None)
                touched.append(old)
            old_vis = self.vis.pop(cid, None)
            if old_vis is not None:
                gone.append(old_vis)
            self.rows.pop(cid, None)
        if self._raster is not None:
            self._raster.add(np.asarray(gone, dtype=object), -1)
        if rows:
            table = pd.DataFrame(list(rows), columns=list(COLUMNS))
            vis = distributed.visibility(
                table["x"].to_numpy(float),
                table["y"].to_numpy(float),
                table["heading_deg"].to_numpy(float),
                effective_fov(table),
                table["range_m"].to_numpy(float),
                self.obstacles,
                active=covering(table, include_planned=self.include_planned),
            )
            ids = table["id"].tolist()
            for cid, row, geom in zip(ids, rows, vis, strict=True):
                self.rows[cid] = dict(row)
                self.vis[cid] = geom
                self.cam_tiles[cid] = np.empty(0, np.int64)
            if self._raster is not None:
                self._raster.add(vis, 1)
            owner, key, part = clip_to_tiles(self.grid, vis, only=self.tiles)
            tpos = np.searchsorted(self.tiles, key)
            for o, t, g in zip(owner.tolist(), tpos.tolist(), part, strict=True):
                self.tile_parts[t][ids[o]] = g
            if len(owner):
                order = np.argsort(owner, kind="stable")
                groups = np.split(tpos[order], np.flatnonzero(np.diff(owner[order])) + 1)
                for o, g in zip(np.unique(owner[order]).tolist(), groups, strict=True):
                    self.cam_tiles[ids[o]] = g
                touched.append(tpos)
        changed = np.unique(np.concatenate(touched)) if touched else np.empty(0, np.int64)
        self._refresh(changed)
        return changed

    def _refresh(self, tiles: np.ndarray) -> None:
        """Recompute the coverage union and the pieces of tiles (positions in ``self.tiles``)."""
        if len(tiles) == 0:
            return
        keys, geoms = [], []
        for t in tiles.tolist():
            for g in self.tile_parts[t].values():
                keys.append(t)
                geoms.append(g)
        self.tile_cover[tiles] = _EMPTY
        if keys:
            uniq, union = union_by(np.asarray(keys), np.asarray(geoms, dtype=object))
            self.tile_cover[uniq] = union
        pieces = np.concatenate([self._tile_pieces[t] for t in tiles.tolist()])
        cover = self.tile_cover[self._piece_tile[pieces]]
        seen = ~shapely.is_empty(cover)
        geom = self.targets.geometry[pieces]
        self.covered_area[pieces] = 0.0
        self.covered_length[pieces] = 0.0
        self.white[pieces] = geom
        if seen.any():
            p, c = pieces[seen], cover[seen]
            self.covered_area[p] = shapely.area(shapely.intersection(geom[seen], c))
            self.white[p] = shapely.difference(geom[seen], c)
            streets = self.targets.streets[p]
            has = self.targets.street_length[p] > 0
            if has.any():
                self.covered_length[p[has]] = shapely.length(
                    shapely.intersection(streets[has], c[has])
                )

    def upsert(self, rows: Sequence[dict[str, Any]]) -> np.ndarray:
        """Add or replace cameras (full rows); return the tiles recomputed."""
        table = pd.DataFrame(list(rows), columns=list(COLUMNS))
        validate(table)
        return self._set(list(rows), [])

    def remove(self, ids: Sequence[str]) -> np.ndarray:
        """Remove cameras by id; return the tiles recomputed."""
        return self._set([], [i for i in ids if i in self.rows])

    def apply(self, edits: CameraEdits) -> tuple[list[dict[str, Any]], list[str]]:
        """Apply what-if ``edits``; return what undoes them (rows to restore, ids to drop)."""
        removed, rows = edit_rows(self.camera_frame(), edits)
        restore = [
            dict(self.rows[c]) for c in [*removed, *(r["id"] for r in rows)] if c in self.rows
        ]
        added = [r["id"] for r in rows if r["id"] not in self.rows]
        self._set(rows, removed)
        return restore, added

    @contextmanager
    def what_if(self, edits: CameraEdits | None) -> Iterator[CoverageModel]:
        """Yield the model with ``edits`` applied, and put it back as it was afterwards."""
        if not edits:
            yield self
            return
        restore, added = self.apply(edits)
        try:
            yield self
        finally:
            self._set(restore, added)

    # -- metrics ------------------------------------------------------------------------
    def density(self, weights: Weights) -> np.ndarray:
        """Return the weight per m² of every piece."""
        return weights.density(self.targets.factors)

    def totals(self, weights: Weights) -> tuple[Totals, dict[str, Totals]]:
        """Return (scope totals, totals per district with street space in the scope)."""
        t = self.targets
        dens = self.density(weights)
        cols = np.stack(
            [
                t.street_length,
                self.covered_length,
                t.area,
                self.covered_area,
                dens * t.area,
                dens * self.covered_area,
            ]
        )
        n = len(t.district_names)
        sums = np.stack([np.bincount(t.district, weights=c, minlength=n) for c in cols])
        per = {
            name: Totals(*(float(v) for v in sums[:, i]))
            for i, name in enumerate(t.district_names)
            if sums[2, i] > 0
        }
        return Totals(*(float(v) for v in cols.sum(axis=1))), per

    def coverage_geometry(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (tile keys, coverage polygon) of every tile some camera sees into."""
        seen = ~shapely.is_empty(self.tile_cover)
        return self.tiles[seen], self.tile_cover[seen]

    def count_raster(self, cell: float = 5.0) -> CountRaster:
        """Return how many cameras see each ``cell``-metre cell of the scope's bounds.

        Built on first use, then kept and updated by every later edit.
        """
        if self._raster is None or self._raster.grid.cell != cell:
            raster = CountRaster(RasterGrid.around(bounds_of(self.targets.scope), cell))
            raster.add(np.asarray(list(self.vis.values()), dtype=object), 1)
            self._raster = raster
        return self._raster
