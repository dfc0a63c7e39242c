"""The two analyses as one straight line each: prepared scope -> what-if edits -> results.

:class:`PreparedScope` holds what does not change between requests on one scope (footprints,
street-space pieces, the coverage model); :meth:`PreparedScope.coverage` and
:meth:`PreparedScope.placement` apply a request's what-if edits incrementally, compute, and
put the model back, so one prepared scope serves many requests.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin.analyses.budget import Budget, sector_cells
from twin.analyses.coverage.cameras import METRIC_CRS, CameraEdits, covering, to_lonlat
from twin.analyses.coverage.candidates import candidates, given_sites, street_sites
from twin.analyses.coverage.grid import TileGrid
from twin.analyses.coverage.inputs import CityData
from twin.analyses.coverage.model import CoverageModel
from twin.analyses.coverage.placement import DEMAND_CELL_M, MAX_K, Demand, Problem, Template
from twin.analyses.coverage.raster import CountRaster, RasterGrid, bounds_of, geotiff_bytes
from twin.analyses.coverage.results import (
    MIN_SPOT_M2,
    StreetNames,
    coverage_frame,
    district_table,
    summary,
    white_spots,
)
from twin.analyses.coverage.targets import WeightField, Weights, build_targets
from twin.analyses.coverage.visibility import Obstacles
from twin.core import geometry
from twin.core.errors import BadInput

TILE_M = 250.0
RASTER_CELL_M = 5.0


@dataclass
class CoverageResult:
    """Everything one coverage run reports (geometries metric, EPSG:32643)."""

    scope_label: str
    scope: shapely.Geometry
    summary: dict[str, Any]
    districts: pd.DataFrame
    white_spots: gpd.GeoDataFrame
    coverage: gpd.GeoDataFrame
    cameras: gpd.GeoDataFrame
    visibility: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)

    def count_raster(self, cell: float = RASTER_CELL_M) -> CountRaster:
        """Return the number of cameras seeing each ``cell``-metre cell of the scope."""
        raster = CountRaster(RasterGrid.around(bounds_of(self.scope), cell))
        raster.add(self.visibility, 1)
        return raster

    def geotiff(self, cell: float = RASTER_CELL_M) -> bytes:
        """Return the coverage count raster as GeoTIFF bytes."""
        raster = self.count_raster(cell)
        return geotiff_bytes(raster.counts, raster.grid, scope=self.scope_label)


@dataclass
class PlacementResult:
    """K proposed cameras with what each adds, and the coverage before and after."""

    scope_label: str
    proposed: gpd.GeoDataFrame
    before: dict[str, Any]
    after: dict[str, Any]
    districts_after: pd.DataFrame
    white_spots_after: gpd.GeoDataFrame
    stats: dict[str, Any]


def _camera_points(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        frame.drop(columns=["x", "y"]),
        geometry=gpd.GeoSeries(
            shapely.points(frame["x"].to_numpy(float), frame["y"].to_numpy(float)), crs=METRIC_CRS
        ),
        crs=METRIC_CRS,
    )


class PreparedScope:
    """A scope ready for coverage and placement requests."""

    def __init__(
        self,
        city: CityData,
        scope: shapely.Geometry,
        label: str,
        *,
        include_planned: bool = False,
        tile_m: float = TILE_M,
    ) -> None:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        self.city = city
        self.scope = scope
        self.label = label
        self.grid = TileGrid(tile_m)
        self.obstacles = Obstacles.from_geometries(city.buildings)
        timings["obstacles_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        field_ = WeightField.build(
            city.population_cells,
            city.population,
            city.pois,
            city.appeals,
            city.city_area_m2,
            self.grid,
        )
        self.targets = build_targets(
            scope=scope,
            districts=city.districts,
            roads=city.roads,
            parks=city.parks,
            obstacles=self.obstacles,
            field=field_,
            grid=self.grid,
        )
        timings["targets_s"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        self.model = CoverageModel(
            self.targets, self.obstacles, city.cameras, include_planned=include_planned
        )
        timings["visibility_s"] = time.perf_counter() - t2
        self.streets = StreetNames.from_roads(city.roads)
        self.timings = timings

    # -- coverage -----------------------------------------------------------------------
    def coverage(
        self,
        *,
        weights: Weights | None = None,
        edits: CameraEdits | None = None,
        min_spot_m2: float = MIN_SPOT_M2,
        budget: Budget | None = None,
    ) -> CoverageResult:
        """Return coverage, per-district shares and white spots, with ``edits`` applied for
        this call only; ``budget`` refuses edits whose views would cost too much."""
        weights = weights or Weights()
        if not (0.0 <= min_spot_m2 <= 1e6):
            raise BadInput(f"min_spot_m2 must be between 0 and 1000000, got {min_spot_m2}")
        if budget is not None and edits:
            budget.charge_cameras("the camera edits", self.edited_views(edits))
        with self.model.what_if(edits) as model:
            t0 = time.perf_counter()
            spots = white_spots(model, weights, self.streets, min_area_m2=min_spot_m2)
            t1 = time.perf_counter()
            cams = model.camera_frame()
            seeing = (
                covering(cams, include_planned=model.include_planned)
                if len(cams)
                else np.zeros(0, dtype=bool)
            )
            vis = np.asarray([model.vis[c] for c in cams["id"][seeing]], dtype=object)
            result = CoverageResult(
                scope_label=self.label,
                scope=self.scope,
                summary=summary(model, weights),
                districts=district_table(model, weights),
                white_spots=spots,
                coverage=coverage_frame(model),
                cameras=_camera_points(cams),
                visibility=vis[~shapely.is_empty(vis)] if len(vis) else vis,
                timings={**self.timings, "white_spots_s": t1 - t0},
            )
        return result

    def edited_views(self, edits: CameraEdits) -> list[tuple[float, float]]:
        """Return (range_m, fov_deg) of every camera whose view ``edits`` recompute."""
        views = []
        for change in [*edits.add, *edits.update]:
            old = self.model.rows.get(str(change.get("id")), {})
            range_m = change.get("range_m", old.get("range_m"))
            fov = change.get("fov_deg", old.get("fov_deg"))
            views.append(
                (
                    float(range_m) if range_m is not None else 100.0,
                    float(fov) if fov is not None else 90.0,
                )
            )
        return views

    # -- placement ----------------------------------------------------------------------
    def candidates(
        self,
        template: Template,
        *,
        spacing_m: float = 50.0,
        intersections: bool = True,
        given: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None,
    ) -> pd.DataFrame:
        """Return the candidate cameras: street sites or the ``given`` metric points in the
        scope, one per heading to try (see :func:`.candidates.candidates`)."""
        if given is not None:
            gx, gy, gh = given
            inside = geometry.contains_xy(self.scope, gx, gy)
            if not inside.any():
                raise BadInput("candidates: none of the given points lies in the scope")
            sites = given_sites(gx[inside], gy[inside], None if gh is None else gh[inside])
        else:
            sites = street_sites(self.city.roads, self.scope, spacing_m, intersections)
        return candidates(sites, template, self.obstacles)

    def placement(
        self,
        k: int,
        *,
        template: Template | None = None,
        weights: Weights | None = None,
        edits: CameraEdits | None = None,
        spacing_m: float = 50.0,
        intersections: bool = True,
        given: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None,
        demand_cell_m: float = DEMAND_CELL_M,
        min_spot_m2: float = MIN_SPOT_M2,
        budget: Budget | None = None,
    ) -> PlacementResult:
        """Return ``k`` proposed cameras maximising newly covered weight (lazy greedy).

        Candidates are street sites (every ``spacing_m`` metres and intersections) or the
        ``given`` metric points (x, y, heading or None). Raises :class:`BadInput` when ``k``
        is not between 1 and the number of candidate cameras. ``budget`` refuses a run whose
        demand cells or candidate views are over its limit, and stops one that runs too long.
        """
        template = template or Template()
        weights = weights or Weights()
        budget = budget or Budget.unlimited()
        if not (1 <= k <= MAX_K):
            raise BadInput(f"k must be between 1 and {MAX_K}, got {k}")
        if not (1.0 <= demand_cell_m <= 50.0):
            raise BadInput(f"demand_cell_m must be between 1 and 50, got {demand_cell_m}")
        if edits:
            budget.charge_cameras("the camera edits", self.edited_views(edits))
        street_m2 = float(shapely.area(self.model.white).sum())
        budget.charge(
            f"demand at {demand_cell_m:g} m cells", street_m2 / (demand_cell_m * demand_cell_m)
        )
        t0 = time.perf_counter()
        cand = self.candidates(
            template, spacing_m=spacing_m, intersections=intersections, given=given
        )
        budget.charge_candidates(
            f"{len(cand):,} candidate cameras of {template.range_m:g} m / {template.fov:g}°",
            len(cand) * sector_cells(template.range_m, template.fov),
        )
        budget.check()
        if k > len(cand):
            hint = "give more points" if given is not None else "shorten spacing_m"
            raise BadInput(
                f"k = {k} is more than the {len(cand)} candidate cameras in the scope "
                f"(sites inside buildings are left out; {hint} or lower k)"
            )
        with self.model.what_if(edits) as model:
            before = summary(model, weights)
            demand = Demand.from_model(model, weights, demand_cell_m)
            problem = Problem.build(cand, template, demand, self.obstacles)
            t1 = time.perf_counter()
            budget.check()
            picks, evaluated = problem.solve(k, check=budget.check)
            t2 = time.perf_counter()
            rows = []
            for rank, p in enumerate(picks, start=1):
                c = cand.iloc[p.candidate]
                rows.append(
                    {
                        "id": f"proposed-{rank}",
                        "x": float(c["x"]),
                        "y": float(c["y"]),
                        "kind": template.kind,
                        "status": "planned",
                        "mount_height_m": template.mount_height_m,
                        "heading_deg": round(float(c["heading_deg"]), 1),
                        "fov_deg": template.fov,
                        "range_m": template.range_m,
                    }
                )
            add = [
                {**{k_: v for k_, v in r.items() if k_ not in ("x", "y")}, "status": "working"}
                | _lonlat(r)
                for r in rows
            ]
            with model.what_if(CameraEdits(add=add)):
                after = summary(model, weights)
                districts_after = district_table(model, weights)
                spots_after = white_spots(model, weights, self.streets, min_area_m2=min_spot_m2)
            t3 = time.perf_counter()
        proposed = _proposed(rows, picks, cand, demand.cell, self.streets)
        stats = {
            "candidates": len(cand),
            "candidate_sites": int(cand["site"].nunique()) if len(cand) else 0,
            "evaluated": int(evaluated),
            "demand_cells": len(demand),
            "demand_cell_m": demand.cell,
            "demand_weight": round(float(demand.weight.sum()), 1),
            "picked": len(picks),
            # Fewer than k when no remaining candidate would see any uncovered street space.
            "stopped_early": len(picks) < k,
            "candidates_s": round(t1 - t0, 3),
            "greedy_s": round(t2 - t1, 3),
            "after_s": round(t3 - t2, 3),
        }
        return PlacementResult(
            scope_label=self.label,
            proposed=proposed,
            before=before,
            after=after,
            districts_after=districts_after,
            white_spots_after=spots_after,
            stats=stats,
        )


def _lonlat(row: dict[str, Any]) -> dict[str, float]:
    lon, lat = to_lonlat(row["x"], row["y"])
    return {"lon": float(lon), "lat": float(lat)}


def _proposed(
    rows: list[dict[str, Any]],
    picks: list[Any],
    cand: pd.DataFrame,
    cell: float,
    streets: StreetNames,
) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(
        rows,
        columns=[
            "id",
            "x",
            "y",
            "kind",
            "status",
            "mount_height_m",
            "heading_deg",
            "fov_deg",
            "range_m",
        ],
    )
    gains = np.array([p.gain for p in picks], float)
    frame.insert(0, "rank", np.arange(1, len(rows) + 1))
    frame["site"] = [str(cand["kind"].iat[p.candidate]) for p in picks]
    frame["gain_weight"] = np.round(gains, 1)
    frame["gain_m2"] = [round(p.cells * cell * cell, 1) for p in picks]
    frame["cumulative_weight"] = np.round(np.cumsum(gains), 1)
    names, _ = streets.nearest(np.asarray(shapely.points(frame["x"], frame["y"]), dtype=object))
    frame["street"] = names
    return _camera_points(frame)


__all__ = ["CoverageResult", "PlacementResult", "PreparedScope"]
