"""``GET /api/events`` over a real uvicorn (a stream never ends, so no TestClient): delivery
with ids, the topic filter, staff-only events, ``Last-Event-ID`` resume, heartbeats, bad
parameters, and two app instances sharing one stream through a real Redis."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import SSEClient, serve
from twin.app import create_app
from twin.core.settings import AuthSettings, LiveSettings, Settings, StoreSettings

KEYS = "planner:plan-ev,resident:res-ev"


def _settings(tmp: Path, redis_url: str | None = None, channel: str = "twin:live") -> Settings:
    return Settings(
        store=StoreSettings(database_url=f"gpkg:///{tmp}/twin.gpkg"),
        auth=AuthSettings(api_keys=KEYS),
        live=LiveSettings(heartbeat=0.3, channel=channel),
        redis_url=redis_url,
    )


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    app = create_app(_settings(tmp_path_factory.mktemp("live")))
    with serve(app) as url:
        yield url, app


def _publish(app: object, topic: str, data: dict[str, object], **kw: object) -> None:
    """Publish from a worker thread, as a domain service does."""
    broker = app.state.live  # type: ignore[attr-defined]
    t = threading.Thread(target=broker.publish, args=(topic, data), kwargs=kw)
    t.start()
    t.join()


def test_stream_delivers_with_ids_topics_and_audience(base: tuple[str, object]) -> None:
    url, app = base
    events = SSEClient(f"{url}/api/events?topic=events").start()
    appeals = SSEClient(f"{url}/api/events?topic=appeals").start()
    staff = SSEClient(f"{url}/api/events?topic=events", {"Authorization": "Bearer plan-ev"}).start()
    resident = SSEClient(f"{url}/api/events", {"Authorization": "Bearer res-ev"}).start()
    try:
        _publish(app, "events", {"id": 7, "kind": "outage"})
        _publish(app, "events.internal", {"note": "staff only"}, audience="staff")
        got = events.next()
        assert got.event == "events" and got.data["data"] == {"id": 7, "kind": "outage"}
        assert got.data["topic"] == "events" and got.data["at"].endswith("Z")
        assert got.id is not None and int(got.id) > 0
        assert resident.next().data["data"]["id"] == 7
        assert [staff.next().event, staff.next().event] == ["events", "events.internal"]
        # neither the resident nor the public stream sees the staff event; appeals see nothing
        assert events.none_within(0.3) and resident.none_within(0.05)
        assert appeals.none_within(0.05)
        # heartbeats keep idle streams open
        assert any(c.startswith("ping") for c in appeals.comments)
    finally:
        for c in (events, appeals, staff, resident):
            c.close()


def test_last_event_id_resumes_what_was_missed(base: tuple[str, object]) -> None:
    url, app = base
    first = SSEClient(f"{url}/api/events?topic=resume").start()
    _publish(app, "resume", {"n": 1})
    seen = first.next()
    first.close()
    _publish(app, "resume", {"n": 2})
    _publish(app, "resume", {"n": 3})
    again = SSEClient(f"{url}/api/events?topic=resume", {"Last-Event-ID": str(seen.id)}).start()
    try:
        assert [again.next().data["data"]["n"], again.next().data["data"]["n"]] == [2, 3]
    finally:
        again.close()
    stale = SSEClient(f"{url}/api/events?topic=resume&last_event_id=5").start()
    try:
        assert stale.next().event == "reset"  # older than the history: reload
    finally:
        stale.close()


@pytest.mark.parametrize(
    ("query", "headers", "needle"),
    [
        ("?topic=Not a topic", {}, "topic"),
        ("", {"Last-Event-ID": "abc"}, "Last-Event-ID"),
        ("?last_event_id=-3", {}, "last_event_id"),
        ("?topic=" + ",".join(f"t{i}" for i in range(30)), {}, "at most 20"),
    ],
)
def test_bad_parameters_are_400(
    base: tuple[str, object], query: str, headers: dict[str, str], needle: str
) -> None:
    url, _ = base
    r = httpx.get(f"{url}/api/events{query}", headers=headers, timeout=5)
    assert r.status_code == 400 and needle in r.json()["detail"]


def test_two_app_instances_share_the_stream_through_redis(
    redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    channel = f"test:{uuid.uuid4().hex}"
    app_a = create_app(_settings(tmp_path_factory.mktemp("a"), redis_url, channel))
    app_b = create_app(_settings(tmp_path_factory.mktemp("b"), redis_url, channel))
    with serve(app_a) as url_a, serve(app_b) as url_b:
        on_a = SSEClient(f"{url_a}/api/events").start()
        on_b = SSEClient(f"{url_b}/api/events").start()
        try:
            _publish(app_a, "events", {"via": "a"})
            _publish(app_b, "events", {"via": "b"})
            got_a = [on_a.next(), on_a.next()]
            got_b = [on_b.next(), on_b.next()]
            assert {e.data["data"]["via"] for e in got_b} == {"a", "b"}
            assert [(e.id, e.data) for e in got_a] == [(e.id, e.data) for e in got_b]
        finally:
            on_a.close()
            on_b.close()


def test_a_staff_post_reaches_open_streams_without_staff_fields(base: tuple[str, object]) -> None:
    url, _ = base
    stream = SSEClient(f"{url}/api/events?topic=events").start()
    try:
        body = {
            "kind": "road_closure",
            "severity": "major",
            "title": "Абая closed",
            "starts_at": "2026-07-01T09:00",
            "geometry": {"type": "LineString", "coordinates": [[76.94, 43.25], [76.95, 43.25]]},
            "note": "secret contractor phone",
        }
        r = httpx.post(
            f"{url}/api/city-events", json=body, headers={"Authorization": "Bearer plan-ev"}
        )
        assert r.status_code == 201, r.text
        got = stream.next()
        assert got.event == "events" and got.data["data"]["action"] == "created"
        summary = got.data["data"]["event"]
        assert summary["id"] == r.json()["id"] and summary["kind"] == "road_closure"
        assert summary["bbox"] == [76.94, 43.25, 76.95, 43.25]
        assert "secret" not in json.dumps(got.data)
    finally:
        stream.close()
