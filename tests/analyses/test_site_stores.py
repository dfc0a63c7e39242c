"""Site selection on the bundled Almaty data: the same answers from both stores."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from twin.analyses.site.service import SiteService
from twin.store import open_store

_results: dict[str, dict[str, Any]] = {}


def test_almaty_site_and_catchments_same_on_both_stores(almaty_url: str) -> None:
    store = open_store(almaty_url)
    try:
        svc = SiteService(store)
        result = svc.site("pharmacy", top=100)
        shapes, summary = svc.catchments("pharmacy")
        cafes = svc.site("cafe", top=None, weights="access:1", district="Almaly")
    finally:
        store.close()
    cells = result.cells
    assert len(cells) == 100 and list(cells["rank"]) == list(range(1, 101))
    assert cells["score"].is_monotonic_decreasing
    # Every resident of the 2,351,424 of the population grid is placed in some cell.
    grid = svc.model.cells(9)
    assert grid.residents.sum() == pytest.approx(2_351_424, rel=1e-6)
    assert 0 < grid.from_buildings.sum() < grid.residents.sum()
    assert summary["outlets"] == len(shapes) >= 40
    assert shapes["residents"].sum() + summary["unassigned_residents"] == pytest.approx(
        summary["residents"], rel=1e-9
    )
    assert set(cafes.cells["district"]) == {"Almaly"} and cafes.total == len(cafes.cells)
    answer = {
        "cells": cells[["h3", "score", "residents_within", "competition"]],
        "catchments": shapes[["fid", "residents", "cells"]],
        "cafes": cafes.cells[["h3", "score"]],
    }
    _results[almaty_url.split(":")[0]] = answer
    if len(_results) == 2:  # both stores answer the same
        a, b = _results.values()
        for key in answer:
            assert list(a[key].columns) == list(b[key].columns)
            for col in a[key].columns:
                left, right = a[key][col].to_numpy(), b[key][col].to_numpy()
                if left.dtype.kind in "fi":
                    np.testing.assert_allclose(left, right, rtol=1e-9)
                else:
                    assert list(left) == list(right)
