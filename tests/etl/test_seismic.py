"""The seismic readers: NEHRP classes, the Vs30 grid cut to the city, the scenario totals."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

from etl import seismic
from twin.core.errors import SourceError
from twin.core.settings import DATA_DIR

SEISMIC = DATA_DIR / "almaty" / "seismic"


def test_scenario_totals_are_read_as_published() -> None:
    found = {s.id: s for s in seismic.read_scenarios(SEISMIC / "scenario_damage_loss_totals.csv")}
    assert list(found) == list(seismic.SCENARIO_TITLES)
    verny = found["verny_1887"]
    assert verny.mean == {
        "fatalities": 2262.0,
        "loss_usd": 3043508333.0,
        "collapsed_buildings": 8857.0,
    }
    assert verny.sd["fatalities"] == 2511.0
    assert found["deep_EQ_kazakhplatform"].mean["collapsed_buildings"] == 1465.0


def test_vs30_points_are_cut_to_the_city_and_classed() -> None:
    v = seismic.read_vs30(SEISMIC / "almaty_grid_vs30.csv")
    assert len(v) == 1572
    assert v["lon"].between(76.73, 77.18).all() and v["lat"].between(43.02, 43.42).all()
    assert set(v["site_class"]) == {"B", "C", "D"}
    soft = v[v["site_class"] == "D"]
    assert soft["vs30"].between(180, 360, inclusive="left").all()


def test_bad_files_are_refused_naming_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "totals.csv"
    bad.write_text("a,b\n1 pm 2,3\n4 pm 5,6 pm 7\n8 pm 9,10 pm 11\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"b: '3' is not 'mean pm sd'"):
        seismic.read_scenarios(bad)
    grid = tmp_path / "grid.csv"
    grid.write_text("lon,lat\n76.9,43.2\n", encoding="utf-8")
    with pytest.raises(SourceError, match="missing column"):
        seismic.read_vs30(grid)


def test_docstring_examples_run() -> None:
    assert doctest.testmod(seismic).failed == 0
