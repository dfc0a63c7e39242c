"""Walking times between many points and many points, for short trips only.

Scoring every H3 cell needs, for each cell, the cells and outlets within N walking minutes
(N is 10–20): some 40,000 short trips at resolution 9, 300,000 at resolution 10. The access
engines answer "the nearest of many" (one search, ``min_only``); here every source needs its
own search, and :func:`scipy.sparse.csgraph.dijkstra` returns a dense sources × nodes matrix
— 5,600 × 25,000 floats for the city at res 9, most of them ``inf``.

So the sources are tiled. A trip of ``limit`` minutes never leaves the disc of radius
``limit × speed`` around its start (streets and the access leg are straight segments, so the
network distance is at least the straight one), and the searches of a tile's sources run on
the sub-graph of the nodes inside the tile's bounding box grown by that radius — exactly the
same answers, on a few thousand nodes instead of the whole city. Each tile's sub-graph and
searches are one job: with a Dask cluster connected (:mod:`twin.analyses.cluster`) the jobs
of a large run are its tasks (the sub-graph is the halo a tile needs), else they run here.

Points join the network exactly as in :mod:`twin.analyses.access.search` (snapped to the
main component, an access leg at walking speed, virtual seed nodes), so a time here equals
the access package's time for the same pair.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from twin.analyses import cluster
from twin.analyses.access.graph import ModeGraph
from twin.analyses.access.search import Snapped, entries

#: Side of a tile of sources (metres). Tiles of ~2 km keep each sub-graph to a few thousand
#: nodes while paying the per-search overhead only a couple of hundred times for the city.
TILE_M = 2000.0


@dataclass(frozen=True)
class Pairs:
    """Sparse travel times: source ``src[k]`` reaches target ``dst[k]`` in ``minutes[k]``.

    Only pairs within the limit are present; (src, dst) pairs are unique, sorted by src, dst.
    """

    src: np.ndarray
    dst: np.ndarray
    minutes: np.ndarray

    def __len__(self) -> int:
        return len(self.src)

    def within(self, minutes: float) -> Pairs:
        """Return the pairs of at most ``minutes``."""
        keep = self.minutes <= minutes
        return Pairs(self.src[keep], self.dst[keep], self.minutes[keep])

    def matrix(self, n_src: int, n_dst: int, values: np.ndarray | None = None) -> sparse.csr_matrix:
        """Return an n_src × n_dst CSR matrix of ``values`` (default: ones) at the pairs."""
        data = np.ones(len(self)) if values is None else values
        return sparse.csr_matrix((data, (self.src, self.dst)), shape=(n_src, n_dst))


def _empty() -> Pairs:
    return Pairs(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))


def shortest(src: np.ndarray, dst: np.ndarray, minutes: np.ndarray) -> Pairs:
    """Return the pairs with, for each (src, dst), its shortest time, sorted by src, dst."""
    if len(src) == 0:
        return _empty()
    src, dst = np.asarray(src, np.int64), np.asarray(dst, np.int64)
    order = np.lexsort((minutes, dst, src))
    src, dst, minutes = src[order], dst[order], np.asarray(minutes, float)[order]
    first = np.r_[True, (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])]
    return Pairs(src[first], dst[first], minutes[first])


def _speed(mg: ModeGraph) -> float:
    """Return the fastest speed (m/min) on the mode's edges or its access leg."""
    fastest = float(mg.metres_per_minute().max()) if len(mg.edge) else 0.0
    return max(fastest, mg.profile.access_m_per_min)


def _same_edge(mg: ModeGraph, sources: Snapped, targets: Snapped, limit: float) -> pd.DataFrame:
    """Return (src, dst, minutes) of sources and targets on one edge, walked along it."""
    a = pd.DataFrame({"dst": np.arange(len(targets)), "pos": targets.pos, "tt": targets.t})
    b = pd.DataFrame({"src": np.arange(len(sources)), "pos": sources.pos, "ts": sources.t})
    same = a.merge(b, on="pos")
    if len(same) == 0:
        return pd.DataFrame({"src": [], "dst": [], "minutes": []})
    p = same["pos"].to_numpy()
    dt = same["tt"].to_numpy() - same["ts"].to_numpy()
    ok = np.where(dt >= 0, mg.forward[p], mg.backward[p])
    speed = mg.profile.access_m_per_min
    minutes = (
        sources.offset_m[same["src"].to_numpy()] / speed
        + np.abs(dt) * mg.cost[p]
        + targets.offset_m[same["dst"].to_numpy()] / speed
    )
    keep = ok & (minutes <= limit)
    return pd.DataFrame(
        {"src": same["src"].to_numpy()[keep], "dst": same["dst"].to_numpy()[keep],
         "minutes": minutes[keep]}
    )  # fmt: skip


#: below this many source × target pairs the searches run in process even with a cluster
MIN_PAIRS = 5_000_000


def _tile_jobs(
    mg: ModeGraph, sources: Snapped, targets: Snapped, limit: float, tile_m: float
) -> Iterator[tuple[np.ndarray, np.ndarray, tuple[Any, ...]]]:
    """Yield, per tile of sources, (its sources, the targets in its halo, the arguments of
    :func:`_tile_times`): the sub-graph of the nodes within the tile's bounding box grown by
    ``limit`` × the fastest speed, with the sources as virtual seed nodes."""
    radius = limit * _speed(mg)
    node_xy = mg.graph.node_xy
    n = mg.n_nodes
    csr = mg.matrix.tocsr()
    seed_of, seed_node, seed_cost = entries(mg, sources)
    order = np.argsort(seed_of, kind="stable")
    seed_of, seed_node, seed_cost = seed_of[order], seed_node[order], seed_cost[order]
    seed_start = np.searchsorted(seed_of, np.arange(len(sources) + 1))
    t_off = targets.offset_m / mg.profile.access_m_per_min
    t_u, t_v = mg.u[targets.pos], mg.v[targets.pos]
    t_cost = mg.cost[targets.pos]
    t_fwd, t_bwd = mg.forward[targets.pos], mg.backward[targets.pos]

    tile = np.floor(sources.xy / tile_m).astype(np.int64)
    _, tile_of = np.unique(tile, axis=0, return_inverse=True)
    tile_of = tile_of.ravel()
    by_tile = np.argsort(tile_of, kind="stable")
    bounds = np.searchsorted(tile_of[by_tile], np.arange(tile_of.max() + 2))
    local = np.full(n, -1, np.int64)
    for k in range(len(bounds) - 1):
        idx = by_tile[bounds[k] : bounds[k + 1]]
        if len(idx) == 0:
            continue
        lo = sources.xy[idx].min(axis=0) - radius
        hi = sources.xy[idx].max(axis=0) + radius
        inside = np.flatnonzero(
            (node_xy[:, 0] >= lo[0]) & (node_xy[:, 0] <= hi[0])
            & (node_xy[:, 1] >= lo[1]) & (node_xy[:, 1] <= hi[1])
        )  # fmt: skip
        tgt = np.flatnonzero(
            (targets.xy[:, 0] >= lo[0]) & (targets.xy[:, 0] <= hi[0])
            & (targets.xy[:, 1] >= lo[1]) & (targets.xy[:, 1] <= hi[1])
        )  # fmt: skip
        if len(tgt) == 0 or len(inside) == 0:
            continue
        m = len(inside)
        local[inside] = np.arange(m)
        sub = csr[inside][:, inside].tocoo()
        # Seeds: a virtual node per source, tied to its edge's ends inside the box.
        rows = np.concatenate([np.arange(seed_start[s], seed_start[s + 1]) for s in idx])
        which = np.repeat(np.arange(len(idx)), np.diff(seed_start)[idx])
        node = local[seed_node[rows]]
        ok = node >= 0
        graph = sparse.csr_matrix(
            (
                np.r_[sub.data, seed_cost[rows][ok]],
                (np.r_[sub.row, m + which[ok]], np.r_[sub.col, node[ok]]),
            ),
            shape=(m + len(idx), m + len(idx)),
        )
        lu, lv = local[t_u[tgt]], local[t_v[tgt]]
        local[inside] = -1
        job = (graph, m, len(idx), lu, lv, targets.t[tgt], t_cost[tgt], t_fwd[tgt], t_bwd[tgt],
               t_off[tgt], limit)  # fmt: skip
        yield idx, tgt, job


def _tile_times(
    graph: sparse.csr_matrix,
    m: int,
    k: int,
    lu: np.ndarray,
    lv: np.ndarray,
    t: np.ndarray,
    cost: np.ndarray,
    fwd: np.ndarray,
    bwd: np.ndarray,
    off: np.ndarray,
    limit: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (source, target, minutes) within ``limit`` of one tile's ``k`` sources (the
    virtual nodes after the ``m`` nodes of ``graph``) to its targets (on edges ``lu``→``lv``,
    ``-1`` outside the sub-graph), indices local to the tile (a task)."""
    dist = csgraph.dijkstra(graph, directed=True, indices=m + np.arange(k), limit=limit)[:, :m]
    # Read off at each target from the two ends of its edge, as the access engine does.
    padded = np.hstack([dist, np.full((k, 1), np.inf)])  # index -1 (outside the box) reads inf
    via_u = np.where(fwd, padded[:, lu] + t * cost, np.inf)
    via_v = np.where(bwd, padded[:, lv] + (1 - t) * cost, np.inf)
    best = np.minimum(via_u, via_v) + off
    i, j = np.nonzero(best <= limit)
    return i, j, best[i, j]


def local_times(
    mg: ModeGraph, sources: Snapped, targets: Snapped, limit: float, *, tile_m: float = TILE_M
) -> Pairs:
    """Return the walking (or the mode's) times from every source to every target within
    ``limit`` minutes.

    ``sources`` and ``targets`` are snapped to ``mg`` (:func:`~twin.analyses.access.search.snap`).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> from twin.analyses.access.graph import build_graph
    >>> from twin.analyses.access.profiles import WALK
    >>> from twin.analyses.access.search import snap
    >>> roads = gpd.GeoDataFrame({"highway": ["residential"]},
    ...     geometry=[shapely.LineString([(76.90, 43.25), (76.91, 43.25)])], crs=4326)
    >>> mg = build_graph(roads).for_profile(WALK)
    >>> ends = snap(mg, mg.graph.node_xy)
    >>> p = local_times(mg, ends, ends, 20.0)
    >>> [(int(s), int(d), round(float(m), 1)) for s, d, m in zip(p.src, p.dst, p.minutes)]
    [(0, 0, 0.0), (0, 1, 10.2), (1, 0, 10.2), (1, 1, 0.0)]
    """
    if len(sources) == 0 or len(targets) == 0 or limit <= 0:
        return _empty()
    jobs = _tile_jobs(mg, sources, targets, limit, tile_m)
    spread = cluster.threads() > 0 and len(sources) * len(targets) >= MIN_PAIRS
    # In process the jobs are made and run one at a time (one sub-graph in memory at once).
    out_src, out_dst, out_min = [], [], []
    done: Iterable[Any]
    if spread:
        made = list(jobs)
        answers = cluster.run(
            _tile_times, [job for _, _, job in made], weights=[len(t) for _, t, _ in made]
        )
        done = zip(((idx, tgt) for idx, tgt, _ in made), answers, strict=True)
    else:
        done = (((idx, tgt), _tile_times(*job)) for idx, tgt, job in jobs)
    for (idx, tgt), (i, j, best) in done:
        out_src.append(idx[i])
        out_dst.append(tgt[j])
        out_min.append(best)

    same = _same_edge(mg, sources, targets, limit)
    return shortest(
        np.concatenate([*out_src, same["src"].to_numpy(np.int64)]),
        np.concatenate([*out_dst, same["dst"].to_numpy(np.int64)]),
        np.concatenate([*out_min, same["minutes"].to_numpy(float)]),
    )
