"""The air surface of a day from the store: stations' readings in, the chosen method, its
leave-one-out errors, a grid over the city (as a PNG the map lays over the city) and each
district's population-weighted exposure out.

Why population-weighted: a district's mean over its area counts empty mountainside as much
as dense blocks; weighting by the modelled 500 m population grid gives the level its
residents breathe on average.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyproj
import shapely
from PIL import Image

import layers
from twin.air import readings, surface
from twin.core import geometry
from twin.core.errors import BadInput, NotFound
from twin.store import Store

METRIC = pyproj.CRS.from_epsg(32643)
_TO_METRIC = pyproj.Transformer.from_crs(4326, METRIC, always_xy=True)
_TO_LONLAT = pyproj.Transformer.from_crs(METRIC, 4326, always_xy=True)
MIN_CELL, MAX_CELL = 100.0, 2000.0

#: Colour classes of the surface, µg/m³ upper bounds: PM10 by the US EPA AQI's 24-hour
#: categories (the station dots use the same), NO2 by multiples of the WHO 2021 24-hour
#: guideline (25 µg/m³).
CLASSES: dict[str, tuple[tuple[float, str], ...]] = {
    "pm10": (
        (54.0, "#00e400"),
        (154.0, "#ffff00"),
        (254.0, "#ff7e00"),
        (354.0, "#ff0000"),
        (424.0, "#8f3f97"),
        (float("inf"), "#7e0023"),
    ),
    "no2": (
        (25.0, "#00e400"),
        (50.0, "#ffff00"),
        (100.0, "#ff7e00"),
        (200.0, "#ff0000"),
        (400.0, "#8f3f97"),
        (float("inf"), "#7e0023"),
    ),
}
CLASS_BASIS = {
    "pm10": "US EPA AQI categories of a 24-hour PM10 mean",
    "no2": "multiples of the WHO 2021 24-hour NO2 guideline (25 µg/m³)",
}


@dataclass(frozen=True)
class DaySurface:
    """A day's surface and everything said beside it."""

    parameter: str
    day: dt.date
    cv: surface.CrossValidation
    grid: surface.Grid
    inside: np.ndarray  # cells whose centre lies in the city
    stations: pd.DataFrame
    exposure: list[dict[str, Any]]

    def corners(self) -> list[list[float]]:
        """Return the grid's corners in lon/lat: top-left, top-right, bottom-right,
        bottom-left (MapLibre's image source order)."""
        w, s, e, n = self.grid.bounds()
        xs, ys = _TO_LONLAT.transform([w, e, e, w], [n, n, s, s])
        return [[round(float(x), 6), round(float(y), 6)] for x, y in zip(xs, ys, strict=True)]

    def summary(self) -> dict[str, Any]:
        """Return the JSON answer (no grid values: the PNG carries them)."""
        vals = self.grid.values[self.inside]
        rows, cols = self.grid.shape
        return {
            "parameter": self.parameter,
            "day": self.day.isoformat(),
            "unit": readings.UNIT,
            "method": self.cv.chosen,
            "method_note": (
                "IDW (power 2) and ordinary kriging (PyKrige, linear variogram) are each "
                "cross-validated leave-one-out on the day's stations; the lower RMSE draws "
                "the surface"
            ),
            "cross_validation": self.cv.as_dict(),
            "cell_m": self.grid.cell,
            "grid": {"rows": rows, "cols": cols, "crs": "EPSG:32643"},
            "corners": self.corners(),
            "range": {
                "min": round(float(vals.min()), 2) if vals.size else None,
                "max": round(float(vals.max()), 2) if vals.size else None,
            },
            "classes": [
                {"upto": None if np.isinf(u) else u, "color": c} for u, c in CLASSES[self.parameter]
            ],
            "classes_basis": CLASS_BASIS[self.parameter],
            "stations": [
                {"station_id": sid, "lon": round(lon, 6), "lat": round(lat, 6), "value": v}
                for sid, lon, lat, v in zip(
                    self.stations["station_id"].tolist(),
                    self.stations["lon"].astype(float).tolist(),
                    self.stations["lat"].astype(float).tolist(),
                    self.stations["value"].astype(float).tolist(),
                    strict=True,
                )
            ],
            "district_exposure": self.exposure,
            **readings.source_note(),
        }

    def png(self) -> bytes:
        """Return the surface as an RGBA PNG coloured by :data:`CLASSES`, transparent
        outside the city."""
        v = self.grid.values
        rgba = np.zeros((*v.shape, 4), dtype=np.uint8)
        lower = -np.inf
        for upper, colour in CLASSES[self.parameter]:
            mask = (v > lower) & (v <= upper) if np.isfinite(lower) else v <= upper
            rgba[mask, :3] = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
            lower = upper
        rgba[..., 3] = np.where(self.inside, 170, 0)
        out = io.BytesIO()
        Image.fromarray(rgba, "RGBA").save(out, format="PNG", optimize=False)
        return out.getvalue()


def _city(store: Store) -> shapely.Geometry:
    frame = store.read_frame(layers.get("city_boundary"))
    if frame.empty:
        raise NotFound("the city boundary is not loaded")
    return shapely.union_all(frame.to_crs(METRIC).geometry.values)


def district_exposure(
    store: Store, method: str, xy: np.ndarray, z: np.ndarray
) -> list[dict[str, Any]]:
    """Return each district's population-weighted mean of the surface (at the 500 m
    population cells' centres) and the people counted."""
    pop = store.read_frame(layers.get("population_grid"))
    districts = store.read_frame(layers.get("districts"))
    if pop.empty or districts.empty:
        return []
    centres = pop.to_crs(METRIC).geometry.centroid
    cx, cy = centres.x.to_numpy(), centres.y.to_numpy()
    values = np.maximum(surface.predict(method, xy, z, np.column_stack([cx, cy])), 0.0)
    people = pop["population"].fillna(0).to_numpy(dtype=np.float64)
    dgeom = districts.to_crs(METRIC).geometry.values
    out: list[dict[str, Any]] = []
    for name, geom in zip(districts["name"], dgeom, strict=True):
        inside = geometry.contains_xy(geom, cx, cy)
        weight = people[inside]
        if weight.sum() <= 0:
            continue
        out.append(
            {
                "district": name,
                "mean": round(float(np.average(values[inside], weights=weight)), 2),
                "population": round(float(weight.sum())),
            }
        )
    return sorted(out, key=lambda d: d["district"])


def day_surface(store: Store, parameter: str, day: dt.date, cell: float = 500.0) -> DaySurface:
    """Return the surface of ``parameter`` on ``day`` at ``cell`` metres over the city."""
    if not MIN_CELL <= cell <= MAX_CELL:
        raise BadInput(f"cell {cell:g} m is out of range; {MIN_CELL:g}–{MAX_CELL:g} m")
    stations = readings.day_values(store, parameter, day)
    if stations.empty:
        raise NotFound(f"no {parameter} readings on {day.isoformat()}")
    x, y = _TO_METRIC.transform(stations["lon"].to_numpy(), stations["lat"].to_numpy())
    xy = np.column_stack([x, y])
    z = stations["value"].to_numpy(dtype=np.float64)
    cv = surface.cross_validate(xy, z)
    city = _city(store)
    west, south, east, north = shapely.bounds(city).tolist()
    grid = surface.grid_over(cv.chosen, xy, z, (west, south, east, north), cell)
    rows, cols = grid.shape
    w, _, _, n = grid.bounds()
    gx, gy = np.meshgrid(w + (np.arange(cols) + 0.5) * cell, n - (np.arange(rows) + 0.5) * cell)
    inside = geometry.contains_xy(city, gx, gy)
    exposure = district_exposure(store, cv.chosen, xy, z)
    return DaySurface(parameter, day, cv, grid, inside, stations, exposure)
