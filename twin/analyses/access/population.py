"""Where residents live: the 500 m population grid spread onto H3 cells and buildings.

* H3 (resolution 9, about 0.1 km² a cell): each grid cell is sampled on a regular 4 × 4 lattice
  and its population shared equally among the samples, so an H3 cell gets the population of
  the area it covers (area-weighted to 1/16 of a grid cell).
* Buildings: each grid cell's population is shared among the dwellings whose representative
  point lies in it, in proportion to floor area (footprint × levels, at least one level).
  Buildings marked public, commercial or industrial house no one. The 2012 building extract
  covers only part of the city, so district shares are computed on H3 cells, which hold
  every resident.
"""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from twin.analyses.access.graph import METRIC_CRS, to_lonlat

H3_RES = 9
SAMPLES = 4
NOT_DWELLINGS = ("public", "commercial", "industrial")


def h3_population(grid: gpd.GeoDataFrame, res: int = H3_RES) -> pd.DataFrame:
    """Return populated H3 cells: ``h3`` (string index), ``population``, ``lon``, ``lat``
    (the cell centre), sorted by index.

    Examples
    --------
    >>> import shapely, geopandas as gpd
    >>> cell = shapely.box(650_000, 4_790_000, 650_500, 4_790_500)
    >>> grid = gpd.GeoDataFrame({"population": [1600.0]}, geometry=[cell], crs=32643)
    >>> cells = h3_population(grid.to_crs(4326))
    >>> round(float(cells["population"].sum()))
    1600
    """
    grid = grid[grid["population"].fillna(0) > 0]
    if len(grid) == 0:
        return pd.DataFrame({"h3": [], "population": [], "lon": [], "lat": []})
    metric = grid.to_crs(METRIC_CRS)
    bounds = metric.geometry.bounds.to_numpy()
    step = (np.arange(SAMPLES) + 0.5) / SAMPLES
    fx, fy = (a.ravel() for a in np.meshgrid(step, step))
    x = bounds[:, [0]] + (bounds[:, [2]] - bounds[:, [0]]) * fx
    y = bounds[:, [1]] + (bounds[:, [3]] - bounds[:, [1]]) * fy
    owner = np.repeat(np.arange(len(metric)), SAMPLES * SAMPLES)
    x, y = x.ravel(), y.ravel()
    # elementwise over many polygons, each used once: no preparation, nothing shared changes
    inside = shapely.contains(metric.geometry.values[owner], shapely.points(x, y))
    owner, x, y = owner[inside], x[inside], y[inside]
    per_cell = np.bincount(owner, minlength=len(metric))
    share = metric["population"].to_numpy(float)[owner] / per_cell[owner]
    lon, lat = to_lonlat().transform(x, y)
    index = [h3.latlng_to_cell(b, a, res) for a, b in zip(lon, lat, strict=True)]
    out = pd.DataFrame(
        pd.DataFrame({"h3": index, "population": share}).groupby("h3", as_index=False).sum()
    )
    centres = np.array([h3.cell_to_latlng(c) for c in out["h3"]]).reshape(-1, 2)
    out["lon"], out["lat"] = centres[:, 1], centres[:, 0]
    return out.sort_values("h3").reset_index(drop=True)


def assign_district(
    lon: np.ndarray, lat: np.ndarray, districts: gpd.GeoDataFrame, max_m: float = 1000.0
) -> np.ndarray:
    """Return the district name of each point (the nearest within ``max_m`` for points just
    outside every district, else ``None``)."""
    if len(lon) == 0 or len(districts) == 0:
        return np.full(len(lon), None, dtype=object)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326).to_crs(METRIC_CRS)
    pts["_i"] = np.arange(len(pts))
    d = districts[["name", "geometry"]].to_crs(METRIC_CRS)
    hit = gpd.sjoin_nearest(pts, d, how="left", max_distance=max_m)
    hit = hit.sort_values("_i").drop_duplicates("_i")
    names = hit["name"].astype(object)
    return names.where(names.notna(), None).to_numpy()


def building_residents(buildings: gpd.GeoDataFrame, grid: gpd.GeoDataFrame) -> np.ndarray:
    """Return the estimated residents of each building (aligned with ``buildings``)."""
    out = np.zeros(len(buildings))
    if len(buildings) == 0 or len(grid) == 0:
        return out
    metric = buildings.to_crs(METRIC_CRS)
    levels = (
        pd.to_numeric(buildings["levels"], errors="coerce").fillna(1).clip(lower=1).to_numpy()
        if "levels" in buildings
        else np.ones(len(buildings))
    )
    use = buildings["use"].astype(object) if "use" in buildings else pd.Series([None] * len(out))
    dwelling = ~use.isin(NOT_DWELLINGS).to_numpy()
    floor = metric.geometry.area.to_numpy() * levels * dwelling
    pts = gpd.GeoDataFrame(
        {"_i": np.arange(len(out)), "floor": floor},
        geometry=metric.geometry.representative_point().values,
        crs=METRIC_CRS,
    )
    cells = grid[["population", "geometry"]].to_crs(METRIC_CRS)
    cells["_cell"] = np.arange(len(cells))
    hit = gpd.sjoin(pts, cells, how="inner", predicate="within").drop_duplicates("_i")
    total = hit.groupby("_cell")["floor"].transform("sum").to_numpy()
    pop = hit["population"].fillna(0).to_numpy(float)
    share = np.divide(hit["floor"].to_numpy(), total, out=np.zeros(len(hit)), where=total > 0)
    out[hit["_i"].to_numpy()] = pop * share
    return out
