"""A PostGIS store's URL as SQLAlchemy and as libpq take it."""

from __future__ import annotations


def engine_url(url: str) -> str:
    """Return ``url`` with the psycopg 3 driver named (``postgresql+psycopg://``)."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def libpq_url(url: str) -> str:
    """Return a store URL as libpq takes it (``postgresql://``, no SQLAlchemy driver name)."""
    return "postgresql://" + engine_url(url).removeprefix("postgresql+psycopg://")
