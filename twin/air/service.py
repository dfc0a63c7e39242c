"""The air surface of a day from the store: stations' readings in, the chosen method, its
leave-one-out errors, a grid over the city and each district's population-weighted exposure
out. The grid is given three ways: a PNG the map lays over the city, a GeoTIFF of the values
(µg/m³, EPSG:32643, nodata outside the city) for GIS, and vector bands of the colour classes
(the grid's cells of each class merged into polygons, in lon/lat; their outlines are the
contours at the class breaks, stepped on the cells).

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
from rasterio.features import shapes
from rasterio.io import MemoryFile
from rasterio.transform import Affine, from_origin
from shapely.geometry import mapping
from shapely.geometry import shape as to_shape

import layers
from twin.air import readings, surface
from twin.core import geometry
from twin.core.errors import BadInput, NotFound
from twin.store import Store

METRIC = pyproj.CRS.from_epsg(32643)
_TO_METRIC = pyproj.Transformer.from_crs(4326, METRIC, always_xy=True)
_TO_LONLAT = pyproj.Transformer.from_crs(METRIC, 4326, always_xy=True)
MIN_CELL, MAX_CELL = 100.0, 2000.0
#: The GeoTIFF's value of cells outside the city.
NODATA = -9999.0

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

    def transform(self) -> Affine:
        """Return the grid's affine transform (EPSG:32643, north up)."""
        return from_origin(self.grid.x0, self.grid.y1, self.grid.cell, self.grid.cell)

    def class_index(self) -> np.ndarray:
        """Return each cell's colour class (index into :data:`CLASSES`): the first class whose
        upper bound the value does not exceed (``len(CLASSES[parameter])`` for no value)."""
        uppers = np.array([u for u, _ in CLASSES[self.parameter]])
        return np.searchsorted(uppers, self.grid.values, side="left")

    def png(self) -> bytes:
        """Return the surface as an RGBA PNG coloured by :data:`CLASSES`, transparent
        outside the city."""
        palette = np.array(
            [[int(c[i : i + 2], 16) for i in (1, 3, 5)] for _, c in CLASSES[self.parameter]],
            dtype=np.uint8,
        )
        index = self.class_index()
        valued = index < len(palette)
        rgba = np.zeros((*self.grid.values.shape, 4), dtype=np.uint8)
        rgba[valued, :3] = palette[index[valued]]
        rgba[..., 3] = np.where(self.inside & valued, 170, 0)
        out = io.BytesIO()
        Image.fromarray(rgba, "RGBA").save(out, format="PNG", optimize=False)
        return out.getvalue()

    def geotiff(self) -> bytes:
        """Return the surface's values (µg/m³, float32) as a deflate-compressed GeoTIFF in
        EPSG:32643, :data:`NODATA` outside the city; the method, its leave-one-out RMSE, the
        day and the licence are in its tags."""
        rows, cols = self.grid.shape
        values = np.where(self.inside, self.grid.values, NODATA).astype(np.float32)
        err = self.cv.errors[self.cv.chosen]
        with MemoryFile() as mem:
            with mem.open(
                driver="GTiff",
                width=cols,
                height=rows,
                count=1,
                dtype="float32",
                crs="EPSG:32643",
                transform=self.transform(),
                nodata=NODATA,
                compress="deflate",
            ) as dst:
                dst.write(values, 1)
                dst.set_band_description(1, f"{self.parameter} daily mean, {readings.UNIT}")
                dst.update_tags(
                    parameter=self.parameter,
                    day=self.day.isoformat(),
                    unit=readings.UNIT,
                    method=self.cv.chosen,
                    loo_rmse=str(err["rmse"]),
                    **readings.source_note(),
                )
            return bytes(mem.read())

    def contours(self) -> dict[str, Any]:
        """Return the colour classes as GeoJSON bands: per class present in the city, the
        grid's cells of that class merged into a (multi)polygon in lon/lat, with the class's
        bounds and colour. The band outlines are the contours at the class breaks."""
        index = self.class_index().astype(np.int16)
        bounds = CLASSES[self.parameter]
        mask = self.inside & (index < len(bounds))
        parts: dict[int, list[shapely.Geometry]] = {}
        for geom, value in shapes(index, mask=mask, transform=self.transform()):
            parts.setdefault(int(value), []).append(to_shape(geom))

        def lonlat(xy: np.ndarray) -> np.ndarray:
            lon, lat = _TO_LONLAT.transform(xy[:, 0], xy[:, 1])
            return np.round(np.column_stack([lon, lat]), 6)

        features = []
        for i in sorted(parts):
            band = shapely.make_valid(shapely.transform(shapely.union_all(parts[i]), lonlat))
            upper, colour = bounds[i]
            features.append(
                {
                    "type": "Feature",
                    "id": i,
                    "geometry": mapping(band),
                    "properties": {
                        "class": i,
                        "from": bounds[i - 1][0] if i else None,
                        "upto": None if np.isinf(upper) else upper,
                        "color": colour,
                    },
                }
            )
        return {
            "type": "FeatureCollection",
            "parameter": self.parameter,
            "day": self.day.isoformat(),
            "unit": readings.UNIT,
            "method": self.cv.chosen,
            "classes_basis": CLASS_BASIS[self.parameter],
            **readings.source_note(),
            "features": features,
        }


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
