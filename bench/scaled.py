"""The 10× scaled city used by the benchmarks: the real OSM buildings, copied and shifted.

Ten copies of the real footprint set: the original once, unmoved, and nine copies each moved by
a seeded random offset of 0.5–4 km, a shifted footprint kept only where it lands wholly inside
the city boundary (``data/almaty/boundaries``), so density grows about tenfold in built-up areas
while shapes stay real and nothing lands in the mountains or the steppe. Because of that filter
the set holds somewhat fewer than 10 × 8,201 footprints; :func:`describe` says how many, and
every benchmark that uses it prints that.

A store that already holds the bundled set has the originals: it gets
:func:`shifted_buildings_file` (the nine shifted copies alone), so that no footprint is stored
twice. A store that starts empty gets :func:`scaled_buildings_file` (all ten copies).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from twin.core.settings import DATA_DIR

CACHE = DATA_DIR.parent / "artifacts" / "bench"
BOUNDARY = DATA_DIR / "almaty/boundaries/almaty_city_and_districts_osm_2024-11-15.geojson"


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


def city_boundary() -> shapely.Geometry:
    """Return the city boundary (lon/lat) as one prepared geometry."""
    both = pyogrio.read_dataframe(BOUNDARY)
    geom = shapely.union_all(both[both["@id"] == "relation/2465058"].geometry.values)
    shapely.prepare(geom)
    return geom


def scaled_buildings(factor: int = 10, seed: int = 0, *, original: bool = True) -> gpd.GeoDataFrame:
    """Return the real buildings once (unless ``original`` is false) and ``factor - 1`` shifted
    copies of them, each shifted footprint kept only if it lies inside the city boundary.

    Shifted copies are marked ``synthetic`` and their ids end in ``-x1`` … ``-x{factor-1}``.
    """
    base = real_buildings()
    boundary = city_boundary()
    rng = np.random.default_rng(seed)
    parts = [base] if original else []
    for k in range(1, factor):
        # The offsets are drawn whether or not the original is returned, so that the shifted
        # copies are the same footprints in both files.
        dx, dy = rng.uniform(0.5, 4.0, 2) * rng.choice([-1, 1], 2) / np.array([81.0, 111.0])
        moved = shapely.transform(base.geometry.values, lambda c, d=(dx, dy): c + d)
        inside = shapely.within(moved, boundary)
        part = base[inside].copy()
        part["source_id"] = part["source_id"] + f"-x{k}"
        part["synthetic"] = True
        part["geometry"] = moved[inside]
        parts.append(part)
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=4326)


def describe(frame: gpd.GeoDataFrame) -> str:
    """Return what a frame of :func:`scaled_buildings` holds: originals, shifted copies, and
    (when it has the originals) the multiple of the real set that makes."""
    real = int((~frame["synthetic"].astype(bool)).sum())
    shifted = len(frame) - real
    copies = frame["source_id"].str.extract(r"-x(\d+)$")[0].dropna().nunique()
    text = f"{len(frame):,} footprints: {real:,} real + {shifted:,} in {copies} shifted copies "
    text += "kept inside the city boundary"
    return text + (f" ({len(frame) / real:.2f}× the real set)" if real else "")


def _cached(name: str, factor: int, *, original: bool) -> Path:
    """Return a FlatGeobuf of :func:`scaled_buildings`, written once per version of this
    module (its source is in the file name's digest, so a changed recipe is never misread)."""
    digest = hashlib.blake2b(Path(__file__).read_bytes(), digest_size=4).hexdigest()
    path = CACHE / f"buildings_x{factor}_{name}_{digest}.fgb"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = scaled_buildings(factor, original=original)
        tmp = path.with_suffix(".tmp.fgb")
        pyogrio.write_dataframe(frame, tmp, driver="FlatGeobuf")
        tmp.replace(path)  # never a half-written file under the final name
    return path


def scaled_buildings_file(factor: int = 10) -> Path:
    """Return a FlatGeobuf of all ``factor`` copies (the originals and the shifted ones), for
    a store that holds no buildings yet."""
    return _cached("city", factor, original=True)


def shifted_buildings_file(factor: int = 10) -> Path:
    """Return a FlatGeobuf of the ``factor - 1`` shifted copies alone, for a store that already
    holds the real buildings (the bundled set)."""
    return _cached("shifted", factor, original=False)
