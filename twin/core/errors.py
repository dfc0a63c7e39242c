"""Domain exceptions. The core raises these; the HTTP edge maps them to statuses in one place
(:mod:`twin.api.errors`) and the CLI prints their message."""

from __future__ import annotations

import math


class TwinError(Exception):
    """Base of every error the twin reports to a user. ``code`` is the stable error code."""

    code = "error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BadInput(TwinError):
    """The caller gave something malformed or out of range."""

    code = "bad_input"


class SourceError(BadInput):
    """A whole source file cannot be read: missing, not geodata, truncated, wrong encoding,
    unusable CRS. The message names the file and, where known, the row."""

    code = "bad_source"


class TooLarge(BadInput):
    """The caller sent more than a request may carry (rows, bytes): answered 413."""

    code = "too_large"


class Busy(TwinError):
    """The service is doing as much of this work as it may at once: answered 429 with
    ``Retry-After`` (seconds)."""

    code = "busy"

    def __init__(self, detail: str, retry_after: int = 5) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class NotFound(TwinError):
    """A layer, feature or resource does not exist (or is not visible to the caller)."""

    code = "not_found"


class Unauthorized(TwinError):
    """An API key was sent but is not valid."""

    code = "unauthorized"


class Forbidden(TwinError):
    """The caller's key is valid but its role may not do this (e.g. a resident asking for a
    planner-only analysis)."""

    code = "forbidden"


class Conflict(TwinError):
    """The request clashes with what is stored (a login already taken, a second vote where the
    first should be changed): answered 409."""

    code = "conflict"


class RateLimited(TwinError):
    """Too many requests from this caller or address, or an account locked after failed
    sign-ins: answered 429 with ``Retry-After`` (whole seconds, at least 1)."""

    code = "rate_limited"

    def __init__(
        self, detail: str, retry_after: float, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.retry_after = max(1, math.ceil(retry_after))
        #: more headers for the answer (a plan's quota: ``X-RateLimit-*``)
        self.headers = headers or {}


class Unavailable(TwinError):
    """A worker the request needed stopped unexpectedly (it is being replaced): answered 503
    with ``Retry-After``."""

    code = "unavailable"
    retry_after = 5


class StoreError(TwinError):
    """The store cannot be used as it is (e.g. a schema version this code does not know)."""

    code = "store_error"
