"""The site score of every cell for one business category: three factors and their weights.

For a new outlet opened in cell *c* (all times are walking minutes on the street network):

* **demand** — the residents within the category's reach *N* of *c* (``residents_within``),
  scaled to 0–1 by the city's 99th percentile (the best cells all score 1);
* **competition** — the Huff share the new outlet would win of those residents. A resident
  in cell *i* picks among the outlets within *N* minutes of *i* with probability
  proportional to ``1 / t²`` (``t`` floored at 2 minutes: no trip is shorter than door to
  counter); the new outlet's share of *i* is ``f(t_ci) / (f(t_ci) + Σ_j f(t_ij))``, and the
  factor is the residents-weighted mean share over *c*'s reach — 1 where no competitor
  reaches any of its residents, ½ right next to one outlet. ``captured`` (= demand × share,
  in residents) is what the Huff model expects the outlet to serve;
* **access** — the mean of three 0–1 parts: ``transit`` (bus stops within 5 minutes, 3 or
  more = 1), ``road`` (the busiest street class in or at the cell, see ``road_class`` in
  ``categories.toml``) and ``footfall`` (points of interest within 5 minutes, other than the
  category's own outlets and street furniture, scaled by the city's 95th percentile).

``score = 100 × Σ w_k f_k / Σ w_k``; each factor's contribution ``100 × w_k f_k / Σ w_k``
is given with it, so the contributions add up to the score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from twin.analyses.access.graph import ModeGraph, metric_xy
from twin.analyses.access.search import ScipyEngine, nearest, snap
from twin.analyses.site.categories import SiteCategory
from twin.analyses.site.cells import CellGrid, points_lonlat
from twin.analyses.site.reach import Pairs, local_times, shortest
from twin.core.errors import BadInput

FACTORS = ("demand", "competition", "access")
DEFAULT_WEIGHTS: dict[str, float] = {"demand": 1.0, "competition": 1.0, "access": 0.5}
#: Walking minutes within which bus stops and points of interest make a cell accessible.
ACCESS_MINUTES = 5.0
#: Shortest trip (minutes) in the Huff decay; trips are floored to it.
MIN_TRIP_MIN = 2.0
#: Huff distance-decay exponent.
BETA = 2.0
#: Bus stops within ACCESS_MINUTES for a full transit score.
TRANSIT_FULL = 3.0
#: A nominal resident per cell so that the share is defined where nobody lives.
EPS_RESIDENTS = 1.0
#: Percentiles that scale demand and footfall to 0–1.
DEMAND_PCT, FOOTFALL_PCT = 99.0, 95.0
#: Limit (minutes) of the nearest-outlet search behind catchments and ``nearest_min``.
NEAREST_LIMIT = 60.0


def parse_weights(text: str | Mapping[str, float] | None) -> dict[str, float]:
    """Return the factor weights: the defaults, overridden by ``text``
    ("demand:1,competition:1,access:0.5" or a mapping). Raise :class:`BadInput` for an
    unknown factor, a non-numeric or negative weight, or all weights zero.

    >>> parse_weights("access:2")
    {'demand': 1.0, 'competition': 1.0, 'access': 2.0}
    """
    weights = dict(DEFAULT_WEIGHTS)
    if text is None or (isinstance(text, str) and not text.strip()):
        return weights
    items: list[tuple[str, object]] = []
    if isinstance(text, str):
        for part in filter(None, (p.strip() for p in text.split(","))):
            factor, sep, number_text = part.partition(":")
            if not sep:
                raise BadInput(f"weights must be factor:number pairs, got {part!r}")
            items.append((factor.strip().lower(), number_text.strip()))
    else:
        items = [(str(k).lower(), v) for k, v in text.items()]
    for key, value in items:
        name = str(key)
        if name not in FACTORS:
            raise BadInput(f"unknown factor {name!r} in weights; use {', '.join(FACTORS)}")
        try:
            number = float(str(value))
        except (TypeError, ValueError):
            raise BadInput(f"weight of {name} must be a number, got {value!r}") from None
        if not np.isfinite(number) or number < 0:
            raise BadInput(f"weight of {name} must be a finite number >= 0, got {value!r}")
        weights[name] = number
    if sum(weights.values()) <= 0:
        raise BadInput("at least one weight must be > 0")
    return weights


def decay(minutes: np.ndarray) -> np.ndarray:
    """Return the Huff attraction of an outlet ``minutes`` away."""
    return np.asarray(np.maximum(minutes, MIN_TRIP_MIN) ** -BETA, dtype=float)


def with_self(pairs: Pairs, n: int) -> Pairs:
    """Return ``pairs`` (cell → cell) where every cell also reaches itself at 0 minutes."""
    cells = np.arange(n)
    return shortest(
        np.r_[pairs.src, cells], np.r_[pairs.dst, cells], np.r_[pairs.minutes, np.zeros(n)]
    )


@dataclass(frozen=True)
class Outlets:
    """The existing outlets of a category: ``fid``, ``name``, lon/lat, UTM 43N ``xy`` and
    the position of their cell in the grid (``-1`` outside it)."""

    fid: np.ndarray
    name: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    xy: np.ndarray
    cell: np.ndarray

    def __len__(self) -> int:
        return len(self.fid)


def make_outlets(frame: gpd.GeoDataFrame, grid: CellGrid) -> Outlets:
    """Return the outlets of a frame of outlet points (see
    :func:`~twin.analyses.site.categories.outlets`), ordered by fid."""
    frame = frame.sort_values("fid") if len(frame) else frame
    lon, lat = points_lonlat(frame)
    names = (
        frame["name"].astype(object).where(frame["name"].notna(), None).to_numpy()
        if "name" in frame
        else np.full(len(frame), None, dtype=object)
    )
    return Outlets(
        fid=frame["fid"].to_numpy(np.int64) if len(frame) else np.empty(0, np.int64),
        name=names,
        lon=lon,
        lat=lat,
        xy=metric_xy(lon, lat) if len(lon) else np.empty((0, 2)),
        cell=grid.locate(lon, lat),
    )


def outlet_reach(mg: ModeGraph, grid: CellGrid, outlets: Outlets, minutes: float) -> Pairs:
    """Return outlet → cell walking times within ``minutes``; an outlet reaches its own
    cell at 0 minutes whatever the street between."""
    if len(outlets) == 0:
        return Pairs(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
    walk = local_times(mg, snap(mg, outlets.xy), grid.snapped, minutes)
    own = np.flatnonzero(outlets.cell >= 0)
    return shortest(
        np.r_[walk.src, own], np.r_[walk.dst, outlets.cell[own]],
        np.r_[walk.minutes, np.zeros(len(own))],
    )  # fmt: skip


def site_factors(
    mg: ModeGraph,
    grid: CellGrid,
    reach: Pairs,
    cat: SiteCategory,
    outlets: Outlets,
    footfall_points: tuple[np.ndarray, np.ndarray],
) -> pd.DataFrame:
    """Return the factors of every cell of ``grid`` for a new outlet of ``cat``.

    ``reach``: cell → cell walking times (every cell reaching itself) within at least the
    category's minutes and :data:`ACCESS_MINUTES`; ``footfall_points``: lon, lat of the
    points of interest that count towards footfall.
    """
    n = len(grid)
    minutes = cat.minutes
    pop = grid.residents

    # Competition as the residents see it: the pull of every outlet within reach of them.
    o2c = outlet_reach(mg, grid, outlets, minutes)
    pull = np.bincount(o2c.dst, decay(o2c.minutes), n)
    outlets_within = np.bincount(o2c.dst, minlength=n)

    near = reach.within(minutes)
    f = cat.attraction * decay(near.minutes)
    p = f / (f + pull[near.dst])
    w = pop[near.dst]
    residents_within = np.bincount(near.src, w, n)
    captured = np.bincount(near.src, w * p, n)
    weight = np.bincount(near.src, w + EPS_RESIDENTS, n)
    share = np.divide(
        np.bincount(near.src, (w + EPS_RESIDENTS) * p, n), weight,
        out=np.ones(n), where=weight > 0,
    )  # fmt: skip

    nearest_min = np.full(n, np.inf)
    nearest_fid = np.full(n, -1, np.int64)
    if len(outlets):
        seeds = snap(mg, outlets.xy)
        t, label = nearest(ScipyEngine(), mg, seeds, grid.snapped, NEAREST_LIMIT)
        nearest_min, nearest_fid = t, np.where(label >= 0, outlets.fid[np.maximum(label, 0)], -1)
        own = np.flatnonzero(outlets.cell >= 0)[::-1]  # the lowest fid wins a shared cell
        nearest_min[outlets.cell[own]] = 0.0
        nearest_fid[outlets.cell[own]] = outlets.fid[own]

    walk5 = reach.within(ACCESS_MINUTES)
    stops_within = np.bincount(walk5.src, grid.stops[walk5.dst], n)
    pois = grid.counts(*footfall_points)
    pois_within = np.bincount(walk5.src, pois[walk5.dst], n)

    inside = grid.inside
    transit = np.clip(stops_within / TRANSIT_FULL, 0.0, 1.0)
    footfall = _scaled(pois_within, pois_within[inside], FOOTFALL_PCT)
    return pd.DataFrame(
        {
            "h3": grid.h3,
            "district": grid.district,
            "lon": grid.lon,
            "lat": grid.lat,
            "inside": inside,
            "demand": _scaled(residents_within, residents_within[inside], DEMAND_PCT),
            "competition": share,
            "access": (transit + grid.road + footfall) / 3.0,
            "residents_cell": pop,
            "residents_within": residents_within,
            "captured": captured,
            "outlets_within": outlets_within,
            "nearest_min": np.where(np.isfinite(nearest_min), nearest_min, np.nan),
            "nearest_fid": nearest_fid,
            "bus_stops_within": stops_within,
            "pois_within": pois_within,
            "road_class": grid.road_class,
            "transit": transit,
            "road": grid.road,
            "footfall": footfall,
        }
    )


def score(factors: pd.DataFrame, weights: Mapping[str, float]) -> pd.DataFrame:
    """Return the candidate cells (``inside``) of ``factors`` ranked by score, with
    ``score``, ``rank`` and each factor's contribution ``<factor>_pts``.

    >>> f = pd.DataFrame({"h3": ["a", "b"], "inside": [True, True], "demand": [1.0, 1.0],
    ...                   "competition": [1.0, 0.5], "access": [0.0, 0.0]})
    >>> score(f, DEFAULT_WEIGHTS)[["h3", "score", "competition_pts"]]
      h3  score  competition_pts
    0  a   80.0             40.0
    1  b   60.0             20.0
    """
    total = float(sum(weights[k] for k in FACTORS))
    if total <= 0:
        raise BadInput("at least one weight must be > 0")
    out = factors[factors["inside"]].drop(columns="inside").copy()
    pts = {k: 100.0 * weights[k] * out[k].to_numpy(float) / total for k in FACTORS}
    for k in FACTORS:
        out[f"{k}_pts"] = pts[k]
    out["score"] = sum(pts.values())
    out = out.sort_values(["score", "h3"], ascending=[False, True], kind="mergesort")
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out.reset_index(drop=True)


def _scaled(values: np.ndarray, among: np.ndarray, pct: float) -> np.ndarray:
    """Return ``values`` / the ``pct`` percentile of the positive ``among``, clipped to 1."""
    pos = among[among > 0]
    top = float(np.percentile(pos, pct)) if len(pos) else 0.0
    if top <= 0:
        return np.zeros(len(values))
    return np.asarray(np.clip(values / top, 0.0, 1.0))
