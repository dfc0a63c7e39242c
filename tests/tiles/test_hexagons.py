"""Dense point layers as H3 hexagons on the bundled city: counts are true counts of the
store's points, and residents' appeals never reach a caller without a planner key as points."""

from __future__ import annotations

import gzip
from collections import Counter
from collections.abc import Iterator

import h3
import pytest
import shapely

import layers
from tests.tiles.mvtcheck import decode, tile_box
from tiles.grid import lonlat_to_tile_xy
from tiles.service import TileService
from tiles.zoom import PUBLIC_MAX_RES, h3_resolution
from twin.core.access import Role
from twin.store import open_store

CENTRE = (76.93, 43.24)


@pytest.fixture(scope="module")
def service(almaty_url: str) -> Iterator[TileService]:
    store = open_store(almaty_url, create=False)
    yield TileService(store)
    store.close()


@pytest.fixture(scope="module")
def true_counts(service: TileService) -> dict[tuple[str, int], Counter[str]]:
    """Return a lazy map (layer, res) -> Counter of H3 cells, from the store's points."""

    points: dict[str, list[tuple[float, float]]] = {}

    class Lazy(dict):  # type: ignore[type-arg]
        def __missing__(self, key: tuple[str, int]) -> Counter[str]:
            if key[0] not in points:
                geoms = service.store.read_frame(layers.get(key[0])).geometry.values
                points[key[0]] = [(p.y, p.x) for p in geoms]
            cells = Counter(h3.latlng_to_cell(lat, lng, key[1]) for lat, lng in points[key[0]])
            self[key] = cells
            return cells

    return Lazy()


def _nested(true_counts: dict, res: int) -> Counter[str]:  # type: ignore[type-arg]
    """Return the true counts at ``res`` summed up from the public resolution (the public
    map's cells nest exactly: tiles.hexbin.HexIndex.nested_counts)."""
    key = ("appeals nested", res)
    if key not in true_counts:
        out: Counter[str] = Counter()
        for cell, n in true_counts["appeals", PUBLIC_MAX_RES].items():
            out[h3.cell_to_parent(cell, min(res, PUBLIC_MAX_RES))] += n
        true_counts[key] = out
    found: Counter[str] = true_counts[key]
    return found


def _tile(
    service: TileService, layer: str, z: int, role: Role
) -> tuple[list[dict], tuple[int, int, int]]:  # type: ignore[type-arg]
    x, y = lonlat_to_tile_xy(*CENTRE, z)
    result = service.tile(layer, z, x, y, role)
    features = decode(gzip.decompress(result.body))[layer]["features"] if result.body else []
    return features, (z, x, y)


@pytest.mark.parametrize("z", [10, 12, 14, 16, 19])
def test_appeals_without_a_key_are_only_counts_never_finer_than_the_cap(
    service: TileService,
    true_counts: dict,
    z: int,  # type: ignore[type-arg]
) -> None:
    features, (z, x, y) = _tile(service, "appeals", z, Role.ANONYMOUS)
    assert features
    res = min(h3_resolution(z), PUBLIC_MAX_RES)
    box = shapely.box(*tile_box(z, x, y))
    for f in features:
        assert f["geometry"]["type"] == "Polygon"
        assert set(f["properties"]) == {"count", "h3", "resolution"}
        cell = f["properties"]["h3"]
        cell_res = f["properties"]["resolution"]
        assert cell_res == h3.get_resolution(cell) and res - 3 <= cell_res <= res
        assert f["id"] == h3.str_to_int(cell)
        # no public hexagon shows fewer than 5 appeals (k-anonymity): a cell of 5 or more is
        # its true count; smaller ones are merged into a coarser cell (part of its count)
        count = f["properties"]["count"]
        assert count >= 5
        if cell_res == res:
            assert count == _nested(true_counts, res)[cell]
        else:
            assert count <= _nested(true_counts, cell_res)[cell]
        hexagon = shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(cell)])
        assert hexagon.intersects(box)


def test_every_populated_hexagon_meeting_the_tile_is_there(
    service: TileService,
    true_counts: dict,  # type: ignore[type-arg]
) -> None:
    features, (z, x, y) = _tile(service, "appeals", 12, Role.ANONYMOUS)
    res = h3_resolution(12)
    box = shapely.box(*tile_box(z, x, y))
    want = {
        c
        for c, n in _nested(true_counts, res).items()
        if n >= 5
        and shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]).intersects(box)
    }
    got = {f["properties"]["h3"] for f in features if f["properties"]["resolution"] == res}
    # every cell of 5 or more is drawn, or drawn inside its parent (merged with a small rest
    # that would otherwise be given away by subtraction: test_no_zoom_gives_a_small_count_away)
    merged = {f["properties"]["h3"] for f in features if f["properties"]["resolution"] < res}
    assert got <= want
    for c in want - got:
        assert any(h3.cell_to_parent(c, h3.get_resolution(m)) == m for m in merged), c
    assert len(got) > len(want) / 2


def test_small_public_counts_are_hidden_at_every_zoom(
    service: TileService,
    true_counts: dict,  # type: ignore[type-arg]
) -> None:
    # issue 14: from z13 up, 349 public cells held 1 appeal; now none holds fewer than 5, and
    # a planner still sees the true counts
    for z in (11, 13, 16):
        public, _ = _tile(service, "appeals", z, Role.ANONYMOUS)
        assert public and min(f["properties"]["count"] for f in public) >= 5
    # ... while the store does hold cells of fewer than 5 at the public resolution
    small = [n for n in true_counts["appeals", PUBLIC_MAX_RES].values() if n < 5]
    assert len(small) > 10


def _drawn(service: TileService, z: int, x: int, y: int) -> dict[str, int]:
    result = service.tile("appeals", z, x, y, Role.ANONYMOUS)
    features = decode(gzip.decompress(result.body))["appeals"]["features"] if result.body else []
    return {f["properties"]["h3"]: f["properties"]["count"] for f in features}


@pytest.mark.parametrize("z", [11, 12, 13])
def test_no_zoom_gives_a_small_count_away_by_subtraction(service: TileService, z: int) -> None:
    """A cell drawn at zoom z, less what the next zoom draws inside it, is 0 or at least 5:
    subtracting two zooms of the public map never isolates 1 to 4 appeals."""
    x, y = lonlat_to_tile_xy(*CENTRE, z)
    coarse = _drawn(service, z, x, y)
    fine: dict[str, int] = {}
    for dx in (0, 1):
        for dy in (0, 1):
            fine.update(_drawn(service, z + 1, 2 * x + dx, 2 * y + dy))
    box = shapely.box(*tile_box(z, x, y))
    checked = 0
    for cell, n in coarse.items():
        hexagon = shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(cell)])
        res = h3.get_resolution(cell)
        # a cell of the zoom's own resolution holds its true count; one beyond the four
        # tiles may have its rest drawn by their neighbours
        if res != min(h3_resolution(z), PUBLIC_MAX_RES) or not box.contains(hexagon):
            continue
        inside = sum(
            m
            for c, m in fine.items()
            if h3.get_resolution(c) >= res and h3.cell_to_parent(c, res) == cell
        )
        assert n - inside == 0 or n - inside >= 5, (cell, n, inside)
        checked += 1
    assert checked > 3


def test_planners_get_appeal_points_from_the_layers_zoom(service: TileService) -> None:
    appeals = layers.get("appeals")
    assert appeals.h3_below_zoom is not None
    points, _ = _tile(service, "appeals", appeals.h3_below_zoom, Role.PLANNER)
    assert points and all(f["geometry"]["type"] == "Point" for f in points)
    assert {"category", "status"} <= set().union(*(f["properties"] for f in points))
    hexes, _ = _tile(service, "appeals", appeals.h3_below_zoom - 1, Role.PLANNER)
    assert hexes and all(f["geometry"]["type"] == "Polygon" for f in hexes)
    assert hexes[0]["properties"]["resolution"] == h3_resolution(appeals.h3_below_zoom - 1)


def test_public_points_switch_from_hexagons_to_points(service: TileService) -> None:
    pois = layers.get("pois")
    assert pois.h3_below_zoom is not None
    hexes, _ = _tile(service, "pois", pois.h3_below_zoom - 1, Role.ANONYMOUS)
    points, _ = _tile(service, "pois", pois.h3_below_zoom, Role.ANONYMOUS)
    assert hexes and {f["geometry"]["type"] for f in hexes} == {"Polygon"}
    assert points and {f["geometry"]["type"] for f in points} == {"Point"}


def test_the_same_hexagon_has_the_same_count_in_neighbouring_tiles(service: TileService) -> None:
    z = 12
    x, y = lonlat_to_tile_xy(*CENTRE, z)
    seen: dict[str, list[int]] = {}
    for dx in (0, 1):
        result = service.tile("appeals", z, x + dx, y, Role.ANONYMOUS)
        for f in decode(gzip.decompress(result.body))["appeals"]["features"]:
            seen.setdefault(f["properties"]["h3"], []).append(f["properties"]["count"])
    on_the_edge = [counts for counts in seen.values() if len(counts) == 2]
    assert on_the_edge and all(a == b for a, b in on_the_edge)
