"""``twin analyze coverage`` and ``twin analyze placement`` on both stores: every output format
by extension, and errors as one line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
import rasterio
from typer.testing import CliRunner

from twin.cli import app

BBOX = "76.93,43.25,76.94,43.258"


@pytest.fixture
def run(almaty_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TWIN_DATABASE_URL", almaty_url)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, ["analyze", *args])

    return invoke


def test_coverage_writes_every_format(run, tmp_path: Path) -> None:
    outs = [tmp_path / f"cov.{ext}" for ext in ("geojson", "gpkg", "tif", "csv")]
    result = run("coverage", "--bbox", BBOX, *(a for p in outs for a in ("-o", str(p))))
    assert result.exit_code == 0, result.output
    fc = json.loads(outs[0].read_text(encoding="utf-8"))
    assert fc["type"] == "FeatureCollection" and fc["features"]
    assert fc["summary"]["area_pct"] > 0 and fc["districts"][0]["district"] == "Almaly"
    assert set(pyogrio.list_layers(outs[1])[:, 0]) == {
        "white_spots",
        "coverage",
        "district_coverage",
        "cameras",
    }
    with rasterio.open(outs[2]) as ds:
        assert ds.crs.to_epsg() == 32643 and ds.read(1).max() >= 1
    table = pd.read_csv(outs[3])
    assert list(table["district"]) == ["Almaly"]
    assert table["area_pct"].iloc[0] == fc["summary"]["area_pct"]


def test_placement_writes_proposed_cameras(run, tmp_path: Path) -> None:
    gj, csv = tmp_path / "new.geojson", tmp_path / "new.csv"
    result = run(
        "placement", "-k", "3", "--bbox", BBOX, "--spacing", "80", "-o", str(gj), "-o", str(csv)
    )
    assert result.exit_code == 0, result.output
    fc = json.loads(gj.read_text(encoding="utf-8"))
    assert len(fc["features"]) == 3
    assert fc["after"]["covered_weight"] > fc["before"]["covered_weight"]
    table = pd.read_csv(csv)
    assert list(table["rank"]) == [1, 2, 3] and table["lon"].between(76.92, 76.95).all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["coverage", "-o", "x.shp"], "unknown output format"),
        (["coverage", "--district", "Atlantis", "-o", "x.csv"], "unknown district"),
        (["coverage", "--bbox", "1,2,3", "-o", "x.csv"], "four numbers"),
        (["placement", "--fov", "0", "-o", "x.csv"], "fov_deg must be > 0"),
        (["placement", "--range", "1500", "-o", "x.csv"], "range_m must be > 0"),
    ],
)
def test_errors_are_one_line(run, args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
