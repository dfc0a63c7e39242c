"""Organisations: a business account's organisation, its members, its own API keys, its plan
and its recorded usage, over :mod:`twin.store.tables.business`.

A business signs up as a resident does (:class:`twin.accounts.Accounts`, the same code, the
same argon2 password) with role ``business``, and its organisation is made beside it with the
``free`` plan. Members (session or account token) create and revoke the organisation's keys;
an organisation key authenticates analysis calls only. A key is ``twb_<id>_<secret>``: shown
once, stored as a SHA-256 digest, looked up by id and compared in constant time, so a revoked
key stops at once in every process. Staff change an organisation's plan.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from twin.accounts import Account, Accounts
from twin.accounts.service import clean_name
from twin.business.plans import Plans
from twin.core.access import hash_key, same_digest
from twin.core.errors import BadInput, Forbidden, NotFound
from twin.core.spreadsheet import csv_text
from twin.store import Store

#: the prefix of an organisation's API key (staff keys are ``twin_``, account tokens ``twa_``)
ORG_KEY_PREFIX = "twb_"
ORG_NAME_MAX = 200
LABEL_MAX = 200
#: the most live keys an organisation holds at once (bounded work per organisation)
KEYS_MAX = 50
#: the most days one usage query spans
USAGE_DAYS_MAX = 400
SESSION_KEY = "session"


@dataclass(frozen=True)
class Org:
    """An organisation as its members and staff see it."""

    id: int
    name: str
    plan: str
    created_at: float


@dataclass(frozen=True)
class OrgKey:
    """An organisation key as listed (never its secret or digest)."""

    key_id: str
    label: str
    created_by: int | None
    created_at: float
    revoked_at: float | None


@dataclass(frozen=True)
class UsageRow:
    """One organisation's use of one analysis with one key on one UTC day."""

    day: str
    key_id: str
    label: str
    analysis: str
    calls: int
    units: int


def utc_day(ts: float) -> str:
    """Return the UTC day of Unix time ``ts`` as ``YYYY-MM-DD``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


@dataclass
class Organisations:
    """Organisations over ``store``; ``now`` is injectable for tests."""

    store: Store
    plans: Plans
    now: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        t = self.store.metadata.tables
        self.orgs, self.members = t["organisations"], t["org_members"]
        self.keys, self.usage_t = t["org_keys"], t["org_usage"]

    # -- sign-up --------------------------------------------------------------------------
    def signup(
        self,
        accounts: Accounts,
        login: str,
        password: str,
        organisation: str,
        display_name: str | None = None,
    ) -> tuple[Account, Org]:
        """Sign a business up: an unverified account of role ``business`` (its code sent as
        a resident's is) and its organisation on the ``free`` plan. Signing an unverified
        login up again renames its organisation rather than making a second."""
        name = clean_name(organisation)
        if not name or len(organisation) > ORG_NAME_MAX:
            raise BadInput(f"organisation: 1 to {ORG_NAME_MAX} characters")
        account = accounts.signup(login, password, display_name, role="business")
        o, m = self.orgs, self.members
        with self.store.domain_transaction() as conn:
            org_id = conn.execute(
                sa.select(m.c.org_id).where(m.c.account_id == account.id)
            ).scalar_one_or_none()
            if org_id is None:
                org_id = conn.execute(
                    o.insert()
                    .values(name=name, plan="free", created_at=self.now())
                    .returning(o.c.id)
                ).scalar_one()
                conn.execute(m.insert().values(account_id=account.id, org_id=org_id, role="owner"))
            else:
                conn.execute(o.update().where(o.c.id == org_id).values(name=name))
        return account, self.get(int(org_id))

    # -- organisations --------------------------------------------------------------------
    def get(self, org_id: int) -> Org:
        """Return the organisation, or raise :class:`NotFound`."""
        with self.store.engine.connect() as conn:
            row = conn.execute(sa.select(self.orgs).where(self.orgs.c.id == org_id)).first()
        if row is None:
            raise NotFound(f"no organisation {org_id}")
        return Org(int(row.id), row.name, row.plan, float(row.created_at))

    def plan_of(self, org_id: int) -> str:
        """Return the name of the organisation's plan (one indexed read per metered call)."""
        with self.store.engine.connect() as conn:
            plan = conn.execute(
                sa.select(self.orgs.c.plan).where(self.orgs.c.id == org_id)
            ).scalar_one_or_none()
        if plan is None:
            raise NotFound(f"no organisation {org_id}")
        return str(plan)

    def all(self) -> list[Org]:
        """Return every organisation, oldest first (staff)."""
        with self.store.engine.connect() as conn:
            rows = conn.execute(sa.select(self.orgs).order_by(self.orgs.c.id)).all()
        return [Org(int(r.id), r.name, r.plan, float(r.created_at)) for r in rows]

    def set_plan(self, org_id: int, plan: str) -> Org:
        """Put the organisation on ``plan`` (staff); raise :class:`BadInput` for an unknown
        plan."""
        self.plans.get(plan)
        with self.store.domain_transaction() as conn:
            done = conn.execute(
                self.orgs.update().where(self.orgs.c.id == org_id).values(plan=plan)
            ).rowcount
        if not done:
            raise NotFound(f"no organisation {org_id}")
        return self.get(org_id)

    def org_of_account(self, account_id: int) -> int | None:
        """Return the organisation the account belongs to, or None."""
        with self.store.engine.connect() as conn:
            org = conn.execute(
                sa.select(self.members.c.org_id).where(self.members.c.account_id == account_id)
            ).scalar_one_or_none()
        return None if org is None else int(org)

    # -- keys -----------------------------------------------------------------------------
    def create_key(self, org_id: int, label: str = "", created_by: int | None = None) -> str:
        """Create a key of the organisation; return it (shown this once)."""
        label = clean_name(label) or ""
        if len(label) > LABEL_MAX:
            raise BadInput(f"label: at most {LABEL_MAX} characters")
        key_id = secrets.token_hex(4)
        key = f"{ORG_KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        k = self.keys
        with self.store.domain_transaction() as conn:
            live = conn.execute(
                sa.select(sa.func.count())
                .select_from(k)
                .where(k.c.org_id == org_id, k.c.revoked_at.is_(None))
            ).scalar_one()
            if live >= KEYS_MAX:
                raise BadInput(f"the organisation has {KEYS_MAX} live keys: revoke one first")
            conn.execute(
                k.insert().values(
                    key_id=key_id,
                    org_id=org_id,
                    key_hash=hash_key(key),
                    label=label,
                    created_by=created_by,
                    created_at=self.now(),
                    revoked_at=None,
                )
            )
        return key

    def list_keys(self, org_id: int) -> list[OrgKey]:
        """Return the organisation's keys, oldest first (revoked ones too)."""
        k = self.keys
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                sa.select(k.c.key_id, k.c.label, k.c.created_by, k.c.created_at, k.c.revoked_at)
                .where(k.c.org_id == org_id)
                .order_by(k.c.created_at, k.c.key_id)
            ).all()
        return [OrgKey(*row) for row in rows]

    def revoke_key(self, org_id: int, key_id: str) -> None:
        """Revoke the organisation's key ``key_id``; another organisation's key is
        :class:`Forbidden`, an unknown or already revoked one :class:`NotFound`."""
        k = self.keys
        with self.store.domain_transaction() as conn:
            row = conn.execute(
                sa.select(k.c.org_id, k.c.revoked_at).where(k.c.key_id == key_id)
            ).first()
            if row is None or row.revoked_at is not None:
                raise NotFound(f"no live key {key_id!r}")
            if int(row.org_id) != org_id:
                raise Forbidden(f"key {key_id!r} belongs to another organisation")
            conn.execute(k.update().where(k.c.key_id == key_id).values(revoked_at=self.now()))

    def owner_of_key(self, key: str) -> tuple[str, int] | None:
        """Return ``(key id, organisation id)`` of a live organisation key, or None."""
        if not key.startswith(ORG_KEY_PREFIX) or len(key) > 200:
            return None
        key_id = key[len(ORG_KEY_PREFIX) :].partition("_")[0]
        if not key_id.isalnum() or len(key_id) > 16:
            return None
        k = self.keys
        with self.store.engine.connect() as conn:
            row = conn.execute(
                sa.select(k.c.key_hash, k.c.org_id).where(
                    k.c.key_id == key_id, k.c.revoked_at.is_(None)
                )
            ).first()
        if row is None or not same_digest(row.key_hash, hash_key(key)):
            return None
        return key_id, int(row.org_id)

    # -- usage ----------------------------------------------------------------------------
    def record(self, org_id: int, key_id: str | None, analysis: str, units: int) -> None:
        """Count one answered call of ``analysis`` costing ``units`` (today, UTC)."""
        self.record_many([(org_id, key_id or SESSION_KEY, utc_day(self.now()), analysis, 1, units)])

    def record_many(self, rows: list[tuple[int, str, str, str, int, int]]) -> None:
        """Add ``(org, key, day, analysis, calls, units)`` rows to the usage, in one
        transaction (the meter sends what it gathered since its last flush)."""
        if not rows:
            return
        u = self.usage_t
        if self.store.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            ins: Any = pg_insert(u)
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            ins = sqlite_insert(u)
        ins = ins.on_conflict_do_update(
            index_elements=[u.c.org_id, u.c.key_id, u.c.day, u.c.analysis],
            set_={"calls": u.c.calls + ins.excluded.calls, "units": u.c.units + ins.excluded.units},
        )
        names = ("org_id", "key_id", "day", "analysis", "calls", "units")
        with self.store.domain_transaction() as conn:
            conn.execute(ins, [dict(zip(names, r, strict=True)) for r in rows])

    def usage(self, org_id: int, first: str, last: str) -> list[UsageRow]:
        """Return the organisation's usage per day, key and analysis from day ``first`` to
        ``last`` (``YYYY-MM-DD``, both included), newest day first."""
        _check_days(first, last)
        u, k = self.usage_t, self.keys
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                sa.select(u.c.day, u.c.key_id, k.c.label, u.c.analysis, u.c.calls, u.c.units)
                .select_from(u.outerjoin(k, k.c.key_id == u.c.key_id))
                .where(u.c.org_id == org_id, u.c.day >= first, u.c.day <= last)
                .order_by(u.c.day.desc(), u.c.key_id, u.c.analysis)
            ).all()
        return [
            UsageRow(r.day, r.key_id, r.label or "", r.analysis, int(r.calls), int(r.units))
            for r in rows
        ]


def _check_days(first: str, last: str) -> None:
    try:
        a = datetime.strptime(first, "%Y-%m-%d")
        b = datetime.strptime(last, "%Y-%m-%d")
    except (TypeError, ValueError):
        raise BadInput("from/to: days as YYYY-MM-DD") from None
    if b < a:
        raise BadInput("from/to: 'to' is before 'from'")
    if (b - a).days > USAGE_DAYS_MAX:
        raise BadInput(f"from/to: at most {USAGE_DAYS_MAX} days at once")


def usage_csv(rows: list[UsageRow]) -> str:
    """Return usage rows as CSV for a spreadsheet (``day,key_id,label,analysis,calls,units``;
    :mod:`twin.core.spreadsheet`: a label, the organisation's own text, is never a formula)."""
    return csv_text(
        ["day", "key_id", "label", "analysis", "calls", "units"],
        ([r.day, r.key_id, r.label, r.analysis, r.calls, r.units] for r in rows),
    )
