"""The city as H3 cells, and what a cell holds whatever the business: residents, bus stops,
points of interest by category, the busiest street class, and the short walks between cells.

A cell is a candidate site when its centre is inside the city boundary; cells outside that
hold residents are kept as demand (people living just outside shop inside too).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from twin.analyses.access.graph import StreetGraph, metric_xy
from twin.analyses.access.population import assign_district
from twin.analyses.access.profiles import WALK
from twin.analyses.access.search import Snapped, snap
from twin.analyses.site.categories import road_class_weights
from twin.analyses.site.demand import Residents, residents
from twin.core import geometry
from twin.core.errors import BadInput

RES_DEFAULT = 9
RES_ALLOWED = (8, 9, 10)


def check_res(res: int) -> int:
    """Return ``res`` if it is an allowed H3 resolution (8–10); raise :class:`BadInput`."""
    if isinstance(res, bool) or not isinstance(res, int | np.integer) or res not in RES_ALLOWED:
        raise BadInput(f"res must be 8, 9 or 10 (H3 resolution), got {res!r}")
    return int(res)


def h3_of(lon: np.ndarray, lat: np.ndarray, res: int) -> np.ndarray:
    """Return the H3 index (string) of each lon/lat point."""
    return np.array(
        [h3.latlng_to_cell(float(b), float(a), res) for a, b in zip(lon, lat, strict=True)],
        dtype=object,
    )


def points_lonlat(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return lon, lat of each feature's representative point."""
    if len(frame) == 0:
        return np.empty(0), np.empty(0)
    pts = frame.geometry.representative_point()
    return pts.x.to_numpy(float), pts.y.to_numpy(float)


@dataclass
class CellGrid:
    """Every cell the analysis knows at one resolution, sorted by H3 index.

    ``inside``: the candidate sites (centre inside the city); ``residents``: dasymetric
    residents; ``stops``: bus stops in the cell; ``road``/``road_class``: the access value
    and class of the busiest street in the cell or at its centre's snap point; ``snapped``:
    cell centres joined to the walking network.
    """

    res: int
    h3: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    xy: np.ndarray
    inside: np.ndarray
    district: np.ndarray
    residents: np.ndarray
    from_buildings: np.ndarray
    stops: np.ndarray
    road: np.ndarray
    road_class: np.ndarray
    snapped: Snapped
    building_residents: np.ndarray

    def __len__(self) -> int:
        return len(self.h3)

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Return the position of the cell of each point (``-1`` for a cell not in the grid)."""
        codes = h3_of(lon, lat, self.res)
        pos = np.searchsorted(self.h3, codes)
        pos = np.minimum(pos, max(len(self.h3) - 1, 0))
        found = (self.h3[pos] == codes) if len(self.h3) else np.zeros(len(codes), bool)
        return np.where(found, pos, -1).astype(np.int64)

    def counts(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Return how many of the points fall in each cell."""
        pos = self.locate(lon, lat)
        return np.bincount(pos[pos >= 0], minlength=len(self)).astype(float)


def districts_of(lon: np.ndarray, lat: np.ndarray, districts: gpd.GeoDataFrame) -> np.ndarray:
    """Return the district name of each point (the nearest within 1 km for points just
    outside every district, else ``None``)."""
    out = np.full(len(lon), None, dtype=object)
    if len(lon) == 0 or len(districts) == 0:
        return out
    # Point-in-polygon on the few prepared district shapes is ~50x faster than a nearest
    # join of every point; only the points outside all of them go to the nearest join.
    for name, geom in zip(districts["name"], districts.geometry.values, strict=True):
        if geom is None:
            continue
        hit = (out == None) & geometry.contains_xy(geom, lon, lat)  # noqa: E711
        out[hit] = name
    rest = np.flatnonzero(out == None)  # noqa: E711
    if len(rest):
        out[rest] = assign_district(lon[rest], lat[rest], districts)
    return out


def city_cells(boundary: shapely.Geometry | None, res: int) -> set[str]:
    """Return the H3 cells whose centre is inside ``boundary`` (EPSG:4326)."""
    if boundary is None or shapely.is_empty(boundary):
        return set()
    return set(h3.geo_to_cells(shapely.geometry.mapping(boundary), res))  # type: ignore[arg-type]


def _roads_by_cell(
    graph: StreetGraph, cell_h3: np.ndarray, snapped: Snapped, res: int, edge_of: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the best road-class value per cell and its class name."""
    weights = road_class_weights()
    value = np.array([weights.get(str(h), 0.0) for h in graph.highway])
    best = np.zeros(len(cell_h3))
    name = np.full(len(cell_h3), None, dtype=object)
    if graph.n_edges:
        from twin.analyses.access.graph import to_lonlat

        mid = (graph.a + graph.b) / 2
        lon, lat = to_lonlat().transform(mid[:, 0], mid[:, 1])
        codes = h3_of(lon, lat, res)
        pos = np.searchsorted(cell_h3, codes)
        pos = np.minimum(pos, max(len(cell_h3) - 1, 0))
        ok = cell_h3[pos] == codes
        frame = pd.DataFrame({"cell": pos[ok], "value": value[ok], "edge": np.flatnonzero(ok)})
        top = frame.sort_values(["cell", "value", "edge"], ascending=[True, False, True])
        top = top.drop_duplicates("cell")
        best[top["cell"].to_numpy()] = top["value"].to_numpy()
        name[top["cell"].to_numpy()] = graph.highway[top["edge"].to_numpy()]
    # The street a cell's centre snaps to counts too (a cell between two avenues whose own
    # streets are short still opens onto them), if it is within one cell's width.
    near = snapped.offset_m <= h3.average_hexagon_edge_length(res, "m") * 2
    snap_edge = edge_of[snapped.pos]
    snap_value = np.where(near, value[snap_edge], 0.0)
    better = snap_value > best
    best[better] = snap_value[better]
    name[better] = graph.highway[snap_edge[better]]
    return best, name


def build_cells(
    graph: StreetGraph,
    boundary: shapely.Geometry | None,
    frames: dict[str, gpd.GeoDataFrame],
    res: int,
) -> CellGrid:
    """Return the :class:`CellGrid` at ``res`` from the street graph, the city boundary and
    the ``buildings``, ``population_grid``, ``bus_stops`` and ``districts`` frames."""
    check_res(res)
    people: Residents = residents(frames["buildings"], frames["population_grid"], res)
    inside_set = city_cells(boundary, res)
    if boundary is None:  # no boundary loaded: the populated cells are the city
        inside_set = set(people.cells["h3"])
    codes = np.array(sorted(inside_set | set(people.cells["h3"])), dtype=object)
    if len(codes) == 0:
        raise BadInput("no city boundary and no residents: load the city first")
    centres = np.array([h3.cell_to_latlng(c) for c in codes]).reshape(-1, 2)
    lon, lat = centres[:, 1], centres[:, 0]
    xy = metric_xy(lon, lat)
    pop = people.cells.set_index("h3").reindex(codes).fillna(0.0)
    mg = graph.for_profile(WALK)
    snapped = snap(mg, xy)
    grid = CellGrid(
        res=res,
        h3=codes,
        lon=lon,
        lat=lat,
        xy=xy,
        inside=np.fromiter((c in inside_set for c in codes), dtype=bool, count=len(codes)),
        district=districts_of(lon, lat, frames["districts"]),
        residents=pop["residents"].to_numpy(float),
        from_buildings=pop["from_buildings"].to_numpy(float),
        stops=np.zeros(len(codes)),
        road=np.zeros(len(codes)),
        road_class=np.full(len(codes), None, dtype=object),
        snapped=snapped,
        building_residents=people.buildings,
    )
    grid.stops = grid.counts(*points_lonlat(frames["bus_stops"]))
    grid.road, grid.road_class = _roads_by_cell(graph, codes, snapped, res, mg.edge)
    return grid
