"""Site selection on the bundled Almaty data: the same answers from both stores."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

from twin.analyses.site.service import SiteService
from twin.store import open_store


@dataclass(frozen=True)
class SiteAnswers:
    """What one store answers: the pharmacy ranking and catchments, the cafes of Almaly, and
    the figures the per-store checks read."""

    cells: pd.DataFrame
    shapes: pd.DataFrame
    summary: dict[str, Any]
    cafes: pd.DataFrame
    cafes_total: int
    residents_r9: float
    from_buildings_r9: float

    def compared(self) -> dict[str, pd.DataFrame]:
        return {
            "cells": self.cells[["h3", "score", "residents_within", "competition"]],
            "catchments": self.shapes[["fid", "residents", "cells"]],
            "cafes": self.cafes[["h3", "score"]],
        }


def _answers(url: str) -> SiteAnswers:
    store = open_store(url)
    try:
        svc = SiteService(store)
        result = svc.site("pharmacy", top=100)
        shapes, summary = svc.catchments("pharmacy")
        cafes = svc.site("cafe", top=None, weights="access:1", district="Almaly")
    finally:
        store.close()
    grid = svc.model.cells(9)
    return SiteAnswers(
        result.cells,
        shapes,
        summary,
        cafes.cells,
        cafes.total,
        float(grid.residents.sum()),
        float(grid.from_buildings.sum()),
    )


@pytest.fixture(scope="module")
def site_answers() -> Callable[[str], SiteAnswers]:
    """Return the answers of the store at a URL, computed once per module (the per-store test
    and the comparison share them; either computes what it needs alone)."""
    return functools.cache(_answers)


def test_almaty_site_and_catchments(
    almaty_url: str, site_answers: Callable[[str], SiteAnswers]
) -> None:
    got = site_answers(almaty_url)
    cells = got.cells
    assert len(cells) == 100 and list(cells["rank"]) == list(range(1, 101))
    assert cells["score"].is_monotonic_decreasing
    # Every resident of the 2,351,424 of the population grid is placed in some cell.
    assert got.residents_r9 == pytest.approx(2_351_424, rel=1e-6)
    assert 0 < got.from_buildings_r9 < got.residents_r9
    assert got.summary["outlets"] == len(got.shapes) >= 40
    assert got.shapes["residents"].sum() + got.summary["unassigned_residents"] == pytest.approx(
        got.summary["residents"], rel=1e-9
    )
    assert set(got.cafes["district"]) == {"Almaly"} and got.cafes_total == len(got.cafes)


def test_almaty_site_and_catchments_same_on_both_stores(
    almaty_urls: dict[str, str], site_answers: Callable[[str], SiteAnswers]
) -> None:
    a = site_answers(almaty_urls["geopackage"]).compared()
    b = site_answers(almaty_urls["postgis"]).compared()
    for key in a:
        assert list(a[key].columns) == list(b[key].columns), key
        assert len(a[key]) == len(b[key]) > 0, key
        for col in a[key].columns:
            left, right = a[key][col].to_numpy(), b[key][col].to_numpy()
            if left.dtype.kind in "fi":
                np.testing.assert_allclose(left, right, rtol=1e-9, err_msg=f"{key}.{col}")
            else:
                assert list(left) == list(right), (key, col)
