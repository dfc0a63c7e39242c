"""The real layers prepared once for the generators: metric, sorted, with lookups.

Every generator reads the city through a :class:`City`, so reprojection, canonical row order
and the population calibration happen once however many generators run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from etl.synthesise.frames import METRIC_CRS, WGS84
from etl.synthesise.streets import street_labels
from layers.city import CARRIAGEWAYS
from layers.common import DISTRICT_NAMES


class MissingLayer(KeyError):
    """Raised when a layer the generators cannot do without is absent from the input."""


def canonical(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``frame`` sorted by ``source_id`` then geometry WKB, with a fresh index.

    The generators draw random numbers row by row, so two loads that deliver the same
    features in a different order must still be seen in one order.
    """
    if len(frame) == 0:
        return frame.reset_index(drop=True)
    wkb = shapely.to_wkb(np.asarray(frame.geometry.values, dtype=object), hex=True)
    keys = [wkb]
    if "source_id" in frame:
        keys.append(frame["source_id"].astype(str).to_numpy())
    order = np.lexsort(keys)
    return frame.iloc[order].reset_index(drop=True)


def _metric(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``frame`` in the metric CRS (frames without a CRS are taken as EPSG:4326)."""
    if frame.crs is None:
        frame = frame.set_crs(WGS84)
    return frame.to_crs(METRIC_CRS)


def _empty(columns: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """Return an empty metric frame with the given columns."""
    return gpd.GeoDataFrame({c: [] for c in columns}, geometry=gpd.GeoSeries([], crs=METRIC_CRS))


@dataclass(frozen=True)
class City:
    """The real layers, canonically sorted, plus metric copies the generators work on.

    Attributes
    ----------
    real : dict of str to GeoDataFrame
        The input layers in EPSG:4326, canonically sorted.
    districts : GeoDataFrame
        Metric district polygons sorted by ``name``, with ``population`` (gov.kz, or the
        grid total where the input lacks it).
    boundary : shapely.Geometry
        The metric city boundary (prepared).
    grid : GeoDataFrame
        Metric population cells with ``population``, ``district`` and ``weight``: the cell
        population rescaled so that each district's cells add up to its gov.kz population.
    roads, buildings, parks : GeoDataFrame
        Metric copies of the real layers (empty frames when absent).
    """

    real: dict[str, gpd.GeoDataFrame]
    districts: gpd.GeoDataFrame
    boundary: shapely.Geometry
    grid: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    parks: gpd.GeoDataFrame

    @classmethod
    def from_layers(cls, real: Mapping[str, gpd.GeoDataFrame]) -> City:
        """Return the :class:`City` for the real layers keyed by layer id.

        ``districts`` and ``population_grid`` are required; every other layer may be
        missing, and the generators then fall back to what remains (for instance points in
        populated cells when there are no buildings to put them on).

        Examples
        --------
        >>> from etl.synthesise.toy import toy_layers
        >>> City.from_layers(toy_layers()).population
        {'Almaly': 75000, 'Medeu': 30000}
        """
        for required in ("districts", "population_grid"):
            if required not in real or len(real[required]) == 0:
                raise MissingLayer(required)
        ordered = {key: canonical(real[key]) for key in sorted(real)}

        districts = _metric(ordered["districts"])[["name", "population", "geometry"]].copy()
        unknown = sorted(set(districts["name"]) - set(DISTRICT_NAMES))
        if unknown:
            raise ValueError(f"district names not in layers.common.DISTRICT_NAMES: {unknown}")
        districts = districts.sort_values("name", kind="mergesort").reset_index(drop=True)
        districts["geometry"] = shapely.make_valid(districts.geometry.values)

        if "city_boundary" in ordered and len(ordered["city_boundary"]):
            boundary = shapely.union_all(_metric(ordered["city_boundary"]).geometry.values)
        else:
            boundary = shapely.union_all(districts.geometry.values)
        shapely.prepare(boundary)

        grid = _metric(ordered["population_grid"])[["population", "geometry"]].copy()
        grid["population"] = pd.to_numeric(grid["population"], errors="coerce").fillna(0.0)
        grid["population"] = grid["population"].clip(lower=0.0)
        grid["district"] = _district_of(shapely.point_on_surface(grid.geometry.values), districts)
        grid_total = grid.groupby("district")["population"].sum()
        official = pd.to_numeric(districts.set_index("name")["population"], errors="coerce").astype(
            "float64"
        )
        # A district without an official figure keeps what the grid says it holds.
        official = official.fillna(grid_total.reindex(official.index)).fillna(0.0)
        districts["population"] = official.round().astype("int64").to_numpy()
        # The modelled grid misplaces people between districts (it puts ~120k in Almaly where
        # gov.kz counts ~225k); rescale it per district so weights agree with gov.kz.
        factor = (official / grid_total.reindex(official.index)).replace([np.inf], 0.0)
        grid["weight"] = grid["population"] * grid["district"].map(factor).fillna(0.0)
        shapely.prepare(grid.geometry.values)

        def layer(key: str, columns: tuple[str, ...]) -> gpd.GeoDataFrame:
            if key not in ordered or len(ordered[key]) == 0:
                return _empty(columns)
            frame = _metric(ordered[key])
            for column in columns:
                if column not in frame:
                    frame[column] = None
            return frame[[*columns, "geometry"]].copy()

        return cls(
            real=ordered,
            districts=districts,
            boundary=boundary,
            grid=grid,
            roads=layer("roads", ("name", "highway")),
            buildings=layer("buildings", ()),
            parks=layer("parks", ()),
        )

    @property
    def district_names(self) -> list[str]:
        """Return the district names in sorted order."""
        return [str(n) for n in self.districts["name"]]

    @property
    def population(self) -> dict[str, int]:
        """Return the official population of every district."""
        values = self.districts["population"].astype(int).tolist()
        return dict(zip(self.district_names, values, strict=True))

    @cached_property
    def grid_tree(self) -> shapely.STRtree:
        """Return a spatial index over the population cells."""
        return shapely.STRtree(np.asarray(self.grid.geometry.values, dtype=object))

    def density(self, points: np.ndarray) -> np.ndarray:
        """Return the calibrated population density (people per km²) at each metric point.

        Points outside every cell get 0.
        """
        points = np.asarray(points, dtype=object)
        out = np.zeros(len(points))
        if len(points) == 0:
            return out
        src, hit = self.grid_tree.query(points, predicate="intersects")
        cells = np.asarray(self.grid.geometry.values, dtype=object)
        per_km2 = self.grid["weight"].to_numpy(dtype=float) / np.maximum(
            shapely.area(cells) / 1e6, 1e-6
        )
        # A point on a cell edge matches two cells; either density will do, keep the first.
        first = np.unique(src, return_index=True)[1]
        out[src[first]] = per_km2[hit[first]]
        return out

    @cached_property
    def building_tree(self) -> shapely.STRtree:
        """Return a spatial index over the metric buildings."""
        return shapely.STRtree(np.asarray(self.buildings.geometry.values, dtype=object))

    @cached_property
    def building_district(self) -> np.ndarray:
        """Return the district of every building (by a point on its surface)."""
        return self.district_of(shapely.point_on_surface(self.buildings.geometry.values))

    @cached_property
    def park_union(self) -> shapely.Geometry:
        """Return the union of the parks, prepared for point tests."""
        union = shapely.union_all(np.asarray(self.parks.geometry.values, dtype=object))
        shapely.prepare(union)
        return union

    @cached_property
    def streets(self) -> gpd.GeoDataFrame:
        """Return the carriageways that carry a usable street name, with a ``label``.

        ``label`` is the normalised name used in titles, e.g. "ул. Абая" or "пр. Достык".
        """
        roads = self.roads[self.roads["highway"].isin(CARRIAGEWAYS)]
        labels = street_labels(roads["name"].to_numpy(dtype=object))
        named = roads.assign(label=labels)[labels != None]  # noqa: E711 - element-wise
        return named.reset_index(drop=True)

    @cached_property
    def street_tree(self) -> shapely.STRtree:
        """Return a spatial index over :attr:`streets`."""
        return shapely.STRtree(np.asarray(self.streets.geometry.values, dtype=object))

    def nearest_street(self, points: np.ndarray) -> np.ndarray:
        """Return the label of the nearest named street to each metric point.

        Falls back to "ул. Абая" (the city's main avenue) when no named street exists, so a
        tiny test city without names still gets titles.
        """
        points = np.asarray(points, dtype=object)
        out = np.full(len(points), "пр. Абая", dtype=object)
        if len(self.streets) and len(points):
            src, hit = self.street_tree.query_nearest(points, all_matches=False)
            out[src] = self.streets["label"].to_numpy(dtype=object)[hit]
        return out

    def district_of(self, points: np.ndarray) -> np.ndarray:
        """Return the district name of each metric point (nearest district if outside all)."""
        return _district_of(points, self.districts)

    def to_wgs84(self, geoms: np.ndarray) -> gpd.GeoSeries:
        """Return metric geometries as an EPSG:4326 series."""
        return gpd.GeoSeries(np.asarray(geoms, dtype=object), crs=METRIC_CRS).to_crs(WGS84)


def _district_of(points: np.ndarray, districts: gpd.GeoDataFrame) -> np.ndarray:
    """Return the name of the district containing each point, else of the nearest one."""
    points = np.asarray(points, dtype=object)
    names = districts["name"].to_numpy(dtype=object)
    out = np.empty(len(points), dtype=object)
    if len(points) == 0:
        return out
    tree = shapely.STRtree(np.asarray(districts.geometry.values, dtype=object))
    src, hit = tree.query(points, predicate="intersects")
    # Points on a shared border match two districts; the lower index (alphabetical) wins.
    order = np.lexsort((hit, src))
    src, hit = src[order], hit[order]
    first = np.unique(src, return_index=True)[1]
    out[src[first]] = names[hit[first]]
    missing = np.flatnonzero(pd.isna(out))
    if len(missing):
        msrc, mhit = tree.query_nearest(points[missing], all_matches=False)
        out[missing[msrc]] = names[mhit]
    return out
