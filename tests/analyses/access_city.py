"""A hand-built street network whose shortest paths can be added up by hand.

Coordinates are metres east/north of ORIGIN (UTM 43N, inside Almaty)::

                D(100,150) ───── footway ≈255 m ─────┐
                │                                     E(350,100)
                │ 150                                 │ steps 100
    A(0,0) ── 100 ── B(100,0) ──────── 250 ───────── C(350,0) ══ one-way 200 ══▶ F(550,0)
    │ motorway 300
    K(0,-300)                               island G(1000,1000) ── H(1100,1000)

B–D is a residential street with a vertex at (100,75) where a bridge (50,75)–(150,75) passes
over it without a junction. Walking A→E takes the steps (450 m); step-free it goes round by D
(≈505 m).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from etl.transform import conform
from twin.analyses.access.graph import METRIC_CRS
from twin.store import Batch, Store

ORIGIN = np.array([650_000.0, 4_790_000.0])

A, B, C, D = (0.0, 0.0), (100.0, 0.0), (350.0, 0.0), (100.0, 150.0)
E, F, K = (350.0, 100.0), (550.0, 0.0), (0.0, -300.0)
G, H = (1000.0, 1000.0), (1100.0, 1000.0)
#: A→E walking: A-B 100, B-C 250, C-E 100 (steps) = 450 m.
E_BY_STEPS = 450.0
#: A→E without steps: A-B 100, B-D 150, D-E hypot(250, 50) ≈ 254.95 m.
E_STEP_FREE = 100.0 + 150.0 + float(np.hypot(250.0, 50.0))


def metric(*xy: tuple[float, float]) -> np.ndarray:
    """Return local points as UTM 43N coordinates."""
    return np.asarray(xy, dtype=float) + ORIGIN


def _frame(data: dict[str, list[Any]], geoms: list[shapely.Geometry]) -> gpd.GeoDataFrame:
    moved = shapely.transform(np.asarray(geoms, dtype=object), lambda c: c + ORIGIN)
    frame = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(moved, crs=METRIC_CRS).to_crs(4326))
    frame.insert(0, "fid", np.arange(1, len(frame) + 1))
    return frame


def line(*pts: tuple[float, float]) -> shapely.LineString:
    return shapely.LineString(pts)


def roads() -> gpd.GeoDataFrame:
    """Return the roads of the hand-built network (EPSG:4326, with fid)."""
    rows = [
        ("a-b", "residential", False, False, line(A, B)),
        ("b-c", "residential", False, False, line(B, C)),
        ("b-d", "residential", False, False, line(B, (100.0, 75.0), D)),
        ("d-e", "footway", False, False, line(D, E)),
        ("c-e", "steps", False, False, line(C, E)),
        ("c-f", "residential", True, False, line(C, F)),
        ("a-k", "motorway", False, False, line(A, K)),
        ("g-h", "residential", False, False, line(G, H)),
        ("bridge", "residential", False, True, line((50.0, 75.0), (100.0, 75.0), (150.0, 75.0))),
    ]
    return _frame(
        {
            "source_id": [r[0] for r in rows],
            "highway": [r[1] for r in rows],
            "oneway": [r[2] for r in rows],
            "bridge": [r[3] for r in rows],
        },
        [r[4] for r in rows],
    )


def facilities() -> dict[str, gpd.GeoDataFrame]:
    """Return facility layers: a clinic by E (not accessible) and one by D (accessible),
    two schools, a bus stop, a park."""
    return {
        "health": _frame(
            {
                "source_id": ["clinic-e", "clinic-d"],
                "kind": ["clinic", "hospital"],
                "wheelchair": ["no", "yes"],
            },
            [shapely.Point(350.0, 110.0), shapely.Point(100.0, 160.0)],
        ),
        "schools": _frame(
            {
                "source_id": ["school-a", "school-c", "kg-b"],
                "kind": ["school", "school", "kindergarten"],
                "capacity": [100, 1000, 50],
                "enrolled": [120, 500, 40],
                "wheelchair": ["yes", "yes", "no"],
            },
            [shapely.Point(0.0, 10.0), shapely.Point(350.0, -10.0), shapely.Point(100.0, -10.0)],
        ),
        "bus_stops": _frame(
            {"source_id": ["stop-b"], "wheelchair": ["limited"]}, [shapely.Point(110.0, 5.0)]
        ),
        "parks": _frame(
            {"source_id": ["park"], "kind": ["park"], "wheelchair": ["yes"]},
            [shapely.box(150.0, 20.0, 300.0, 60.0)],
        ),
    }


def city_layers() -> dict[str, gpd.GeoDataFrame]:
    """Return every layer the access service reads, for loading into a store."""
    frames = {"roads": roads(), **facilities()}
    cells = [shapely.box(x, y, x + 500, y + 500) for x in (-250, 250) for y in (-250, 250)]
    frames["population_grid"] = _frame(
        {"source_id": [f"cell-{i}" for i in range(4)], "population": [400.0, 400.0, 800.0, 0.0]},
        cells,
    )
    frames["districts"] = _frame(
        {"source_id": ["d1"], "name": ["Almaly"]},
        [shapely.MultiPolygon([shapely.box(-250, -350, 1200, 1200)])],
    )
    frames["city_boundary"] = _frame(
        {"source_id": ["city"], "name": ["Almaty"]},
        [shapely.MultiPolygon([shapely.box(-250, -350, 1200, 1200)])],
    )
    frames["buildings"] = _frame(
        {"source_id": ["b1", "b2"], "use": ["residential", "residential"]},
        [shapely.box(20, 20, 40, 40), shapely.box(320, 110, 340, 130)],
    )
    return frames


def load_city(store: Store) -> None:
    """Load :func:`city_layers` into ``store``."""
    import layers

    batches = []
    for layer_id, frame in city_layers().items():
        layer = layers.get(layer_id)
        conformed = conform(frame.drop(columns="fid"), layer, origin="test", id_column="source_id")
        batches.append(Batch(layer, f"test:{layer_id}", conformed.frame, "test", "0", "test"))
    store.load(batches)
