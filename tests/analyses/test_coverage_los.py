"""The vector visibility agrees with an independent raster line-of-sight computation on a real
part of Almaty (both stores).

The raster side shares nothing with the vector code but the input: footprints burnt into a
1 m grid, rays cast from each camera every fraction of a degree (fine enough that
neighbouring rays are under 0.7 m apart at full range) and marched in 0.5 m steps until they
hit a footprint cell or run out of range; a cell is seen when a ray reaches it and its centre
lies in the camera's sector.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely
from rasterio.features import rasterize
from rasterio.transform import from_origin

from twin.analyses.coverage.cameras import covering, effective_fov
from twin.analyses.coverage.inputs import read_city
from twin.analyses.coverage.scope import Scope
from twin.analyses.coverage.visibility import Obstacles, visibility_polygons
from twin.store import open_store

# Central Almaly and Medeu around Abylai Khan Avenue: ~400 cameras, ~1,500 footprints.
BBOX = (76.92, 43.24, 76.95, 43.265)
CELL = 1.0


def raster_viewshed(
    cams: dict[str, np.ndarray], blocked: np.ndarray, x0: float, y1: float
) -> np.ndarray:
    """Return a boolean grid of the cells some camera sees (ray casting over ``blocked``)."""
    h, w = blocked.shape
    seen = np.zeros_like(blocked)
    step = 0.5
    for x, y, head, fov, reach in zip(
        cams["x"], cams["y"], cams["heading"], cams["fov"], cams["range"], strict=True
    ):
        col, row = int((x - x0) // CELL), int((y1 - y) // CELL)
        if not (0 <= row < h and 0 <= col < w) or blocked[row, col]:
            continue  # off the grid, or standing in a building: sees nothing
        dtheta = 0.6 / reach  # radians between rays: < 0.7 m apart at full range
        n_rays = max(math.ceil(math.radians(fov) / dtheta), 1)
        start = math.radians(head) - math.radians(fov) / 2
        theta = start + (np.arange(n_rays) + 0.5) * math.radians(fov) / n_rays
        dist = np.arange(step / 2, reach, step)
        px = x + np.outer(np.sin(theta), dist)
        py = y + np.outer(np.cos(theta), dist)
        cols = np.floor((px - x0) / CELL).astype(np.int64)
        rows = np.floor((y1 - py) / CELL).astype(np.int64)
        inside = (cols >= 0) & (cols < w) & (rows >= 0) & (rows < h)
        hit = np.zeros(px.shape, bool)
        hit[inside] = blocked[rows[inside], cols[inside]]
        clear = ~np.logical_or.accumulate(hit, axis=1) & inside
        rr, cc = rows[clear], cols[clear]
        # Keep the cells whose centre is in the sector (the polygon's rule too).
        cx, cy = x0 + (cc + 0.5) * CELL - x, y1 - (rr + 0.5) * CELL - y
        ang = (np.degrees(np.arctan2(cx, cy)) - head + 180.0) % 360.0 - 180.0
        ok = (np.hypot(cx, cy) <= reach) & ((np.abs(ang) <= fov / 2) | (fov >= 360))
        seen[rr[ok], cc[ok]] = True
    return seen


@dataclass(frozen=True)
class Seen:
    """A store's city around BBOX, its covering cameras there and what they see (vector)."""

    city: Any
    cams: pd.DataFrame
    fov: np.ndarray
    union: shapely.Geometry


def _seen(url: str) -> Seen:
    store = open_store(url)
    try:
        city, scope, _ = read_city(store, Scope(kind="bbox", bbox=BBOX))
    finally:
        store.close()
    cams = city.cameras
    at = shapely.points(cams["x"].to_numpy(float), cams["y"].to_numpy(float))
    cams = cams[shapely.contains(scope, at) & covering(cams)].reset_index(drop=True)
    fov = effective_fov(cams)
    vis = visibility_polygons(
        cams["x"].to_numpy(float),
        cams["y"].to_numpy(float),
        cams["heading_deg"].to_numpy(float),
        fov,
        cams["range_m"].to_numpy(float),
        Obstacles.from_geometries(city.buildings),
    )
    return Seen(city, cams, fov, shapely.union_all(vis))


@pytest.fixture(scope="module")
def seen() -> Callable[[str], Seen]:
    """Return what the cameras of the store at a URL see, computed once per module (the
    per-store test and the comparison share it; either computes what it needs alone)."""
    return functools.cache(_seen)


def test_vector_visibility_agrees_with_raster_line_of_sight(
    almaty_url: str, seen: Callable[[str], Seen]
) -> None:
    got = seen(almaty_url)
    city, cams, fov, union = got.city, got.cams, got.fov, got.union
    assert len(cams) >= 300

    minx, miny, maxx, maxy = shapely.bounds(union).tolist()
    x0, y1 = math.floor(minx) - 2.0, math.ceil(maxy) + 2.0
    w, h = math.ceil(maxx - x0) + 2, math.ceil(y1 - miny) + 2
    transform = from_origin(x0, y1, CELL, CELL)
    blocked = rasterize(
        ((g, 1) for g in city.buildings), out_shape=(h, w), transform=transform, dtype="uint8"
    ).astype(bool)
    raster = raster_viewshed(
        {
            "x": cams["x"].to_numpy(float),
            "y": cams["y"].to_numpy(float),
            "heading": cams["heading_deg"].to_numpy(float),
            "fov": fov,
            "range": cams["range_m"].to_numpy(float),
        },
        blocked,
        x0,
        y1,
    )
    vector = rasterize([(union, 1)], out_shape=(h, w), transform=transform, dtype="uint8") > 0
    iou = np.sum(raster & vector) / np.sum(raster | vector)
    print(f"IoU {iou:.4f}, {len(cams)} cameras")
    assert iou >= 0.97, f"IoU {iou:.4f}"


def test_both_stores_give_the_same_visibility(
    almaty_urls: dict[str, str], seen: Callable[[str], Seen]
) -> None:
    """Both stores hold the same city, so the same cameras see the same polygons."""
    a, b = seen(almaty_urls["geopackage"]), seen(almaty_urls["postgis"])
    assert len(a.cams) == len(b.cams) >= 300
    area = float(shapely.area(a.union))
    assert area > 0 and area == pytest.approx(float(shapely.area(b.union)), rel=1e-9)
    assert float(shapely.area(shapely.symmetric_difference(a.union, b.union))) <= 1e-6 * area
