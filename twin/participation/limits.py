"""Per-account and per-address limits on residents' writes, with the ``limits`` library.

Each write names an action ("rate", "initiative", "report", "signup" …); a request counts once
against its account (when signed in) and once against its client address. One process keeps
the counters in memory; with ``TWIN_REDIS_URL`` every server process shares them in Redis,
so a client cannot multiply its allowance by being balanced across processes. A refused
write raises :class:`RateLimited` with the seconds until the window lets it through.
"""

from __future__ import annotations

import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from twin.core.errors import RateLimited

#: action -> (per account, per address); "a/b" strings in the ``limits`` notation
DEFAULT_LIMITS: dict[str, tuple[str, str]] = {
    "signup": ("5/hour", "20/hour"),
    "signin": ("20/minute", "60/minute"),
    "rate": ("60/minute", "600/minute"),
    "react": ("120/minute", "1200/minute"),
    "initiative": ("10/hour", "60/hour"),
    "support": ("60/minute", "600/minute"),
    "report": ("20/hour", "200/hour"),
    "photo": ("30/hour", "200/hour"),
}


def _scaled(item: RateLimitItem, scale: float) -> RateLimitItem:
    if scale == 1.0:
        return item
    return type(item)(max(1, round(item.amount * scale)), item.multiples, item.namespace)


class WriteLimits:
    """The limits of every write action, in memory or in Redis at ``redis_url``."""

    def __init__(
        self,
        redis_url: str | None = None,
        limits: dict[str, tuple[str, str]] | None = None,
        key_prefix: str = "twin:limits",
        scale: float = 1.0,
    ) -> None:
        self.storage: Storage = (
            RedisStorage(redis_url, key_prefix=key_prefix) if redis_url else MemoryStorage()
        )
        self.limiter = MovingWindowRateLimiter(self.storage)
        #: counted in this process's memory (no I/O: callable from the event loop)
        self.in_memory = redis_url is None
        self.items: dict[str, tuple[RateLimitItem, RateLimitItem]] = {
            action: (_scaled(parse(per_account), scale), _scaled(parse(per_address), scale))
            for action, (per_account, per_address) in (limits or DEFAULT_LIMITS).items()
        }

    def hit(self, action: str, account_id: int | None, address: str | None) -> None:
        """Count one ``action`` against the account and the address; raise
        :class:`RateLimited` (nothing counted further) when either is over its limit."""
        per_account, per_address = self.items[action]
        checks: list[tuple[RateLimitItem, str, str]] = []
        if account_id is not None:
            checks.append((per_account, "account", str(account_id)))
        if address:
            checks.append((per_address, "address", address))
        for item, scope, who in checks:
            if not self.limiter.hit(item, action, scope, who):
                reset = self.limiter.get_window_stats(item, action, scope, who).reset_time
                raise RateLimited(
                    f"too many {action} requests from this {scope} "
                    f"(at most {item.amount} per {item.get_expiry()} s); try again later",
                    reset - time.time(),
                )

    def reset(self) -> None:
        """Forget every counter (tests, or an operator after an incident)."""
        self.storage.reset()
