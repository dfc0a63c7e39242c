"""Tables of residents' participation (:mod:`twin.participation`): ratings with reviews,
likes and dislikes on the catalog's ratable features, initiatives and their supports, reports
and the moderation log.

One rating and one reaction per resident per feature, and one support and one report per
resident per target, are unique constraints here, so concurrent requests cannot double-count
whatever the service does. Times are Unix seconds (floats), compared alike on both stores.
An initiative's geometry is kept as GeoJSON text with its envelope: it is a resident's point
or drawn area, read back whole, filtered by envelope, never joined spatially in SQL.
"""

from __future__ import annotations

import sqlalchemy as sa


def _account() -> sa.Column[int]:
    return sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False)


def add_tables(metadata: sa.MetaData) -> None:
    """Add the participation tables to ``metadata`` (after the accounts tables)."""
    sa.Table(
        "ratings",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("layer", sa.String(64), nullable=False),
        sa.Column("fid", sa.Integer, nullable=False),
        _account(),
        sa.Column("stars", sa.Integer, nullable=False),
        sa.Column("review", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("hidden", sa.Boolean, nullable=False, default=False),
        sa.UniqueConstraint("layer", "fid", "account_id", name="ratings_one_per_resident"),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name="ratings_stars_1_to_5"),
        sa.Index("ratings_object", "layer", "fid"),
    )
    sa.Table(
        "reactions",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("layer", sa.String(64), nullable=False),
        sa.Column("fid", sa.Integer, nullable=False),
        _account(),
        # +1 like, -1 dislike
        sa.Column("value", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("layer", "fid", "account_id", name="reactions_one_per_resident"),
        sa.CheckConstraint("value IN (-1, 1)", name="reactions_like_or_dislike"),
        sa.Index("reactions_object", "layer", "fid"),
    )
    # Each feature's aggregate, kept by triggers on ``ratings`` and ``reactions`` in the
    # writer's own statement (twin.store.triggers): a write adds its delta instead of a
    # GROUP BY over the feature's rows, and tiles join one row per feature.
    zero = sa.text("0")
    sa.Table(
        "rating_aggregates",
        metadata,
        sa.Column("layer", sa.String(64), primary_key=True),
        sa.Column("fid", sa.Integer, primary_key=True, autoincrement=False),
        *(
            sa.Column(f"stars_{k}", sa.Integer, nullable=False, server_default=zero)
            for k in range(1, 6)
        ),
        # number of ratings and the sum of their stars
        sa.Column("ratings", sa.Integer, nullable=False, server_default=zero),
        sa.Column("stars_total", sa.Integer, nullable=False, server_default=zero),
        sa.Column("likes", sa.Integer, nullable=False, server_default=zero),
        sa.Column("dislikes", sa.Integer, nullable=False, server_default=zero),
    )
    sa.Table(
        "initiatives",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _account(),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("geometry", sa.Text, nullable=False),
        sa.Column("minx", sa.Float, nullable=False),
        sa.Column("miny", sa.Float, nullable=False),
        sa.Column("maxx", sa.Float, nullable=False),
        sa.Column("maxy", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.Text, nullable=True),
        sa.Column("supports", sa.Integer, nullable=False, default=0),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("hidden", sa.Boolean, nullable=False, default=False),
        sa.Index("initiatives_created", "created_at"),
    )
    sa.Table(
        "initiative_supports",
        metadata,
        sa.Column(
            "initiative_id",
            sa.Integer,
            sa.ForeignKey("initiatives.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    # Photos uploaded (POST /api/photos) and not yet attached to anything: the sweep of
    # twin.photos.sweep deletes those older than its limit, file and row; attaching one to an
    # initiative deletes its row (the photo is then kept by the reference).
    sa.Table(
        "photo_uploads",
        metadata,
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("account_id", sa.Integer, nullable=True),
        sa.Column("uploaded_at", sa.Float, nullable=False, index=True),
    )
    # An initiative's photos (twin.photos: files named by content hash), in the order given.
    sa.Table(
        "initiative_photos",
        metadata,
        sa.Column(
            "initiative_id",
            sa.Integer,
            sa.ForeignKey("initiatives.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(80), nullable=False),
    )
    sa.Table(
        "initiative_history",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "initiative_id",
            sa.Integer,
            sa.ForeignKey("initiatives.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        # "resident" for the proposal, else the staff role and key id that decided
        sa.Column("by", sa.String(80), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    sa.Table(
        "reports",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        # "rating" (a review) or "initiative"
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target_id", sa.Integer, nullable=False),
        _account(),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("details", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        # set when a moderator decided on the target; only open reports count towards hiding
        sa.Column("resolved_at", sa.Float, nullable=True),
        sa.UniqueConstraint("kind", "target_id", "account_id", name="reports_one_per_resident"),
        sa.Index("reports_target", "kind", "target_id"),
    )
    # Append-only: the service inserts and reads, nothing updates or deletes.
    sa.Table(
        "moderation_log",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("by", sa.String(80), nullable=False),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target_id", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
    )
