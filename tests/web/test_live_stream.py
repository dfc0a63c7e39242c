"""The map listens to the live stream through one EventSource shared by its panels (city
events, residents' participation, appeals, the budget, the moderators' queue), and events of
different topics arrive on it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from tests.support.accounts import sign_up_resident
from tests.web.conftest import PLANNER_KEY, Session

COUNT_STREAMS = """
window.__streams = [];
const Native = window.EventSource;
window.EventSource = class extends Native {
  constructor(url, init) { super(url, init); window.__streams.push(this); }
};
"""


def test_one_stream_carries_every_panels_topics(
    make_session: Any, server: str, caplog: pytest.LogCaptureFixture
) -> None:
    s: Session = make_session()
    s.page.add_init_script(COUNT_STREAMS)
    s.open("#map=13/43.25/76.93")
    s.page.wait_for_function("window.__streams.length > 0 && __streams[0].readyState === 1")
    urls = s.page.evaluate("window.__streams.map(e => e.url)")
    assert len(urls) == 1, urls
    topics = httpx.URL(urls[0]).params["topic"].split(",")
    # budget: phases and applications (the budget panel); moderation: the moderators' queue
    assert set(topics) == {"appeals", "budget", "events", "moderation", "participation"}
    s.page.evaluate(
        "window.__got = []; for (const t of ['events', 'participation.initiative']) "
        "__streams[0].addEventListener(t, e => __got.push(e.type));"
    )

    r = httpx.post(
        f"{server}/api/city-events",
        json={
            "kind": "road_closure",
            "severity": "minor",
            "title": "Shared stream check",
            "starts_at": (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(),
            "geometry": {"type": "LineString", "coordinates": [[76.92, 43.24], [76.93, 43.24]]},
        },
        headers={"Authorization": f"Bearer {PLANNER_KEY}"},
    )
    assert r.status_code == 201, r.text
    with httpx.Client(base_url=server) as client:
        resident = sign_up_resident(client, caplog)  # type: ignore[arg-type]
        r = client.post(
            "/api/initiatives",
            json={
                "category": "lighting",
                "title": "Shared stream initiative",
                "text": "x",
                "geometry": {"type": "Point", "coordinates": [76.93, 43.25]},
            },
            headers=resident.headers,
        )
        assert r.status_code == 201, r.text
    s.page.wait_for_function(
        "__got.includes('events') && __got.includes('participation.initiative')", timeout=10000
    )
    # the panels got them too: the initiative is on the map, and still one stream
    s.page.wait_for_function(
        "twin.map.getSource('twin-initiatives').serialize().data.features"
        ".some(f => f.properties.title === 'Shared stream initiative')",
        timeout=10000,
    )
    assert s.page.evaluate("window.__streams.length") == 1
    assert s.console_errors == []
