"""Where the customers live: the 500 m population grid spread onto dwellings (dasymetric),
then gathered into H3 cells.

Inside a grid cell, residents go to its dwellings in proportion to floor area (footprint ×
levels; public, commercial and industrial buildings house no one) — the access package's
:func:`~twin.analyses.access.population.building_residents`. The 2012 building extract maps
only part of the city, and a grid cell with two mapped houses out of two hundred would put
its 1,500 residents into those two. So a grid cell is spread onto its dwellings only where
their footprint covers at least ``min_footprint_share`` of it (5 %: a built-up block mapped
at least in good part); elsewhere its residents are spread evenly over its area
(:func:`~twin.analyses.access.population.h3_population`). Every resident is kept: the cells'
total equals the grid's.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import h3
import numpy as np
import pandas as pd

from twin.analyses.access.graph import METRIC_CRS
from twin.analyses.access.population import NOT_DWELLINGS, building_residents, h3_population

#: A grid cell is spread onto its dwellings when their footprint covers this share of it.
MIN_FOOTPRINT_SHARE = 0.05


@dataclass(frozen=True)
class Residents:
    """Residents per building (aligned with the buildings frame) and per H3 cell.

    ``cells`` has ``h3``, ``residents`` and ``from_buildings`` (the part placed on mapped
    dwellings), sorted by ``h3``.
    """

    buildings: np.ndarray
    cells: pd.DataFrame


def dwelling_cells(
    buildings: gpd.GeoDataFrame, grid: gpd.GeoDataFrame, min_share: float = MIN_FOOTPRINT_SHARE
) -> np.ndarray:
    """Return a mask of the grid cells whose mapped dwellings cover at least ``min_share``
    of their area."""
    if len(buildings) == 0 or len(grid) == 0:
        return np.zeros(len(grid), dtype=bool)
    metric = buildings.to_crs(METRIC_CRS)
    use = buildings["use"].astype(object) if "use" in buildings else pd.Series([None] * len(metric))
    dwelling = ~use.isin(NOT_DWELLINGS).to_numpy()
    pts = gpd.GeoDataFrame(
        {"footprint": metric.geometry.area.to_numpy() * dwelling},
        geometry=metric.geometry.representative_point().values,
        crs=METRIC_CRS,
    )
    cells = gpd.GeoDataFrame({"_cell": np.arange(len(grid))}, geometry=grid.to_crs(METRIC_CRS)
                             .geometry.values, crs=METRIC_CRS)  # fmt: skip
    hit = gpd.sjoin(pts, cells, how="inner", predicate="within")
    hit = hit[~hit.index.duplicated()]
    covered = np.bincount(hit["_cell"].to_numpy(), hit["footprint"].to_numpy(), len(grid))
    area = cells.geometry.area.to_numpy()
    return np.asarray(covered >= min_share * np.maximum(area, 1.0))


def residents(
    buildings: gpd.GeoDataFrame,
    grid: gpd.GeoDataFrame,
    res: int,
    *,
    min_share: float = MIN_FOOTPRINT_SHARE,
) -> Residents:
    """Return residents per building and per H3 cell of resolution ``res``.

    Examples
    --------
    >>> import shapely
    >>> box = shapely.box(650_000, 4_790_000, 650_500, 4_790_500)
    >>> grid = gpd.GeoDataFrame({"population": [1000.0]}, geometry=[box], crs=32643)
    >>> houses = gpd.GeoDataFrame({"use": ["residential", "commercial"], "levels": [2, 5]},
    ...     geometry=[shapely.box(650_100, 4_790_100, 650_250, 4_790_250),
    ...               shapely.box(650_300, 4_790_300, 650_400, 4_790_400)], crs=32643)
    >>> r = residents(houses.to_crs(4326), grid.to_crs(4326), 9)
    >>> [round(float(v)) for v in r.buildings], round(float(r.cells["residents"].sum()))
    ([1000, 0], 1000)
    """
    grid = grid[grid["population"].fillna(0) > 0].reset_index(drop=True)
    dense = dwelling_cells(buildings, grid, min_share)
    on_buildings = (
        building_residents(buildings, grid[dense]) if dense.any() else np.zeros(len(buildings))
    )
    # What the dwellings did not take (grid cells spread by area) goes by area.
    rest = grid.copy()
    rest.loc[dense, "population"] = 0.0
    areal = h3_population(rest, res)[["h3", "population"]]
    parts = [areal.assign(from_buildings=0.0).rename(columns={"population": "residents"})]
    placed = on_buildings > 0
    if placed.any():
        pts = buildings.geometry[placed].representative_point()
        index = [h3.latlng_to_cell(y, x, res) for x, y in zip(pts.x, pts.y, strict=True)]
        parts.append(
            pd.DataFrame(
                {"h3": index, "residents": on_buildings[placed],
                 "from_buildings": on_buildings[placed]}
            )
        )  # fmt: skip
    cells = pd.concat(parts, ignore_index=True).groupby("h3", as_index=False).sum()
    return Residents(on_buildings, cells.sort_values("h3").reset_index(drop=True))
