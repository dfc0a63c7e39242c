"""Tables of business customers (:mod:`twin.business`, issue 21): organisations with a plan,
their members (accounts of role ``business``), their own API keys and their metered usage.

An organisation key is ``twb_<id>_<secret>``, kept as the secret's SHA-256 digest (a fast
hash is right for a 256-bit random secret; argon2 is for passwords people choose), shown once
when made; a revoked key keeps its row (who made it, when it ended) and no longer verifies.
Usage is one row per organisation, key (``session`` for a signed-in member), UTC day and
analysis, counted up when an analysis has answered — what the usage page and its CSV read.
"""

from __future__ import annotations

import sqlalchemy as sa


def add_tables(metadata: sa.MetaData) -> None:
    """Add ``organisations``, ``org_members``, ``org_keys`` and ``org_usage``."""
    sa.Table(
        "organisations",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        # a plan declared in twin/business/plans.toml (free, standard, premium …)
        sa.Column("plan", sa.String(32), nullable=False, default="free"),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    sa.Table(
        "org_members",
        metadata,
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "org_id",
            sa.Integer,
            sa.ForeignKey("organisations.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        # "owner" (signed the organisation up) or "member"
        sa.Column("role", sa.String(16), nullable=False, default="owner"),
    )
    sa.Table(
        "org_keys",
        metadata,
        sa.Column("key_id", sa.String(16), primary_key=True),
        sa.Column(
            "org_id",
            sa.Integer,
            sa.ForeignKey("organisations.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("label", sa.String(200), nullable=False, default=""),
        sa.Column("created_by", sa.Integer, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float, nullable=True),
    )
    sa.Table(
        "org_usage",
        metadata,
        sa.Column(
            "org_id",
            sa.Integer,
            sa.ForeignKey("organisations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        # an org key's id, or "session" for a signed-in member
        sa.Column("key_id", sa.String(16), primary_key=True),
        # the UTC day, YYYY-MM-DD
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("analysis", sa.String(32), primary_key=True),
        sa.Column("calls", sa.Integer, nullable=False, default=0),
        sa.Column("units", sa.Integer, nullable=False, default=0),
    )
