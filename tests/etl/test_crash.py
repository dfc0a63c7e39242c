"""Crash safety: ``twin load`` SIGKILLed in the middle leaves the store as before or complete,
and a re-run completes it, on both stores."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import layers
from etl.load import load_bundled, load_files
from twin.core.settings import DATA_DIR
from twin.store import open_store

TWIN = [sys.executable, "-m", "twin.cli"]


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "TWIN_DATABASE_URL": url, "SPATIALITE_LIBRARY_PATH": "mod_spatialite"}


def _kill_after(url: str, seconds: float) -> bool:
    """Start ``twin load`` and SIGKILL it after ``seconds``; return True if it was killed."""
    proc = subprocess.Popen(
        [*TWIN, "load"], env=_env(url), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(seconds)
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    return killed


def test_sigkill_mid_load_then_rerun(store_url: str, tmp_path: Path) -> None:
    pois = layers.get("pois")
    buildings = layers.get("buildings")
    mine = tmp_path / "pois.geojson"
    mine.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"id": 1, "name": "Моя аптека"},
                        "geometry": {"type": "Point", "coordinates": [76.94, 43.24]},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    store = open_store(store_url)
    load_files(store, [mine])
    before = (store.count(pois), store.checksum(pois))
    store.close()

    killed = 0
    for delay in (2.5, 4.0, 5.5):
        killed += _kill_after(store_url, delay)
        store = open_store(store_url)
        n_buildings = store.count(buildings)
        # all or nothing: either nothing of the bundled set, or all of it
        assert n_buildings in (0, 8201), n_buildings
        if n_buildings == 0:
            assert sum(store.counts().values()) == 1
            assert (store.count(pois), store.checksum(pois)) == before
        else:
            assert store.count(layers.get("cameras")) > 0
        store.close()
    assert killed >= 2, "the load finished too fast to be killed mid-way; raise the load"

    result = subprocess.run(
        [*TWIN, "load"], env=_env(store_url), capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    store = open_store(store_url)
    counts = store.counts()
    assert counts["buildings"] == 8201 and counts["districts"] == 8
    checksums = {lid: store.checksum(layers.get(lid)) for lid in ("buildings", "appeals")}
    # a further load changes nothing: the store was complete
    again = load_bundled(store, DATA_DIR)
    totals = again.totals()
    assert totals["inserted"] == 0 and totals["updated"] == 0 and totals["deleted"] == 0
    assert store.counts() == counts
    assert {lid: store.checksum(layers.get(lid)) for lid in checksums} == checksums
    assert store.read_frame(pois, source="pois.geojson")["name"].tolist() == ["Моя аптека"]
    store.close()


@pytest.mark.parametrize("bad", ["/no/such/file.geojson"])
def test_cli_reports_errors_without_traceback(store_url: str, bad: str) -> None:
    result = subprocess.run(
        [*TWIN, "load", bad, "--layer", "pois"],
        env=_env(store_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "error:" in result.stderr and "file.geojson" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_layers_json(almaty_url: str) -> None:
    result = subprocess.run(
        [*TWIN, "layers", "--json"],
        env=_env(almaty_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert set(rows) == set(layers.ids())
    assert rows["districts"]["count"] == 8
    assert rows["buildings"]["count"] >= 8000
    for lid in (
        "cameras",
        "appeals",
        "budget_cycle_projects",
        "schools",
        "works",
        "district_indicators",
        "air_sensors",
        "population_grid",
        "health",
        "roads",
        "pois",
        "bus_stops",
        "parks",
        "city_boundary",
    ):
        assert rows[lid]["count"] > 0, lid
    assert rows["cameras"]["access"] == "planner" and rows["buildings"]["access"] == "public"
    assert rows["utility_lines"]["count"] == 0  # schema ready; the 2012 extract has none
