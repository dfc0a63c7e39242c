"""The tile service on small, exact data: cache hits, invalidation by the change log (at every
zoom, only where touched), the race between a render and a write, and roles."""

from __future__ import annotations

import gzip

import geopandas as gpd
import h3
import pytest
import shapely
import sqlalchemy as sa

import layers
from tests.support.frames import buildings_frame
from tests.tiles.mvtcheck import decode, ids
from tiles.grid import Tile, lonlat_to_tile_xy
from tiles.service import TileResult, TileService
from tiles.zoom import h3_resolution
from twin.core.access import Role
from twin.core.errors import BadInput, NotFound
from twin.core.settings import TileSettings
from twin.store import Batch, Store

BUILDINGS = layers.get("buildings")
POIS = layers.get("pois")
NEAR, FAR = (76.90, 43.25), (77.05, 43.35)


def _batch(
    layer: layers.Layer, source: str, frame: gpd.GeoDataFrame, *, replace: bool = True
) -> Batch:
    return Batch(layer, source, frame, source, "0" * 64, "test", replace=replace)


def _xy(lonlat: tuple[float, float], z: int) -> tuple[int, int, int]:
    x, y = lonlat_to_tile_xy(lonlat[0] + 0.0005, lonlat[1] + 0.0005, z)
    return z, x, y


def _names(raw_gz: bytes) -> dict[int, str]:
    tile = decode(gzip.decompress(raw_gz))
    return {f["id"]: f["properties"].get("name") for f in tile["buildings"]["features"]}


@pytest.fixture
def city(store: Store) -> Store:
    store.load(
        [
            _batch(BUILDINGS, "near", buildings_frame(3, x0=NEAR[0], y0=NEAR[1])),
            _batch(BUILDINGS, "far", buildings_frame(2, x0=FAR[0], y0=FAR[1])),
        ]
    )
    return store


def test_second_request_is_a_cache_hit_with_the_same_etag(city: Store) -> None:
    service = TileService(city)
    first = service.tile("buildings", *_xy(NEAR, 16), Role.ANONYMOUS)
    second = service.tile("buildings", *_xy(NEAR, 16), Role.ANONYMOUS)
    assert not first.cache_hit and second.cache_hit
    assert first.etag == second.etag and first.body == second.body
    assert service.cache.snapshot().hits == 1


def test_an_edit_drops_the_touched_tiles_at_every_zoom_and_keeps_the_rest(city: Store) -> None:
    service = TileService(city)
    zooms = (12, 14, 16)
    for z in zooms:
        for where in (NEAR, FAR):
            service.tile("buildings", *_xy(where, z), Role.ANONYMOUS)
    before = _names(service.tile("buildings", *_xy(NEAR, 16), Role.ANONYMOUS).body)
    assert "Дом 1" in before.values() and "Акимат" not in before.values()

    edited = buildings_frame(1, x0=NEAR[0], y0=NEAR[1])
    edited["name"] = ["Акимат"]
    city.load([_batch(BUILDINGS, "near", edited, replace=False)])

    for z in zooms:
        near = service.tile("buildings", *_xy(NEAR, z), Role.ANONYMOUS)
        assert not near.cache_hit, z
        assert "Акимат" in _names(near.body).values()
        assert service.tile("buildings", *_xy(FAR, z), Role.ANONYMOUS).cache_hit, z


def test_a_deletion_drops_the_tile(city: Store) -> None:
    service = TileService(city)
    z, x, y = _xy(NEAR, 16)
    fids = ids(
        gzip.decompress(service.tile("buildings", z, x, y, Role.ANONYMOUS).body), "buildings"
    )
    city.delete_features(BUILDINGS, fids[:1])
    again = service.tile("buildings", z, x, y, Role.ANONYMOUS)
    assert not again.cache_hit
    assert len(_names(again.body)) == len(fids) - 1


def test_a_write_during_a_render_is_not_cached_stale(city: Store) -> None:
    service = TileService(city)
    real = service.source
    edited = buildings_frame(1, x0=NEAR[0], y0=NEAR[1])
    edited["name"] = ["Новое"]

    class WriteMidway:
        def layer_tile(self, layer, tile, rules):  # type: ignore[no-untyped-def]
            raw = real.layer_tile(layer, tile, rules)  # read the old data …
            city.load([_batch(BUILDINGS, "near", edited, replace=False)])  # … then a write
            service.poll(force=True)  # … which another request notices
            service.source = real
            return raw

    service.source = WriteMidway()
    stale = service.tile("buildings", *_xy(NEAR, 16), Role.ANONYMOUS)
    assert "Новое" not in _names(stale.body).values()
    fresh = service.tile("buildings", *_xy(NEAR, 16), Role.ANONYMOUS)
    assert not fresh.cache_hit and "Новое" in _names(fresh.body).values()


def test_hexagon_counts_follow_a_new_point_next_door(store: Store) -> None:
    """A point just outside a tile changes a hexagon drawn in it: the tile is dropped too."""
    z = 12
    res = h3_resolution(z)
    _, x, y = _xy(NEAR, z)
    west, south, east, north = Tile(z, x, y).bounds_lonlat()
    outside = (west - 0.0004, (south + north) / 2)
    cell = h3.latlng_to_cell(outside[1], outside[0], res)
    hexagon = shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(cell)])
    assert hexagon.intersects(shapely.box(west, south, east, north))

    def pois(points: list[tuple[float, float]], source: str) -> gpd.GeoDataFrame:
        data = {p: [None] * len(points) for p in POIS.prop_names}
        data.update(
            source_id=[f"{source}{i}" for i in range(len(points))], synthetic=[False] * len(points)
        )
        return gpd.GeoDataFrame(data, geometry=shapely.points(points), crs=4326)

    store.load([_batch(POIS, "a", pois([outside, (west + 0.01, south + 0.01)], "a"))])
    service = TileService(store)

    def count() -> int:
        tile = decode(gzip.decompress(service.tile("pois", z, x, y, Role.ANONYMOUS).body))
        by_cell = {
            f["properties"]["h3"]: f["properties"]["count"] for f in tile["pois"]["features"]
        }
        assert all(f["geometry"]["type"] == "Polygon" for f in tile["pois"]["features"])
        return by_cell[cell]

    assert count() == 1
    store.load([_batch(POIS, "b", pois([outside], "b"))])
    assert count() == 2

    # A tile never cached is drawn without a look at the change log first, except when it
    # draws hexagons: their counts come from an in-process index only the log updates.
    new_point = (west - 0.02, south + 0.01)
    _, x2, y2 = _xy(new_point, z)
    assert (x2, y2) != (x, y)
    store.load([_batch(POIS, "c", pois([new_point], "c"))])
    far = decode(gzip.decompress(service.tile("pois", z, x2, y2, Role.ANONYMOUS).body))
    new_cell = h3.latlng_to_cell(new_point[1], new_point[0], res)
    assert new_cell != cell
    assert {f["properties"]["h3"]: f["properties"]["count"] for f in far["pois"]["features"]}[
        new_cell
    ] == 1


def test_roles_and_composites(city: Store) -> None:
    service = TileService(city)
    z, x, y = _xy(NEAR, 14)
    for name in ("cameras", "nope", "buildings;DROP TABLE buildings", "", "cameras,nope"):
        with pytest.raises(NotFound):
            service.tile(name, z, x, y, Role.ANONYMOUS)
    both = service.tile("cameras,buildings,nope", z, x, y, Role.ANONYMOUS)
    assert [a.layer.id for a in both.layers] == ["buildings"] and both.public
    planner = service.tile("cameras,buildings", z, x, y, Role.PLANNER)
    assert [a.layer.id for a in planner.layers] == ["cameras", "buildings"] and not planner.public
    appeals = service.tile("appeals", z, x, y, Role.RESIDENT)
    assert appeals.layers[0].aggregate_only and appeals.public
    with pytest.raises(BadInput):
        service.tile("buildings", 23, 0, 0, Role.ANONYMOUS)
    with pytest.raises(BadInput):
        service.tile(
            ",".join(["buildings"] + [f"x{i}" for i in range(40)]), z, x, y, Role.ANONYMOUS
        )


def test_below_minzoom_a_tile_is_empty(city: Store) -> None:
    service = TileService(city)
    result = service.tile("buildings", *_xy(NEAR, BUILDINGS.minzoom - 1), Role.ANONYMOUS)
    assert result.empty and result.etag is None


def test_settings_can_turn_the_cache_off(city: Store) -> None:
    service = TileService(city, TileSettings(cache_mb=0))
    service.tile("buildings", *_xy(NEAR, 16), Role.ANONYMOUS)
    assert not service.tile("buildings", *_xy(NEAR, 16), Role.ANONYMOUS).cache_hit


def test_a_lost_database_is_a_store_error_not_a_bug(city: Store) -> None:
    from twin.core.errors import StoreError

    service = TileService(city)

    class Down:
        kind = "down"

        def layer_tile(self, layer, tile, rules):  # type: ignore[no-untyped-def]
            raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    service.source = Down()
    with pytest.raises(StoreError):
        service.tile("buildings", *_xy(NEAR, 16), Role.ANONYMOUS)


def test_no_stale_tile_survives_concurrent_reads_and_writes(store: Store) -> None:
    """Readers fill the cache from four threads while a writer keeps editing; afterwards every
    cached tile must equal a fresh render of the final data."""
    import random
    import threading

    store.load([_batch(BUILDINGS, "near", buildings_frame(6, x0=NEAR[0], y0=NEAR[1]))])
    service = TileService(store)
    tiles = [
        ("buildings", *_xy((NEAR[0] + 0.002 * i, NEAR[1]), z)) for i in range(6) for z in (14, 16)
    ]
    stop = threading.Event()
    errors: list[BaseException] = []

    def read() -> None:
        rnd = random.Random(threading.get_ident())
        try:
            while not stop.is_set():
                name, z, x, y = rnd.choice(tiles)
                service.tile(name, z, x, y, Role.ANONYMOUS)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(4)]
    for t in readers:
        t.start()
    try:
        for k in range(8):
            frame = buildings_frame(6, x0=NEAR[0], y0=NEAR[1])
            frame["name"] = [f"v{k}-{i}" for i in range(6)]
            # writers wait for the write lock (BEGIN IMMEDIATE): no retry is needed
            store.load([_batch(BUILDINGS, "near", frame.iloc[[k % 6]], replace=False)])
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert not errors
    service.poll(force=True)
    fresh = TileService(store, TileSettings(cache_mb=0))
    for name, z, x, y in tiles:
        cached = service.tile(name, z, x, y, Role.ANONYMOUS)
        assert cached.etag == fresh.tile(name, z, x, y, Role.ANONYMOUS).etag, (z, x, y)


def test_a_quick_look_leaves_new_changes_to_a_full_one(city: Store) -> None:
    """The HTTP fast path looks at the change log in the event loop with one max(id) query
    (``quick``); when there is more to read it steps aside (SlowLook) without marking the look
    done, so the next full look drops the touched tile and nothing stale is served."""
    from tiles.changes import SlowLook

    service = TileService(city)
    z, x, y = _xy(NEAR, 16)
    # a miss needs no look at all: draw() reads the store as it is
    assert service.cached("buildings", z, x, y, Role.ANONYMOUS, quick=True) is None
    first = service.draw("buildings", z, x, y, Role.ANONYMOUS)
    with pytest.raises(SlowLook):  # a hit, but no connection kept for the log yet: not quick
        service.cached("buildings", z, x, y, Role.ANONYMOUS, quick=True)
    assert service.tile("buildings", z, x, y, Role.ANONYMOUS).cache_hit  # a full look
    hit = service.cached("buildings", z, x, y, Role.ANONYMOUS, quick=True)
    assert hit is not None and hit.body == first.body and hit.cache_hit

    edited = buildings_frame(1, x0=NEAR[0], y0=NEAR[1])
    edited["name"] = ["Новое"]
    city.load([_batch(BUILDINGS, "near", edited, replace=False)])
    with pytest.raises(SlowLook):  # a change to read: left to a full look
        service.cached("buildings", z, x, y, Role.ANONYMOUS, quick=True)
    assert service.cached("buildings", z, x, y, Role.ANONYMOUS) is None  # dropped
    fresh = service.draw("buildings", z, x, y, Role.ANONYMOUS)
    assert "Новое" in _names(fresh.body).values()
    again = service.cached("buildings", z, x, y, Role.ANONYMOUS, quick=True)
    assert again is not None and again.body == fresh.body
    service.close()


def test_drawing_in_the_event_loop_answers_as_drawing_in_a_thread(city: Store) -> None:
    """``draw_async`` (PostGIS only; not for hexagons) renders, gzips and caches exactly what
    ``draw`` does; elsewhere it answers None and the caller uses a thread."""
    import asyncio

    service = TileService(city)
    z, x, y = _xy(NEAR, 16)

    async def both() -> tuple[object, object]:
        try:
            tile = await service.draw_async("buildings", z, x, y, Role.ANONYMOUS)
            hexes = await service.draw_async("pois", 10, *_xy(NEAR, 10)[1:], Role.ANONYMOUS)
            return tile, hexes
        finally:
            await service.aclose()

    drawn, hexes = asyncio.run(both())
    assert hexes is None
    if city.kind != "postgis":
        assert drawn is None
        return
    assert drawn is not None and not drawn.cache_hit  # type: ignore[attr-defined]
    hit = service.cached("buildings", z, x, y, Role.ANONYMOUS)
    assert hit is not None and hit.cache_hit and hit.body == drawn.body  # type: ignore[attr-defined]
    other = TileService(city)
    fresh = other.draw("buildings", z, x, y, Role.ANONYMOUS)
    other.close()
    assert fresh.body == drawn.body and fresh.etag == drawn.etag  # type: ignore[attr-defined]
    assert "Дом 1" in _names(fresh.body).values()


def test_the_event_loop_look_is_shared_and_never_misses_a_write(city: Store) -> None:
    """``cached_async`` (the HTTP fast path's look): concurrent requests share the log's
    ``max(id)`` query, and a request never trusts a read sent before it arrived, so a write
    committed before it is always seen."""
    import asyncio

    service = TileService(city)
    z, x, y = _xy(NEAR, 16)
    first = service.draw("buildings", z, x, y, Role.ANONYMOUS)
    assert service.tile("buildings", z, x, y, Role.ANONYMOUS).cache_hit  # a full look first

    async def run() -> None:
        try:
            hits = await asyncio.gather(
                *(service.cached_async("buildings", z, x, y, Role.ANONYMOUS) for _ in range(20))
            )
            assert all(h is not None and h.body == first.body for h in hits)
            if city.kind == "postgis":
                # the first request's read was sent before the others arrived; they all share
                # the next one
                assert service.watch.head_async.reads == 2

            edited = buildings_frame(1, x0=NEAR[0], y0=NEAR[1])
            edited["name"] = ["Свежее"]
            city.load([_batch(BUILDINGS, "near", edited, replace=False)])
            from tiles.changes import SlowLook

            with pytest.raises(SlowLook):  # a change to read: left to a full look
                await service.cached_async("buildings", z, x, y, Role.ANONYMOUS)
        finally:
            await service.aclose()

    asyncio.run(run())
    assert service.cached("buildings", z, x, y, Role.ANONYMOUS) is None  # the full look drops it
    fresh = service.draw("buildings", z, x, y, Role.ANONYMOUS)
    assert "Свежее" in _names(fresh.body).values()
    service.close()


def test_the_event_loop_look_does_not_spin_and_reads_the_log(city: Store) -> None:
    """The fast path's look in the event loop (``cached_async``) reads the change log's head
    once and answers the cached tile, on each store.

    PostGIS reads the head over an asynchronous connection (``twin.store.postgis.loghead``):
    there a read that has finished while its clean-up callback has not yet run must not be
    awaited again and again (awaiting a done future does not yield: the loop would spin), so
    the test leaves such a read in place. The GeoPackage reads it with one query on the
    connection kept for it, which the full look before has opened."""
    import asyncio
    import threading
    import time

    service = TileService(city)  # poll_interval 0: every look reads the head
    z, x, y = _xy(NEAR, 16)
    drawn = service.draw("buildings", z, x, y, Role.ANONYMOUS)
    assert service.tile("buildings", z, x, y, Role.ANONYMOUS).cache_hit  # a full look first
    head = service.watch.head_async
    assert (head is not None) == (city.kind == "postgis")
    if city.kind == "geopackage":
        assert service.watch._head_conn is not None
    reads_before = head.reads if head is not None else 0
    got: list[object] = []
    looked_from = time.monotonic()

    async def run() -> None:
        if head is not None:
            done = asyncio.get_running_loop().create_future()
            done.set_result(0)
            head._task, head._sent = done, time.monotonic() - 60  # sent long before we arrive
        try:
            got.append(await service.cached_async("buildings", z, x, y, Role.ANONYMOUS))
        except Exception as exc:  # kept for the assertion below, not lost in the thread
            got.append(exc)
        finally:
            await service.aclose()

    # A spinning loop cannot time itself out: watch it from another thread.
    worker = threading.Thread(target=asyncio.run, args=(run(),), daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "the event loop's look at the change log spins"
    hit = got[0] if got else None
    assert isinstance(hit, TileResult), f"the look answered {hit!r}, not the cached tile"
    assert hit.cache_hit and hit.body == drawn.body and hit.etag == drawn.etag
    assert service.watch.polled_at >= looked_from  # the look read the head, it did not skip it
    if head is not None:
        assert head.reads == reads_before + 1  # one fresh read, not the finished one again
