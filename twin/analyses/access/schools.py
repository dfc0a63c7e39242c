"""Education monitoring: each school's network catchment, its pupils estimate and its load.

A school's catchment is the residents for whom it is the nearest school of its kind by
walking on the street network (H3 cells, population from the 500 m grid). Pupils are
estimated from the catchment's residents with an age share — an assumption, stated in every
result and configurable:

* schools: 16 % of residents are of school age (6–17). Almaty's age structure gives about
  1.4 % of residents per one-year cohort at these ages (12 cohorts ≈ 16–18 %); the low end is
  used because some children attend private and specialised schools outside their catchment.
* kindergartens: 9 % of residents are of pre-school age (1–5).

load = pupils / capacity; a school is overloaded when load > ``overload_at`` (1.0 by default).
The recorded ``enrolled / capacity`` is given beside it where the layer has it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape

from twin.analyses.access.graph import StreetGraph
from twin.analyses.access.nearest import destinations, nearest_facility
from twin.analyses.access.profiles import WALK, category
from twin.analyses.access.search import Engine, snap
from twin.core.errors import BadInput

AGE_SHARE = {"school": 0.16, "kindergarten": 0.09}
AGE_RANGE = {"school": "6–17", "kindergarten": "1–5"}


@dataclass(frozen=True)
class SchoolLoad:
    """Per school (points, EPSG:4326) and per H3 cell (its school), with the assumptions."""

    schools: gpd.GeoDataFrame
    cells: pd.DataFrame
    assumptions: dict[str, object]


def check_kind(kind: str) -> str:
    """Return ``kind`` if it is school or kindergarten; raise :class:`BadInput` otherwise."""
    if kind not in AGE_SHARE:
        raise BadInput(f"unknown kind {kind!r}; use school or kindergarten")
    return kind


def school_load(
    engine: Engine,
    graph: StreetGraph,
    schools: gpd.GeoDataFrame,
    cells: pd.DataFrame,
    *,
    kind: str = "school",
    age_share: float | None = None,
    overload_at: float = 1.0,
    limit: float = 60.0,
) -> SchoolLoad:
    """Return catchments, pupils estimates and loads of the schools of ``kind``.

    ``cells`` has ``h3``, ``population``, ``x``, ``y`` (UTM 43N). Residents farther than
    ``limit`` minutes from every school belong to no catchment (counted as ``unassigned``).
    """
    check_kind(kind)
    share = AGE_SHARE[kind] if age_share is None else float(age_share)
    if not 0 < share <= 1:
        raise BadInput(f"age_share must be in (0, 1], got {share:g}")
    if overload_at <= 0:
        raise BadInput(f"overload_at must be > 0, got {overload_at:g}")
    frames: Mapping[str, gpd.GeoDataFrame] = {"schools": schools}
    dest = destinations(frames, category(kind))
    mg = graph.for_profile(WALK)
    targets = snap(mg, cells[["x", "y"]].to_numpy(float))
    found = nearest_facility(engine, graph, WALK, dest, targets, limit)

    cell_out = pd.DataFrame(
        {
            "h3": cells["h3"].to_numpy(),
            "population": cells["population"].to_numpy(float),
            "school_fid": found.fid,
            "walk_min": np.where(np.isfinite(found.minutes), found.minutes, np.nan),
        }
    )
    pop = cell_out["population"]
    assigned = cell_out[cell_out["school_fid"] >= 0]
    by = assigned.assign(w=assigned["population"] * assigned["walk_min"]).groupby("school_fid")
    stats = pd.DataFrame(
        {
            "catchment_residents": by["population"].sum(),
            "catchment_cells": by.size(),
            "mean_walk_min": by["w"].sum() / by["population"].sum().where(lambda s: s > 0),
            "max_walk_min": by["walk_min"].max(),
        }
    )
    mine = schools[schools["kind"] == kind].copy()
    mine = mine.join(stats, on="fid")
    mine["catchment_residents"] = mine["catchment_residents"].fillna(0.0)
    mine["catchment_cells"] = mine["catchment_cells"].fillna(0).astype(int)
    mine["pupils_estimate"] = mine["catchment_residents"] * share
    capacity = pd.to_numeric(mine["capacity"], errors="coerce")
    capacity = capacity.where(capacity > 0)
    mine["load"] = mine["pupils_estimate"] / capacity
    mine["recorded_load"] = pd.to_numeric(mine["enrolled"], errors="coerce") / capacity
    mine["overloaded"] = (mine["load"] > overload_at).fillna(False).astype(bool)
    cols = [
        "fid", "name", "kind", "district", "capacity", "enrolled", "catchment_residents",
        "catchment_cells", "pupils_estimate", "load", "recorded_load", "overloaded",
        "mean_walk_min", "max_walk_min", "synthetic", "geometry",
    ]  # fmt: skip
    mine = gpd.GeoDataFrame(mine[[c for c in cols if c in mine]], crs=schools.crs)
    assumptions: dict[str, object] = {
        "kind": kind,
        "age_share": share,
        "age_range": AGE_RANGE[kind],
        "overload_at": overload_at,
        "catchment": "residents (H3 res 9 cells) for whom this is the nearest "
        f"{kind} by walking on the street network, within {limit:g} min",
        "walk_kmh": WALK.speed_kmh,
        "residents": float(pop.sum()),
        "unassigned_residents": float(pop[cell_out["school_fid"] < 0].sum()),
    }
    return SchoolLoad(mine.sort_values("fid").reset_index(drop=True), cell_out, assumptions)


def catchment_shapes(cells: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return one (multi)polygon per school from its H3 cells: ``school_fid``, ``residents``."""
    rows = []
    for fid, group in cells[cells["school_fid"] >= 0].groupby("school_fid"):
        geo = h3.cells_to_h3shape(list(group["h3"])).__geo_interface__
        rows.append(
            {
                "school_fid": int(str(fid)),
                "residents": float(group["population"].sum()),
                "geometry": shapely.make_valid(shape(geo)),
            }
        )
    if not rows:
        return gpd.GeoDataFrame({"school_fid": [], "residents": []}, geometry=[], crs=4326)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
