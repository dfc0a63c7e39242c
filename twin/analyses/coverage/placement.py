"""Placement: choose K new cameras among candidate sites to cover the most uncovered weight.

Demand is the uncovered street space (the white spots) cut into ``cell``-metre cells, each
weighing its area times the weight per m² there. A candidate covers the demand cells whose
centre lies in its visibility polygon. Picking K candidates to cover the most weight is the
maximal covering location problem; we solve it greedily, which the objective's
submodularity makes lazy (CELF): a candidate's gain only shrinks as others are picked, so a
stale gain is an upper bound and only the candidate at the top of the queue is re-evaluated.

The laziness goes one step further: initial gains are not computed at all. Each candidate
starts with a cheap upper bound — the demand inside its view sector's bounding box, read
from a summed-area table — and its visibility polygon is only built when it reaches the
top of the queue (in batches, vectorised). The result is exactly the greedy choice.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from twin.analyses.coverage import distributed
from twin.analyses.coverage.cameras import check_params
from twin.analyses.coverage.model import CoverageModel
from twin.analyses.coverage.raster import RasterGrid, bounds_of, label_cells
from twin.analyses.coverage.targets import Weights
from twin.analyses.coverage.visibility import Obstacles, view_sectors
from twin.core.errors import BadInput

DEMAND_CELL_M = 5.0
BOUND_BLOCK = 5  # demand cells per summed-area block side
MAX_K = 500


@dataclass(frozen=True)
class Template:
    """The camera to place: its kind, field of view, range and mount height."""

    kind: str = "fixed"
    fov_deg: float = 90.0
    range_m: float = 100.0
    mount_height_m: float = 6.0

    def __post_init__(self) -> None:
        check_params(
            fov_deg=self.fov_deg,
            range_m=self.range_m,
            mount_height_m=self.mount_height_m,
            kind=self.kind,
            what="camera template",
        )

    @property
    def fov(self) -> float:
        """Return the field of view it covers (360° for a PTZ dome)."""
        return 360.0 if self.kind == "ptz" else self.fov_deg


@dataclass(frozen=True)
class Demand:
    """Uncovered street space as weighted cell centres, with a summed-area table of the
    weights over blocks for fast upper bounds."""

    x: np.ndarray
    y: np.ndarray
    weight: np.ndarray
    cell: float
    tree: shapely.STRtree
    grid: RasterGrid
    sat: np.ndarray  # (blocks_y + 1, blocks_x + 1) cumulative weights, row 0 = north

    @classmethod
    def from_model(cls, model: CoverageModel, weights: Weights, cell: float) -> Demand:
        """Return the demand of ``model``'s white (uncovered) street space."""
        if not (1.0 <= cell <= 50.0):
            raise BadInput(f"demand_cell_m must be between 1 and 50, got {cell}")
        grid = RasterGrid.around(bounds_of(model.targets.scope), cell)
        density = model.density(weights)
        rs, cs, ps = [], [], []
        for r, c, p in label_cells(model.white, grid):
            rs.append(r)
            cs.append(c)
            ps.append(p)
        rows = np.concatenate(rs) if rs else np.empty(0, np.int64)
        cols = np.concatenate(cs) if cs else np.empty(0, np.int64)
        piece = np.concatenate(ps) if ps else np.empty(0, np.int64)
        x, y = grid.centres(rows, cols)
        w = density[piece] * cell * cell
        nby = -(-grid.height // BOUND_BLOCK)
        nbx = -(-grid.width // BOUND_BLOCK)
        blocks = np.zeros((nby, nbx))
        np.add.at(blocks, (rows // BOUND_BLOCK, cols // BOUND_BLOCK), w)
        sat = np.zeros((nby + 1, nbx + 1))
        sat[1:, 1:] = blocks.cumsum(axis=0).cumsum(axis=1)
        points = np.asarray(shapely.points(x, y), dtype=object)
        return cls(x, y, w, cell, shapely.STRtree(points), grid, sat)

    def __len__(self) -> int:
        return len(self.x)

    def bound(self, bounds: np.ndarray) -> np.ndarray:
        """Return, per bounding box, the total weight of the blocks it touches (an upper
        bound of the demand inside it)."""
        b = np.asarray(bounds, float).reshape(-1, 4)
        g, size = self.grid, self.grid.cell * BOUND_BLOCK
        nby, nbx = self.sat.shape[0] - 1, self.sat.shape[1] - 1
        c0 = np.clip(np.floor((b[:, 0] - g.x0) / size), 0, nbx).astype(np.int64)
        c1 = np.clip(np.floor((b[:, 2] - g.x0) / size) + 1, 0, nbx).astype(np.int64)
        r0 = np.clip(np.floor((g.y1 - b[:, 3]) / size), 0, nby).astype(np.int64)
        r1 = np.clip(np.floor((g.y1 - b[:, 1]) / size) + 1, 0, nby).astype(np.int64)
        s = self.sat
        total = s[r1, c1] - s[r0, c1] - s[r1, c0] + s[r0, c0]
        return np.where((c1 > c0) & (r1 > r0), np.maximum(total, 0.0), 0.0)

    def covered_by(self, polygons: np.ndarray) -> list[np.ndarray]:
        """Return, per polygon, the indices of the demand cells whose centre it contains."""
        polygons = np.asarray(polygons, dtype=object)
        out = [np.empty(0, np.int64) for _ in range(len(polygons))]
        if len(self.x) == 0 or len(polygons) == 0:
            return out
        src, hit = self.tree.query(polygons, predicate="contains")
        if len(src) == 0:
            return out
        order = np.argsort(src, kind="stable")
        src, hit = src[order], hit[order]
        cuts = np.flatnonzero(np.diff(src)) + 1
        for s, h in zip(src[np.r_[0, cuts]].tolist(), np.split(hit, cuts), strict=True):
            out[s] = h
        return out


Evaluator = Callable[[np.ndarray], list[np.ndarray]]


@dataclass(frozen=True)
class Pick:
    """One chosen candidate, in the order chosen, with its marginal gain."""

    candidate: int
    gain: float
    cells: int


def lazy_greedy(
    k: int,
    bound: np.ndarray,
    evaluate: Evaluator,
    weight: np.ndarray,
    *,
    batch: int = 64,
) -> tuple[list[Pick], int]:
    """Return (the greedy picks, how many candidates were evaluated exactly).

    ``bound`` holds an upper bound of each candidate's gain; ``evaluate`` returns, for an
    array of candidate indices, the demand indices each covers. Each round re-evaluates
    the candidates at the top of the queue (``batch`` at a time, growing) until the top
    one is fresh; its gain is then the largest of all (submodularity), so it is picked.
    Stops early when no candidate gains anything. Ties go to the lower index.

    Examples
    --------
    >>> cover = {0: np.array([0, 1]), 1: np.array([1, 2, 3]), 2: np.array([0])}
    >>> picks, _ = lazy_greedy(2, np.array([9.0, 9.0, 9.0]),
    ...                        lambda idx: [cover[int(i)] for i in idx], np.ones(4))
    >>> [(p.candidate, p.gain) for p in picks]
    [(1, 3.0), (0, 1.0)]
    """
    n = len(bound)
    covered = np.zeros(len(weight), dtype=bool)
    members: dict[int, np.ndarray] = {}
    fresh = np.full(n, -1)
    gain = np.asarray(bound, float).copy()
    heap = [(-g, i) for i, g in enumerate(gain.tolist()) if g > 0]
    heapq.heapify(heap)
    picks: list[Pick] = []
    for rnd in range(k):
        size = batch
        while heap:
            neg, top = heap[0]
            if fresh[top] == rnd:
                heapq.heappop(heap)
                break
            todo: list[int] = []
            keep: list[tuple[float, int]] = []
            while heap and len(todo) < size:
                item = heapq.heappop(heap)
                if fresh[item[1]] == rnd:
                    keep.append(item)
                else:
                    todo.append(item[1])
            new = [i for i in todo if i not in members]
            if new:
                for i, m in zip(new, evaluate(np.asarray(new, np.int64)), strict=True):
                    members[i] = m
            for i in todo:
                m = members[i]
                g = float(weight[m[~covered[m]]].sum()) if len(m) else 0.0
                gain[i] = g
                fresh[i] = rnd
                if g > 0:
                    heapq.heappush(heap, (-g, i))
            for item in keep:
                heapq.heappush(heap, item)
            size = min(size * 2, 4096)
        else:
            break
        m = members[top]
        fresh_cells = m[~covered[m]]
        picks.append(Pick(candidate=top, gain=-neg, cells=len(fresh_cells)))
        covered[fresh_cells] = True
    return picks, len(members)


@dataclass
class Problem:
    """One placement instance: candidate cameras, the demand, and each candidate's cheap
    upper bound. Visibility is built only for the candidates that get evaluated."""

    candidates: pd.DataFrame
    template: Template
    demand: Demand
    obstacles: Obstacles
    bound: np.ndarray

    @classmethod
    def build(
        cls, cand: pd.DataFrame, template: Template, demand: Demand, obstacles: Obstacles
    ) -> Problem:
        """Return the problem, with bounds from each view sector's bounding box."""
        n = len(cand)
        sectors = view_sectors(
            cand["x"].to_numpy(float),
            cand["y"].to_numpy(float),
            cand["heading_deg"].to_numpy(float),
            np.full(n, template.fov),
            np.full(n, template.range_m),
        )
        return cls(cand, template, demand, obstacles, demand.bound(shapely.bounds(sectors)))

    def __len__(self) -> int:
        return len(self.candidates)

    def visibility(self, idx: np.ndarray) -> np.ndarray:
        """Return the visibility polygons of candidates ``idx``."""
        c = self.candidates
        n = len(idx)
        return distributed.visibility(
            c["x"].to_numpy(float)[idx],
            c["y"].to_numpy(float)[idx],
            c["heading_deg"].to_numpy(float)[idx],
            np.full(n, self.template.fov),
            np.full(n, self.template.range_m),
            self.obstacles,
        )

    def covers(self, idx: np.ndarray) -> list[np.ndarray]:
        """Return, per candidate in ``idx``, the demand cells it covers."""
        return self.demand.covered_by(self.visibility(np.asarray(idx, np.int64)))

    def solve(self, k: int, check: Callable[[], None] | None = None) -> tuple[list[Pick], int]:
        """Return the lazy-greedy picks for ``k`` cameras and how many were evaluated;
        ``check`` is called between evaluations (it may raise to stop the run)."""
        if check is None:
            return lazy_greedy(k, self.bound, self.covers, self.demand.weight)
        stop = check

        def covers(idx: np.ndarray) -> list[np.ndarray]:
            stop()
            return self.covers(idx)

        return lazy_greedy(k, self.bound, covers, self.demand.weight)


def merge_demand(
    cover: list[np.ndarray], weight: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray]:
    """Return the same covering problem with demand cells merged: cells covered by exactly
    the same candidates become one cell carrying their summed weight, and cells no candidate
    covers are dropped. Any covering objective has the same value on both (for handing the
    problem to an exact solver, whose size grows with the demand)."""
    if not cover:
        return [], np.empty(0)
    cand = np.concatenate([np.full(len(c), i, np.int64) for i, c in enumerate(cover)])
    cells = np.concatenate(cover).astype(np.int64)
    order = np.lexsort((cand, cells))
    cand, cells = cand[order], cells[order]
    starts = np.flatnonzero(np.r_[True, cells[1:] != cells[:-1]])
    groups: dict[bytes, int] = {}
    label = np.empty(len(starts), np.int64)
    for j, (a, b) in enumerate(zip(starts, np.r_[starts[1:], len(cells)], strict=True)):
        label[j] = groups.setdefault(cand[a:b].tobytes(), len(groups))
    merged_weight = np.bincount(label, weights=weight[cells[starts]], minlength=len(groups))
    per_cell_label = np.repeat(label, np.diff(np.r_[starts, len(cells)]))
    pairs = np.unique(np.column_stack([cand, per_cell_label]), axis=0)
    cuts = np.searchsorted(pairs[:, 0], np.arange(len(cover) + 1))
    return [pairs[cuts[i] : cuts[i + 1], 1] for i in range(len(cover))], merged_weight
