"""The analysts' HTML report and ``twin analyze site``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.analyses import site_city as city
from twin.analyses.site.catchments import catchments, niches
from twin.analyses.site.report import report_html
from twin.analyses.site.scoring import DEFAULT_WEIGHTS, score
from twin.analyses.site.service import SiteResult


def test_report_is_self_contained() -> None:
    model = city.twin_towns(busy_west=True)
    ranked = score(model.factors(city.PHARMACY), DEFAULT_WEIGHTS)
    result = SiteResult(city.PHARMACY, 9, DEFAULT_WEIGHTS, None, ranked.head(5), len(ranked))
    shapes = catchments(model.factors(city.PHARMACY), model.outlets(city.PHARMACY))
    page = report_html(model, result, ranked, shapes, niches(ranked, city.PHARMACY, quantile=0.5))
    # Nothing is fetched when the page is viewed: no remote script or stylesheet, and the
    # deck.gl bundle (with h3-js) is inline.
    assert not re.search(r"<script[^>]+src=[\"']?https?://", page, re.I)
    assert not re.search(r"<link[^>]+href=[\"']?https?://", page, re.I)
    assert "createDeck" in page and "cellToBoundary" in page
    spec = re.search(r"const jsonInput = (\{.*?\});\n", page, re.S)
    assert spec is not None
    deck = json.loads(spec.group(1))
    kinds = [layer["@@type"] for layer in deck["layers"]]
    assert kinds.count("H3HexagonLayer") == 2
    assert deck.get("mapProvider") is None
    assert "Pharmacies — where to open" in page and "residents within 20 min walk" in page


def test_cli_writes_files_and_report(
    almaty_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twin.cli import app

    monkeypatch.setenv("TWIN_DATABASE_URL", almaty_url)
    out = tmp_path / "cells.csv"
    result = CliRunner().invoke(
        app,
        ["analyze", "site", "cafe", "--top", "5", "--out", str(out), "--catchments",
         str(tmp_path / "c.gpkg"), "--niches", str(tmp_path / "n.geojson"), "--report",
         str(tmp_path / "r.html")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert len(lines) == 6 and lines[0].startswith("rank,h3,district,score")
    assert (tmp_path / "c.gpkg").stat().st_size > 0
    assert json.loads((tmp_path / "n.geojson").read_text())["features"]
    assert (tmp_path / "r.html").stat().st_size > 1_000_000
    bad = CliRunner().invoke(app, ["analyze", "site", "casino"])
    assert bad.exit_code == 1 and "unknown category" in bad.output
