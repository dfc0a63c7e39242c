"""Does the score point where outlets really are? Hide some, score, and see where they fall.

The outlets of a category are split at random (seeded) into ``folds`` parts of 20 % each. For
each part: those outlets are hidden — removed from the competitors and from the footfall
points, as if unknown — the city is scored, and each hidden outlet counts as *recovered*
when its cell is among the top ``top_share`` (10 %) of the candidate cells.

``lift = (recovered / hidden) / top_share``: how many times more hidden outlets the top
cells hold than as many cells picked at random (lift 1 = no better than chance). The
binomial tail probability of recovering at least that many by chance is given as
``p_value``. A tougher baseline, ``lift_populated``, compares the top cells with random
cells among the inhabited ones (at least :data:`INHABITED` residents in the cell): outlets
are where people are, and the empty slopes inside the city boundary are easy to beat.

Caveat, by design: the score ranks places for a *new* outlet, so it rewards cells away from
the remaining outlets, while real outlets cluster (a hidden pharmacy usually stands near a
kept one). The recovery test therefore measures demand and access more than competition.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from twin.analyses.site.categories import SiteCategory
from twin.analyses.site.cells import RES_DEFAULT
from twin.analyses.site.model import SiteModel
from twin.analyses.site.scoring import parse_weights, score

HIDE_SHARE = 0.2
TOP_SHARE = 0.1
SEED = 2012
#: Residents a cell must hold to count as inhabited for ``lift_populated``.
INHABITED = 10.0


@dataclass(frozen=True)
class Recovery:
    """What the hide-and-recover test found for one category and one set of weights."""

    category: str
    weights: dict[str, float]
    outlets: int
    hidden: int
    recovered: int
    top_cells: int
    cells: int
    lift: float
    lift_populated: float
    p_value: float
    fold_lifts: list[float] = field(default_factory=list)


def folds_of(fids: np.ndarray, seed: int = SEED, share: float = HIDE_SHARE) -> list[np.ndarray]:
    """Return a seeded split of ``fids`` into ``round(1 / share)`` parts of about ``share``."""
    k = max(1, round(1 / share))
    order = np.random.default_rng(seed).permutation(np.sort(fids))
    return [np.sort(part) for part in np.array_split(order, k)]


def recover(
    model: SiteModel,
    cat: SiteCategory,
    res: int = RES_DEFAULT,
    *,
    weights: str | Mapping[str, float] | None = None,
    seed: int = SEED,
    top_share: float = TOP_SHARE,
    folds: int | None = None,
) -> Recovery:
    """Return the hide-and-recover result of ``cat`` (all folds pooled; ``folds`` limits
    how many of them are run)."""
    w = parse_weights(weights)
    grid = model.cells(res)
    found = model.outlets(cat, res)
    parts = folds_of(found.fid, seed)[: folds or None]
    hidden = recovered = populated_hits = 0
    top_cells = cells = populated = 0
    lifts = []
    for part in parts:
        ranked = score(model.factors(cat, res, hidden=part), w)
        n_top = max(1, math.ceil(top_share * len(ranked)))
        top = set(ranked["h3"].head(n_top))
        people = set(ranked.loc[ranked["residents_cell"] >= INHABITED, "h3"])
        where = found.cell[np.isin(found.fid, part)]
        codes = [grid.h3[c] for c in where if c >= 0 and grid.inside[c]]
        hits = sum(c in top for c in codes)
        hidden += len(codes)
        recovered += hits
        populated_hits += sum(c in people for c in codes)
        top_cells += n_top
        cells += len(ranked)
        populated += len(people)
        if codes:
            lifts.append((hits / len(codes)) / (n_top / len(ranked)))
    chance = top_cells / cells if cells else 0.0
    lift = (recovered / hidden) / chance if hidden and chance else float("nan")
    # Random cells among the inhabited ones: hidden outlets per inhabited cell.
    base = populated_hits / populated if populated else 0.0
    lift_pop = (recovered / top_cells) / base if base and top_cells else float("nan")
    p = float(stats.binom.sf(recovered - 1, hidden, chance)) if hidden else float("nan")
    return Recovery(
        category=cat.name,
        weights=w,
        outlets=len(found),
        hidden=hidden,
        recovered=recovered,
        top_cells=top_cells,
        cells=cells,
        lift=lift,
        lift_populated=lift_pop,
        p_value=p,
        fold_lifts=lifts,
    )
