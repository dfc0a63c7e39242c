"""Tables of the participatory budget (:mod:`twin.budget`): cycles, residents' applications
(the projects on the ballot), ballots and the projects each ballot approves.

Why these shapes:

* a cycle is one district's year with its money and its counting rule; ``(year, district)`` is
  unique, so a district cannot run two budgets for one year by accident;
* ``budget_ballots`` has a UNIQUE ``(cycle_id, account_id)``: one ballot per resident per
  district cycle is a fact the store enforces, not a check a racing request could slip past.
  Generated demo ballots have no account (NULL, which the constraint lets through) and are
  flagged ``synthetic``;
* a ballot's approvals are rows (``budget_ballot_items``), so counts are one GROUP BY and a
  change of mind replaces the rows inside one transaction;
* a project's place is GeoJSON text (point or area) plus its centre's lon/lat, which both
  stores keep the same way; the map draws it from there.

Money is whole tenge (integers: costs and budgets never need fractions, and exact integers
keep the counting rules exact). Times are Unix seconds; the phase plan is calendar dates.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

#: integer money: BIGINT on PostGIS, SQLite's (64-bit) INTEGER in the GeoPackage
_MONEY: sa.types.TypeEngine[Any] = sa.BigInteger().with_variant(sa.Integer(), "geopackage")


def add_tables(metadata: sa.MetaData) -> None:
    """Add ``budget_cycles``, ``budget_applications``, ``budget_outcomes``,
    ``budget_ballots``, ``budget_ballot_items`` and ``budget_phase_changes`` to
    ``metadata``."""
    sa.Table(
        "budget_cycles",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("district", sa.Text, nullable=False),
        sa.Column("budget_kzt", _MONEY, nullable=False),
        # "greedy" | "mes" (twin.core.budget_counting.RULES)
        sa.Column("rule", sa.String(16), nullable=False),
        # applications | review | voting | results | implementation | done
        sa.Column("phase", sa.String(16), nullable=False),
        # the planned start of each phase after the first (the calendar residents see)
        sa.Column("applications_from", sa.Date, nullable=False),
        sa.Column("review_from", sa.Date, nullable=False),
        sa.Column("voting_from", sa.Date, nullable=False),
        sa.Column("results_from", sa.Date, nullable=False),
        sa.Column("implementation_from", sa.Date, nullable=False),
        sa.Column("done_from", sa.Date, nullable=False),
        sa.Column("synthetic", sa.Boolean, nullable=False, default=False),
        sa.Column("created_at", sa.Float, nullable=False),
        # when the votes were counted (phase results), and how many ballots were counted
        sa.Column("counted_at", sa.Float, nullable=True),
        sa.Column("ballots_counted", sa.Integer, nullable=True),
        sa.UniqueConstraint("year", "district", name="uq_budget_cycles_year_district"),
    )
    sa.Table(
        "budget_applications",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "cycle_id",
            sa.Integer,
            sa.ForeignKey("budget_cycles.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        # the resident who applied (NULL for generated demo projects)
        sa.Column("account_id", sa.Integer, nullable=True, index=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("cost_kzt", _MONEY, nullable=False),
        # GeoJSON geometry (Point or Polygon, EPSG:4326) and its centre
        sa.Column("geometry", sa.Text, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        # submitted | accepted | rejected (after staff review)
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("review_reason", sa.Text, nullable=True),
        sa.Column("checked_cost_kzt", _MONEY, nullable=True),
        sa.Column("reviewed_by", sa.Text, nullable=True),
        sa.Column("submitted_at", sa.Float, nullable=False),
        sa.Column("reviewed_at", sa.Float, nullable=True),
        # set when the votes are counted
        sa.Column("votes", sa.Integer, nullable=True),
        sa.Column("selected", sa.Boolean, nullable=True),
        # the work a winner becomes: progress in per cent and its dates
        sa.Column("progress", sa.Integer, nullable=True),
        sa.Column("work_started", sa.Date, nullable=True),
        sa.Column("work_finished", sa.Date, nullable=True),
        sa.Column("synthetic", sa.Boolean, nullable=False, default=False),
    )
    # the outcome of counting a cycle (winners in the rule's order, votes, why each loser
    # lost), kept as JSON when voting closes so that results are read, never recounted
    sa.Table(
        "budget_outcomes",
        metadata,
        sa.Column(
            "cycle_id",
            sa.Integer,
            sa.ForeignKey("budget_cycles.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("outcome", sa.Text, nullable=False),
    )
    sa.Table(
        "budget_ballots",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "cycle_id",
            sa.Integer,
            sa.ForeignKey("budget_cycles.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("account_id", sa.Integer, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("synthetic", sa.Boolean, nullable=False, default=False),
        sa.UniqueConstraint("cycle_id", "account_id", name="uq_budget_ballots_cycle_account"),
    )
    sa.Table(
        "budget_ballot_items",
        metadata,
        sa.Column(
            "ballot_id",
            sa.Integer,
            sa.ForeignKey("budget_ballots.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "application_id",
            sa.Integer,
            sa.ForeignKey("budget_applications.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
    )
    # when staff actually moved a cycle into a phase, and who (the planned dates stay on the
    # cycle: the calendar residents were promised; these are what happened)
    sa.Table(
        "budget_phase_changes",
        metadata,
        sa.Column(
            "cycle_id",
            sa.Integer,
            sa.ForeignKey("budget_cycles.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("phase", sa.String(16), primary_key=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("by", sa.Text, nullable=False),
    )
