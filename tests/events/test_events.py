"""City events on both stores: the real AZhK outage file, checks on bad input, "what affects
this address on this day", staff changes with their updates, and the road closures in force."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import shapely
import sqlalchemy as sa

from etl.azhk import read_azhk
from twin.core.errors import BadInput, NotFound, SourceError
from twin.core.settings import DATA_DIR
from twin.events import service
from twin.events.loading import BUNDLED, load_azhk
from twin.events.model import local_day
from twin.store import Store

AZHK = DATA_DIR / BUNDLED[0]
# power-202607-002: ул. Гоголя 117/127 … on Mon 20 July 2026, 09:00–17:00 Almaty time
ROAD = {"type": "LineString", "coordinates": [[76.9400, 43.2500], [76.9500, 43.2500]]}


def _feature(event_id: str) -> dict:
    doc = json.loads(AZHK.read_bytes())
    return next(f for f in doc["features"] if f["properties"]["event_id"] == event_id)


def test_azhk_file_loads_all_86_events_with_their_fields(store: Store) -> None:
    result = load_azhk(store, AZHK)
    assert (result.inserted, result.updated, len(result.rejected)) == (86, 0, 0)
    events = service.find(store, statuses=None)
    assert len(events) == 86
    assert {e.kind for e in events} == {"outage_electricity"}
    e = next(e for e in events if e.source_id == "power-202607-002")
    assert e.source == "azhk" and e.status == "planned"
    # 09:00–17:00 local (UTC+5) on 20 July 2026
    assert (e.starts_at, e.ends_at) == (dt.datetime(2026, 7, 20, 4), dt.datetime(2026, 7, 20, 12))
    assert e.address.startswith("многоэтажные жилые дома: ул. Гоголя 117/127")
    assert e.title == "Плановое отключение электроэнергии: Центр"
    assert e.properties["res"] == "РЭС-1" and e.properties["confidence"] == "medium"
    assert e.source_url.startswith("https://www.azhk.kz/")
    assert e.geometry.geom_type == "MultiPolygon"
    assert e.geometry.equals(shapely.geometry.shape(_feature("power-202607-002")["geometry"]))
    days = sorted({e.starts_at.date().isoformat() for e in events})
    assert days == ["2026-07-20", "2026-07-21", "2026-07-22", "2026-07-23", "2026-07-24"]
    # loading the same file again changes nothing
    again = load_azhk(store, AZHK)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 86)


def test_outages_affecting_an_address_on_its_date(store: Store) -> None:
    load_azhk(store, AZHK)
    area = shapely.geometry.shape(_feature("power-202607-002")["geometry"])
    pt = area.representative_point()
    on_day = service.affecting(store, pt.x, pt.y, *local_day(dt.date(2026, 7, 20)))
    assert "power-202607-002" in [e.source_id for e in on_day]
    assert all(e.starts_at.date() == dt.date(2026, 7, 20) for e in on_day)
    assert service.affecting(store, pt.x, pt.y, *local_day(dt.date(2026, 7, 21))) == [] or all(
        e.source_id != "power-202607-002"
        for e in service.affecting(store, pt.x, pt.y, *local_day(dt.date(2026, 7, 21)))
    )
    # a point 1 km away is not affected by it
    far = service.affecting(store, pt.x + 0.0125, pt.y, *local_day(dt.date(2026, 7, 20)))
    assert "power-202607-002" not in [e.source_id for e in far]


def test_bad_file_rows_are_quarantined_and_a_bad_file_refused(store: Store, tmp_path: Path) -> None:
    doc = json.loads(AZHK.read_bytes())
    doc["features"] = doc["features"][:3]
    doc["features"][1]["properties"]["date"] = "31.02.2026"
    doc["features"][2]["geometry"] = {"type": "Point", "coordinates": [10.0, 10.0]}
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = load_azhk(store, path)
    assert result.inserted == 1
    reasons = sorted(r.reason for r in result.rejected)
    assert reasons == [
        "bad.geojson row 2 (power-202607-002): date '31.02.2026' is not dd.mm.yyyy",
        "bad.geojson row 3 (power-202607-003): geometry is outside the city",
    ]
    q = store.quarantine_table
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(q.c.row, q.c.reason).where(q.c.layer == "city_events"))
        assert sorted(r.row for r in rows) == [2, 3]
    # not the format at all: refused whole, nothing written
    wrong = tmp_path / "wrong.geojson"
    wrong.write_text('{"type": "FeatureCollection", "features": [{"properties": {"a": 1}}]}')
    with pytest.raises(SourceError, match="row 1: no event_id"):
        read_azhk(wrong)
    assert len(service.find(store, statuses=None)) == 1


BAD = [
    ({"kind": "flood"}, "kind 'flood' is unknown"),
    ({"ends_at": "2026-07-01T08:00"}, "ends_at (2026-07-01T08:00:00+05:00) is not after"),
    ({"geometry": {"type": "Point", "coordinates": [71.4, 51.1]}}, "outside the city"),
    ({"geometry": {"type": "Point", "coordinates": [76.9, 43.25]}}, "road_closure needs"),
    ({"geometry": {"type": "Polygon", "coordinates": [[[1, 2]]]}}, "not a valid GeoJSON"),
    ({"starts_at": "yesterday"}, "not an ISO date-time"),
    ({"title": "x" * 300}, "title is longer than 200"),
    ({"colour": "red"}, "unknown field(s): colour"),
]


def test_bad_events_are_refused_naming_the_problem(store: Store) -> None:
    base = {
        "kind": "road_closure",
        "title": "Closed for works",
        "starts_at": "2026-07-01T09:00",
        "geometry": ROAD,
    }
    for fields, message in BAD:
        with pytest.raises(BadInput) as err:
            service.create(store, {**base, **fields}, author="t")
        assert message in err.value.detail, (fields, err.value.detail)
    assert service.find(store, statuses=None) == []


def test_staff_changes_keep_updates_and_closures_follow_time(store: Store) -> None:
    e = service.create(
        store,
        {
            "kind": "road_closure",
            "title": "Абая closed",
            "starts_at": "2026-07-01T09:00+05:00",
            "ends_at": "2026-07-03T18:00+05:00",
            "geometry": ROAD,
            "note": "contractor phone 123",
        },
        author="planner:k1",
    )
    assert e.version == 1 and e.status == "planned" and e.source == "staff"
    during = dt.datetime(2026, 7, 2, 6)
    assert [i for i, _ in service.road_closures(store, during)] == [e.id]
    assert service.road_closures(store, dt.datetime(2026, 7, 4)) == []
    assert service.road_closures(store, dt.datetime(2026, 6, 30)) == []
    changed = service.update(store, e.id, {"status": "resolved"}, author="k1", text="reopened")
    assert changed.version == 2 and changed.status == "resolved"
    assert [u["text"] for u in changed.updates] == ["", "reopened"]
    assert changed.updates[1]["changed"] == ["status"]
    assert service.road_closures(store, during) == []  # resolved: no longer closed
    public = changed.as_properties(staff=False)
    assert (
        "note" not in public and changed.as_properties(staff=True)["note"] == "contractor phone 123"
    )
    with pytest.raises(BadInput, match="changed meanwhile"):
        service.update(store, e.id, {"title": "x"}, author="k1", expect_version=1)
    with pytest.raises(NotFound):
        service.update(store, 999, {"title": "x"}, author="k1")


def test_file_rows_ending_before_they_start_or_of_an_unknown_kind_are_quarantined(
    store: Store, tmp_path: Path
) -> None:
    """The issue's bad input for event files: end before start, an unknown kind, a geometry
    outside the city, each named with its row; the good rows load; a file that is not JSON
    at all is refused whole with nothing written."""
    doc = json.loads(AZHK.read_bytes())
    doc["features"] = doc["features"][:4]
    doc["features"][1]["properties"]["time"] = "17:00–09:00"
    doc["features"][2]["properties"]["utility_type"] = "plasma"
    doc["features"][3]["geometry"] = {"type": "Point", "coordinates": [71.43, 51.13]}  # Astana
    path = tmp_path / "mixed.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = load_azhk(store, path)
    assert result.inserted == 1
    by_row = {r.row: r.reason for r in result.rejected}
    assert sorted(by_row) == [2, 3, 4]
    assert "is not after" in by_row[2] and "row 2" in by_row[2]
    assert "utility_type 'plasma' is unknown" in by_row[3] and "row 3" in by_row[3]
    assert "outside the city" in by_row[4] and "row 4" in by_row[4]
    q = store.quarantine_table
    with store.engine.connect() as conn:
        kept = conn.execute(sa.select(q.c.row).where(q.c.layer == "city_events")).fetchall()
    assert sorted(r.row for r in kept) == [2, 3, 4]
    before = len(service.find(store, statuses=None))
    csv = tmp_path / "outages.geojson"
    csv.write_text("event_id;date;time\n1;20.07.2026;09:00-17:00\n", encoding="utf-8")
    with pytest.raises(SourceError, match="not JSON"):
        load_azhk(store, csv)
    assert len(service.find(store, statuses=None)) == before == 1
