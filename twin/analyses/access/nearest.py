"""Nearest facility by category, the 15-minute-city score and district shares.

Pure functions over frames and arrays: the facility layers come in as GeoDataFrames
(EPSG:4326), targets as UTM 43N points, and an :class:`~.search.Engine` does the searching.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin.analyses.access.graph import METRIC_CRS, StreetGraph
from twin.analyses.access.profiles import (
    ACCESSIBLE,
    CITY_MINUTES,
    Category,
    Mode,
    Profile,
)
from twin.analyses.access.search import Engine, Snapped, nearest, snap


@dataclass(frozen=True)
class Destinations:
    """The points at which a category's facilities are reached: ``fid[i]`` is the facility
    that point ``xy[i]`` (UTM 43N) belongs to (a park has many points on its outline)."""

    category: Category
    fid: np.ndarray
    xy: np.ndarray


def destinations(
    frames: Mapping[str, gpd.GeoDataFrame], cat: Category, *, accessible_only: bool = False
) -> Destinations:
    """Return the reachable points of category ``cat`` from the facility layers ``frames``.

    With ``accessible_only`` only facilities whose ``wheelchair`` is yes or limited count.
    """
    frame = frames[cat.layer]
    if cat.kinds is not None:
        frame = frame[frame["kind"].isin(cat.kinds)]
    if accessible_only:
        frame = frame[frame["wheelchair"].isin(sorted(ACCESSIBLE))]
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    fids = frame["fid"].to_numpy(np.int64)
    geoms = np.asarray(frame.to_crs(METRIC_CRS).geometry.values)
    if cat.edge_spacing_m is None or len(geoms) == 0:
        pts = shapely.point_on_surface(geoms) if len(geoms) else np.empty(0, object)
        return Destinations(cat, fids, shapely.get_coordinates(pts).reshape(-1, 2))
    outline = shapely.boundary(geoms)
    count = np.maximum(np.ceil(shapely.length(outline) / cat.edge_spacing_m), 1).astype(int)
    owner = np.repeat(np.arange(len(geoms)), count)
    starts = np.cumsum(count) - count
    along = (np.arange(len(owner)) - starts[owner]) * cat.edge_spacing_m
    pts = shapely.line_interpolate_point(outline[owner], along)
    return Destinations(cat, fids[owner], shapely.get_coordinates(pts).reshape(-1, 2))


@dataclass(frozen=True)
class Nearest:
    """For each target: minutes to the nearest facility (``inf`` past the limit) and its
    fid (``-1``)."""

    minutes: np.ndarray
    fid: np.ndarray


def nearest_facility(
    engine: Engine,
    graph: StreetGraph,
    profile: Profile,
    dest: Destinations,
    targets: Snapped,
    limit: float,
) -> Nearest:
    """Return the nearest facility of ``dest`` for every snapped target."""
    mg = graph.for_profile(profile)
    seeds = snap(mg, dest.xy)
    minutes, seed = nearest(engine, mg, seeds, targets, limit)
    fid = np.where(seed >= 0, dest.fid[np.maximum(seed, 0)] if len(dest.fid) else -1, -1)
    return Nearest(minutes, fid.astype(np.int64))


def access_table(
    engine: Engine,
    graph: StreetGraph,
    profile: Profile,
    frames: Mapping[str, gpd.GeoDataFrame],
    targets_xy: np.ndarray,
    cats: Sequence[Category],
    *,
    limit: float = 60.0,
) -> pd.DataFrame:
    """Return, per target point, ``<category>_min`` and ``<category>_fid`` for every
    category, ``snap_m`` (the access leg) and ``score15`` (categories within 15 minutes).

    In the wheelchair profile only accessible facilities count. Times past ``limit`` are NaN.
    """
    mg = graph.for_profile(profile)
    targets = snap(mg, targets_xy)
    out: dict[str, np.ndarray] = {"snap_m": targets.offset_m}
    within = np.zeros(len(targets), dtype=int)
    for cat in cats:
        dest = destinations(frames, cat, accessible_only=profile.mode is Mode.WHEELCHAIR)
        found = nearest_facility(engine, graph, profile, dest, targets, limit)
        out[f"{cat.name}_min"] = np.where(np.isfinite(found.minutes), found.minutes, np.nan)
        out[f"{cat.name}_fid"] = found.fid
        within += found.minutes <= CITY_MINUTES
    out["score15"] = within
    return pd.DataFrame(out)


def district_shares(
    cells: pd.DataFrame, cats: Sequence[Category], minutes: Sequence[float]
) -> pd.DataFrame:
    """Return per district (and ``city``) the share of residents within each threshold of
    each category: columns ``<category>_<minutes>`` in [0, 1], plus ``population`` and
    ``score15_mean`` (population-weighted).

    ``cells`` has ``district``, ``population`` and ``<category>_min`` columns.

    Examples
    --------
    >>> from twin.analyses.access.profiles import category
    >>> cells = pd.DataFrame({"district": ["A", "A", "B"], "population": [100.0, 300.0, 50.0],
    ...                       "school_min": [5.0, 20.0, np.nan], "score15": [1, 0, 0]})
    >>> district_shares(cells, [category("school")], [15])[["district", "school_15"]]
      district  school_15
    0        A   0.250000
    1        B   0.000000
    2     city   0.222222
    """
    frame = cells.copy()
    frame["district"] = frame["district"].fillna("(outside districts)")
    cols: dict[str, pd.Series] = {}
    pop = frame["population"]
    for cat in cats:
        t = frame[f"{cat.name}_min"]
        for m in minutes:
            cols[f"{cat.name}_{m:g}"] = pop.where(t <= m, 0.0)
    weighted = pd.DataFrame(
        {"district": frame["district"], "population": pop, **cols,
         "score15_mean": pop * frame["score15"]}
    )  # fmt: skip
    by = weighted.groupby("district", as_index=False).sum(numeric_only=True)
    city = weighted.drop(columns="district").sum().to_frame().T
    city.insert(0, "district", "city")
    table = pd.concat([by, city], ignore_index=True)
    value_cols = [*cols, "score15_mean"]
    denom = table["population"].where(table["population"] > 0)
    table[value_cols] = table[value_cols].div(denom, axis=0).fillna(0.0)
    return table
