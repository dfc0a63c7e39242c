"""An appeal's lifecycle on both stores: filing, the steps in order with who and when, the
duplicate hint, joining, rating, and every refusal with its reason."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest

import twin.live
from tests.appeals.scene import LAT, LON, WEST, east_of, load_scene, north_of
from twin.appeals.service import Appeals, Filters
from twin.core.access import Caller, Role
from twin.core.errors import BadInput, Forbidden, NotFound, Unauthorized
from twin.core.settings import LiveSettings
from twin.live import Broker
from twin.store import Store

ANNA = Caller(Role.RESIDENT, account_id=11)
BORIS = Caller(Role.RESIDENT, account_id=12)
STAFF = Caller(Role.PLANNER, key_id="k-staff")
NOON = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def appeals(store: Store) -> Appeals:
    load_scene(store)
    return Appeals(store)


def test_a_filed_appeal_is_received_by_its_service_with_a_deadline(appeals: Appeals) -> None:
    appeal, dups = appeals.file(
        ANNA,
        service_code="water",
        lon=LON,
        lat=LAT,
        description="  Нет воды третий день  ",
        now=NOON,
    )
    assert dups == []
    assert appeal.status == "received" and appeal.author == 11 and not appeal.synthetic
    assert appeal.props["service"] == "almaty_su"
    assert appeal.props["district"] == WEST
    assert appeal.props["created_on"] == "2026-11-02"
    assert appeal.props["deadline_on"] == "2026-11-07"  # water: 5 days
    assert appeal.details is not None and appeal.details["description"] == "Нет воды третий день"
    (step,) = appeals.history(appeal)
    assert (step["status"], step["at"], step["by_role"], step["by_account_id"]) == (
        "received",
        "2026-11-02T12:00:00Z",
        "resident",
        11,
    )
    assert [a.id for a in appeals.mine(11)] == [appeal.id]
    assert appeals.mine(12) == []


def test_the_lifecycle_runs_in_order_timed_and_by_whom(appeals: Appeals) -> None:
    appeal, _ = appeals.file(
        ANNA, service_code="roads_transport", lon=LON, lat=LAT, description="Яма", now=NOON
    )
    with pytest.raises(BadInput, match="cannot become 'resolved'"):
        appeals.change_status(appeal.id, "resolved", STAFF)
    steps = [
        ("assigned", dt.timedelta(hours=1)),
        ("in_progress", dt.timedelta(days=2)),
        ("resolved", dt.timedelta(days=6)),
    ]
    for status, after in steps:
        appeal = appeals.change_status(appeal.id, status, STAFF, now=NOON + after)
    assert appeal.status == "resolved"
    assert (appeal.props["assigned_on"], appeal.props["started_on"]) == (
        "2026-11-02",
        "2026-11-04",
    )
    assert appeal.props["resolved_on"] == "2026-11-08"
    history = appeals.history(appeal)
    assert [h["status"] for h in history] == ["received", "assigned", "in_progress", "resolved"]
    assert [h["by_key_id"] for h in history] == [None, "k-staff", "k-staff", "k-staff"]
    assert history[-1]["at"] == "2026-11-08T12:00:00Z"
    with pytest.raises(BadInput, match="it is closed"):
        appeals.change_status(appeal.id, "rejected", STAFF, reason="late")


def test_a_rejection_needs_a_reason_and_staff(appeals: Appeals) -> None:
    appeal, _ = appeals.file(ANNA, service_code="other", lon=LON, lat=LAT, description="?")
    with pytest.raises(BadInput, match="needs a reason"):
        appeals.change_status(appeal.id, "rejected", STAFF, reason="  ")
    with pytest.raises(Forbidden):
        appeals.change_status(appeal.id, "assigned", ANNA)
    with pytest.raises(Unauthorized):
        appeals.change_status(appeal.id, "assigned", Caller(Role.ANONYMOUS))
    with pytest.raises(BadInput, match="unknown status"):
        appeals.change_status(appeal.id, "done", STAFF)
    done = appeals.change_status(appeal.id, "rejected", STAFF, reason="не в компетенции")
    assert done.status == "rejected"
    assert appeals.history(done)[-1]["reason"] == "не в компетенции"


def test_an_assignment_may_name_another_service(appeals: Appeals) -> None:
    appeal, _ = appeals.file(ANNA, service_code="other", lon=LON, lat=LAT, description="Шум")
    moved = appeals.change_status(appeal.id, "assigned", STAFF, service_code="tazalyk")
    assert moved.props["service"] == "tazalyk"
    with pytest.raises(BadInput, match="unknown city service"):
        appeals.change_status(appeal.id, "in_progress", STAFF, service_code="nasa")


def test_only_the_author_rates_and_only_an_answer(appeals: Appeals) -> None:
    appeal, _ = appeals.file(ANNA, service_code="waste", lon=LON, lat=LAT, description="Мусор")
    with pytest.raises(BadInput, match="once answered"):
        appeals.rate(appeal.id, ANNA, 5)
    appeals.change_status(appeal.id, "assigned", STAFF)
    appeals.change_status(appeal.id, "resolved", STAFF)
    with pytest.raises(Forbidden, match="only the resident who filed"):
        appeals.rate(appeal.id, BORIS, 1)
    with pytest.raises(BadInput, match="1 to 5"):
        appeals.rate(appeal.id, ANNA, 6)
    assert appeals.rate(appeal.id, ANNA, 4).props["satisfaction"] == 4


def test_the_duplicate_hint_is_an_open_appeal_of_the_category_within_50_m(
    appeals: Appeals,
) -> None:
    first, _ = appeals.file(ANNA, service_code="lighting", lon=LON, lat=LAT, description="Темно")
    near = north_of(LON, LAT, 30)
    _, dups = appeals.file(
        BORIS, service_code="lighting", lon=near[0], lat=near[1], description="x"
    )
    assert [d.id for d in dups] == [first.id]
    far = east_of(LON, LAT, 70)
    assert appeals.nearby_open("lighting", *far) == []
    assert appeals.nearby_open("waste", *near) == []
    # the generated resolved one 200 m north is closed; the in-progress one 400 m north is open
    assert [
        a.props["status"] for a in appeals.nearby_open("lighting", *north_of(LON, LAT, 390))
    ] == ["in_progress"]
    assert appeals.nearby_open("lighting", *north_of(LON, LAT, 200)) == []
    joined = appeals.join(first.id, BORIS)
    assert joined.followers == 1 and appeals.join(first.id, BORIS).followers == 1
    assert first.id in [a.id for a in appeals.mine(12)]


def test_filing_a_sensitive_appeal_gets_no_hint_that_locates_another(appeals: Appeals) -> None:
    """The answer to filing names no open appeal of a sensitive category nearby: filing at
    chosen points would locate appeals whose points are never public (as the public
    ``/api/appeals/duplicates`` and Open311 box searches already refuse to)."""
    near = north_of(LON, LAT, 610)  # 10 m from the scene's open healthcare appeal
    assert [a.category for a in appeals.nearby_open("healthcare", *near)] == ["healthcare"]
    filed, dups = appeals.file(
        ANNA, service_code="healthcare", lon=near[0], lat=near[1], description="Нет врача"
    )
    assert dups == []
    assert filed.status == "received"


def test_bad_appeals_are_refused_naming_the_problem(appeals: Appeals) -> None:
    with pytest.raises(Unauthorized, match="sign in"):
        appeals.file(
            Caller(Role.ANONYMOUS), service_code="water", lon=LON, lat=LAT, description="x"
        )
    with pytest.raises(BadInput, match="unknown service_code 'pothole'"):
        appeals.file(ANNA, service_code="pothole", lon=LON, lat=LAT, description="x")
    with pytest.raises(BadInput, match="outside the city"):
        appeals.file(ANNA, service_code="water", lon=77.5, lat=43.25, description="x")
    with pytest.raises(BadInput, match="description is empty"):
        appeals.file(ANNA, service_code="water", lon=LON, lat=LAT, description="   ")
    with pytest.raises(BadInput, match="at most 4000"):
        appeals.file(ANNA, service_code="water", lon=LON, lat=LAT, description="a" * 4001)
    with pytest.raises(BadInput, match="http"):
        appeals.file(
            ANNA, service_code="water", lon=LON, lat=LAT, description="x", media_url="file:///etc"
        )
    with pytest.raises(NotFound):
        appeals.get(10**6)
    assert appeals.mine(11) == []


def test_a_generated_appeal_has_its_history_from_its_dates(appeals: Appeals) -> None:
    (done,) = [
        a for a in appeals.search(Filters(page_size=200)).appeals if a.props["status"] == "resolved"
    ]
    assert [(h["status"], h["at"][:10], h["by_role"]) for h in appeals.history(done)] == [
        ("received", "2026-10-01", "system"),
        ("assigned", "2026-10-02", "system"),
        ("in_progress", "2026-10-03", "system"),
        ("resolved", "2026-10-05", "system"),
    ]


def test_filing_and_each_step_reach_open_maps_without_point_or_author(
    appeals: Appeals,
) -> None:
    async def main() -> list[dict[str, object]]:
        broker = Broker(LiveSettings())
        await broker.start()
        twin.live.install(broker)
        try:
            sub = broker.subscribe(["appeals"])

            def work() -> None:
                appeal, _ = appeals.file(
                    ANNA, service_code="water", lon=LON, lat=LAT, description="Нет воды"
                )
                appeals.change_status(appeal.id, "assigned", STAFF)

            await asyncio.to_thread(work)
            got = [await asyncio.wait_for(sub.next(), 5) for _ in range(2)]
            return [json.loads(e.data_json) for e in got if e is not None]
        finally:
            twin.live.uninstall(broker)
            await broker.aclose()

    filed, moved = asyncio.run(main())
    assert (filed["action"], filed["status"], moved["action"], moved["status"]) == (
        "filed",
        "received",
        "status",
        "assigned",
    )
    assert filed["id"] == moved["id"] and filed["service"] == "almaty_su"
    assert not {"lat", "lon", "long", "author", "description"} & set(filed)
