"""The audit log of edits: who (key id and role) changed which feature, when, and the content
hashes before and after. Append-only: nothing in the twin updates or deletes its rows; admins
read it at ``GET /api/audit``."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

TABLE = "twin_audit"


def add_tables(metadata: sa.MetaData) -> None:
    """Add ``twin_audit`` to ``metadata``."""
    sa.Table(
        TABLE,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("key_id", sa.String(32), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("layer", sa.String(64), nullable=False),
        sa.Column("fid", sa.Integer, nullable=False),
        sa.Column("before_hash", sa.String(64), nullable=True),
        sa.Column("after_hash", sa.String(64), nullable=True),
    )


def record(store: Any, **row: Any) -> None:
    """Append one audit row (``key_id``, ``role``, ``action``, ``layer``, ``fid``, hashes)."""
    with store.engine.begin() as conn:
        conn.execute(store.metadata.tables[TABLE].insert().values(at=time.time(), **row))


def read(store: Any, limit: int = 100) -> list[dict[str, Any]]:
    """Return the newest ``limit`` audit rows, newest first."""
    t = store.metadata.tables[TABLE]
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(t).order_by(t.c.id.desc()).limit(limit)).mappings().all()
    return [dict(r) for r in rows]
