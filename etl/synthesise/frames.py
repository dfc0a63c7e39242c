"""Small shared helpers: random streams, dates, identifiers and catalog-shaped frames.

Everything the generators return passes through :func:`conform`, so the column set, order and
dtypes of a generated frame are derived from the layer catalog in one place.
"""

from __future__ import annotations

import datetime
import hashlib
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import layers
from layers.model import GeomType, PropType

WGS84 = "EPSG:4326"
METRIC_CRS = "EPSG:32643"  # UTM 43N: metres over all of Almaty

FIXED_COLUMNS = ("source_id", "synthetic")


def stream(seed: int, name: str) -> np.random.Generator:
    """Return the random generator of one named stream derived from ``seed``.

    Each generator draws from its own stream, so adding draws to one (say, a new camera
    attribute) does not shift the numbers every other generator sees. ``crc32`` is used
    rather than ``hash`` because Python salts string hashes per process.
    """
    return np.random.default_rng([int(seed), zlib.crc32(name.encode("utf-8"))])


def keyed_uniform(keys: Sequence[str] | np.ndarray, seed: int, salt: str) -> np.ndarray:
    """Return one uniform float in [0, 1) per key, fixed by ``(seed, salt, key)``.

    Used where a value belongs to a real feature (its generated accessibility): the draw then
    depends on the feature's own ``source_id`` only, not on its row position or on which other
    features happen to be loaded, so a re-run over a grown layer keeps old values.
    """
    hash_key = hashlib.sha256(f"{seed}:{salt}".encode()).hexdigest()[:16]
    hashed = pd.util.hash_array(np.asarray(keys, dtype=object), hash_key=hash_key, categorize=False)
    return (hashed >> np.uint64(11)).astype(np.float64) * 2.0**-53


def day(value: datetime.date | str) -> np.datetime64:
    """Return ``value`` as a numpy day."""
    return np.datetime64(value, "D")


def days_of(values: pd.Series) -> np.ndarray:
    """Return ISO date strings or dates (nulls allowed) as numpy days, NaT for nulls."""
    parsed = pd.to_datetime(pd.Series(values, dtype=object), errors="coerce", format="ISO8601")
    return parsed.to_numpy(dtype="datetime64[D]")


def iso(days: np.ndarray) -> np.ndarray:
    """Return ISO ``YYYY-MM-DD`` strings (``None`` for NaT) for an array of numpy days."""
    days = np.asarray(days, dtype="datetime64[D]")
    out = np.datetime_as_string(days, unit="D").astype(object)
    out[np.isnat(days)] = None
    return out


def year_of(days: np.ndarray) -> np.ndarray:
    """Return the calendar year of each numpy day as int."""
    return np.asarray(days, dtype="datetime64[Y]").astype(np.int64) + 1970


def month_of(days: np.ndarray) -> np.ndarray:
    """Return the calendar month (1-12) of each numpy day."""
    return np.asarray(days, dtype="datetime64[M]").astype(np.int64) % 12 + 1


def ids(prefix: str, n: int, width: int = 6) -> list[str]:
    """Return ``n`` identifiers ``prefix-000001`` … in order."""
    return [f"{prefix}-{i:0{width}d}" for i in range(1, n + 1)]


def points(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Return an object array of shapely Points (``shapely.points`` typed as an array)."""
    return np.asarray(shapely.points(x, y), dtype=object)


def choose(
    rng: np.random.Generator,
    options: Sequence[str],
    weights: Sequence[float] | np.ndarray,
    size: int,
) -> np.ndarray:
    """Return ``size`` values drawn from ``options`` with the given (unnormalised) weights."""
    p = np.asarray(weights, dtype=float)
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=size, p=p / p.sum())]


def choose_rows(u: np.ndarray, options: Sequence[str], weights: np.ndarray) -> np.ndarray:
    """Return one option per row, drawn with per-row weights using the uniforms ``u``.

    ``weights`` has shape ``(len(u), len(options))``; this is the vectorised form of calling
    ``rng.choice`` once per row with that row's probabilities.
    """
    cum = np.cumsum(weights, axis=1)
    cum /= cum[:, -1:]
    pick = (u[:, None] >= cum).sum(axis=1)
    return np.asarray(options, dtype=object)[np.minimum(pick, len(options) - 1)]


def to_multipolygon(geoms: np.ndarray) -> np.ndarray:
    """Return every geometry as a MultiPolygon made of its polygon parts (empty if none).

    Intersections and buffers return Polygons, MultiPolygons or collections; the store wants
    exactly one type per layer.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.empty(len(geoms), dtype=object)
    out[:] = shapely.from_wkt("MULTIPOLYGON EMPTY")
    if len(geoms) == 0:
        return out
    # get_parts twice flattens collections of multipolygons; keep the owner of each part.
    flat_parts, flat_owner = shapely.get_parts(geoms, return_index=True)
    sub_parts, sub_owner = shapely.get_parts(flat_parts, return_index=True)
    parts, owner = sub_parts, flat_owner[sub_owner]
    keep = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    parts, owner = parts[keep], owner[keep]
    if len(parts):
        present, compact = np.unique(owner, return_inverse=True)
        out[present] = shapely.multipolygons(parts, indices=compact)
    return out


def _cast(values: pd.Series, kind: PropType) -> pd.Series:
    """Return ``values`` in the pandas dtype the catalog type maps to."""
    if kind is PropType.INT:
        return pd.Series(
            np.round(pd.to_numeric(values, errors="coerce")), index=values.index
        ).astype("Int64")
    if kind is PropType.FLOAT:
        return pd.to_numeric(values, errors="coerce").astype("float64")
    if kind is PropType.BOOL:
        return values.astype("boolean")
    if kind is PropType.DATE:
        out = values.astype(object)
        is_date = out.map(lambda v: isinstance(v, datetime.date | pd.Timestamp))
        if is_date.any():
            out[is_date] = out[is_date].map(lambda v: v.strftime("%Y-%m-%d"))
        return out.astype("str")
    if kind is PropType.DATETIME:
        return values
    return values.astype("str")


def conform(
    frame: pd.DataFrame | Mapping[str, Any],
    layer_id: str,
    geometry: np.ndarray | gpd.GeoSeries | None = None,
    crs: str = WGS84,
) -> gpd.GeoDataFrame:
    """Return a frame with exactly the catalog columns of ``layer_id``, in EPSG:4326.

    Columns are ``source_id``, ``synthetic``, the declared properties in catalog order, then
    ``geometry``; missing properties become nulls, extra columns are dropped, dtypes follow
    the catalog (INT -> Int64, BOOL -> boolean, DATE -> ISO strings). ``geometry`` (in
    ``crs``) replaces the frame's own geometry when given.
    """
    layer = layers.get(layer_id)
    data = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(dict(frame))
    n = len(data)
    if geometry is None:
        geoms = gpd.GeoSeries(data["geometry"]) if n else gpd.GeoSeries([], crs=crs)
        crs = str(geoms.crs) if geoms.crs is not None else crs
        geom_values = np.asarray(geoms.values, dtype=object)
    else:
        geom_values = np.asarray(getattr(geometry, "values", geometry), dtype=object)
    out = pd.DataFrame(index=pd.RangeIndex(n))
    out["source_id"] = pd.Series(np.asarray(data["source_id"], dtype=object)).map(str).astype("str")
    out["synthetic"] = pd.Series(np.asarray(data["synthetic"]), dtype="boolean")
    for prop in layer.properties:
        values = (
            pd.Series(np.asarray(data[prop.name], dtype=object))
            if prop.name in data
            else pd.Series([None] * n, dtype=object)
        )
        out[prop.name] = _cast(values, prop.type)
    if layer.geometry is GeomType.POLYGON:
        geom_values = to_multipolygon(geom_values)
    elif layer.geometry is GeomType.POINT and len(geom_values):
        # A facility mapped as an area (a school's grounds) is placed at a point inside it.
        not_point = shapely.get_type_id(geom_values) != 0
        geom_values = geom_values.copy()
        geom_values[not_point] = shapely.point_on_surface(geom_values[not_point])
    result = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geom_values, crs=crs))
    return result.to_crs(WGS84) if crs != WGS84 else result
