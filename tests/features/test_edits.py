"""Feature edits on both stores: validated like a load, written through ``Store.load`` (so the
change log sees them), all-or-nothing, and keeping a file feature's (source, source_id)."""

from __future__ import annotations

from typing import Any

import pytest

import layers
from tests.support.frames import buildings_frame
from twin.core.access import Role
from twin.core.errors import BadInput, Forbidden, NotFound, Unauthorized
from twin.features import edits
from twin.features.query import FeatureQueries
from twin.store import Batch, Rejection, Store

BUILDINGS = layers.get("buildings")


def square(x: float, y: float, d: float = 0.001) -> dict[str, Any]:
    ring = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(geometry: dict[str, Any] | None = None, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry or square(76.95, 43.25), "properties": props}


def state(store: Store) -> tuple[dict[str, int], str, int]:
    """Return what an edit could change: counts, the buildings checksum, the change log."""
    return store.counts(), store.checksum(BUILDINGS), store.last_change_id()


def test_editor_roles() -> None:
    edits.require_editor(Role.PLANNER)
    edits.require_editor(Role.ADMIN)
    with pytest.raises(Unauthorized, match="planner or admin key is needed"):
        edits.require_editor(Role.ANONYMOUS)
    with pytest.raises(Forbidden, match="'resident' may not edit"):
        edits.require_editor(Role.RESIDENT)


def test_create_update_replace_delete(store: Store) -> None:
    rejected = Rejection(
        row=9, source_id="b9", reason="f.geojson: row 9: bad", properties={}, wkt=None
    )
    store.load([Batch(BUILDINGS, "osm", buildings_frame(3), "f", "0" * 64, "ODbL", [rejected])])
    queries = FeatureQueries(store, BUILDINGS)
    change = store.last_change_id()

    fid = edits.create(store, BUILDINGS, feature(name="Новый дом", levels=5, height=15.5))
    new = queries.one(fid)
    assert new.values["name"] == ["Новый дом"] and new.values["levels"] == [5]
    assert new.geoms[0].geom_type == "MultiPolygon"  # promoted like a file's polygon
    assert queries.key(fid)[0] == "api"  # type: ignore[index]
    assert store.last_change_id() > change  # the tile cache will hear of it

    # PATCH: given properties change, others stay; null clears.
    edits.update(store, BUILDINGS, fid, {"properties": {"levels": 7, "height": None}})
    after = queries.one(fid)
    assert (after.values["name"], after.values["levels"], after.values["height"]) == (
        ["Новый дом"], [7], [None]
    )  # fmt: skip
    assert after.geoms[0].equals(new.geoms[0])

    # PUT of a file's feature keeps its (source, source_id) and fid, and its source's
    # quarantine (an edit is not a new version of the file).
    osm_fid = queries.fid_of("osm", "b2")
    assert osm_fid is not None
    edits.replace(store, BUILDINGS, osm_fid, feature(square(76.96, 43.26), levels=2))
    assert queries.key(osm_fid) == ("osm", "b2")
    replaced = queries.one(osm_fid)
    assert replaced.values["name"] == [None] and replaced.values["levels"] == [2]
    assert replaced.geoms[0].bounds == pytest.approx((76.96, 43.26, 76.961, 43.261))
    assert [q["source_id"] for q in store.quarantine("buildings")] == ["b9"]

    change = store.last_change_id()
    edits.delete(store, BUILDINGS, fid)
    assert not len(queries.one(fid)) and store.count(BUILDINGS) == 3
    assert store.last_change_id() > change
    with pytest.raises(NotFound):
        edits.delete(store, BUILDINGS, fid)
    with pytest.raises(NotFound):
        edits.update(store, BUILDINGS, 10_000, {"properties": {}})


INVALID: list[tuple[Any, str]] = [
    ([1, 2], "must be a GeoJSON Feature object"),
    ({"type": "FeatureCollection"}, "must be a GeoJSON Feature"),
    (feature(levels=2) | {"geometry": None}, "geometry is required"),
    (feature({"type": "Point", "coordinates": [76.9, 43.2]}), "Point where layer 'buildings'"),
    (feature({"type": "Polygon", "coordinates": [[[1, 2], [3, 4]]]}), "not valid GeoJSON"),
    (feature({"type": "Blob", "coordinates": []}), "not valid GeoJSON"),
    (feature(square(200, 43.2)), "outside lon/lat"),
    (feature({"type": "Polygon", "coordinates": []}), "geometry is empty"),
    (feature(levels="many"), "'levels' = 'many' is not an integer"),
    (feature(levels=500), "'levels' = 500 is above the maximum 200"),
    (feature(use="castle"), "'use' = 'castle' is not one of"),
    (
        feature({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}),
        "geometry is invalid: Self-intersection",
    ),
    (feature(owner="me"), "unknown property 'owner'"),
    (feature(synthetic="yes"), "synthetic must be true or false"),
]


def test_invalid_features_change_nothing(store: Store) -> None:
    store.load([Batch(BUILDINGS, "osm", buildings_frame(2), "f", "0" * 64, "ODbL")])
    before = state(store)
    for body, problem in INVALID:
        with pytest.raises(BadInput) as err:
            edits.create(store, BUILDINGS, body)
        assert problem in err.value.detail, problem
        with pytest.raises(BadInput):
            edits.replace(store, BUILDINGS, 1, body)
    assert state(store) == before
