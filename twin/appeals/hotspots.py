"""Hot spots of appeals: Getis-Ord Gi* on H3 cells with esda, and emerging hot spots over months.

Gi* (``esda.G_Local(star=True)``) runs on every cell of the area at the resolution (res 8 or 9,
cells with no appeal count as zero), with binary weights over each cell and its six H3
neighbours; significance by conditional permutation (999 by default) and corrected for the
thousands of cells tested with the Benjamini-Hochberg false-discovery rate (``esda.fdr``): a
cell is *hot* when its z is positive and its pseudo p-value is under the FDR threshold, *cold*
when negative and under it.

Emerging hot spots (our stated method, after ESRI's emerging hot spot analysis): Gi* on each of
the last ``months`` months (normal-approximation p-values, FDR per month), then per cell: the
Mann-Kendall trend of its monthly z (Kendall's tau against time, p < 0.05) and how many months
it was hot. Classes: **new** — hot in the last month and in no earlier one; **persistent** — hot
in ≥ 90 % of months, no significant trend; **intensifying** — hot in ≥ 90 % of months
including the last, z rising; **diminishing** — hot in ≥ 90 % of months, z falling;
**sporadic** — hot in the last month otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import esda
import h3
import numpy as np
import pandas as pd
import shapely
from libpysal.weights import W
from scipy import stats

RESOLUTIONS = (8, 9)
ALPHA = 0.05


@dataclass(frozen=True)
class Grid:
    """The H3 cells of an area at one resolution and their neighbour weights."""

    res: int
    cells: list[str]
    index: dict[str, int]
    w: W

    @classmethod
    def of_cells(cls, cells: Sequence[str], res: int) -> Grid:
        """Return the grid of ``cells`` (each cell's neighbours: the ring-1 cells in it)."""
        ordered = sorted(set(cells))
        index = {c: i for i, c in enumerate(ordered)}
        neighbours: dict[int, list[int]] = {}
        for c, i in index.items():
            neighbours[i] = [index[n] for n in h3.grid_ring(c, 1) if n in index]
        w = W(neighbours, silence_warnings=True)
        return cls(res, ordered, index, w)

    @classmethod
    def of_area(cls, area: shapely.Geometry, res: int) -> Grid:
        """Return the grid of the cells whose centres lie in ``area`` (lon/lat)."""
        if res not in RESOLUTIONS:
            raise ValueError(f"resolution must be one of {RESOLUTIONS}")
        polys = getattr(area, "geoms", [area])
        cells: set[str] = set()
        for p in polys:
            cells |= set(h3.geo_to_cells(shapely.geometry.mapping(p), res))
        return cls.of_cells(sorted(cells), res)

    def counts(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Return the number of points in each cell (points outside the grid are dropped)."""
        y = np.zeros(len(self.cells))
        for lo, la in zip(lon.tolist(), lat.tolist(), strict=True):
            i = self.index.get(h3.latlng_to_cell(la, lo, self.res))
            if i is not None:
                y[i] += 1
        return y


@dataclass(frozen=True)
class HotSpots:
    """Gi* per cell: the count, z, pseudo p-value, and the FDR verdict."""

    cells: list[str]
    counts: np.ndarray
    z: np.ndarray
    p: np.ndarray
    fdr_threshold: float
    label: np.ndarray  # "hot", "cold" or ""

    def frame(self) -> pd.DataFrame:
        """Return one row per cell."""
        return pd.DataFrame(
            {
                "cell": self.cells,
                # counts of appeals: whole numbers in a file, as in the GeoJSON
                "count": np.asarray(self.counts).astype(np.int64),
                "z": self.z,
                "p": self.p,
                "label": self.label,
            }
        )


def fdr_labels(z: np.ndarray, p: np.ndarray, alpha: float = ALPHA) -> tuple[float, np.ndarray]:
    """Return the Benjamini-Hochberg threshold and each cell's label."""
    threshold = float(esda.fdr(p, alpha)) if len(p) else 0.0
    significant = p <= threshold
    label = np.where(significant & (z > 0), "hot", np.where(significant & (z < 0), "cold", ""))
    return threshold, label


def gi_star(
    grid: Grid,
    y: np.ndarray,
    *,
    permutations: int = 999,
    seed: int = 12345,
    alpha: float = ALPHA,
) -> HotSpots:
    """Return Gi* of counts ``y`` on ``grid`` with FDR-corrected permutation inference (or
    normal-approximation p-values with ``permutations=0``)."""
    y = np.asarray(y, dtype=float)
    if y.sum() == 0 or np.all(y == y[0]):
        zeros = np.zeros(len(y))
        return HotSpots(grid.cells, y, zeros, np.ones(len(y)), 0.0, np.full(len(y), "", object))
    g = esda.G_Local(
        y,
        grid.w,
        transform="B",
        permutations=permutations,
        star=True,
        keep_simulations=False,
        n_jobs=1,
        seed=seed,
    )
    z = np.asarray(g.Zs, dtype=float)
    p = np.asarray(g.p_sim if permutations else _p_norm(z), dtype=float)
    threshold, label = fdr_labels(z, p, alpha)
    return HotSpots(grid.cells, y, z, p, threshold, label.astype(object))


def _p_norm(z: np.ndarray) -> np.ndarray:
    """One-sided normal p-value of |z| (as esda's folded pseudo p-values are)."""
    return np.asarray(stats.norm.sf(np.abs(z)), dtype=float)


def emerging(
    grid: Grid,
    monthly: np.ndarray,
    *,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """Return each cell's emerging-hot-spot class from ``monthly`` counts (months x cells)."""
    months = monthly.shape[0]
    zs = np.zeros_like(monthly, dtype=float)
    hot = np.zeros_like(monthly, dtype=bool)
    for m in range(months):
        spots = gi_star(grid, monthly[m], permutations=0, alpha=alpha)
        zs[m] = spots.z
        hot[m] = spots.label == "hot"
    t = np.arange(months)
    share = hot.mean(axis=0)
    last = hot[-1]
    tau = np.zeros(len(grid.cells))
    trend_p = np.ones(len(grid.cells))
    for i in np.flatnonzero(hot.any(axis=0)):
        if np.all(zs[:, i] == zs[0, i]):
            continue
        res = stats.kendalltau(t, zs[:, i])
        tau[i], trend_p[i] = float(res.statistic), float(res.pvalue)
    rising = (trend_p < 0.05) & (tau > 0)
    falling = (trend_p < 0.05) & (tau < 0)
    mostly = share >= 0.9
    label = np.full(len(grid.cells), "", dtype=object)
    label[last] = "sporadic"
    label[mostly] = "persistent"
    label[mostly & falling] = "diminishing"
    label[mostly & last & rising] = "intensifying"
    label[last & ~hot[:-1].any(axis=0)] = "new"
    return pd.DataFrame(
        {
            "cell": grid.cells,
            "label": label,
            "hot_months": hot.sum(axis=0),
            "months": months,
            "trend_tau": tau,
            "trend_p": trend_p,
            "z_last": zs[-1],
        }
    )
