"""Metering of business analyses: each call costs its analysis' weight in units, charged
against the organisation's quota of the UTC day and of the UTC month before the work runs,
refunded when the work fails, and recorded as usage when it has answered.

The counters live in memory (one process, the embedded default) or in Redis
(``TWIN_REDIS_URL``: every server process charges the same counters). Written here rather
than with the ``limits`` library that limits residents' writes: a plan's quota is a calendar
quota (it resets at 00:00 UTC and on the 1st, as the usage page and an invoice count), while
``limits``' windows start at their first hit, and a failed batch must give its units back,
which ``limits`` has no call for. In Redis a charge is one Lua script (both windows checked
and counted atomically, or neither), one round trip.

**A repeat is free.** The same analysis with the same inputs (:func:`twin.api.metering.fingerprint`:
the path, the query without what only shapes the answer — ``top``, ``lang``, ``format``,
``label``, ``filename`` — and a batch's file) is charged once per UTC day, the quota's window;
asked again that day it answers, counts as a call in the usage, and costs 0 units, even
over quota. As a commercial API bills a cached answer: re-rendering a page, reloading it,
a second tab, or the HTML and then the PDF of one report cost the customer nothing new,
and the twin did no new work for most of them (the ranking is kept per store version). A
request that failed is forgotten with its refund, so asking again is charged again. The
day's fingerprints are a Redis set beside the counters, checked and added in the same Lua
script (so two processes agree), or a set in memory.

The answer's headers say where the caller stands in whichever window is closer to its end
of quota: ``X-RateLimit-Limit`` (units), ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` (seconds until that window starts again); over quota the call is
refused before any work with :class:`~twin.core.errors.RateLimited` (429, ``Retry-After``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from twin.business.orgs import SESSION_KEY, Organisations, utc_day
from twin.business.plans import Plan, Plans
from twin.core.errors import Forbidden, RateLimited, TooLarge

# KEYS: day counter, month counter, the day's set of requests charged; ARGV: units, day
# limit, month limit, day ttl, month ttl, the request's fingerprint ('' for none).
# Returns {day used, month used, charged (1) / refused (0) / a repeat, free (2)}: nothing is
# counted unless both fit.
_CHARGE = """
local d = tonumber(redis.call('GET', KEYS[1]) or '0')
local m = tonumber(redis.call('GET', KEYS[2]) or '0')
if ARGV[6] ~= '' and redis.call('SISMEMBER', KEYS[3], ARGV[6]) == 1 then
  return {d, m, 2}
end
local units = tonumber(ARGV[1])
if d + units > tonumber(ARGV[2]) or m + units > tonumber(ARGV[3]) then
  return {d, m, 0}
end
d = redis.call('INCRBY', KEYS[1], units)
m = redis.call('INCRBY', KEYS[2], units)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[5])
if ARGV[6] ~= '' then
  redis.call('SADD', KEYS[3], ARGV[6])
  redis.call('EXPIRE', KEYS[3], ARGV[4])
end
return {d, m, 1}
"""


def windows(now: float) -> tuple[str, str, float, float]:
    """Return the day and month of ``now`` (UTC) and the seconds until each ends."""
    t = datetime.fromtimestamp(now, UTC)
    day_start = t.replace(hour=0, minute=0, second=0, microsecond=0)
    next_day = day_start.timestamp() + 86400
    month_start = day_start.replace(day=1)
    if month_start.month == 12:
        next_month = month_start.replace(year=month_start.year + 1, month=1)
    else:
        next_month = month_start.replace(month=month_start.month + 1)
    return (
        t.strftime("%Y%m%d"),
        t.strftime("%Y%m"),
        next_day - now,
        next_month.timestamp() - now,
    )


class QuotaCounter:
    """Units used per organisation per UTC day and month, in memory or in Redis."""

    def __init__(
        self,
        redis_url: str | None = None,
        key_prefix: str = "twin:quota",
        now: Callable[[], float] = time.time,
    ) -> None:
        self.prefix = key_prefix
        self.now = now
        self._lock = threading.Lock()
        self._mem: dict[str, int] = {}
        self._seen: dict[str, set[str]] = {}  # the day's counter key -> requests charged
        self._redis: Any = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url)
            self._charge = self._redis.register_script(_CHARGE)

    def _keys(self, org_id: int, day: str, month: str) -> tuple[str, str]:
        return f"{self.prefix}:{org_id}:d:{day}", f"{self.prefix}:{org_id}:m:{month}"

    def _seen_key(self, keys: tuple[str, str]) -> str:
        return keys[0] + ":seen"

    def charge(
        self, org_id: int, units: int, day_limit: int, month_limit: int, fingerprint: str = ""
    ) -> tuple[bool, int, int, tuple[str, str], float, float, bool]:
        """Count ``units`` if both windows have room; return ``(charged, day used, month
        used, the counters' keys, seconds left of the day, of the month, repeat)``.

        A ``fingerprint`` already charged today is a repeat: let through, counted nothing."""
        day, month, day_left, month_left = windows(self.now())
        keys = self._keys(org_id, day, month)
        if self._redis is not None:
            d, m, ok = self._charge(
                keys=[*keys, self._seen_key(keys)],
                args=[units, day_limit, month_limit, int(day_left) + 60, int(month_left) + 60,
                      fingerprint],
            )  # fmt: skip
            return ok != 0, int(d), int(m), keys, day_left, month_left, ok == 2
        with self._lock:
            if keys[0] not in self._mem:
                # a new day: forget the counters of days and months gone by, and the day's
                # requests
                self._mem = {
                    k: v for k, v in self._mem.items() if k.endswith((f":{day}", f":{month}"))
                }
                self._seen = {k: v for k, v in self._seen.items() if k == keys[0]}
            d, m = self._mem.get(keys[0], 0), self._mem.get(keys[1], 0)
            seen = self._seen.setdefault(keys[0], set())
            if fingerprint and fingerprint in seen:
                return True, d, m, keys, day_left, month_left, True
            if d + units > day_limit or m + units > month_limit:
                return False, d, m, keys, day_left, month_left, False
            self._mem[keys[0]] = d + units
            self._mem[keys[1]] = m + units
            if fingerprint:
                seen.add(fingerprint)
            return True, d + units, m + units, keys, day_left, month_left, False

    def refund(self, keys: tuple[str, str], units: int, fingerprint: str = "") -> None:
        """Give back ``units`` charged to the counters ``keys`` (and forget ``fingerprint``:
        a failed request is charged again when asked again)."""
        if self._redis is not None:
            with self._redis.pipeline() as pipe:
                for k in keys:
                    pipe.decrby(k, units)
                if fingerprint:
                    pipe.srem(self._seen_key(keys), fingerprint)
                pipe.execute()
            return
        with self._lock:
            for k in keys:
                if k in self._mem:
                    self._mem[k] = max(0, self._mem[k] - units)
            if fingerprint:
                self._seen.get(keys[0], set()).discard(fingerprint)

    def used(self, org_id: int) -> tuple[int, int, float, float]:
        """Return the units used today and this month, and the seconds until each resets."""
        day, month, day_left, month_left = windows(self.now())
        keys = self._keys(org_id, day, month)
        if self._redis is not None:
            d, m = self._redis.mget(keys)
            return int(d or 0), int(m or 0), day_left, month_left
        with self._lock:
            return self._mem.get(keys[0], 0), self._mem.get(keys[1], 0), day_left, month_left

    def reset(self) -> None:
        """Forget every counter (tests)."""
        if self._redis is not None:
            for k in self._redis.scan_iter(f"{self.prefix}:*"):
                self._redis.delete(k)
        with self._lock:
            self._mem.clear()
            self._seen.clear()


def quota_headers(
    plan: Plan, day_used: int, month_used: int, day_left: float, month_left: float
) -> dict[str, str]:
    """Return ``X-RateLimit-*`` for the window with fewer units left (the day on a tie)."""
    day_rem = max(0, plan.day - day_used)
    month_rem = max(0, plan.month - month_used)
    if month_rem < day_rem:
        limit, remaining, reset = plan.month, month_rem, month_left
    else:
        limit, remaining, reset = plan.day, day_rem, day_left
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(max(1, int(reset + 0.999))),
    }


@dataclass(frozen=True)
class Charge:
    """Units charged to an organisation for one call, until it is settled or refunded."""

    org_id: int
    key_id: str | None
    analysis: str
    units: int
    keys: tuple[str, str]
    headers: dict[str, str]
    #: the request's fingerprint (empty: none); a repeat of a request charged today costs 0
    fingerprint: str = ""
    repeat: bool = False


#: seconds an organisation's plan is trusted before it is read again (a staff change is seen
#: at once in the process that made it, within this in the others)
PLAN_SECONDS = 5.0
#: seconds between writes of the gathered usage to the store
FLUSH_SECONDS = 1.0


@dataclass
class Meter:
    """Plans, organisations and the counters together: what a metered route asks.

    Why usage is gathered and written once a second rather than per call: the quota is
    enforced by the counters, and a store write per call (a SQLite write transaction) was
    the p99 of metering — 16 ms under load in ``bench.metering`` against 0.4 ms at p50. A
    process that dies loses at most its last second of usage rows, never a quota check.
    """

    orgs: Organisations
    plans: Plans
    counter: QuotaCounter
    #: off: no plan check, no charge, no usage (the bench's side-by-side floor)
    enabled: bool = True
    _plan_cache: dict[int, tuple[str, float]] = field(default_factory=dict, repr=False)
    _pending: dict[tuple[int, str, str, str], list[int]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    #: one flush at a time, held while it writes: a reader's flush (the usage page) waits
    #: for the background one in flight, which had taken the calls it would have written
    #: (the usage page read 0 calls after an answered call, once in a CI run on PostGIS)
    _flushing: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def plan(self, org_id: int) -> Plan:
        """Return the organisation's plan (read at most every :data:`PLAN_SECONDS`)."""
        now = time.monotonic()
        hit = self._plan_cache.get(org_id)
        if hit is None or hit[1] < now:
            name = self.orgs.plan_of(org_id)
            if len(self._plan_cache) > 10_000:
                self._plan_cache.clear()
            self._plan_cache[org_id] = (name, now + PLAN_SECONDS)
            return self.plans.get(name)
        return self.plans.get(hit[0])

    def forget(self, org_id: int) -> None:
        """Drop the organisation's kept plan (after staff changed it)."""
        self._plan_cache.pop(org_id, None)

    def start_flushing(self) -> None:
        """Write gathered usage every :data:`FLUSH_SECONDS` in a thread (the app's lifespan)."""

        def loop() -> None:
            while not self._stop.wait(FLUSH_SECONDS):
                self.flush()

        self._thread = threading.Thread(target=loop, name="usage-flush", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the flushing thread and write what is left."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()

    def flush(self) -> None:
        """Write the usage gathered since the last flush (after any flush in flight ends)."""
        with self._flushing:
            with self._lock:
                pending, self._pending = self._pending, {}
            rows = [(*k, v[0], v[1]) for k, v in pending.items()]
            try:
                self.orgs.record_many(rows)
            except Exception:
                with self._lock:  # keep them for the next flush
                    for k, v in pending.items():
                        got = self._pending.setdefault(k, [0, 0])
                        got[0] += v[0]
                        got[1] += v[1]
                raise

    def start(
        self,
        org_id: int,
        key_id: str | None,
        analysis: str,
        rows: int | None = None,
        fingerprint: str = "",
    ) -> Charge | None:
        """Check that the plan unlocks ``analysis`` (403 naming the plan) and allows
        ``rows`` (413), then charge its units (429 over quota); None when metering is off.

        A ``fingerprint`` (:func:`twin.api.metering.fingerprint`: the same analysis with the
        same inputs) the organisation was charged for today is a repeat: answered, recorded
        as a call, charged 0 units — even when the quota is used up."""
        if not self.enabled:
            return None
        plan = self.plan(org_id)
        if analysis not in plan.analyses:
            others = ", ".join(self.plans.unlocking(analysis)) or "none"
            raise Forbidden(
                f"the {plan.name} plan does not include the {analysis} analysis "
                f"(plans that do: {others})"
            )
        weight = self.plans.weights[analysis]
        if rows is not None:
            if rows > plan.batch_rows:
                raise TooLarge(
                    f"{rows} rows are more than the {plan.name} plan allows in one batch "
                    f"({plan.batch_rows})"
                )
            weight *= max(1, rows)
        ok, d, m, keys, day_left, month_left, repeat = self.counter.charge(
            org_id, weight, plan.day, plan.month, fingerprint
        )
        headers = quota_headers(plan, d, m, day_left, month_left)
        if repeat:
            return Charge(org_id, key_id, analysis, 0, keys, headers, fingerprint, True)
        if not ok:
            over_day = d + weight > plan.day
            window, quota, left = (
                ("day", plan.day, day_left) if over_day else ("month", plan.month, month_left)
            )
            if over_day and m + weight > plan.month:
                left = month_left  # both are spent: the month's end lets it through
            raise RateLimited(
                f"the {plan.name} plan's quota of {quota} units a {window} is used up "
                f"({d if over_day else m} used, this {analysis} call costs {weight}); "
                f"it resets in {int(left)} s",
                left,
                headers | {"X-RateLimit-Reset": str(max(1, int(left + 0.999)))},
            )
        return Charge(org_id, key_id, analysis, weight, keys, headers, fingerprint)

    def refund(self, charge: Charge | None) -> None:
        """Give a failed call's units back (it bills nothing)."""
        if charge is not None and not charge.repeat:
            self.counter.refund(charge.keys, charge.units, charge.fingerprint)

    def settle(self, charge: Charge | None) -> None:
        """Record an answered call as usage (written at the next flush)."""
        if charge is None:
            return
        key = (charge.org_id, charge.key_id or SESSION_KEY, utc_day(time.time()), charge.analysis)
        with self._lock:
            got = self._pending.setdefault(key, [0, 0])
            got[0] += 1
            got[1] += charge.units

    def status(self, org_id: int) -> dict[str, Any]:
        """Return the organisation's plan and where it stands in today's and this month's
        quota."""
        plan = self.plan(org_id)
        d, m, day_left, month_left = self.counter.used(org_id)
        return {
            "plan": plan.summary(self.plans.weights),
            "day": {"limit": plan.day, "used": d, "remaining": max(0, plan.day - d),
                    "reset": int(day_left + 0.999)},
            "month": {"limit": plan.month, "used": m, "remaining": max(0, plan.month - m),
                      "reset": int(month_left + 0.999)},
        }  # fmt: skip
