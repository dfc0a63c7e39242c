"""Tables of the city events (issue 19): emergencies, utility outages, road closures and
planned works, each time-bounded, and the updates staff post on them.

The geometry is kept as WKB with its bounding box rather than as a spatial column: events are
few (hundreds a week, not millions), every query is "which events meet this place and this
time" answered from the box columns and then exactly in shapely, and a plain binary column
reads the same on both stores without backend-specific SQL. Times are UTC without a zone
(both stores compare them the same way); the domain converts to and from Asia/Almaty.
"""

from __future__ import annotations

import sqlalchemy as sa


def add_event_tables(metadata: sa.MetaData) -> None:
    """Add ``city_events`` and ``city_event_updates`` to ``metadata``."""
    sa.Table(
        "city_events",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        # where the event came from: "staff" for posted events, else the loaded source's id;
        # (source, source_id) is the upsert key of file loads
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, default=""),
        sa.Column("address", sa.Text, nullable=False, default=""),
        sa.Column("starts_at", sa.DateTime, nullable=False),
        # NULL: open-ended (until staff close it)
        sa.Column("ends_at", sa.DateTime),
        sa.Column("geom_wkb", sa.LargeBinary, nullable=False),
        sa.Column("geom_type", sa.Text, nullable=False),
        sa.Column("minx", sa.Double, nullable=False),
        sa.Column("miny", sa.Double, nullable=False),
        sa.Column("maxx", sa.Double, nullable=False),
        sa.Column("maxy", sa.Double, nullable=False),
        # the source's own public fields (JSON object)
        sa.Column("properties", sa.Text, nullable=False, default="{}"),
        sa.Column("source_url", sa.Text, nullable=False, default=""),
        sa.Column("licence", sa.Text, nullable=False, default=""),
        # staff-only remark: never in a public answer or on the public stream
        sa.Column("note", sa.Text, nullable=False, default=""),
        sa.Column("version", sa.Integer, nullable=False, default=1),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False, default=""),
        sa.UniqueConstraint("source", "source_id", name="uq_city_events_source"),
        sa.Index("ix_city_events_time", "starts_at", "ends_at"),
    )
    sa.Table(
        "city_event_updates",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "event_id",
            sa.Integer,
            sa.ForeignKey("city_events.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        # the public text of the update ("crews on site", "supply restored")
        sa.Column("text", sa.Text, nullable=False, default=""),
        # which fields changed (JSON list of names)
        sa.Column("changed", sa.Text, nullable=False, default="[]"),
        sa.Column("author", sa.Text, nullable=False, default=""),
    )
