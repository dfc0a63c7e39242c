"""Moderation of what residents write: reports, hiding after three, a moderator's decision,
and an audit log nobody can edit.

As Decidim does: a resident reports a review or an initiative with a reason (once per target);
at three open reports the target is hidden until a moderator decides. The moderator hides it
(for good) or restores it; either decision closes the open reports, so a restored target is
hidden again only by three new reports. Every automatic hide and every decision is appended
to ``moderation_log`` (who, what, when, why); the service has no update or delete of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from twin.core.errors import BadInput, Conflict, NotFound
from twin.participation.text import clean_text
from twin.store import Store

KINDS = ("rating", "initiative")
REASONS = ("spam", "offensive", "personal_data", "off_topic", "other")
DECISIONS = ("hide", "restore")
HIDE_AFTER = 3
DETAILS_MAX = 1000


@dataclass
class Moderation:
    """Reports, the moderator queue and decisions over ``store``."""

    store: Store
    now: Callable[[], float] = time.time
    hide_after: int = HIDE_AFTER

    def __post_init__(self) -> None:
        tables = self.store.metadata.tables
        self.reports = tables["reports"]
        self.log = tables["moderation_log"]
        self.targets = {"rating": tables["ratings"], "initiative": tables["initiatives"]}

    def _target(self, kind: object) -> sa.Table:
        if kind not in KINDS:
            raise BadInput(f"kind: one of {', '.join(KINDS)}")
        return self.targets[str(kind)]

    def report(
        self, account_id: int, kind: object, target_id: int, reason: object, details: object = None
    ) -> bool:
        """Report a review or initiative; return whether it is hidden now."""
        table = self._target(kind)
        if reason not in REASONS:
            raise BadInput(f"reason: one of {', '.join(REASONS)}")
        text = clean_text(details, "details", DETAILS_MAX, required=False)
        rp = self.reports
        now = self.now()
        try:
            with self.store.domain_transaction() as conn:
                row = conn.execute(
                    sa.select(table.c.account_id, table.c.hidden).where(table.c.id == target_id)
                ).first()
                if row is None or row.hidden:
                    raise NotFound(f"no {kind} {target_id}")
                if row.account_id == account_id:
                    raise Conflict(f"you cannot report your own {kind}")
                conn.execute(
                    rp.insert().values(
                        kind=kind,
                        target_id=target_id,
                        account_id=account_id,
                        reason=reason,
                        details=text,
                        created_at=now,
                        resolved_at=None,
                    )
                )
                open_reports = conn.execute(
                    sa.select(sa.func.count()).where(
                        rp.c.kind == kind, rp.c.target_id == target_id, rp.c.resolved_at.is_(None)
                    )
                ).scalar_one()
                hidden = open_reports >= self.hide_after
                if hidden:
                    conn.execute(table.update().where(table.c.id == target_id).values(hidden=True))
                    conn.execute(
                        self.log.insert().values(
                            at=now,
                            by="system",
                            action="auto_hide",
                            kind=kind,
                            target_id=target_id,
                            reason=f"{open_reports} reports",
                        )
                    )
        except sa.exc.IntegrityError as exc:
            raise Conflict(f"you have reported this {kind} already") from exc
        return hidden

    def queue(self, limit: int = 100) -> list[dict[str, Any]]:
        """Return the targets with open reports (hidden first, then most reported)."""
        rp = self.reports
        q = (
            sa.select(
                rp.c.kind,
                rp.c.target_id,
                sa.func.count().label("n"),
                sa.func.min(rp.c.created_at).label("first"),
            )
            .where(rp.c.resolved_at.is_(None))
            .group_by(rp.c.kind, rp.c.target_id)
        )
        out: list[dict[str, Any]] = []
        with self.store.engine.connect() as conn:
            groups = conn.execute(q).all()
            for g in groups:
                table = self.targets[g.kind]
                content = self._content(conn, g.kind, table, g.target_id)
                if content is None:
                    continue
                reasons = conn.execute(
                    sa.select(rp.c.reason, rp.c.details).where(
                        rp.c.kind == g.kind,
                        rp.c.target_id == g.target_id,
                        rp.c.resolved_at.is_(None),
                    )
                ).all()
                out.append(
                    {
                        "kind": g.kind,
                        "id": g.target_id,
                        "reports": g.n,
                        "first_report_at": g.first,
                        "reasons": [{"reason": r, "details": d} for r, d in reasons],
                        **content,
                    }
                )
        out.sort(key=lambda item: (not item["hidden"], -item["reports"], item["first_report_at"]))
        return out[:limit]

    @staticmethod
    def _content(
        conn: sa.Connection, kind: str, table: sa.Table, target_id: int
    ) -> dict[str, Any] | None:
        if kind == "rating":
            row = conn.execute(
                sa.select(
                    table.c.layer, table.c.fid, table.c.stars, table.c.review, table.c.hidden
                ).where(table.c.id == target_id)
            ).first()
            if row is None:
                return None
            return {
                "hidden": bool(row.hidden),
                "text": row.review,
                "object": {"layer": row.layer, "fid": row.fid, "stars": row.stars},
            }
        item = conn.execute(
            sa.select(table.c.title, table.c.body, table.c.hidden).where(table.c.id == target_id)
        ).first()
        if item is None:
            return None
        return {"hidden": bool(item.hidden), "text": item.body, "title": item.title}

    def decide(
        self, kind: object, target_id: int, decision: object, reason: object, by: str
    ) -> None:
        """Hide or restore a target (a moderator), closing its open reports, and log it."""
        table = self._target(kind)
        if decision not in DECISIONS:
            raise BadInput(f"decision: one of {', '.join(DECISIONS)}")
        why = clean_text(reason, "reason", DETAILS_MAX, required=True)
        now = self.now()
        rp = self.reports
        with self.store.domain_transaction() as conn:
            found = conn.execute(
                table.update().where(table.c.id == target_id).values(hidden=decision == "hide")
            ).rowcount
            if not found:
                raise NotFound(f"no {kind} {target_id}")
            conn.execute(
                rp.update()
                .where(rp.c.kind == kind, rp.c.target_id == target_id, rp.c.resolved_at.is_(None))
                .values(resolved_at=now)
            )
            conn.execute(
                self.log.insert().values(
                    at=now, by=by, action=decision, kind=kind, target_id=target_id, reason=why
                )
            )

    def audit_log(self, limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
        """Return the moderation log, newest first."""
        lg = self.log
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                sa.select(lg).order_by(lg.c.id.desc()).limit(limit).offset(offset)
            ).all()
        return [
            {
                "id": r.id,
                "at": r.at,
                "by": r.by,
                "action": r.action,
                "kind": r.kind,
                "target_id": r.target_id,
                "reason": r.reason,
            }
            for r in rows
        ]
