"""The live broker on its own: fan-out, topics, audiences, bounded queues, resume, and
publishing from worker threads (in one process, and across two brokers over a real Redis)."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest

import twin.live
from twin.core.errors import BadInput
from twin.core.settings import LiveSettings
from twin.live import Broker, LiveEvent, topic_matches


async def _take(sub: twin.live.Subscription, n: int, timeout: float = 5) -> list[LiveEvent]:
    out = []
    for _ in range(n):
        event = await asyncio.wait_for(sub.next(), timeout)
        assert event is not None
        out.append(event)
    return out


def test_topic_filter_selects_itself_and_children() -> None:
    assert topic_matches(frozenset({"events"}), "events")
    assert topic_matches(frozenset({"events"}), "events.closed")
    assert not topic_matches(frozenset({"events"}), "eventsx")
    assert not topic_matches(frozenset({"appeals"}), "events")
    assert topic_matches(None, "anything")


def test_bad_topic_and_payload_fail_at_the_caller() -> None:
    with pytest.raises(BadInput, match="topic"):
        twin.live.publish("Bad Topic", {})
    with pytest.raises(TypeError):
        twin.live.publish("events", {"x": object()})


def test_fan_out_topics_staff_and_threads() -> None:
    async def main() -> None:
        broker = Broker(LiveSettings())
        await broker.start()
        all_ = broker.subscribe()
        only_appeals = broker.subscribe(["appeals"])
        staff = broker.subscribe(["events"], staff=True)
        public = broker.subscribe(["events"])
        # from four worker threads at once, as domain services do
        threads = [
            threading.Thread(target=broker.publish, args=("events", {"n": i})) for i in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        broker.publish("events.internal", {"secret": 1}, audience="staff")
        broker.publish("appeals", {"a": 1})
        got = await _take(all_, 5)  # the staff-only event is not among them
        assert sorted(e.data.get("n", -1) for e in got) == [-1, 0, 1, 2, 3]
        assert all(e.audience == "public" for e in got)
        ids = [e.id for e in got]
        assert ids == sorted(ids) and len(set(ids)) == 5
        assert [e.data for e in await _take(only_appeals, 1)] == [{"a": 1}]
        assert [e.topic for e in await _take(staff, 5)][-1] == "events.internal"
        assert len(await _take(public, 4)) == 4
        assert public._queue.empty()  # neither appeals nor the staff event
        frame = got[0].frame.decode()
        assert frame.startswith(f"id: {got[0].id}\nevent: events\ndata: {{") and frame.endswith(
            "\n\n"
        )
        await broker.aclose()
        assert await all_.next() is None

    asyncio.run(main())


def test_slow_subscriber_is_dropped_and_resumes_from_history() -> None:
    async def main() -> None:
        broker = Broker(LiveSettings(queue_size=3, history=50))
        await broker.start()
        slow = broker.subscribe()
        fast = broker.subscribe()
        for i in range(5):
            broker.publish("events", {"n": i})
            await asyncio.sleep(0)
            assert (await fast.next()) is not None
        await asyncio.sleep(0.01)
        assert slow.dropped and slow._queue.qsize() == 1  # emptied: only the end mark
        assert await slow.next() is None
        assert broker.subscribers == 1 and broker.dropped == 1
        # the dropped client comes back with the last id it saw: gets the rest, in order
        first = broker._history[0].id
        again = broker.subscribe(last_id=first + 1)
        assert [e.data["n"] for e in await _take(again, 3)] == [2, 3, 4]
        assert not again.reset
        # an id older than the history: a reset, no replay
        stale = broker.subscribe(last_id=first - 10)
        assert stale.reset and not stale._backlog
        # an id from the future (another server's lifetime): a reset too
        assert broker.subscribe(last_id=broker.last_id + 5).reset
        await broker.aclose()

    asyncio.run(main())


def test_ids_grow_across_restarts() -> None:
    async def one() -> int:
        broker = Broker(LiveSettings())
        await broker.start()
        sub = broker.subscribe()
        broker.publish("events", {})
        (event,) = await _take(sub, 1)
        await broker.aclose()
        return event.id

    first = asyncio.run(one())
    assert asyncio.run(one()) > first


def test_two_brokers_share_a_redis_channel(redis_url: str) -> None:
    settings = LiveSettings(channel=f"test:{uuid.uuid4().hex}")

    async def main() -> None:
        a = Broker(settings, redis_url)
        b = Broker(settings, redis_url)
        await a.start()
        await b.start()
        on_a, on_b = a.subscribe(["events"]), b.subscribe(["events"])
        staff_b = b.subscribe(staff=True)
        threading.Thread(target=a.publish, args=("events", {"from": "a"})).start()
        b.publish("events", {"from": "b"})
        b.publish("events.x", {"staff": True}, audience="staff")
        got_a = await _take(on_a, 2)
        got_b = await _take(on_b, 2)
        # the same events, the same ids, the same order, wherever they were published
        assert [(e.id, e.topic, e.data) for e in got_a] == [(e.id, e.topic, e.data) for e in got_b]
        assert {e.data["from"] for e in got_a} == {"a", "b"}
        staff = await _take(staff_b, 3)
        assert [e.audience for e in staff].count("staff") == 1  # and only staff saw it
        assert sorted(e.id for e in staff) == list(range(staff[0].id, staff[0].id + 3))
        await asyncio.sleep(0.05)
        assert on_a._queue.empty() and on_b._queue.empty()
        await a.aclose()
        await b.aclose()

    asyncio.run(main())
