"""The live city: one stream of events to every open map (``GET /api/events``, server-sent
events), fed by the domains through :func:`publish`.

A domain service publishes what changed — a city event posted, an appeal answered — with
``twin.live.publish("events", {...})`` from whatever thread it runs in; the call never waits.
The app's lifespan runs one :class:`Broker` per process and installs it; with
``TWIN_REDIS_URL`` set the brokers of all server processes share one Redis pub/sub channel, so
a change made through one process reaches the maps connected to every other. Subscribers (the
stream's connections, or anything else on the event loop) use :meth:`Broker.subscribe`.

Topics are short dotted names (``events``, ``events.closed``, ``appeals``); a subscription to
``events`` also receives ``events.*``. Public events go to everyone, so they must carry nothing
planner-only; ``audience="staff"`` reaches planner and admin streams only.

No HTTP here: the stream's endpoint is :mod:`twin.api.events`.
"""

from twin.live.broker import (
    Broker,
    LiveEvent,
    Subscription,
    check_topic,
    current,
    install,
    publish,
    topic_matches,
    uninstall,
)

__all__ = [
    "Broker",
    "LiveEvent",
    "Subscription",
    "check_topic",
    "current",
    "install",
    "publish",
    "topic_matches",
    "uninstall",
]
