"""The 10× scaled city used by the benchmarks: the real OSM buildings, copied and shifted.

Each copy is the real footprint set moved by a seeded random offset of 0.5–4 km and kept only
where it lands inside the city boundary, so density grows about tenfold in built-up areas while
shapes stay real.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from twin.core.settings import DATA_DIR

CACHE = DATA_DIR.parent / "artifacts" / "bench"


def real_buildings() -> gpd.GeoDataFrame:
    """Return the real OSM buildings as a conformed ``buildings`` frame."""
    src = pyogrio.read_dataframe(DATA_DIR / "almaty/osm/derived_2012/buildings.geojson")
    ids = src["osm_id"].fillna(src["osm_way_id"]).astype(str)
    return gpd.GeoDataFrame(
        {
            "source_id": ids,
            "synthetic": False,
            "name": src["name"],
            "building": src["building"],
            "levels": pd.to_numeric(src["building:levels"], errors="coerce").astype("Int64"),
            "height": None,
            "street": src["addr:street"],
            "housenumber": src["addr:housenumber"],
            "address": None,
            "use": None,
        },
        geometry=src.geometry.values,
        crs=4326,
    )


def scaled_buildings(factor: int = 10, seed: int = 0) -> gpd.GeoDataFrame:
    """Return ``factor`` copies of the real buildings (copy 0 unmoved), synthetic after copy 0."""
    base = real_buildings()
    rng = np.random.default_rng(seed)
    parts = [base]
    for k in range(1, factor):
        dx, dy = rng.uniform(0.5, 4.0, 2) * rng.choice([-1, 1], 2) / np.array([81.0, 111.0])
        part = base.copy()
        part["source_id"] = part["source_id"] + f"-x{k}"
        part["synthetic"] = True
        part["geometry"] = shapely.transform(base.geometry.values, lambda c, d=(dx, dy): c + d)
        parts.append(part)
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=4326)


def scaled_buildings_file(factor: int = 10) -> Path:
    """Return a FlatGeobuf of :func:`scaled_buildings`, written once and cached."""
    path = CACHE / f"buildings_x{factor}.fgb"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = scaled_buildings(factor)
        pyogrio.write_dataframe(frame, path, driver="FlatGeobuf")
    return path
