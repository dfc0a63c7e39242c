"""``twin events load`` and ``twin events list`` on the embedded store: the AZhK file loads,
loads again without change, and a day lists its outages; a bad day is one clear error line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from twin.cli import app
from twin.core.settings import DATA_DIR
from twin.events.loading import BUNDLED


def test_events_load_and_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWIN_DATABASE_URL", f"gpkg:///{tmp_path}/twin.gpkg")
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    first = runner.invoke(app, ["events", "load", str(DATA_DIR / BUNDLED[0])])
    assert first.exit_code == 0, first.output
    assert "86 inserted, 0 updated, 0 unchanged, 0 rejected" in first.output
    again = runner.invoke(app, ["events", "load", str(DATA_DIR / BUNDLED[0])])
    assert "0 inserted, 0 updated, 86 unchanged" in again.output
    listed = runner.invoke(app, ["events", "list", "--on", "2026-07-21"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("outage_electricity") == 4  # four outages on 21 July
    bad = runner.invoke(app, ["events", "list", "--on", "21.07.2026"])
    assert bad.exit_code != 0 and "is not a date" in bad.output
