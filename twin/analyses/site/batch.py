"""Score a business's own candidate sites, not the city's cells (issue 21).

A shop owner considers a handful of addresses; the analysis ranks H3 cells. A site is
scored as **the cell it stands in**: its score, rank among all the city's cells, factor
points and the sentence explaining them are that cell's, so a site and the single-cell
answer of ``/api/analysis/site`` can never disagree (a test checks they are identical).
What is the site's own is measured from its point on the street network:

* residents within 5, 10 and 15 minutes' walk (the dasymetric residents of the buildings
  reached, each building at its representative point);
* the nearest competitors (outlets of the category) by walking time, up to
  :data:`COMPETITOR_LIMIT` minutes.

Both come from one tiled Dijkstra per batch (:func:`~twin.analyses.site.reach.local_times`),
so 1,000 sites cost about as much as the walks of the city's cells around them; the
buildings' snap to the network is kept in the model. Measured by ``bench/business.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin.analyses.access.graph import ModeGraph, metric_xy
from twin.analyses.access.search import Snapped, snap
from twin.analyses.site.categories import SiteCategory
from twin.analyses.site.cells import RES_DEFAULT
from twin.analyses.site.model import SiteModel
from twin.analyses.site.output import why
from twin.analyses.site.reach import local_times
from twin.analyses.site.scoring import FACTORS, Outlets, parse_weights

#: Walking minutes for "residents within".
WALK_MINUTES = (5, 10, 15)
#: How far (walking minutes) and how many competitors are listed per site.
COMPETITOR_LIMIT = 30.0
COMPETITORS = 3


def buildings_snapped(model: SiteModel) -> Snapped:
    """Return the buildings' representative points snapped to the walking graph (kept in
    the model: ~0.5 s for the city's buildings, paid once per store version)."""

    def make() -> Snapped:
        pts = model.frames["buildings"].geometry.representative_point()
        return snap(model.walk, metric_xy(pts.x.to_numpy(), pts.y.to_numpy()))

    return model._remember(("buildings_snapped",), make)


def score_points(
    model: SiteModel,
    cat: SiteCategory,
    lon: np.ndarray,
    lat: np.ndarray,
    *,
    res: int = RES_DEFAULT,
    weights: str | dict[str, float] | None = None,
) -> pd.DataFrame:
    """Return one row per point: its cell's ``h3``, ``rank`` (among ``total`` cells),
    ``score``, factors and ``<factor>_pts``, ``why``, ``district``; its own
    ``residents_5min`` … ``residents_15min`` and ``competitors`` (a list of
    ``{fid, name, walk_min}``, nearest first); its nearest ``place`` (address or street, see
    :mod:`twin.analyses.site.places`). A point whose cell is not a candidate (outside
    the city) has ``rank`` and ``score`` missing and ``inside`` False.

    Points are scored in the order given; the same point twice gives the same row twice.
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    n = len(lon)
    w = parse_weights(weights)
    ranked = model.ranked(cat, res, w)
    grid = model.cells(res)
    cell = grid.locate(lon, lat)
    by_h3 = ranked.set_index("h3")
    codes = np.where(cell >= 0, grid.h3[np.maximum(cell, 0)], None)
    inside = np.array([c is not None and c in by_h3.index for c in codes], bool)
    keep = [c for c in ranked.columns if c not in ("h3", "lon", "lat", "geometry")]
    rows = by_h3.reindex([c if ok else "" for c, ok in zip(codes, inside, strict=True)])[keep]
    out = rows.reset_index(drop=True)
    out.insert(0, "h3", [c if ok else None for c, ok in zip(codes, inside, strict=True)])
    out.insert(1, "inside", inside)
    out["total"] = len(ranked)
    out["why"] = [
        why(r, cat) if ok else None for (_, r), ok in zip(out.iterrows(), inside, strict=True)
    ]
    out["lon"], out["lat"] = lon, lat
    out = model.with_places(out)

    walk = model.walk
    sites = snap(walk, metric_xy(lon, lat)) if n else snap(walk, np.empty((0, 2)))
    homes = buildings_snapped(model)
    residents = grid.building_residents
    pairs = local_times(walk, sites, homes, float(max(WALK_MINUTES)))
    for m in WALK_MINUTES:
        near = pairs.minutes <= m
        out[f"residents_{m}min"] = np.bincount(
            pairs.src[near], weights=residents[pairs.dst[near]], minlength=n
        )
    found = model.outlets(cat, res)
    out["competitors"] = pd.Series(_nearest(walk, sites, found, n), dtype=object)
    return out


def _nearest(
    walk: ModeGraph, sites: Snapped, found: Outlets, n: int
) -> list[list[dict[str, object]]]:
    """Return, per site, its :data:`COMPETITORS` nearest outlets by walking."""
    lists: list[list[dict[str, object]]] = [[] for _ in range(n)]
    if len(found) == 0 or n == 0:
        return lists
    pairs = local_times(walk, sites, snap(walk, found.xy), COMPETITOR_LIMIT)
    order = np.lexsort((found.fid[pairs.dst], pairs.minutes, pairs.src))
    for k in order:
        s = int(pairs.src[k])
        if len(lists[s]) < COMPETITORS:
            d = int(pairs.dst[k])
            name = found.name[d]
            lists[s].append(
                {
                    "fid": int(found.fid[d]),
                    "name": None if name is None else str(name),
                    "walk_min": round(float(pairs.minutes[k]), 1),
                    "lon": round(float(found.lon[d]), 6),
                    "lat": round(float(found.lat[d]), 6),
                }
            )
    return lists


__all__ = ["COMPETITORS", "COMPETITOR_LIMIT", "FACTORS", "WALK_MINUTES", "score_points"]
