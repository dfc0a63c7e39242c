"""The appeals domain's tables: what an appeal has beyond its row in the ``appeals`` layer.

The ``appeals`` *layer* stays the map's source and the one list of appeals: every appeal,
generated or filed through Open311, is a row there (``fid`` is the Open311
``service_request_id``), with its category, responsible service, status and lifecycle dates, so
tiles, public H3 counts, OGC features and the analyses read one table. Its generated rows were
not migrated anywhere. What must not be in a layer — who wrote an appeal, its text, the timed
history with who changed it, the residents who joined it — is here, keyed by the layer row's
``fid``. A generated appeal has no rows here; its history is read from its lifecycle dates.

Times are ISO 8601 UTC text (``2026-11-27T10:15:00Z``), which sorts and compares the same on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa


def add(metadata: sa.MetaData) -> None:
    """Add the appeals tables to ``metadata``."""
    sa.Table(
        "appeal_requests",
        metadata,
        # the fid of the appeal's row in the appeals layer
        sa.Column("appeal_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("author_account_id", sa.Integer, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("address", sa.Text),
        sa.Column("media_url", sa.Text),
        sa.Column("requested_at", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
        sa.Column("rated_at", sa.Text),
    )
    sa.Table(
        "appeal_history",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("appeal_id", sa.Integer, nullable=False, index=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("service", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("at", sa.Text, nullable=False),
        # who: a role and the account or staff key id (never the key itself)
        sa.Column("by_role", sa.Text, nullable=False),
        sa.Column("by_account_id", sa.Integer),
        sa.Column("by_key_id", sa.Text),
    )
    sa.Table(
        "appeal_followers",
        metadata,
        sa.Column("appeal_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("account_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("joined_at", sa.Text, nullable=False),
    )
