"""A toy two-district city, small enough to run the generators' examples in milliseconds."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely

from etl.synthesise.frames import METRIC_CRS, WGS84

# South-west corner of the toy city, in UTM 43N: inside Almaty.
ORIGIN = (650_000.0, 4_790_000.0)


def _layer(data: dict[str, list[object]], geoms: Sequence[shapely.Geometry]) -> gpd.GeoDataFrame:
    """Return a real-layer frame (``synthetic`` False) in EPSG:4326 from metric geometry."""
    moved = shapely.transform(np.asarray(geoms, dtype=object), lambda xy: xy + ORIGIN)
    frame = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(moved, crs=METRIC_CRS).to_crs(WGS84))
    frame.insert(1, "synthetic", False)
    return frame


def toy_layers() -> dict[str, gpd.GeoDataFrame]:
    """Return real-looking input layers for a 4 x 2 km city of two districts.

    "Almaly" (west, 75,000 residents, two real schools) and "Medeu" (east, 30,000), a
    500 m population grid, an east-west avenue crossed by a street in each district, four
    buildings, a park, three bus stops (one mapped as not wheelchair accessible) and one
    air station.

    Examples
    --------
    >>> sorted(toy_layers())[:3]
    ['air_sensors', 'buildings', 'bus_stops']
    """
    west, east = shapely.box(0, 0, 2000, 2000), shapely.box(2000, 0, 4000, 2000)
    cells = [
        shapely.box(x, y, x + 500, y + 500)
        for x in range(0, 4000, 500)
        for y in range(0, 2000, 500)
    ]
    return {
        "districts": _layer(
            {
                "source_id": ["district/almaly", "district/medeu"],
                "name": ["Almaly", "Medeu"],
                "population": [75_000, 30_000],
            },
            [shapely.MultiPolygon([west]), shapely.MultiPolygon([east])],
        ),
        "city_boundary": _layer(
            {"source_id": ["city"], "name": ["Almaty"]}, [shapely.box(0, 0, 4000, 2000)]
        ),
        "population_grid": _layer(
            {"source_id": [f"cell/{i}" for i in range(len(cells))], "population": [100.0] * 32},
            cells,
        ),
        "roads": _layer(
            {
                "source_id": ["way/1", "way/2", "way/3"],
                "name": ["Абая прс.", "ул. Сейфулина", "улица Шевченко"],
                "highway": ["primary", "secondary", "residential"],
            },
            [
                shapely.LineString([(0, 1000), (1000, 1000), (3000, 1000), (4000, 1000)]),
                shapely.LineString([(1000, 0), (1000, 1000), (1000, 2000)]),
                shapely.LineString([(3000, 0), (3000, 1000), (3000, 2000)]),
            ],
        ),
        "buildings": _layer(
            {"source_id": [f"way/b{i}" for i in range(4)]},
            [
                shapely.box(x, y, x + 30, y + 20)
                for x, y in [(400, 400), (1400, 1500), (2600, 600), (3500, 1500)]
            ],
        ),
        "parks": _layer(
            {"source_id": ["area/park"], "name": ["Сквер"], "kind": ["park"]},
            [shapely.box(1500, 200, 1800, 500)],
        ),
        "schools": _layer(
            {
                "source_id": ["node/s1", "node/s2"],
                "name": ["Школа № 1", None],
                "kind": ["school", "school"],
            },
            [shapely.Point(500, 500), shapely.Point(1500, 1500)],
        ),
        "bus_stops": _layer(
            {"source_id": ["node/bs1", "node/bs2", "node/bs3"], "wheelchair": ["no", None, None]},
            [shapely.Point(x, 1010) for x in (500, 1500, 2500)],
        ),
        "air_sensors": _layer(
            {"source_id": ["kgmt_1"], "station_id": ["kgmt_1"], "network": ["kazhydromet"]},
            [shapely.Point(1200, 900)],
        ),
    }
