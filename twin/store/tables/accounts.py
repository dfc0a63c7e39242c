"""Tables of resident accounts (:mod:`twin.accounts`): the accounts, their pending verification
codes and their sessions and API tokens.

Nothing secret is stored in the clear: passwords are argon2 hashes, codes and tokens are
SHA-256 digests of high-entropy (tokens) or short-lived, attempt-limited (codes) values, so a
copy of the database signs nobody in. Times are Unix seconds (floats), which both stores
compare the same way.
"""

from __future__ import annotations

import sqlalchemy as sa


def add_tables(metadata: sa.MetaData) -> None:
    """Add ``accounts``, ``account_codes`` and ``account_tokens`` to ``metadata``."""
    sa.Table(
        "accounts",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        # normalised e-mail (lower case) or phone (+digits); "deleted:<id>" once deleted
        sa.Column("login", sa.String(320), nullable=False, unique=True),
        sa.Column("login_kind", sa.String(8), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False, default="resident"),
        sa.Column("display_name", sa.String(80), nullable=True),
        sa.Column("verified", sa.Boolean, nullable=False, default=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("deleted_at", sa.Float, nullable=True),
        sa.Column("failed_signins", sa.Integer, nullable=False, default=0),
        sa.Column("locked_until", sa.Float, nullable=True),
    )
    sa.Table(
        "account_codes",
        metadata,
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, default=0),
    )
    sa.Table(
        "account_tokens",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        # "session" (a browser cookie, with a CSRF token) or "bearer" (an API client)
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("csrf_hash", sa.String(64), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
