"""The city as the coverage analysis reads it: metric frames and arrays, from a store or from
frames already in memory (benchmarks, tests).

This is the I/O edge of the package; everything else is pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import layers
from twin.analyses.coverage.cameras import METRIC_CRS, camera_table, empty_table
from twin.analyses.coverage.scope import Scope, lonlat_bounds, resolve
from twin.analyses.coverage.targets import PARK_KINDS
from twin.core.errors import StoreError
from twin.store import Store

# Read everything within this distance of the scope: the longest camera range is 1 km.
MARGIN_M = 1100.0
LOCAL_LAYERS = ("buildings", "roads", "parks", "cameras")
CITY_LAYERS = ("city_boundary", "districts", "population_grid", "pois", "appeals")


@dataclass
class CityData:
    """Everything one analysis needs, in EPSG:32643.

    ``buildings``, ``roads``, ``parks`` and ``cameras`` may cover only the scope plus
    :data:`MARGIN_M`; the boundary, districts and the weight inputs cover the whole city.
    """

    boundary: shapely.Geometry
    districts: dict[str, shapely.Geometry]
    aliases: dict[str, str]
    buildings: np.ndarray
    roads: gpd.GeoDataFrame
    parks: np.ndarray
    cameras: pd.DataFrame
    population_cells: np.ndarray
    population: np.ndarray
    pois: np.ndarray
    appeals: np.ndarray

    @property
    def city_area_m2(self) -> float:
        """Return the city's area in m²."""
        return float(shapely.area(self.boundary))


def _metric(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is None:
        frame = frame.set_crs(4326)
    return frame.to_crs(METRIC_CRS)


def _geoms(frame: gpd.GeoDataFrame | None) -> np.ndarray:
    if frame is None or len(frame) == 0:
        return np.empty(0, dtype=object)
    return np.asarray(_metric(frame).geometry.values, dtype=object)


def city_data(frames: Mapping[str, gpd.GeoDataFrame]) -> CityData:
    """Return :class:`CityData` from layer frames keyed by layer id (EPSG:4326 or any CRS).

    ``districts`` is required; the city boundary falls back to the union of the districts.
    """
    districts = _metric(frames["districts"])
    # Neighbouring boundaries overlap by a few metres here and there; make the districts a
    # partition (an overlap goes to the first by name) so nothing is counted twice.
    district_geoms: dict[str, shapely.Geometry] = {}
    taken: shapely.Geometry = shapely.Polygon()
    for n, g in sorted(zip(districts["name"].astype(str), districts.geometry.values, strict=True)):
        g = shapely.make_valid(g)
        district_geoms[n] = g if shapely.is_empty(taken) else shapely.difference(g, taken)
        taken = shapely.union(taken, g)
    aliases: dict[str, str] = {}
    for col in ("name_ru", "name_kk"):
        if col in districts:
            for alias, name in zip(districts[col], districts["name"], strict=True):
                if isinstance(alias, str) and alias:
                    aliases[alias] = str(name)
                    # "Алмалинский район" may also be asked for as "Алмалинский".
                    head, _, tail = alias.rpartition(" ")
                    if head and tail.casefold() in ("район", "ауданы"):
                        aliases[head] = str(name)
    bound = frames.get("city_boundary")
    if bound is not None and len(bound):
        boundary = shapely.union_all(_geoms(bound))
    else:
        boundary = shapely.union_all(list(district_geoms.values()))
    roads = frames.get("roads")
    roads_m = (
        _metric(roads).reset_index(drop=True)
        if roads is not None and len(roads)
        else gpd.GeoDataFrame(
            {"name": [], "highway": [], "tunnel": []},
            geometry=gpd.GeoSeries([], crs=METRIC_CRS),
        )
    )
    parks = frames.get("parks")
    if parks is not None and len(parks) and "kind" in parks:
        parks = parks[parks["kind"].isin(PARK_KINDS)]
    grid = frames.get("population_grid")
    cams = frames.get("cameras")
    return CityData(
        boundary=boundary,
        districts=district_geoms,
        aliases=aliases,
        buildings=_geoms(frames.get("buildings")),
        roads=roads_m,
        parks=_geoms(parks),
        cameras=camera_table(cams) if cams is not None and len(cams) else empty_table(),
        population_cells=_geoms(grid),
        population=(
            pd.to_numeric(grid["population"], errors="coerce").fillna(0).to_numpy(float)
            if grid is not None and len(grid)
            else np.empty(0)
        ),
        pois=_geoms(frames.get("pois")),
        appeals=_geoms(frames.get("appeals")),
    )


def read_city(store: Store, scope: Scope) -> tuple[CityData, shapely.Geometry, str]:
    """Return (city data around the scope, metric scope polygon, scope label) from a store.

    Raises :class:`twin.core.errors.BadInput` for a scope that names no district or misses the
    city.
    """
    frames = {lid: store.read_frame(layers.get(lid)) for lid in ("city_boundary", "districts")}
    if len(frames["districts"]) == 0:
        raise StoreError("the store holds no districts: load the city first (twin load)")
    base = city_data(frames)
    area, label = resolve(scope, base.boundary, base.districts, base.aliases)
    bbox = lonlat_bounds(area, MARGIN_M)
    for lid in LOCAL_LAYERS:
        frames[lid] = store.read_frame(layers.get(lid), bbox=bbox)
    for lid in ("population_grid", "pois", "appeals"):
        frames[lid] = store.read_frame(layers.get(lid))
    return city_data(frames), area, label
