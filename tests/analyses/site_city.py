"""Small hand-built cities for the site-selection tests, whose answers are known by hand.

Coordinates are metres east/north of ORIGIN (UTM 43N, inside Almaty).

Twin towns: two identical towns W (centre 0,0) and E (centre 5000,0), each a cross of
residential streets 800 m long with 1,000 residents on a 500 m grid cell around its centre,
joined by a 4.2 km road (far beyond a 20-minute walk). Only W has a pharmacy, at its
centre. Options add bus stops and shops to W.

River town: a river along y = 0 with no bridge but one 2 km east. North bank street
y = +100, south bank street y = -100, both from x = 0 to x = 2000, the bridge at x = 2000.
Outlet N stands on the north bank at (0, 120); outlet S 900 m south at (0, -1000) at the end
of a street down from the south bank. A resident at (0, -110) is 230 m from N as the crow
flies and 890 m from S — but 4 km from N on foot.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from layers.model import Titles
from twin.analyses.access.graph import METRIC_CRS
from twin.analyses.site.categories import SiteCategory
from twin.analyses.site.model import SiteModel

ORIGIN = np.array([650_000.0, 4_790_000.0])
PHARMACY = SiteCategory(
    name="pharmacy",
    title=Titles("Аптеки", "Дәріханалар", "Pharmacies"),
    layer="pois",
    field="category",
    values=("pharmacy",),
    minutes=20.0,
)


def frame(rows: list[dict[str, Any]], geoms: list[shapely.Geometry]) -> gpd.GeoDataFrame:
    """Return a frame of local geometries in EPSG:4326 with fids 1..n."""
    moved = shapely.transform(np.asarray(geoms, dtype=object), lambda c: c + ORIGIN)
    out = gpd.GeoDataFrame(rows, geometry=gpd.GeoSeries(moved, crs=METRIC_CRS).to_crs(4326))
    out.insert(0, "fid", np.arange(1, len(out) + 1))
    return out


def lonlat(x: float, y: float) -> tuple[float, float]:
    """Return lon/lat of a local point."""
    p = (
        gpd.GeoSeries([shapely.Point(ORIGIN + np.array([x, y]))], crs=METRIC_CRS)
        .to_crs(4326)
        .iloc[0]
    )
    return float(p.x), float(p.y)


def _street(*pts: tuple[float, float]) -> shapely.LineString:
    return shapely.LineString(pts)


def _model(
    roads: list[shapely.LineString],
    grid_cells: list[tuple[shapely.Polygon, float]],
    pois: list[tuple[str, tuple[float, float]]],
    stops: list[tuple[float, float]],
    extent: shapely.Polygon,
) -> SiteModel:
    from twin.analyses.access.graph import build_graph

    road_frame = frame([{"highway": "residential"} for _ in roads], roads)
    grid = frame([{"population": p} for _, p in grid_cells], [g for g, _ in grid_cells])
    poi_frame = frame([{"category": c, "kind": "amenity", "name": c} for c, _ in pois],
                      [shapely.Point(xy) for _, xy in pois])  # fmt: skip
    stop_frame = frame([{"name": f"stop {i}"} for i in range(len(stops))],
                       [shapely.Point(xy) for xy in stops])  # fmt: skip
    area = frame([{"name": "Almaly"}], [extent])
    frames = {
        "pois": poi_frame,
        "health": frame([], []),
        "bus_stops": stop_frame,
        "buildings": frame([], []).assign(use=[], levels=[]),
        "population_grid": grid,
        "districts": area,
    }
    return SiteModel(build_graph(road_frame), area.geometry.iloc[0], frames)


W, E = (0.0, 0.0), (5000.0, 0.0)


def twin_towns(*, busy_west: bool = False) -> SiteModel:
    """Return the twin towns; with ``busy_west`` W also has 3 bus stops and 6 shops."""
    roads, cells = [], []
    for cx, cy in (W, E):
        roads += [_street((cx - 400, cy), (cx + 400, cy)), _street((cx, cy - 400), (cx, cy + 400))]
        cells.append((shapely.box(cx - 250, cy - 250, cx + 250, cy + 250), 1000.0))
    roads.append(_street((W[0] + 400, 0.0), (E[0] - 400, 0.0)))
    pois = [("pharmacy", (W[0] + 5, W[1] + 5))]
    stops: list[tuple[float, float]] = []
    if busy_west:
        stops = [(W[0] + 30, W[1] + 10), (W[0] - 30, W[1] + 10), (W[0] + 10, W[1] - 30)]
        pois += [("cafe", (W[0] + 20 * i, W[1] + 15)) for i in range(6)]
    extent = shapely.box(-1000, -1000, 6000, 1000)
    return _model(roads, cells, pois, stops, extent)


def river_town() -> SiteModel:
    """Return the river town (outlets N = fid 1, S = fid 2)."""
    roads = [
        _street((0, 100), (2000, 100)),
        _street((0, -100), (2000, -100)),
        _street((2000, 100), (2000, -100)),  # the only bridge
        _street((0, -100), (0, -1000)),
    ]
    cells = [(shapely.box(x, y, x + 500, y + 500), 800.0)
             for x in range(-500, 2000, 500) for y in range(-1500, 500, 500)]  # fmt: skip
    pois = [("pharmacy", (0.0, 120.0)), ("pharmacy", (0.0, -1000.0))]
    extent = shapely.box(-600, -1600, 2100, 600)
    return _model(roads, cells, pois, [], extent)
