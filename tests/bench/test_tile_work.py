"""The tile benchmark says what it compares: the share of the features meeting each tile that
each server leaves out, the ratio against tipg per zoom and on equal work, tipg with our tile
buffer, and the embedded goal met by tiles drawn ahead. No timing is asserted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import layers
from bench.http_load import Pass, Sample
from bench.tile_list import Tile, feature_counts, sample_tiles
from bench.tile_sql import floor_query, meeting_counts, sql_pass
from bench.tile_work import left_out, left_out_table, zoom_ratio_table, zoom_ratios
from bench.tiles_report import Run, goals
from tests.support.frames import buildings_frame
from tests.support.postgres import create_database
from twin.store import Batch, open_store

# Three 0.001° squares 0.002° apart, well inside one z12 tile and within z12–z16.
X0, Y0 = 76.91, 43.25


@pytest.fixture(scope="module")
def three_buildings(postgis_url: str) -> str:
    """Return the URL of a PostGIS store holding the three known buildings."""
    url = create_database(postgis_url, "twin_bench_tile_work")
    store = open_store(url)
    frame = buildings_frame(3, x0=X0, y0=Y0)
    store.load(
        [Batch(layers.get("buildings"), "t", frame, file="t", sha256="0" * 64, licence="test")]
    )
    store.close()
    return url


def _tiles() -> list[Tile]:
    lon = X0 + 0.0005 + 0.002 * np.arange(3)
    lat = np.full(3, Y0 + 0.0005)
    sample, _ = sample_tiles("buildings", lon, lat, range(12, 17), 5, np.random.default_rng(0))
    return sample


def _pass(tiles: list[Tile], ms: dict[int, float], wall: float, c: int = 1) -> Pass:
    """Return a pass over ``tiles`` taking ``ms[z]`` per tile of zoom z."""
    samples = [Sample(t.path(), ms[t.z] / 1000, 200, index=i) for i, t in enumerate(tiles)]
    return Pass(samples, wall, 0, c)


def test_left_out_is_measured_against_the_features_meeting_each_tile() -> None:
    tiles = [Tile("buildings", 12, 0, 0), Tile("buildings", 12, 1, 0), Tile("roads", 16, 0, 0)]
    # 10 + 10 buildings meet the z12 tiles, the server put 4 + 1 in them: 75 % left out
    assert left_out({0: 4, 1: 1, 2: 7}, [10, 10, 7], tiles) == {
        ("buildings", 12): 0.75,
        ("roads", 16): 0.0,
    }
    # a tile the server failed is not counted against it
    assert left_out({0: 4}, [10, 10, 7], tiles) == {("buildings", 12): 0.6}


def test_zoom_ratio_is_the_peers_mean_over_ours_and_marks_equal_work() -> None:
    tiles = [Tile("buildings", 12, 0, 0), Tile("buildings", 16, 0, 0), Tile("roads", 16, 1, 0)]
    ours = _pass(tiles, {12: 10.0, 16: 2.0}, 1.0)
    tipg = _pass(tiles, {12: 15.0, 16: 8.0}, 1.0)
    assert zoom_ratios(ours, tipg, tiles) == {12: 1.5, 16: 4.0}
    text, record = zoom_ratio_table(
        {1: ours}, {1: tipg}, tiles, {"buildings": 16, "roads": 16}, ("ours", "tipg")
    )
    assert record == {1: {12: 1.5, 16: 4.0}}
    head = text.splitlines()[0]
    assert "z12<" in head and "z16=" in head  # z16: at every layer's maxzoom, equal work


def test_two_times_tipg_is_judged_on_equal_work_too() -> None:
    tiles = [Tile("buildings", 14, 0, 0)]
    names = {
        "floor": "floor",
        "tipg": "tipg",
        "cold": "cold",
        "tipg_equal": "tipg equal",
        "cold_equal": "cold equal",
        "embedded": "kept",
        "drawn": "drawn",
    }
    one = {14: 1.0}
    runs = {
        # all tiles: 100 against 40 tiles/s (2.5×); equal work: 30 against 20 (1.5×)
        "cold": Run("cold", {1: _pass(tiles * 100, one, 1.0)}),
        "tipg": Run("tipg", {1: _pass(tiles * 40, one, 1.0)}),
        "cold equal": Run("cold equal", {1: _pass(tiles * 30, one, 1.0)}),
        "tipg equal": Run("tipg equal", {1: _pass(tiles * 20, one, 1.0)}),
        "kept": Run("kept", {1: _pass(tiles, {14: 4.0}, 1.0)}),
        "drawn": Run("drawn", {1: _pass(tiles, {14: 80.0}, 1.0)}),
    }
    text, record = goals(runs, tiles, [1], names)
    by_goal = {r["goal"]: r for r in record}
    assert by_goal["ours cold ÷ tipg tiles/s, all tiles (ours drops)"]["values"] == {1: 2.5}
    assert by_goal["ours cold ÷ tipg tiles/s, all tiles (ours drops)"]["met"] == "yes"
    assert by_goal["ours cold ÷ tipg tiles/s, equal work (maxzoom)"]["values"] == {1: 1.5}
    assert by_goal["ours cold ÷ tipg tiles/s, equal work (maxzoom)"]["met"] == "NO"
    # the embedded goal says it is met by tiles drawn ahead, and judges on-demand beside it
    assert by_goal["embedded z14 p95, kept ahead (twin tiles warm)"]["met"] == "yes"
    assert by_goal["embedded z14 p95, drawn on demand"]["met"] == "NO"
    assert "equal work" in text and "kept ahead" in text


def test_sampling_leaves_out_excluded_tiles() -> None:
    lon = np.array([76.9001, 76.9101, 76.9201])
    lat = np.full(3, 43.25)
    first, _ = sample_tiles("roads", lon, lat, [16], 1, np.random.default_rng(0))
    again, rest = sample_tiles(
        "roads", lon, lat, [16], 5, np.random.default_rng(0), exclude=set(first)
    )
    assert len(again) == 2 and not set(again) & set(first) and rest == []


def test_meeting_counts_and_nothing_left_out_at_maxzoom(three_buildings: str) -> None:
    tiles = _tiles()
    meeting = meeting_counts(three_buildings, tiles)
    by_zoom: dict[int, int] = {}
    for t, n in zip(tiles, meeting, strict=True):
        by_zoom[t.z] = by_zoom.get(t.z, 0) + n
    assert by_zoom == {z: 3 for z in range(12, 17)}  # every building meets one tile per zoom
    # at the layer's maxzoom our own tile SQL leaves nothing out: the equal-work premise
    top = layers.get("buildings").maxzoom
    p = sql_pass(three_buildings, tiles, floor_query(), 1, time_limit_s=60)
    got = {s.index: sum(feature_counts(s.body).values()) for s in p.samples}
    shares = left_out(got, meeting, tiles)
    assert shares[("buildings", top)] == 0.0
    text, record = left_out_table({"floor": p}, meeting, tiles)
    assert record["floor"][f"buildings z{top}"] == 0.0
    assert "features meeting the tiles" in text


def test_tipg_gets_our_tile_buffer(monkeypatch: pytest.MonkeyPatch) -> None:
    # tipg's own default (256 px) clips more geometry per tile than ours (64): the bench
    # must hand it ours. (Feature counts do not show the buffer, so the run cannot catch it.)
    from bench import servers
    from tiles.grid import BUFFER

    seen: dict[str, str] = {}

    def fake_server(python: object, app: str, *, env: dict[str, str], **kw: object) -> str:
        seen.update(env)
        return "started"

    monkeypatch.setattr(servers, "uvicorn_server", fake_server)
    monkeypatch.setattr(servers, "tipg_python", lambda: Path("python"))
    assert servers.tipg("postgresql://x", ["buildings"]) == "started"
    assert seen["TIPG_TILE_BUFFER"] == str(BUFFER)


def test_work_report_puts_shares_and_ratios_in_one_record() -> None:
    from bench.tile_work import work_report

    tiles = [Tile("roads", 10, 0, 0), Tile("roads", 16, 0, 0)]
    equal = [Tile("roads", 16, 5, 5)]

    def empty(tiles: list[Tile], ms: float) -> Pass:  # every tile answered empty (204)
        return Pass([Sample(t.path(), ms / 1000, 204, index=i) for i, t in enumerate(tiles)], 1)

    runs = {
        "cold": Run("cold", {1: empty(tiles, 2.0)}),
        "tipg": Run("tipg", {1: empty(tiles, 6.0)}),
        "cold eq": Run("cold eq", {1: empty(equal, 1.0)}, tiles=equal),
        "tipg eq": Run("tipg eq", {1: empty(equal, 3.0)}, tiles=equal),
    }
    names = {
        "cold": "cold",
        "embedded": "kept",  # not run: left out of the report
        "tipg": "tipg",
        "cold_equal": "cold eq",
        "tipg_equal": "tipg eq",
    }
    text, record = work_report(runs, names, tiles, equal, [4, 0], [2], {"roads": 16})
    assert record["left_out_share"]["cold"]["roads z10"] == 1.0  # 4 met, none drawn
    assert np.isnan(record["left_out_share"]["tipg"]["roads z16"])  # none met it
    assert record["equal_work_left_out_share"] == {
        "cold eq": {"roads z16": 1.0},
        "tipg eq": {"roads z16": 1.0},
    }
    assert record["tipg_over_ours_mean_by_zoom"] == {1: {10: 3.0, 16: 3.0}}
    assert "kept" not in text and "left out by tipg" in text
