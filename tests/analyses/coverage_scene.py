"""Small metric scenes for the coverage tests: open squares, walls, courtyards, a street."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin.analyses.coverage.cameras import COLUMNS, METRIC_CRS
from twin.analyses.coverage.grid import TileGrid
from twin.analyses.coverage.inputs import CityData
from twin.analyses.coverage.model import CoverageModel
from twin.analyses.coverage.targets import Targets, WeightField, build_targets
from twin.analyses.coverage.visibility import Obstacles

# Somewhere in Almaty, in EPSG:32643, so tiles and districts behave as in the city.
X0, Y0 = 660_000.0, 4_790_000.0


def camera(
    cid: str,
    x: float,
    y: float,
    *,
    heading: float = 0.0,
    fov: float = 90.0,
    reach: float = 100.0,
    kind: str = "fixed",
    status: str = "working",
) -> dict[str, Any]:
    """Return a camera row at (X0 + x, Y0 + y)."""
    return {
        "id": cid,
        "x": X0 + x,
        "y": Y0 + y,
        "kind": kind,
        "status": status,
        "mount_height_m": 6.0,
        "heading_deg": heading,
        "fov_deg": fov,
        "range_m": reach,
    }


def cameras(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Return a camera table."""
    return pd.DataFrame(list(rows), columns=list(COLUMNS))


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """Return a box offset to the scene origin."""
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def scene(
    *,
    parks: Sequence[shapely.Geometry] = (),
    buildings: Sequence[shapely.Geometry] = (),
    roads: Sequence[tuple[shapely.Geometry, str]] = (),
    districts: dict[str, shapely.Geometry] | None = None,
    scope: shapely.Geometry | None = None,
    pois: Sequence[shapely.Geometry] = (),
) -> tuple[Targets, Obstacles]:
    """Return (targets, obstacles) for a scene; the scope defaults to a 2 km square."""
    scope = scope if scope is not None else box(-1000, -1000, 1000, 1000)
    districts = districts or {"Almaly": scope}
    grid = TileGrid(250.0)
    obstacles = Obstacles.from_geometries(np.asarray(list(buildings), dtype=object))
    road_frame = gpd.GeoDataFrame(
        {
            "name": [f"street {i}" for i in range(len(roads))],
            "highway": [h for _, h in roads],
            "tunnel": [None] * len(roads),
        },
        geometry=gpd.GeoSeries([g for g, _ in roads], crs=METRIC_CRS),
        crs=METRIC_CRS,
    )
    field = WeightField.build(
        np.asarray([scope], dtype=object),
        np.array([1000.0]),
        np.asarray(list(pois), dtype=object),
        np.empty(0, dtype=object),
        float(shapely.area(scope)),
        grid,
    )
    targets = build_targets(
        scope=scope,
        districts=districts,
        roads=road_frame,
        parks=np.asarray(list(parks), dtype=object),
        obstacles=obstacles,
        field=field,
        grid=grid,
    )
    return targets, obstacles


def model(rows: Sequence[dict[str, Any]], **kwargs: Any) -> CoverageModel:
    """Return a coverage model of a scene with the given cameras."""
    include_planned = kwargs.pop("include_planned", False)
    targets, obstacles = scene(**kwargs)
    return CoverageModel(targets, obstacles, cameras(rows), include_planned=include_planned)


def city(
    rows: Sequence[dict[str, Any]],
    *,
    roads: Sequence[tuple[shapely.Geometry, str]] = (),
    buildings: Sequence[shapely.Geometry] = (),
    parks: Sequence[shapely.Geometry] = (),
    scope: shapely.Geometry | None = None,
) -> CityData:
    """Return :class:`CityData` for a scene (one district, "Almaly", covering the scope)."""
    scope = scope if scope is not None else box(-1000, -1000, 1000, 1000)
    names = [f"street {i}" for i in range(len(roads))]
    return CityData(
        boundary=scope,
        districts={"Almaly": scope},
        aliases={},
        buildings=np.asarray(list(buildings), dtype=object),
        roads=gpd.GeoDataFrame(
            {"name": names, "highway": [h for _, h in roads], "tunnel": [None] * len(roads)},
            geometry=gpd.GeoSeries([g for g, _ in roads], crs=METRIC_CRS),
            crs=METRIC_CRS,
        ),
        parks=np.asarray(list(parks), dtype=object),
        cameras=cameras(rows),
        population_cells=np.asarray([scope], dtype=object),
        population=np.array([1000.0]),
        pois=np.empty(0, dtype=object),
        appeals=np.empty(0, dtype=object),
    )


def grid_city(seed: int = 0, n_cameras: int = 40) -> CityData:
    """Return a 1.2 km grid of streets with blocks of houses and a few cameras."""
    rng = np.random.default_rng(seed)
    roads = [
        (shapely.LineString([(X0 - 600, Y0 + y), (X0 + 600, Y0 + y)]), "secondary")
        for y in range(-500, 501, 250)
    ] + [
        (shapely.LineString([(X0 + x, Y0 - 600), (X0 + x, Y0 + 600)]), "residential")
        for x in range(-500, 501, 200)
    ]
    # Noded as OSM ways are: crossing streets share a vertex.
    noded = shapely.get_parts(shapely.node(shapely.MultiLineString([g for g, _ in roads])))
    kinds = {round(g.coords[0][1] - g.coords[-1][1]) == 0: h for g, h in roads}
    roads = [(g, kinds[round(g.coords[0][1] - g.coords[-1][1]) == 0]) for g in noded]
    houses = []
    for bx in range(-500, 500, 200):
        for by in range(-500, 500, 250):
            for _ in range(3):
                x, y = bx + rng.uniform(20, 150), by + rng.uniform(20, 190)
                houses.append(box(x, y, x + rng.uniform(10, 40), y + rng.uniform(10, 40)))
    rows = [
        camera(
            f"c{i}",
            float(rng.choice(np.arange(-500, 501, 200)) + rng.uniform(-6, 6)),
            float(rng.uniform(-550, 550)),
            heading=float(rng.choice([0.0, 180.0])),
            fov=float(rng.uniform(50, 100)),
            reach=float(rng.uniform(50, 120)),
        )
        for i in range(n_cameras)
    ]
    return city(rows, roads=roads, buildings=houses, scope=box(-600, -600, 600, 600))
