"""Catchments of existing outlets and niches for new ones.

* A **catchment** is the network catchment of an outlet: the cells (or buildings) for which
  it is the nearest outlet of its category by walking time on the street network — so a
  river without a bridge, a railway or an expressway bounds it, where a circle would not.
* A **niche** is a cluster of adjacent high-scoring cells with no outlet of the category
  within its walking reach: the places where the model would open first.
"""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from shapely.geometry import shape

from twin.analyses.access.graph import ModeGraph, metric_xy
from twin.analyses.access.search import ScipyEngine, nearest, snap
from twin.analyses.site.categories import SiteCategory
from twin.analyses.site.scoring import NEAREST_LIMIT, Outlets
from twin.core.errors import BadInput

#: Cells at or above this quantile of the score (among cells with residents in reach) are
#: "high-scoring" for niches.
NICHE_QUANTILE = 0.9


def cells_shape(codes: list[str]) -> shapely.Geometry:
    """Return the union of H3 cells as one (multi)polygon, EPSG:4326."""
    geo = h3.cells_to_h3shape(codes).__geo_interface__
    return shapely.make_valid(shape(geo))


def catchments(factors: pd.DataFrame, found: Outlets) -> gpd.GeoDataFrame:
    """Return one row per outlet with its network catchment: ``residents``, ``cells``,
    ``mean_walk_min`` (residents-weighted), ``max_walk_min`` and the union of its cells as
    ``geometry`` (``None`` for an outlet nearest to no cell).

    ``factors`` are the cell factors of the category (``nearest_fid``, ``nearest_min``,
    ``residents_cell``, ``h3``), see :func:`~twin.analyses.site.scoring.site_factors`.
    """
    assigned = factors[factors["nearest_fid"] >= 0]
    by = assigned.assign(w=assigned["residents_cell"] * assigned["nearest_min"]).groupby(
        "nearest_fid"
    )
    pop = by["residents_cell"].sum()
    stats = pd.DataFrame(
        {
            "residents": pop,
            "cells": by.size(),
            "mean_walk_min": by["w"].sum() / pop.where(pop > 0),
            "max_walk_min": by["nearest_min"].max(),
        }
    )
    shapes = {
        int(str(fid)): cells_shape(list(g["h3"])) for fid, g in assigned.groupby("nearest_fid")
    }
    frame = pd.DataFrame({"fid": found.fid, "name": found.name}).join(stats, on="fid")
    frame["residents"] = frame["residents"].fillna(0.0)
    frame["cells"] = frame["cells"].fillna(0).astype(int)
    geoms = [shapes.get(int(f)) for f in found.fid]
    out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=4326), crs=4326)
    out["lon"], out["lat"] = found.lon, found.lat
    return out


def unassigned_residents(factors: pd.DataFrame) -> float:
    """Return the residents farther than the search limit from every outlet."""
    return float(factors.loc[factors["nearest_fid"] < 0, "residents_cell"].sum())


def building_catchments(
    mg: ModeGraph,
    buildings: gpd.GeoDataFrame,
    residents: np.ndarray,
    found: Outlets,
    limit: float = NEAREST_LIMIT,
) -> gpd.GeoDataFrame:
    """Return each building (its representative point) with ``outlet_fid`` — the nearest
    outlet by walking, ``-1`` past ``limit`` — ``walk_min`` and its dasymetric
    ``residents``."""
    pts = buildings.geometry.representative_point()
    out = gpd.GeoDataFrame(
        {"building_fid": buildings["fid"].to_numpy(), "residents": residents},
        geometry=pts.values,
        crs=4326,
    )
    if len(found) == 0 or len(buildings) == 0:
        out["outlet_fid"], out["walk_min"] = -1, np.nan
        return out
    xy = metric_xy(pts.x.to_numpy(), pts.y.to_numpy())
    t, label = nearest(ScipyEngine(), mg, snap(mg, found.xy), snap(mg, xy), limit)
    out["outlet_fid"] = np.where(label >= 0, found.fid[np.maximum(label, 0)], -1)
    out["walk_min"] = np.where(np.isfinite(t), t, np.nan)
    return out


def niches(
    ranked: pd.DataFrame, cat: SiteCategory, *, quantile: float = NICHE_QUANTILE
) -> gpd.GeoDataFrame:
    """Return clusters of adjacent high-scoring cells with no outlet within reach.

    A cell qualifies when its score is at least the ``quantile`` of the scores of the cells
    with residents in reach, residents live within reach of it, and no outlet of ``cat`` is
    within ``cat.minutes`` walking (``outlets_within == 0``). Clusters are ordered by the
    residents the best cell would serve (``captured``), largest first.
    """
    if not 0 < quantile < 1:
        raise BadInput(f"quantile must be in (0, 1), got {quantile:g}")
    people = ranked[ranked["residents_within"] > 0]
    columns = ["niche", "cells", "residents", "best_h3", "best_rank", "best_score",
               "mean_score", "captured", "residents_within", "district"]  # fmt: skip
    if len(people) == 0:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=4326)
    cut = float(np.quantile(people["score"], quantile))
    good = people[(people["score"] >= cut) & (people["outlets_within"] == 0)].reset_index(drop=True)
    if len(good) == 0:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=4326)
    pos = {c: i for i, c in enumerate(good["h3"])}
    rows, cols = [], []
    for i, c in enumerate(good["h3"]):
        for nb in h3.grid_ring(c, 1):
            j = pos.get(nb)
            if j is not None:
                rows.append(i)
                cols.append(j)
    adj = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(good), len(good)))
    _, label = csgraph.connected_components(adj, directed=False)
    good["cluster"] = label
    out = []
    for _, g in good.groupby("cluster"):
        best = g.sort_values("rank").iloc[0]
        out.append(
            {
                "cells": len(g),
                "residents": float(g["residents_cell"].sum()),
                "best_h3": best["h3"],
                "best_rank": int(best["rank"]),
                "best_score": float(best["score"]),
                "mean_score": float(g["score"].mean()),
                "captured": float(best["captured"]),
                "residents_within": float(best["residents_within"]),
                "district": best["district"],
                "geometry": cells_shape(list(g["h3"])),
            }
        )
    frame = pd.DataFrame(out).sort_values(["captured", "best_h3"], ascending=[False, True])
    frame.insert(0, "niche", np.arange(1, len(frame) + 1))
    result = gpd.GeoDataFrame(frame.reset_index(drop=True), geometry="geometry", crs=4326)
    result.attrs["score_cut"] = cut
    result.attrs["minutes"] = cat.minutes
    return result
