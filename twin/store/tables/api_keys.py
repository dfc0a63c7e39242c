"""Staff API keys, stored hashed (``twin keys create / list / revoke``).

A key is ``twin_<id>_<secret>``: the id (8 hex digits) names it in logs and audit records and
finds its row; the secret (32 random bytes, URL-safe) is shown once, when the key is made, and
only its SHA-256 digest is kept — a fast hash is right for a 256-bit random secret (argon2 is
for passwords people choose), and a copy of the database lets nobody in. The digest is
compared in constant time (:func:`twin.core.access.same_digest`). A revoked key keeps its row
(who had it, when it ended) but no longer verifies.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from twin.core.access import KEY_PREFIX, Role, StoredKey, hash_key
from twin.core.errors import BadInput, NotFound

TABLE = "twin_api_keys"
STAFF_ROLES = ("resident", "planner", "admin", "moderator", "business")


def add_tables(metadata: sa.MetaData) -> None:
    """Add ``twin_api_keys`` to ``metadata``."""
    sa.Table(
        TABLE,
        metadata,
        sa.Column("key_id", sa.String(16), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("label", sa.String(200), nullable=False, default=""),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float, nullable=True),
    )


@dataclass(frozen=True)
class KeyInfo:
    """What ``twin keys list`` shows of a key (never its secret or digest)."""

    key_id: str
    role: str
    label: str
    created_at: float
    revoked_at: float | None


def _table(engine_or_meta: Any) -> sa.Table:
    table: sa.Table = engine_or_meta.tables[TABLE]
    return table


def create_key(store: Any, role: str, label: str = "") -> tuple[str, str]:
    """Create a key for ``role``; return ``(key_id, key)`` — the key is shown this once."""
    if role not in STAFF_ROLES:
        raise BadInput(f"role {role!r} is not one of {', '.join(STAFF_ROLES)}")
    if len(label) > 200:
        raise BadInput("the label is longer than 200 characters")
    key_id = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    with store.engine.begin() as conn:
        conn.execute(
            _table(store.metadata)
            .insert()
            .values(
                key_id=key_id,
                key_hash=hash_key(key),
                role=role,
                label=label,
                created_at=time.time(),
                revoked_at=None,
            )
        )
    return key_id, key


def list_keys(store: Any) -> list[KeyInfo]:
    """Return every key, oldest first (revoked ones too)."""
    t = _table(store.metadata)
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.c.key_id, t.c.role, t.c.label, t.c.created_at, t.c.revoked_at).order_by(
                t.c.created_at, t.c.key_id
            )
        ).all()
    return [KeyInfo(*row) for row in rows]


def revoke_key(store: Any, key_id: str) -> None:
    """Revoke key ``key_id`` (at once: every request looks the key up)."""
    t = _table(store.metadata)
    with store.engine.begin() as conn:
        done = conn.execute(
            t.update()
            .where(t.c.key_id == key_id, t.c.revoked_at.is_(None))
            .values(revoked_at=time.time())
        ).rowcount
    if not done:
        raise NotFound(f"no active key {key_id!r}")


def find_key(store: Any, key_id: str) -> StoredKey | None:
    """Return the stored digest and role of an active key, or None."""
    t = _table(store.metadata)
    with store.engine.connect() as conn:
        row = conn.execute(
            sa.select(t.c.key_hash, t.c.role).where(t.c.key_id == key_id, t.c.revoked_at.is_(None))
        ).first()
    return None if row is None else StoredKey(key_id, Role(row.role), row.key_hash)
