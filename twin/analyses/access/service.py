"""The access analyses over a store: read the layers once, pick the engine, cache results.

The CLI and the HTTP router call :class:`AccessService`; everything it computes comes from
the pure functions of this package. The city (graph, residents, facilities) and the results
are cached per store and invalidated by any change in it (``Store.last_change_id``).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

import layers
from twin.analyses.access.closures import closed_edges
from twin.analyses.access.graph import StreetGraph, build_graph, metric_xy
from twin.analyses.access.isochrone import DEFAULT_MINUTES, check_minutes, isochrones
from twin.analyses.access.nearest import access_table, district_shares
from twin.analyses.access.population import (
    assign_district,
    building_residents,
    h3_population,
)
from twin.analyses.access.profiles import (
    SHARE_MINUTES,
    WHEELCHAIR,
    Category,
    Profile,
    category,
)
from twin.analyses.access.schools import SchoolLoad, school_load
from twin.analyses.access.search import Engine, ScipyEngine
from twin.analyses.memo import StoreMemo
from twin.core import geometry
from twin.core.errors import BadInput
from twin.store import Store

#: The public layers the analyses read.
INPUT_LAYERS = (
    "roads",
    "schools",
    "health",
    "bus_stops",
    "parks",
    "buildings",
    "population_grid",
    "districts",
    "city_boundary",
)
FACILITY_LAYERS = ("schools", "health", "bus_stops", "parks")
#: The layers :class:`City` is read from: it is kept until one of them changes (a building
#: edited does not rebuild the street graph).
CITY_LAYERS = (*FACILITY_LAYERS, "districts", "roads", "population_grid", "city_boundary")
T = TypeVar("T")


@dataclass
class City:
    """What the analyses need from the store, read once."""

    graph: StreetGraph
    frames: dict[str, gpd.GeoDataFrame]
    cells: pd.DataFrame
    boundary: shapely.Geometry | None
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def remember(self, key: tuple[Any, ...], make: Callable[[], T]) -> T:
        """Return the cached value for ``key``, computing it once."""
        with self.lock:
            if key not in self.memo:
                self.memo[key] = make()
            value: T = self.memo[key]
            return value


def read_city(store: Store) -> City:
    """Return the city's street graph, facilities and residents (H3 cells) from ``store``."""
    frames = {lid: store.read_frame(layers.get(lid)) for lid in FACILITY_LAYERS}
    frames["districts"] = store.read_frame(layers.get("districts"))
    graph = build_graph(store.read_frame(layers.get("roads")))
    cells = h3_population(store.read_frame(layers.get("population_grid")))
    cells["district"] = assign_district(
        cells["lon"].to_numpy(), cells["lat"].to_numpy(), frames["districts"]
    )
    xy = metric_xy(cells["lon"].to_numpy(), cells["lat"].to_numpy())
    cells["x"], cells["y"] = xy[:, 0], xy[:, 1]
    boundary_frame = store.read_frame(layers.get("city_boundary"))
    shapes = boundary_frame if len(boundary_frame) else frames["districts"]
    boundary = shapely.union_all(shapes.geometry.values) if len(shapes) else None
    return City(graph, frames, cells, boundary)


_CITIES: StoreMemo[City] = StoreMemo(read_city, size=4, layers=CITY_LAYERS)
#: The street graph with the road closures of the moment (a few sets at a time).
_CLOSED: StoreMemo[StreetGraph] = StoreMemo(size=4, layers=CITY_LAYERS)
#: The pgRouting engine of the roads as they are (its edge table is derived from them).
_ENGINES: StoreMemo[Engine] = StoreMemo(size=4, layers=("roads",))


def city_of(store: Store) -> City:
    """Return the (cached) :class:`City` of ``store``, re-read after any change in it."""
    return _CITIES.get(store)


def make_engine(store: Store, name: str = "auto") -> Engine:
    """Return the engine ``name``: python (scipy), pgrouting, or auto (the store's own routing
    engine where it has one — pgRouting on PostGIS — else Python)."""
    if name == "auto":
        name = store.routing or "python"
    if name == "python":
        return ScipyEngine()
    if name == "pgrouting":
        from twin.analyses.access.pgrouting import PgRoutingEngine

        # Kept per roads version: making one checks (and if need be builds) the edge table in
        # a write transaction on the primary under a lock, which every isochrone request
        # used to do, queueing them all behind each other.
        return _ENGINES.get(store, "pgrouting", id(store), make=lambda: PgRoutingEngine(store))
    raise BadInput(f"unknown engine {name!r}; use auto, python or pgrouting")


class AccessService:
    """Access, isochrone and school-load results for one store."""

    def __init__(
        self,
        store: Store,
        engine: str = "auto",
        closures: Sequence[BaseGeometry] = (),
    ) -> None:
        """``closures``: the road closures in force (lines or areas, lon/lat) — their streets
        are left out of every mode's graph (:mod:`.closures`)."""
        self.store = store
        self.engine_name = engine
        self._engine: Engine | None = None
        self.city = city_of(store)
        self.closures_key = (
            hashlib.sha1(
                b"".join(shapely.to_wkb(g, output_dimension=2) for g in closures)
            ).hexdigest()[:16]
            if closures
            else ""
        )
        city = self.city
        self.graph = (
            _CLOSED.get(
                store,
                "closed-graph",
                self.closures_key,
                make=lambda: city.graph.closing(closed_edges(city.graph, closures)),
            )
            if closures
            else city.graph
        )

    @property
    def engine(self) -> Engine:
        """Return the search engine (created on first use)."""
        if self._engine is None:
            self._engine = make_engine(self.store, self.engine_name)
        return self._engine

    def _key(self, *parts: Any) -> tuple[Any, ...]:
        return (self.engine.name, self.closures_key, *parts)

    # -- nearest facility ---------------------------------------------------------------
    def cells(self, profile: Profile, cats: Sequence[Category]) -> pd.DataFrame:
        """Return the populated H3 cells with their access times (see :func:`access_table`)."""
        names = tuple(c.name for c in cats)

        def make() -> pd.DataFrame:
            xy = self.city.cells[["x", "y"]].to_numpy(float)
            table = access_table(self.engine, self.graph, profile, self.city.frames, xy, cats)
            base = self.city.cells[["h3", "population", "district", "lon", "lat"]]
            return pd.concat([base.reset_index(drop=True), table], axis=1)

        return self.city.remember(self._key("cells", profile.mode, names), make)

    def buildings(
        self,
        profile: Profile,
        cats: Sequence[Category],
        bbox: tuple[float, float, float, float] | None = None,
    ) -> gpd.GeoDataFrame:
        """Return buildings (representative points, EPSG:4326) with estimated residents and
        access times, optionally those meeting ``bbox``."""
        frame = self.store.read_frame(layers.get("buildings"), bbox=bbox)
        if len(frame) == 0:
            return gpd.GeoDataFrame(geometry=[], crs=4326)
        grid = self.store.read_frame(layers.get("population_grid"), bbox=_grow(frame))
        pts = frame.geometry.representative_point()
        xy = metric_xy(pts.x.to_numpy(), pts.y.to_numpy())
        table = access_table(self.engine, self.graph, profile, self.city.frames, xy, cats)
        out = gpd.GeoDataFrame(
            {
                "fid": frame["fid"].to_numpy(),
                "residents": np.round(building_residents(frame, grid), 1),
                **{c: table[c].to_numpy() for c in table.columns},
            },
            geometry=pts.values,
            crs=4326,
        )
        return out

    def districts(
        self,
        profile: Profile,
        cats: Sequence[Category],
        minutes: Sequence[float] = SHARE_MINUTES,
    ) -> pd.DataFrame:
        """Return per district the share of residents within each threshold of each category,
        and ``accessible_clinic_15`` (share with a wheelchair-accessible clinic or hospital
        within 15 minutes on the step-free network)."""
        table = district_shares(self.cells(profile, cats), cats, minutes)
        clinic = [category("clinic")]
        wheel = district_shares(self.cells(WHEELCHAIR, clinic), clinic, [15.0])
        share = dict(zip(wheel["district"], wheel["clinic_15"], strict=True))
        table["accessible_clinic_15"] = table["district"].map(share).fillna(0.0)
        return table

    # -- isochrones ---------------------------------------------------------------------
    def check_point(self, lon: float, lat: float) -> None:
        """Raise :class:`BadInput` unless (lon, lat) is inside the city."""
        if not (np.isfinite(lon) and np.isfinite(lat)) or abs(lat) > 90 or abs(lon) > 180:
            raise BadInput(f"({lon}, {lat}) is not a longitude/latitude pair")
        b = self.city.boundary
        if b is not None and not geometry.contains_few(b, lon, lat, boundary=True).any():
            raise BadInput(f"point ({lon:.5f}, {lat:.5f}) is outside the city")

    def feature_point(self, layer_id: str, fid: int) -> tuple[float, float]:
        """Return a point on feature ``fid`` of ``layer_id`` (lon, lat)."""
        frame = self.store.read_frame(layers.get(layer_id))
        row = frame[frame["fid"] == fid]
        if len(row) == 0:
            raise BadInput(f"no feature {fid} in {layer_id!r}")
        pt = row.geometry.iloc[0].representative_point()
        return float(pt.x), float(pt.y)

    def isochrone(
        self,
        mode: Profile,
        lon: float,
        lat: float,
        minutes: Sequence[float] = DEFAULT_MINUTES,
    ) -> gpd.GeoDataFrame:
        """Return the isochrones from (lon, lat) for ``minutes`` (see :func:`isochrones`)."""
        steps = check_minutes(minutes)
        self.check_point(lon, lat)
        xy = metric_xy(np.array([lon]), np.array([lat]))[0]
        return isochrones(self.engine, self.graph, mode, (xy[0], xy[1]), steps)

    # -- schools ------------------------------------------------------------------------
    def schools(
        self, kind: str = "school", age_share: float | None = None, overload_at: float = 1.0
    ) -> SchoolLoad:
        """Return the school load analysis (see :func:`school_load`)."""
        return self.city.remember(
            self._key("schools", kind, age_share, overload_at),
            lambda: school_load(
                self.engine,
                self.graph,
                self.city.frames["schools"],
                self.city.cells,
                kind=kind,
                age_share=age_share,
                overload_at=overload_at,
            ),
        )


def _grow(frame: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = frame.total_bounds
    return float(x0), float(y0), float(x1), float(y1)
