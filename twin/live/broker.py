"""The broker behind the live stream: one per server process, fed from any thread, read by the
stream's subscribers on the event loop.

Why this shape:

* Domain services run in worker threads (FastAPI's thread pool, CLI loads) and must not wait
  for a slow browser or for Redis, so :meth:`Broker.publish` only serialises the payload and
  hands it to the event loop with ``call_soon_threadsafe``; everything else happens there.
* Every subscriber has a bounded queue. A client that falls behind by more than
  ``LiveSettings.queue_size`` events is dropped — its queue emptied, its stream ended — and its
  browser reconnects with ``Last-Event-ID`` and resumes from the history. A slow phone therefore
  costs the server a bounded amount of memory, never an unbounded backlog.
* Ids are integers that only grow: in one process a counter started from the clock (so a
  restarted server never reuses an id a browser still holds); with ``TWIN_REDIS_URL`` one Redis
  counter, incremented in the same script that publishes on the channel, so every process
  delivers the same event under the same id and a browser may resume on another process.
* With Redis, the publishing process hears its own events back from the channel like every
  other process, so all processes deliver them in the same order with the same ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from twin.core.errors import BadInput
from twin.core.settings import LiveSettings

log = logging.getLogger("twin.live")

Audience = Literal["public", "staff"]
AUDIENCES: frozenset[str] = frozenset({"public", "staff"})
TOPIC = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
#: Events waiting to be sent to Redis (a Redis outage drops what does not fit, logged).
OUTBOX_SIZE = 10_000

# One script: assign the next id and publish under it, atomically, in one round trip. The
# counter starts from the clock the first time so ids never go back after a Redis restart.
_PUBLISH_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[3]) end
local id = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[1], string.format('%d', id) .. ' ' .. ARGV[2])
return id
"""


def _clock_id() -> int:
    """A starting id above any id issued before (microseconds since the epoch)."""
    return time.time_ns() // 1000


def check_topic(topic: str) -> str:
    """Return ``topic`` if it is a valid topic name, else raise :class:`BadInput`."""
    if not isinstance(topic, str) or not TOPIC.match(topic):
        raise BadInput(
            f"topic {str(topic)[:70]!r} is not a topic name (a-z, 0-9, '.', '_', '-', "
            "starting with a letter, at most 64 characters)"
        )
    return topic


def topic_matches(wanted: frozenset[str] | None, topic: str) -> bool:
    """Whether ``topic`` is selected by ``wanted``: itself or a parent (``events`` selects
    ``events`` and ``events.closed``); ``None`` selects everything."""
    if wanted is None:
        return True
    if topic in wanted:
        return True
    parts = topic.split(".")
    return any(".".join(parts[:i]) in wanted for i in range(1, len(parts)))


@dataclass(frozen=True)
class LiveEvent:
    """One event as delivered: its id, topic, audience, time and the JSON payload."""

    id: int
    topic: str
    audience: str
    at: str
    #: the published ``data`` as JSON text (serialised once, sent to every subscriber)
    data_json: str
    #: the server-sent-events frame, encoded once for all subscribers
    frame: bytes = field(repr=False, default=b"")

    @classmethod
    def make(cls, id: int, topic: str, audience: str, at: str, data_json: str) -> LiveEvent:
        body = f'{{"topic":{json.dumps(topic)},"at":"{at}","data":{data_json}}}'
        frame = f"id: {id}\nevent: {topic}\ndata: {body}\n\n".encode()
        return cls(id, topic, audience, at, data_json, frame)

    @property
    def data(self) -> dict[str, Any]:
        """The published payload."""
        out: dict[str, Any] = json.loads(self.data_json)
        return out


_END = object()


class Subscription:
    """One subscriber's view of the stream: iterate it (``async for``) on the event loop.

    The iteration ends when the subscriber is dropped for falling behind (:attr:`dropped`),
    when the broker closes, or after :meth:`close`. :attr:`reset` is true when a resume was
    asked from an id older than the history holds: the client must reload what it shows.
    """

    def __init__(
        self,
        broker: Broker,
        topics: frozenset[str] | None,
        staff: bool,
        queue_size: int,
        backlog: list[LiveEvent],
        reset: bool,
    ) -> None:
        self._broker = broker
        self.topics = topics
        self.staff = staff
        self.reset = reset
        self.dropped = False
        self.closed = False
        self._backlog = deque(backlog)
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=queue_size)

    def wants(self, event: LiveEvent) -> bool:
        """Whether this subscriber receives ``event`` (its topics and audience)."""
        if event.audience == "staff" and not self.staff:
            return False
        return topic_matches(self.topics, event.topic)

    def _offer(self, event: LiveEvent) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped = True
            self._end()

    def _end(self) -> None:
        """Forget what is waiting and wake the reader with the end mark."""
        self.closed = True
        self._broker._discard(self)
        self._backlog.clear()
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(_END)

    def close(self) -> None:
        """Stop receiving (idempotent)."""
        if not self.closed:
            self._end()

    async def next(self) -> LiveEvent | None:
        """Return the next event, or ``None`` when the subscription has ended."""
        if self._backlog:
            return self._backlog.popleft()
        if self.closed and self._queue.empty():
            return None
        item = await self._queue.get()
        if item is _END:
            return None
        event: LiveEvent = item
        return event

    def __aiter__(self) -> AsyncIterator[LiveEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[LiveEvent]:
        while True:
            event = await self.next()
            if event is None:
                return
            yield event

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Broker:
    """Fans published events out to this process's subscribers, through Redis pub/sub when
    ``redis_url`` is given (every process sharing the channel sees every event)."""

    def __init__(self, settings: LiveSettings | None = None, redis_url: str | None = None):
        self.settings = settings or LiveSettings()
        self.redis_url = redis_url
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subs: set[Subscription] = set()
        self._history: deque[LiveEvent] = deque(maxlen=self.settings.history)
        self._last_id = _clock_id()
        self._closed = False
        self._redis: Any = None
        self._pubsub: Any = None
        self._script: Any = None
        self._outbox: asyncio.Queue[tuple[str, str]] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        #: events dropped because the loop was gone or the Redis outbox was full
        self.lost = 0
        #: subscribers dropped for falling behind
        self.dropped = 0

    # -- life -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind to the running event loop; with Redis, connect and subscribe before returning
        (so an event published once the app is up reaches this process)."""
        self._loop = asyncio.get_running_loop()
        if self.redis_url:
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(self.redis_url)
            self._script = self._redis.register_script(_PUBLISH_LUA)
            self._outbox = asyncio.Queue(maxsize=OUTBOX_SIZE)
            self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            await self._pubsub.subscribe(self.settings.channel)
            self._tasks.append(asyncio.create_task(self._send_loop(), name="live-send"))
            self._tasks.append(asyncio.create_task(self._listen_loop(), name="live-listen"))

    async def aclose(self) -> None:
        """End every subscription and the Redis tasks."""
        self._closed = True
        for sub in list(self._subs):
            sub.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):  # closing anyway
                await task
        self._tasks.clear()
        if self._pubsub is not None:
            await self._pubsub.aclose()
        if self._redis is not None:
            await self._redis.aclose()
        self._loop = None

    # -- publishing (any thread) -------------------------------------------------------------

    def publish(
        self, topic: str, data: Mapping[str, Any], *, audience: Audience = "public"
    ) -> None:
        """Hand an event to the stream without waiting; callable from any thread.

        ``data`` must be JSON-serialisable (a bug otherwise: :class:`TypeError` now rather than
        a silent loss later). An event published while no loop runs is counted in :attr:`lost`.
        """
        check_topic(topic)
        if audience not in AUDIENCES:
            raise ValueError(f"audience must be 'public' or 'staff', not {audience!r}")
        data_json = json.dumps(dict(data), ensure_ascii=False, separators=(",", ":"), default=_iso)
        at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        loop = self._loop
        if loop is None or self._closed:
            self.lost += 1
            return
        try:
            loop.call_soon_threadsafe(self._accept, topic, audience, at, data_json)
        except RuntimeError:  # the loop closed under us
            self.lost += 1

    def _accept(self, topic: str, audience: str, at: str, data_json: str) -> None:
        if self._outbox is not None:
            message = json.dumps([topic, audience, at]) + "\n" + data_json
            try:
                self._outbox.put_nowait((topic, message))
            except asyncio.QueueFull:
                self.lost += 1
                log.warning("live: Redis outbox full, event on %r dropped", topic)
            return
        self._last_id += 1
        self._deliver(LiveEvent.make(self._last_id, topic, audience, at, data_json))

    async def _send_loop(self) -> None:
        assert self._outbox is not None
        while True:
            _topic, message = await self._outbox.get()
            try:
                await self._script(
                    keys=[f"{self.settings.channel}:id"],
                    args=[self.settings.channel, message, _clock_id()],
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis away: count, log, go on
                self.lost += 1
                log.warning("live: publishing to Redis failed (%s); event dropped", exc)

    async def _listen_loop(self) -> None:
        while True:
            try:
                async for message in self._pubsub.listen():
                    if message.get("type") == "message":
                        self._receive(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection lost: resubscribe after a pause
                log.warning("live: Redis subscription lost (%s); retrying", exc)
                await asyncio.sleep(0.5)
                with contextlib.suppress(Exception):  # retried on the next turn
                    await self._pubsub.subscribe(self.settings.channel)

    def _receive(self, raw: bytes | str) -> None:
        text = raw.decode() if isinstance(raw, bytes) else raw
        try:
            head, _, data_json = text.partition("\n")
            id_text, _, meta = head.partition(" ")
            topic, audience, at = json.loads(meta)
            event = LiveEvent.make(int(id_text), str(topic), str(audience), str(at), data_json)
        except (ValueError, TypeError):
            log.warning("live: malformed message on %s ignored", self.settings.channel)
            return
        self._last_id = max(self._last_id, event.id)
        self._deliver(event)

    def _deliver(self, event: LiveEvent) -> None:
        self._history.append(event)
        for sub in list(self._subs):
            if sub.wants(event):
                sub._offer(event)
                if sub.dropped:
                    self.dropped += 1

    # -- subscribing (on the loop) -------------------------------------------------------------

    def subscribe(
        self,
        topics: Iterable[str] | None = None,
        *,
        staff: bool = False,
        last_id: int | None = None,
    ) -> Subscription:
        """Return a new subscription to ``topics`` (all when ``None``); ``staff`` also receives
        staff-only events. With ``last_id``, the events after it still in the history come
        first; if some were already forgotten the subscription starts with ``reset`` set."""
        wanted = None if topics is None else frozenset(check_topic(t) for t in topics)
        backlog: list[LiveEvent] = []
        reset = False
        if last_id is not None:
            oldest = self._history[0].id if self._history else self._last_id + 1
            if last_id > self._last_id or last_id < oldest - 1:
                reset = True
            else:
                backlog = [e for e in self._history if e.id > last_id]
        sub = Subscription(self, wanted, staff, self.settings.queue_size, [], reset)
        sub._backlog.extend(e for e in backlog if sub.wants(e))
        if self._closed:
            sub.close()
        else:
            self._subs.add(sub)
        return sub

    def _discard(self, sub: Subscription) -> None:
        self._subs.discard(sub)

    @property
    def subscribers(self) -> int:
        """How many subscriptions are open in this process."""
        return len(self._subs)

    @property
    def last_id(self) -> int:
        """The id of the newest event this process has seen (or its starting id)."""
        return self._last_id


def _iso(value: Any) -> Any:
    """JSON for dates and times in published payloads."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


# -- the process's broker -------------------------------------------------------------------

_installed: list[Broker] = []
_lock = threading.Lock()


def install(broker: Broker) -> None:
    """Make ``broker`` the one :func:`publish` feeds (the app's lifespan does this)."""
    with _lock:
        _installed.append(broker)


def uninstall(broker: Broker) -> None:
    """Undo :func:`install` (the app's lifespan, at shutdown)."""
    with _lock:
        if broker in _installed:
            _installed.remove(broker)


def current() -> Broker | None:
    """The broker :func:`publish` feeds now, if an app is running in this process."""
    with _lock:
        return _installed[-1] if _installed else None


def publish(topic: str, data: Mapping[str, Any], *, audience: Audience = "public") -> None:
    """Publish ``data`` on ``topic`` to every open map: sync, thread-safe, never waits.

    ``audience="staff"`` reaches planner and admin streams only; public events must carry
    nothing planner-only. Without a running app (a CLI load, a unit test) the event has no one
    to reach and is dropped — after the same checks, so a bad topic or payload still fails.
    """
    broker = current()
    if broker is None:
        check_topic(topic)
        json.dumps(dict(data), default=_iso)
        return
    broker.publish(topic, data, audience=audience)
