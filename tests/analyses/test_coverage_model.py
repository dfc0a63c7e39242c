"""The coverage model: union areas, street length, weights, districts, and incremental edits
that give exactly what a fresh computation gives."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from tests.analyses import coverage_scene as sc
from twin.analyses.coverage.cameras import CameraEdits
from twin.analyses.coverage.model import CoverageModel
from twin.analyses.coverage.targets import Weights
from twin.core.errors import BadInput

SQUARE = sc.box(-200, -200, 200, 200)  # an open square, 400 m across, all target


def lens(r: float, d: float) -> float:
    """Return the area where two discs of radius r, d apart, overlap."""
    return 2 * r * r * math.acos(d / (2 * r)) - d / 2 * math.sqrt(4 * r * r - d * d)


def test_two_overlapping_cameras_cover_their_union() -> None:
    m = sc.model(
        [sc.camera("a", -30, 0, kind="ptz", reach=50), sc.camera("b", 30, 0, kind="ptz", reach=50)],
        parks=[SQUARE],
    )
    total, _ = m.totals(Weights())
    union = 2 * math.pi * 50**2 - lens(50, 60)
    assert total.covered_m2 == pytest.approx(union, rel=0.005)
    assert total.area_m2 == pytest.approx(400 * 400, rel=1e-9)
    white = float(np.sum(shapely.area(m.white)))
    assert white == pytest.approx(400 * 400 - union, rel=0.001)


def test_broken_and_planned_cameras() -> None:
    rows = [
        sc.camera("ok", 0, 0, fov=90, reach=50),
        sc.camera("broken", 100, 0, fov=90, reach=50, status="broken"),
        sc.camera("planned", -100, 0, fov=90, reach=50, status="planned"),
    ]
    quarter = math.pi * 50**2 / 4
    m = sc.model(rows, parks=[SQUARE])
    assert m.totals(Weights())[0].covered_m2 == pytest.approx(quarter, rel=0.005)
    assert m.vis["broken"].is_empty and m.vis["planned"].is_empty
    with_planned = sc.model(rows, parks=[SQUARE], include_planned=True)
    assert with_planned.totals(Weights())[0].covered_m2 == pytest.approx(2 * quarter, rel=0.005)


def test_street_length_share_and_buildings_leave_the_target() -> None:
    # A residential street (10 m wide) from x = -200 to 200; a dome at x = -100 sees 100 m
    # of its centreline. A house standing on the street takes its footprint out of the
    # street space.
    street = shapely.LineString([(sc.X0 - 200, sc.Y0), (sc.X0 + 200, sc.Y0)])
    house = sc.box(100, -2, 110, 20)
    m = sc.model(
        [sc.camera("a", -100, 0, kind="ptz", reach=50)],
        roads=[(street, "residential")],
        buildings=[house],
    )
    total, per = m.totals(Weights())
    assert total.street_length_m == pytest.approx(400 - 10, rel=1e-6)  # minus under the house
    assert total.street_covered_m == pytest.approx(100, rel=0.005)
    assert per["Almaly"].percent()["street_pct"] == pytest.approx(100 / 390 * 100, rel=0.005)
    expected_area = shapely.area(shapely.difference(street.buffer(5, quad_segs=2), house))
    assert total.area_m2 == pytest.approx(expected_area, rel=1e-6)


def test_weights_shift_the_weighted_share_and_uniform_weights_do_not() -> None:
    # POIs count over the 3 × 3 tiles (750 m) around each tile: with all of them in the
    # north-east corner of a 1 km square, the south-west quarter weighs only its base.
    poi_corner = [shapely.Point(sc.X0 + 400 + i, sc.Y0 + 400) for i in range(20)]
    big = sc.box(-500, -500, 500, 500)
    m = sc.model([sc.camera("a", 400, 400, kind="ptz", reach=60)], parks=[big], pois=poi_corner)
    uniform = Weights(base=1, population=0, pois=0, appeals=0)
    total, _ = m.totals(uniform)
    assert total.percent()["weighted_pct"] == total.percent()["area_pct"]
    poi_heavy = Weights(base=0.01, population=0, pois=1, appeals=0)
    assert m.totals(poi_heavy)[0].percent()["weighted_pct"] > 2 * total.percent()["area_pct"]


def test_weights_are_checked() -> None:
    with pytest.raises(BadInput, match=">= 0"):
        Weights(base=-1)
    with pytest.raises(BadInput, match="at least one"):
        Weights(0, 0, 0, 0)
    with pytest.raises(BadInput, match="unknown factor"):
        Weights.from_mapping({"crime": 1})


def test_districts_split_the_scope() -> None:
    west, east = sc.box(-1000, -1000, 0, 1000), sc.box(0, -1000, 1000, 1000)
    m = sc.model(
        [sc.camera("a", -100, 0, kind="ptz", reach=50)],
        parks=[SQUARE],
        districts={"Almaly": west, "Medeu": east},
    )
    _, per = m.totals(Weights())
    assert per["Almaly"].area_m2 == pytest.approx(200 * 400, rel=1e-9)
    assert per["Medeu"].area_m2 == pytest.approx(200 * 400, rel=1e-9)
    assert per["Almaly"].covered_m2 == pytest.approx(math.pi * 2500, rel=0.005)
    assert per["Medeu"].covered_m2 == 0


def _random_rows(rng: np.random.Generator, n: int) -> list[dict]:
    return [
        sc.camera(
            f"c{i}",
            float(rng.uniform(-600, 600)),
            float(rng.uniform(-600, 600)),
            heading=float(rng.uniform(0, 360)),
            fov=float(rng.uniform(30, 120)),
            reach=float(rng.uniform(40, 150)),
            kind="ptz" if rng.random() < 0.2 else "fixed",
            status="broken" if rng.random() < 0.1 else "working",
        )
        for i in range(n)
    ]


def _city(rng: np.random.Generator) -> dict:
    streets = [
        (shapely.LineString([(sc.X0 - 900, sc.Y0 + y), (sc.X0 + 900, sc.Y0 + y)]), "primary")
        for y in range(-800, 801, 200)
    ] + [
        (shapely.LineString([(sc.X0 + x, sc.Y0 - 900), (sc.X0 + x, sc.Y0 + 900)]), "residential")
        for x in range(-700, 701, 350)
    ]
    centres = rng.uniform(-800, 800, (250, 2))
    houses = [sc.box(x + 15, y + 15, x + 45, y + 60) for x, y in centres]
    return {"roads": streets, "buildings": houses, "parks": [sc.box(-300, -300, -100, -150)]}


def _state(m: CoverageModel) -> tuple[np.ndarray, np.ndarray, float]:
    return m.covered_area.copy(), m.covered_length.copy(), float(np.sum(shapely.area(m.white)))


def test_incremental_edits_match_a_fresh_computation() -> None:
    rng = np.random.default_rng(11)
    city = _city(rng)
    rows = _random_rows(rng, 120)
    m = sc.model(rows, **city)
    raster_before = m.count_raster(5.0).counts.copy()
    current = {r["id"]: dict(r) for r in rows}
    for step in range(40):
        cid = f"c{int(rng.integers(0, 120))}"
        if cid not in current:
            continue
        if step % 4 == 0:
            m.remove([cid])
            del current[cid]
            continue
        row = dict(current[cid])
        row["x"] += float(rng.normal(0, 40))
        row["heading_deg"] = float(rng.uniform(0, 360))
        changed = m.upsert([row])
        assert len(changed) <= 9  # a 150 m camera touches a few 250 m tiles, not the city
        current[cid] = row
    fresh = sc.model(list(current.values()), **city)
    for a, b in zip(_state(m), _state(fresh), strict=True):
        assert np.allclose(a, b, rtol=1e-9, atol=1e-6)
    t1, t2 = m.totals(Weights())[0], fresh.totals(Weights())[0]
    assert t1.covered_weight == pytest.approx(t2.covered_weight, rel=1e-9)
    # The count raster followed every edit.
    assert np.array_equal(m.count_raster(5.0).counts, fresh.count_raster(5.0).counts)
    assert not np.array_equal(raster_before, fresh.count_raster(5.0).counts)


def test_what_if_edits_are_undone() -> None:
    rng = np.random.default_rng(5)
    city = _city(rng)
    m = sc.model(_random_rows(rng, 60), **city)
    before = _state(m)
    edits = CameraEdits(
        add=[{"lon": 76.95, "lat": 43.24, "kind": "ptz", "range_m": 300}],
        update=[
            {"id": "c1", "heading_deg": 10.0, "fov_deg": 200.0},
            {"id": "c4", "lon": 76.9501, "lat": 43.2402},
        ],
        remove=["c2", "c3"],
    )
    old_x, old_fov = m.rows["c4"]["x"], m.rows["c4"]["fov_deg"]
    with m.what_if(edits):
        assert "new-1" in m.rows and "c2" not in m.rows
        assert m.rows["c1"]["fov_deg"] == 200.0
        assert m.rows["c4"]["x"] != old_x and m.rows["c4"]["fov_deg"] == old_fov  # moved only
        assert m.rows["new-1"]["kind"] == "ptz" and m.rows["new-1"]["range_m"] == 300.0
    assert m.rows["c4"]["x"] == old_x
    after = _state(m)
    for a, b in zip(before, after, strict=True):
        assert np.allclose(a, b)
    assert "new-1" not in m.rows and "c2" in m.rows


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        (CameraEdits(remove=["nope"]), "no camera 'nope'"),
        (CameraEdits(update=[{"id": "c0", "fov_deg": 0}]), "fov_deg must be > 0"),
        (CameraEdits(update=[{"id": "c0", "range_m": 1500}]), "range_m must be > 0 and <= 1000"),
        (CameraEdits(add=[{"lon": 76.9}]), "give both lon and lat"),
        (CameraEdits(add=[{"lon": 76.9, "lat": 43.2, "kind": "dome"}]), "kind must be one of"),
        (CameraEdits(add=[{"id": "c0", "lon": 76.9, "lat": 43.2}]), "already exists"),
    ],
)
def test_bad_edits_are_refused_and_change_nothing(edits: CameraEdits, message: str) -> None:
    m = sc.model([sc.camera("c0", 0, 0)], parks=[SQUARE])
    before = _state(m)
    with pytest.raises(BadInput, match=message), m.what_if(edits):
        pass
    for a, b in zip(before, _state(m), strict=True):
        assert np.allclose(a, b)
