"""Smoke test of the tile benchmark's harness on a handful of tiles: it fetches what it claims,
counts what the tiles hold, and reports bad answers. No timing is asserted."""

from __future__ import annotations

import gzip
import http.server
import threading
from collections.abc import Iterator
from typing import ClassVar

import numpy as np
import pytest

import layers
from bench.http_load import fetch_all, run_bounded
from bench.tile_list import Tile, feature_counts, sample_tiles, tile_xy
from bench.tile_sql import canonical_floor, sql_pass
from bench.tiles_report import Run, check, table
from tests.support.frames import buildings_frame
from tests.support.postgres import create_database
from twin.store import Batch, open_store

# Three 0.001° squares 0.002° apart, well inside one z12 tile (x 2923) and within z10–z16.
X0, Y0 = 76.91, 43.25


@pytest.fixture(scope="module")
def three_buildings(postgis_url: str) -> str:
    """Return the URL of a PostGIS store holding the three known buildings."""
    url = create_database(postgis_url, "twin_bench_tiles")
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
    sample, rest = sample_tiles("buildings", lon, lat, range(12, 17), 5, np.random.default_rng(0))
    assert rest == []  # at most 3 distinct tiles per zoom, all drawn
    return sample


def test_tile_maths_puts_points_in_the_right_tiles() -> None:
    x, y = tile_xy(np.array([0.0, -180.0, 179.9999]), np.array([0.0, 85.0, -85.0]), 1)
    assert x.tolist() == [1, 0, 1] and y.tolist() == [1, 0, 1]
    tiles = _tiles()
    assert [t.z for t in tiles if t.z == 12] == [12]  # all three squares in one z12 tile
    assert len({t for t in tiles}) == len(tiles)


def test_floor_pass_fetches_every_tile_with_its_features(three_buildings: str) -> None:
    tiles = _tiles()
    for c in (1, 2):
        p = sql_pass(three_buildings, tiles, canonical_floor(), c, time_limit_s=60)
        assert (len(p.samples), p.skipped, p.concurrency) == (len(tiles), 0, c)
        assert sorted(s.index for s in p.samples) == list(range(len(tiles)))
        assert all(s.status == 200 and s.body and s.seconds > 0 for s in p.samples)
        counts = {tiles[s.index]: feature_counts(s.body) for s in p.samples}
        assert all(set(n) == {"buildings"} for n in counts.values())
        [z12] = [n for t, n in counts.items() if t.z == 12]
        assert z12 == {"buildings": 3}
        assert sum(n["buildings"] for t, n in counts.items() if t.z == 16) == 3
        assert p.throughput > 0 and p.p(50) <= p.p(95)


def test_feature_counts_agree_with_mapbox_vector_tile(three_buildings: str) -> None:
    import mapbox_vector_tile as mvt

    tiles = _tiles()
    p = sql_pass(three_buildings, tiles, canonical_floor(), 1, time_limit_s=60)
    for s in p.samples:
        decoded = mvt.decode(s.body)
        assert feature_counts(s.body) == {k: len(v["features"]) for k, v in decoded.items()}
        for feature in decoded["buildings"]["features"]:
            assert set(feature["properties"]) <= set(layers.get("buildings").prop_names)


class _Bodies(http.server.BaseHTTPRequestHandler):
    """Serves ``bodies[path]``, gzipped when asked; 500 for ``/broken``, 404 for the rest."""

    protocol_version = "HTTP/1.1"
    bodies: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        body = self.bodies.get(self.path)
        if self.path == "/broken" or body is None:
            status, body, enc = (500 if self.path == "/broken" else 404), b"{}", None
        elif "gzip" in self.headers.get("Accept-Encoding", ""):
            status, body, enc = 200, gzip.compress(body), "gzip"
        else:
            status, enc = 200, None
        self.send_response(status)
        if enc:
            self.send_header("Content-Encoding", enc)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def body_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Bodies)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_http_pass_fetches_decodes_and_checks(three_buildings: str, body_server: str) -> None:
    tiles = _tiles()
    floor = sql_pass(three_buildings, tiles, canonical_floor(), 1, time_limit_s=60)
    _Bodies.bodies = {tiles[s.index].path(): s.body for s in floor.samples}
    paths = [t.path() for t in tiles]
    passes = {c: fetch_all(body_server, paths, concurrency=c, time_limit_s=60) for c in (1, 4)}
    for c, p in passes.items():
        assert (len(p.samples), p.skipped, p.concurrency) == (len(tiles), 0, c)
        for s in p.samples:
            assert s.item == paths[s.index] and s.status == 200
            assert s.body == _Bodies.bodies[s.item]  # decompressed after the clock
            assert s.wire_bytes > 0 and s.seconds > 0
    runs = {"floor": Run("floor", {1: floor}), "http": Run("http", passes, "floor")}
    assert check(runs["http"], runs, tiles) == ([], [])
    text = table(runs, tiles, [1, 4])
    assert text.count(f"{len(tiles)}/{len(tiles)}") == 3

    bad = fetch_all(body_server, ["/broken", *paths[1:]], concurrency=2, time_limit_s=60)
    runs["bad"] = Run("bad", {2: bad}, "floor")
    [problem], _ = check(runs["bad"], runs, tiles)
    assert "1 bad answers" in problem and "500" in problem


def test_time_limit_bounds_a_pass() -> None:
    p = run_bounded(list(range(5)), lambda: lambda i: i, concurrency=2, time_limit_s=0.0)
    assert (p.samples, p.skipped) == ([], 5)


def test_our_server_cold_then_warm_matches_the_floor(three_buildings: str) -> None:
    from bench import servers
    from bench.tile_sql import floor_query
    from bench.tiles import route_exists

    assert route_exists()
    tiles = _tiles()
    floor = sql_pass(three_buildings, tiles, floor_query(), 1, time_limit_s=60)
    paths = [t.path() for t in tiles]
    with servers.ours(three_buildings) as base:
        cold = fetch_all(base, paths, concurrency=2, time_limit_s=60)
        warm = fetch_all(base, paths, concurrency=2, time_limit_s=60)
    runs = {
        "floor": Run("floor", {1: floor}),
        "cold": Run("cold", {2: cold}, "floor", expect_cache="miss"),
        "warm": Run("warm", {2: warm}, "floor", expect_cache="hit"),
    }
    for name in ("cold", "warm"):
        assert check(runs[name], runs, tiles) == ([], [])
        assert all(s.status == 200 and s.body for s in runs[name].passes[2].samples)
    assert {s.cache for s in cold.samples} == {"miss"}
    assert {s.cache for s in warm.samples} == {"hit"}
    # a pass claimed cold that the server answered from its cache is caught
    runs["wrong"] = Run("wrong", {2: warm}, "floor", expect_cache="miss")
    [problem], _ = check(runs["wrong"], runs, tiles)
    assert "not a cache miss" in problem


def test_rounds_merge_into_one_pass() -> None:
    from bench.http_load import Pass, Sample

    a = Pass([Sample("a", 0.001, 200, index=0)], 0.5, 0, 2)
    b = Pass([Sample("a", 0.003, 200, index=0)], 1.5, 1, 2)
    m = Pass.merged([a, b])
    assert (len(m.samples), m.wall_seconds, m.skipped, m.concurrency) == (2, 2.0, 1, 2)
    assert m.throughput == 1.0 and m.p(50) == 2.0


def test_floor_connections_get_the_session_settings(three_buildings: str) -> None:
    from bench.tile_sql import FloorQuery

    probe = FloorQuery(
        "probe",
        lambda t: ("SELECT convert_to(current_setting('application_name'), 'UTF8')", {}),
        ("SET application_name = 'bench-floor'",),
    )
    p = sql_pass(three_buildings, _tiles()[:4], probe, 2, time_limit_s=60)
    assert [s.body for s in p.samples] == [b"bench-floor"] * 4
