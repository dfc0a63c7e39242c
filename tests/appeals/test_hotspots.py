"""Gi* on a hand-built H3 grid: a planted cluster is found, noise yields nothing after the FDR
correction, and the emerging classes follow their definitions."""

from __future__ import annotations

import h3
import numpy as np
import shapely

from twin.appeals.hotspots import Grid, emerging, gi_star

AREA = shapely.box(76.85, 43.20, 77.00, 43.30)


def _grid() -> Grid:
    return Grid.of_area(AREA, 8)


def test_the_grid_is_every_cell_of_the_area_with_ring_neighbours() -> None:
    grid = _grid()
    assert 140 < len(grid.cells) < 170
    assert all(h3.get_resolution(c) == 8 for c in grid.cells)
    inner = grid.cells[len(grid.cells) // 2]
    assert sorted(grid.cells[j] for j in grid.w.neighbors[grid.index[inner]]) == sorted(
        n for n in h3.grid_ring(inner, 1) if n in grid.index
    )


def test_a_planted_cluster_is_hot_and_nothing_else() -> None:
    grid = _grid()
    rng = np.random.default_rng(7)
    y = rng.poisson(3, len(grid.cells)).astype(float)
    centre = grid.cells[len(grid.cells) // 2]
    cluster = set(h3.grid_disk(centre, 1))
    for c in cluster:
        y[grid.index[c]] += 15
    spots = gi_star(grid, y, permutations=999, seed=1)
    hot = {c for c, lab in zip(grid.cells, spots.label, strict=True) if lab == "hot"}
    assert hot == cluster
    assert spots.fdr_threshold > 0


def test_noise_has_no_significant_cell_after_fdr() -> None:
    grid = _grid()
    for seed in (1, 2, 3):
        y = np.random.default_rng(seed).poisson(3, len(grid.cells)).astype(float)
        spots = gi_star(grid, y, permutations=999, seed=seed)
        assert (spots.label == "").all()
        # without the correction some cells would pass p < 0.05 by chance
        assert (spots.p < 0.05).sum() >= 1


def _months(grid: Grid, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).poisson(3, (12, len(grid.cells))).astype(float)


def _centres(grid: Grid) -> list[str]:
    """Return interior cells at least 5 steps apart (each with its ring inside the grid)."""
    inner = [c for c in grid.cells if all(n in grid.index for n in h3.grid_disk(c, 2))]
    picked: list[str] = []
    for cell in inner:
        if all(h3.grid_distance(cell, p) > 4 for p in picked):
            picked.append(cell)
    return picked


def test_emerging_classes() -> None:
    """Each planted pattern alone in its own 12 months of Poisson noise (Gi* z is relative to
    the whole grid, so one pattern's growth would lower another's z)."""
    grid = _grid()
    centre = _centres(grid)[1]
    ring = [grid.index[c] for c in h3.grid_disk(centre, 1)]

    rising = _months(grid, 1)
    for m in range(12):
        rising[m, ring] += 10 + 3 * m
    steady = _months(grid, 2)
    steady[:, ring] += 14
    fresh = _months(grid, 3)
    fresh[-1, ring] += 25
    falling = _months(grid, 4)
    for m in range(12):
        falling[m, ring] += 45 - 3 * m

    for counts, expected in (
        (rising, "intensifying"),
        (steady, "persistent"),
        (fresh, "new"),
        (falling, "diminishing"),
    ):
        table = emerging(grid, counts).set_index("cell")
        assert table.loc[centre, "label"] == expected
        labelled = set(table.index[table["label"] != ""])
        assert labelled <= set(h3.grid_disk(centre, 2)), expected
