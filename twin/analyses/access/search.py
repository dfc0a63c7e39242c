"""Snapping points onto the street graph, the engine protocol and the Python (scipy) engine.

A point is joined to the network at its projection on the nearest segment of the main
component, by a straight access leg walked at walking speed. A search starts from many such
points at once (multi-source Dijkstra: a virtual node per source, tied to both ends of its
segment at the cost of getting there), and the cost of reaching a target point is read from
the two ends of its own segment — or along that segment when a source sits on it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, cast

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from twin.analyses import cluster
from twin.analyses.access.graph import MIN_COST, ModeGraph
from twin.analyses.access.profiles import Profile
from twin.core.errors import BadInput


@dataclass(frozen=True)
class Snapped:
    """Points joined to a mode's graph: ``pos`` indexes the mode's edges, ``t`` is the
    fraction of the way from ``u`` to ``v``, ``offset_m`` the straight access leg."""

    pos: np.ndarray
    t: np.ndarray
    offset_m: np.ndarray
    xy: np.ndarray

    def __len__(self) -> int:
        return len(self.pos)

    def take(self, idx: np.ndarray) -> Snapped:
        """Return the points at ``idx``."""
        return Snapped(self.pos[idx], self.t[idx], self.offset_m[idx], self.xy[idx])


def snap(mg: ModeGraph, xy: np.ndarray) -> Snapped:
    """Return the points ``xy`` (UTM 43N, shape (n, 2)) joined to the main component of ``mg``.

    Raise :class:`BadInput` when the mode has no usable street at all.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    tree, pos_of = mg.tree
    if len(pos_of) == 0:
        raise BadInput(f"there are no streets a {mg.profile.mode.value} trip can use")
    if len(xy) == 0:
        empty = np.empty(0)
        return Snapped(np.empty(0, np.int64), empty, empty, xy)
    import shapely

    hits = tree.query_nearest(shapely.points(xy), all_matches=False)
    order = np.argsort(hits[0], kind="stable")
    pos = pos_of[hits[1][order]]
    g = mg.graph
    a, b = g.a[mg.edge[pos]], g.b[mg.edge[pos]]
    ab = b - a
    denom = np.maximum((ab * ab).sum(axis=1), 1e-12)
    t = np.clip(((xy - a) * ab).sum(axis=1) / denom, 0.0, 1.0)
    on = a + ab * t[:, None]
    return Snapped(pos, t, np.hypot(*(xy - on).T), xy)


def entries(mg: ModeGraph, seeds: Snapped) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the ways into the graph from each seed: (seed index, node, cost in minutes).

    From a seed at fraction ``t`` of edge u→v, node v is ``(1 - t)`` of the edge ahead (if the
    edge may be travelled forward) and u is ``t`` behind (if it may be travelled backward).
    """
    off = seeds.offset_m / mg.profile.access_m_per_min
    c = mg.cost[seeds.pos]
    idx = np.arange(len(seeds))
    fwd, bwd = mg.forward[seeds.pos], mg.backward[seeds.pos]
    seed = np.r_[idx[fwd], idx[bwd]]
    node = np.r_[mg.v[seeds.pos][fwd], mg.u[seeds.pos][bwd]]
    cost = np.r_[(off + (1 - seeds.t) * c)[fwd], (off + seeds.t * c)[bwd]]
    return seed, node, np.maximum(cost, MIN_COST)


def with_seeds(
    base: sparse.csr_matrix, seed: np.ndarray, node: np.ndarray, cost: np.ndarray, k: int
) -> sparse.csr_matrix:
    """Return ``base`` (n×n) with ``k`` seed nodes n…n+k-1 appended, seed ``seed[j]`` joined
    to ``node[j]`` at ``cost[j]``; parallel arcs are kept (Dijkstra takes the cheaper).

    The seed rows are appended to the CSR arrays as they are: rebuilding the matrix from
    coordinates sorted every arc again, O(E log E) per search (0.1 s of a walking isochrone
    on the city x 30), and summed a loop edge's two entries into one arc.

    >>> m = with_seeds(sparse.csr_matrix(np.array([[0, 1.0], [0, 0]])),
    ...                np.array([0, 0]), np.array([1, 1]), np.array([2.0, 3.0]), 1)
    >>> m.shape, m.indices.tolist(), m.data.tolist(), m.indptr.tolist()
    ((3, 3), [1, 1, 1], [1.0, 2.0, 3.0], [0, 1, 1, 3])
    """
    n = base.shape[0]
    order = np.argsort(seed, kind="stable")
    counts = np.bincount(seed, minlength=k)
    indptr = np.r_[base.indptr, base.indptr[-1] + np.cumsum(counts)]
    indices = np.r_[base.indices, node[order]]
    data = np.r_[base.data.astype(float), cost[order]]
    return sparse.csr_matrix((data, indices, indptr), shape=(n + k, n + k))


class Engine(Protocol):
    """A shortest-path engine: costs from the nearest of many seeds to every node."""

    name: str

    def node_costs(
        self, mg: ModeGraph, seeds: Snapped, limit: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (cost in minutes per node, ``inf`` past ``limit``; index of the seed it
        comes from, ``-1`` where unreached)."""
        ...


class ScipyEngine:
    """Multi-source Dijkstra with :func:`scipy.sparse.csgraph.dijkstra` (in process)."""

    name = "python"

    def node_costs(
        self, mg: ModeGraph, seeds: Snapped, limit: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return node costs and seed labels (see :class:`Engine`)."""
        n, k = mg.n_nodes, len(seeds)
        if k == 0:
            return np.full(n, np.inf), np.full(n, -1, np.int64)
        m = with_seeds(mg.matrix, *entries(mg, seeds), k)
        dist, _, source = csgraph.dijkstra(
            m,
            directed=True,
            indices=np.arange(n, n + k),
            return_predecessors=True,
            limit=limit,
            min_only=True,
        )
        label = np.where(source[:n] >= n, source[:n] - n, -1).astype(np.int64)
        return dist[:n], label


def arrive(
    mg: ModeGraph,
    node_cost: np.ndarray,
    node_label: np.ndarray,
    seeds: Snapped,
    targets: Snapped,
    limit: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (minutes from the nearest seed to each target, that seed's index).

    ``inf`` and ``-1`` for targets not reached within ``limit``.
    """
    if len(targets) == 0:
        return np.empty(0), np.empty(0, np.int64)
    p = targets.pos
    c = mg.cost[p]
    off = targets.offset_m / mg.profile.access_m_per_min
    via_u = np.where(mg.forward[p], node_cost[mg.u[p]] + targets.t * c, np.inf)
    via_v = np.where(mg.backward[p], node_cost[mg.v[p]] + (1 - targets.t) * c, np.inf)
    best = np.minimum(via_u, via_v)
    label = np.where(via_u <= via_v, node_label[mg.u[p]], node_label[mg.v[p]])
    best = best + off

    # A seed on the target's own segment may be closer along it than round either end.
    if len(seeds):
        same = pd.DataFrame({"i": np.arange(len(targets)), "pos": p, "tt": targets.t}).merge(
            pd.DataFrame(
                {
                    "j": np.arange(len(seeds)),
                    "pos": seeds.pos,
                    "ts": seeds.t,
                    "off_s": seeds.offset_m / mg.profile.access_m_per_min,
                }
            ),
            on="pos",
        )
        if len(same):
            sp = same["pos"].to_numpy()
            dt = same["tt"].to_numpy() - same["ts"].to_numpy()
            ok = np.where(dt >= 0, mg.forward[sp], mg.backward[sp])
            along = np.where(ok, same["off_s"].to_numpy() + np.abs(dt) * mg.cost[sp], np.inf)
            i = same["i"].to_numpy()
            along = along + off[i]
            order = np.lexsort((along, i))
            i, j, along = i[order], same["j"].to_numpy()[order], along[order]
            first = np.r_[True, i[1:] != i[:-1]]
            i, j, along = i[first], j[first], along[first]
            better = along < best[i]
            best[i[better]] = along[better]
            label[i[better]] = j[better]

    reached = best <= limit
    return np.where(reached, best, np.inf), np.where(reached, label, -1).astype(np.int64)


#: below this many targets a search runs in process even with a cluster (the round trip
#: would cost more than the search)
MIN_TARGETS = 2_000
#: side of the square cells the targets are binned into on a cluster (metres)
CELL_M = 2_000.0


def nearest(
    engine: Engine, mg: ModeGraph, seeds: Snapped, targets: Snapped, limit: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return (minutes to the nearest seed, its index) for every target, within ``limit``.

    With the Python engine, a Dask cluster connected (:mod:`twin.analyses.cluster`) and at
    least :data:`MIN_TARGETS` targets, the search runs there, cut in space (see
    :func:`spread_nearest`); the answer is the same.
    """
    if engine.name == ScipyEngine.name and len(targets) >= MIN_TARGETS and cluster.threads():
        return spread_nearest(mg, seeds, targets, limit)
    node_cost, node_label = engine.node_costs(mg, seeds, limit)
    return arrive(mg, node_cost, node_label, seeds, targets, limit)


@dataclass(frozen=True)
class Net:
    """What a search reads of a :class:`ModeGraph` (its arcs, costs and directions), light
    to send to a worker: no street graph, no index."""

    profile: Profile
    n_nodes: int
    matrix: sparse.csr_matrix
    u: np.ndarray
    v: np.ndarray
    cost: np.ndarray
    forward: np.ndarray
    backward: np.ndarray

    @classmethod
    def of(cls, mg: ModeGraph) -> Net:
        return cls(mg.profile, mg.n_nodes, mg.matrix, mg.u, mg.v, mg.cost, mg.forward, mg.backward)


def fastest(mg: ModeGraph) -> float:
    """Return the fastest speed (m/min) on the mode's edges or its access leg: no trip of
    ``t`` minutes ends farther than ``t`` × this from where it began."""
    top = float(mg.metres_per_minute().max()) if len(mg.edge) else 0.0
    return max(top, mg.profile.access_m_per_min)


def _nearest_job(
    seeds: Snapped, targets: Snapped, limit: float, *, net: Net
) -> tuple[np.ndarray, np.ndarray]:
    """Return :func:`nearest` of one cell's targets among the seeds of its halo (a task)."""
    mg = cast(ModeGraph, net)  # (the attributes the search reads)
    node_cost, node_label = ScipyEngine().node_costs(mg, seeds, limit)
    return arrive(mg, node_cost, node_label, seeds, targets, limit)


def spread_nearest(
    mg: ModeGraph, seeds: Snapped, targets: Snapped, limit: float, *, cell_m: float = CELL_M
) -> tuple[np.ndarray, np.ndarray]:
    """Return what :func:`nearest` returns, as jobs of :func:`twin.analyses.cluster.run`.

    The targets are binned into square cells; a cell's job gets the seeds within its
    targets' extent grown by ``limit`` × the fastest speed (the halo: a seed farther away
    cannot be reached within ``limit``, since no edge is faster), and searches from them on
    the whole network (one copy per worker) with the same ``limit``. So each target's time is
    the in-process one, and its seed the same one (seeds keep their order within a job).
    """
    n = len(targets)
    minutes, label = np.full(n, np.inf), np.full(n, -1, np.int64)
    if n == 0:
        return minutes, label
    reach = limit * fastest(mg) + 1.0
    cell = np.floor(targets.xy / cell_m).astype(np.int64)
    key = cell[:, 0] * 1_000_003 + cell[:, 1]
    order = np.argsort(key, kind="stable")
    cuts = np.flatnonzero(np.diff(key[order])) + 1
    jobs, parts = [], []
    for tg in np.split(order, cuts):
        lo, hi = targets.xy[tg].min(axis=0) - reach, targets.xy[tg].max(axis=0) + reach
        inside = np.all((seeds.xy >= lo) & (seeds.xy <= hi), axis=1)
        sd = np.flatnonzero(inside)
        jobs.append((seeds.take(sd), targets.take(tg), limit))
        parts.append((tg, sd))
    answers = cluster.run(
        _nearest_job, jobs, weights=[len(tg) for tg, _ in parts], shared={"net": Net.of(mg)}
    )
    for (tg, sd), (m, lab) in zip(parts, answers, strict=True):
        minutes[tg] = m
        label[tg] = np.where(lab >= 0, sd[np.maximum(lab, 0)] if len(sd) else -1, -1)
    return minutes, label
