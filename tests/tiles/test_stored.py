"""Tiles kept in the embedded store's file (``tiles.stored``) and ``twin tiles warm``: served
without drawing, dropped by the writer's own transaction exactly where the data changed (at
every zoom, whoever wrote), never kept stale, emptied when the drawing code changes."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pysqlite3.dbapi2 as sqlite3
import pytest
import shapely
from typer.testing import CliRunner

import layers
from tests.support.frames import buildings_frame
from tests.tiles.mvtcheck import decode
from tiles import stored as stored_module
from tiles.grid import Tile, lonlat_to_tile_xy
from tiles.service import TileService
from tiles.warm import warm
from twin.cli import app
from twin.core.access import Role
from twin.core.errors import BadInput
from twin.core.settings import TileSettings
from twin.store import Batch, Store, open_store

BUILDINGS = layers.get("buildings")
NEAR, FAR = (76.90, 43.25), (77.05, 43.35)
ZOOMS = (12, 14, 16)


def _batch(frame: gpd.GeoDataFrame, source: str, *, replace: bool = True) -> Batch:
    return Batch(BUILDINGS, source, frame, source, "0" * 64, "test", replace=replace)


def _xy(lonlat: tuple[float, float], z: int) -> tuple[int, int, int]:
    x, y = lonlat_to_tile_xy(lonlat[0] + 0.0005, lonlat[1] + 0.0005, z)
    return z, x, y


def _key(lonlat: tuple[float, float], z: int) -> str:
    z, x, y = _xy(lonlat, z)
    return f"buildings/{z}/{x}/{y}"


def _names(body: bytes) -> set[str]:
    tile = decode(gzip.decompress(body))
    return {f["properties"].get("name") for f in tile["buildings"]["features"]}


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"gpkg:///{tmp_path}/twin.gpkg"


@pytest.fixture
def city(url: str) -> Iterator[Store]:
    store = open_store(url)
    store.load(
        [
            _batch(buildings_frame(3, x0=NEAR[0], y0=NEAR[1]), "near"),
            _batch(buildings_frame(2, x0=FAR[0], y0=FAR[1]), "far"),
        ]
    )
    yield store
    store.close()


class NoDrawing:
    kind = "embedded"

    def layer_tile(self, *args: object) -> bytes:
        raise AssertionError("a kept tile was drawn again")


def test_a_drawn_tile_is_kept_and_served_by_the_next_process_without_drawing(
    city: Store,
) -> None:
    first = TileService(city).tile("buildings", *_xy(NEAR, 16), Role.ANONYMOUS)
    assert not first.cache_hit and not first.stored and "Дом 1" in _names(first.body)
    later = TileService(city, source=NoDrawing())  # a restarted server, a second worker
    again = later.tile("buildings", *_xy(NEAR, 16), Role.ANONYMOUS)
    assert again.stored and again.body == first.body and again.etag == first.etag


def test_a_write_elsewhere_drops_exactly_the_touched_kept_tiles_at_every_zoom(
    city: Store, url: str
) -> None:
    service = TileService(city)
    for z in ZOOMS:
        for where in (NEAR, FAR):
            service.tile("buildings", *_xy(where, z), Role.ANONYMOUS)
    assert service.stored is not None
    kept = service.stored.keys()
    assert kept == {_key(w, z) for w in (NEAR, FAR) for z in ZOOMS}

    # another process (a `twin load`, no server running): the service never looks at the log
    other = open_store(url, create=False)
    edited = buildings_frame(1, x0=NEAR[0], y0=NEAR[1])
    edited["name"] = ["Акимат"]
    other.load([_batch(edited, "near", replace=False)])
    other.close()

    assert service.stored.keys() == {_key(FAR, z) for z in ZOOMS}
    fresh = TileService(city).tile("buildings", *_xy(NEAR, 16), Role.ANONYMOUS)
    assert not fresh.stored and "Акимат" in _names(fresh.body)


def test_a_deletion_drops_the_kept_tile(city: Store) -> None:
    service = TileService(city)
    z, x, y = _xy(FAR, 14)
    body = service.tile("buildings", z, x, y, Role.ANONYMOUS).body
    fids = [f["id"] for f in decode(gzip.decompress(body))["buildings"]["features"]]
    assert service.stored is not None and service.stored.keys() == {_key(FAR, 14)}
    city.delete_features(BUILDINGS, fids)
    assert service.stored.keys() == set()
    assert TileService(city).tile("buildings", z, x, y, Role.ANONYMOUS).empty


def test_a_tile_drawn_while_a_write_landed_is_not_kept(city: Store) -> None:
    service = TileService(city)
    real = service.source
    edited = buildings_frame(1, x0=NEAR[0], y0=NEAR[1])
    edited["name"] = ["Новое"]

    class WriteMidway:
        def layer_tile(self, layer, tile, rules):  # type: ignore[no-untyped-def]
            raw = real.layer_tile(layer, tile, rules)  # the old data is read …
            city.load([_batch(edited, "near", replace=False)])  # … then a write commits
            return raw

    service.source = WriteMidway()
    stale = service.draw("buildings", *_xy(NEAR, 16), Role.ANONYMOUS)
    assert "Новое" not in _names(stale.body)
    assert service.stored is not None and service.stored.keys() == set()
    fresh = TileService(city).tile("buildings", *_xy(NEAR, 16), Role.ANONYMOUS)
    assert not fresh.stored and "Новое" in _names(fresh.body)


def test_a_locked_file_does_not_hold_a_request(city: Store, url: str) -> None:
    """A load holding the write lock: the tile is drawn and served, just not kept."""
    service = TileService(city)
    lock = sqlite3.connect(url.removeprefix("gpkg:///"), isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    try:
        result = service.tile("buildings", *_xy(NEAR, 16), Role.ANONYMOUS)
        assert "Дом 1" in _names(result.body)
        assert service.stored is not None and service.stored.keys() == set()
    finally:
        lock.execute("ROLLBACK")
        lock.close()


def test_other_drawing_code_empties_them(city: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    TileService(city).tile("buildings", *_xy(NEAR, 16), Role.ANONYMOUS)
    assert TileService(city).stored.keys()  # type: ignore[union-attr]
    monkeypatch.setattr(stored_module, "code_fingerprint", lambda: "another version")
    assert TileService(city).stored.keys() == set()  # type: ignore[union-attr]


def test_the_budget_and_turning_it_off(city: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    tiny = TileService(city, TileSettings(store_mb=2**-20))  # one byte
    tiny.tile("buildings", *_xy(NEAR, 16), Role.ANONYMOUS)
    tiny.tile("buildings", *_xy(FAR, 16), Role.ANONYMOUS)
    assert tiny.stored is not None and tiny.stored.keys() == {_key(NEAR, 16)}  # then over
    # an edit drops the kept tile: once the bytes are counted again, there is room
    city.delete_features(BUILDINGS, [1])
    monkeypatch.setattr(stored_module, "RECOUNT_S", 0.0)
    tiny.tile("buildings", *_xy(FAR, 14), Role.ANONYMOUS)
    assert tiny.stored.keys() == {_key(FAR, 14)}
    off = TileService(city, TileSettings(store_mb=0))
    assert off.stored is None
    assert not off.tile("buildings", *_xy(NEAR, 16), Role.ANONYMOUS).stored


def test_warm_keeps_what_the_server_would_draw_and_then_only_what_an_edit_dropped(
    city: Store,
) -> None:
    service = TileService(city, TileSettings(store_mb=0.001))  # warm ignores the budget
    calls: list[tuple[int, int]] = []
    first = warm(
        service,
        layer_ids=["buildings"],
        minzoom=12,
        maxzoom=14,
        processes=2,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert first.sets == (("buildings",),) and first.drawn == first.planned == first.kept > 3
    assert calls[-1] == (first.drawn, first.drawn)
    assert service.stored is not None and len(service.stored.keys()) == first.kept
    # byte for byte what a request draws
    z, x, y = _xy(NEAR, 14)
    kept = service.stored.get(f"buildings/{z}/{x}/{y}")
    drawn = TileService(city, TileSettings(store_mb=0)).tile("buildings", z, x, y, Role.ANONYMOUS)
    assert kept == (drawn.body, drawn.etag) and "Дом 1" in _names(drawn.body)

    assert warm(service, layer_ids=["buildings"], minzoom=12, maxzoom=14).drawn == 0
    edited = buildings_frame(1, x0=NEAR[0], y0=NEAR[1])
    edited["name"] = ["Акимат"]
    city.load([_batch(edited, "near", replace=False)])
    again = warm(service, layer_ids=["buildings"], minzoom=12, maxzoom=14, processes=1)
    assert again.drawn == again.kept == 3  # the tile under the edit at z12, z13 and z14
    assert "Акимат" in _names(service.stored.get(f"buildings/{z}/{x}/{y}")[0])  # type: ignore[index]


def test_warm_by_default_warms_the_sources_of_the_public_style(city: Store) -> None:
    summary = warm(TileService(city), minzoom=0, maxzoom=1, processes=1)
    assert summary.sets[0][:2] == ("landuse", "waterways") and "buildings" in summary.sets[0]
    assert ("appeals",) in summary.sets and ("cameras",) not in summary.sets


def test_warm_refuses_what_it_cannot_do(city: Store, store: Store) -> None:
    with pytest.raises(BadInput, match="not a public layer: cameras"):
        warm(TileService(city), layer_ids=["cameras"])
    with pytest.raises(BadInput, match="minzoom"):
        warm(TileService(city), minzoom=5, maxzoom=4)
    if store.kind == "postgis":
        with pytest.raises(BadInput, match="embedded store"):
            warm(TileService(store))


def test_the_command(city: Store, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWIN_DATABASE_URL", url)
    runner = CliRunner()
    args = ["tiles", "warm", "--layers", "buildings", "--minzoom", "12", "--maxzoom", "12"]
    ok = runner.invoke(app, args)
    assert ok.exit_code == 0, ok.output
    # the buildings' extent, 76.900-77.053 E, 43.250-43.351 N, covers z12 tiles x 2922-2924,
    # y 1499-1501: 3 x 3 (empty ones are kept too, to be answered 204 from disk)
    assert "drew 9 of 9 tiles" in ok.output and "kept 9" in ok.output
    assert "drew 0 of 9 tiles" in runner.invoke(app, args).output
    bad = runner.invoke(app, ["tiles", "warm", "--layers", "cameras"])
    assert bad.exit_code == 1 and "not a public layer" in bad.output


def test_kept_hexagon_tiles_follow_a_point_next_door(url: str) -> None:
    store = open_store(url)
    pois = layers.get("pois")
    z = 12
    _, x, y = _xy(NEAR, z)
    west, south, _, _ = Tile(z, x, y).bounds_lonlat()

    def frame(points: list[tuple[float, float]], source: str) -> gpd.GeoDataFrame:
        data = {p: [None] * len(points) for p in pois.prop_names}
        data.update(
            source_id=[f"{source}{i}" for i in range(len(points))], synthetic=[False] * len(points)
        )
        return gpd.GeoDataFrame(data, geometry=shapely.points(points), crs=4326)

    store.load([Batch(pois, "a", frame([(west + 0.01, south + 0.01)], "a"), "a", "0" * 64, "t")])
    TileService(store).tile("pois", z, x, y, Role.ANONYMOUS)
    service = TileService(store)
    assert service.stored is not None and service.stored.keys() == {f"pois/{z}/{x}/{y}"}
    # just outside the tile, but within the reach of a hexagon drawn in it
    store.load([Batch(pois, "b", frame([(west - 0.0004, south + 0.01)], "b"), "b", "0" * 64, "t")])
    assert service.stored.keys() == set()
    # far away: the kept tile stays
    service.tile("pois", z, x, y, Role.ANONYMOUS)
    store.load([Batch(pois, "c", frame([(west - 0.5, south)], "c"), "c", "0" * 64, "t")])
    assert service.stored.keys() == {f"pois/{z}/{x}/{y}"}
    store.close()
