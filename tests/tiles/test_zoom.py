"""What each zoom keeps: size filter, simplification, H3 resolution, points or hexagons."""

from __future__ import annotations

import pytest

import layers
from tiles.grid import pixel_m
from tiles.zoom import (
    PUBLIC_MAX_RES,
    Mode,
    ZoomRules,
    coarser,
    h3_resolution,
    mode_at,
    tile_props,
    zoom_rules,
)


def test_polygons_below_maxzoom_drop_features_under_four_square_pixels() -> None:
    b = layers.get("buildings")
    assert zoom_rules(b, 14).min_area_m2 == pytest.approx(4 * pixel_m(14) ** 2)
    assert zoom_rules(b, 14).tolerance_m == pytest.approx(0.5 * pixel_m(14))
    assert zoom_rules(b, b.maxzoom) == ZoomRules()  # overzoomed: keep everything
    assert zoom_rules(b, 14, maxzoom=14) == ZoomRules()  # an archive ending at 14


def test_lines_by_length_and_points_never() -> None:
    assert zoom_rules(layers.get("roads"), 12).min_length_m == pytest.approx(2 * pixel_m(12))
    assert zoom_rules(layers.get("schools"), 10) == ZoomRules()


def test_coarser_rules_double_the_size() -> None:
    b = layers.get("buildings")
    r = zoom_rules(b, 13)
    c = coarser(r, b, 13)
    assert c.min_area_m2 == pytest.approx(4 * r.min_area_m2)
    assert coarser(ZoomRules(), b, 16).min_area_m2 == pytest.approx(4 * pixel_m(16) ** 2)
    assert coarser(ZoomRules(), layers.get("schools"), 16) == ZoomRules()


def test_h3_resolution_grows_with_zoom_and_respects_a_cap() -> None:
    res = [h3_resolution(z) for z in range(23)]
    assert res == sorted(res) and res[0] == 0 and res[10] == 7 and max(res) <= 15
    assert h3_resolution(20, cap=PUBLIC_MAX_RES) == PUBLIC_MAX_RES


def test_dense_points_are_hexagons_below_their_zoom_and_aggregates_always() -> None:
    pois, appeals = layers.get("pois"), layers.get("appeals")
    assert mode_at(pois, 12, aggregate_only=False) is Mode.HEXAGONS
    assert mode_at(pois, 13, aggregate_only=False) is Mode.FEATURES
    assert mode_at(appeals, 18, aggregate_only=True) is Mode.HEXAGONS
    assert mode_at(layers.get("schools"), 10, aggregate_only=False) is Mode.FEATURES


def test_json_properties_stay_out_of_tiles() -> None:
    names = [p.name for p in tile_props(layers.get("air_sensors"))]
    assert "readings" not in names and "pm10" in names


def test_the_envelope_floor_never_skips_a_polygon_big_enough() -> None:
    import numpy as np
    import pyproj
    import shapely

    from tiles.grid import Tile
    from tiles.zoom import envelope_floor

    to_merc = pyproj.Transformer.from_crs(4326, 3857, always_xy=True)
    rng = np.random.default_rng(7)
    b = layers.get("buildings")
    for z, x, y in ((12, 2923, 1501), (13, 5846, 3002), (9, 365, 187)):
        tile = Tile(z, x, y)
        rules = zoom_rules(b, z)
        min_deg2, bound = envelope_floor(rules, tile)
        assert min_deg2 > 0 and bound > 43
        w, s, e, n = tile.bounds_lonlat()
        for _ in range(2000):
            cx, cy = rng.uniform(w, e), rng.uniform(s, n)
            dx, dy = rng.uniform(1e-5, 2e-3, 2)
            poly = shapely.box(cx, cy, cx + dx, cy + dy)
            merc = shapely.transform(poly, lambda c: np.column_stack(to_merc.transform(*c.T)))
            if dx * dy < min_deg2:  # skipped by the index query …
                assert merc.area < rules.min_area_m2  # … so it had to be too small anyway
    assert envelope_floor(ZoomRules(), Tile(14, 0, 0)) == (0.0, 90.0)
