"""The account service: every rule about who a resident is, over the store's account tables
(:mod:`twin.store.tables.accounts`).

- Passwords are hashed with argon2id (``argon2-cffi``'s defaults); an unknown login is checked
  against a dummy hash so that its answer takes as long as a wrong password's.
- A sign-up is usable after its 6-digit code is confirmed; the code is kept as a digest, lives
  ``code_minutes`` and dies after ``code_attempts`` wrong tries.
- ``lockout_failures`` wrong passwords in a row lock the account for ``lockout_minutes``
  (:class:`RateLimited`, so the client gets ``Retry-After``).
- Sessions (browser cookies, each with its own CSRF token) and bearer tokens (API clients) are
  32 random bytes; only their SHA-256 is stored, looked up by digest and compared with
  :func:`hmac.compare_digest`.
- Deleting an account scrubs who it was (login, password, name, sessions) but keeps its id,
  so ratings and votes stay in the aggregates, attributed to nobody; domains that hold more
  personal content register a hook in :attr:`Accounts.deletion_hooks`, run in the same
  transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from twin.accounts.senders import CodeSender
from twin.core.errors import BadInput, Conflict, Forbidden, NotFound, RateLimited, Unauthorized
from twin.core.settings import AccountSettings
from twin.store import Store

#: the prefix of an account's bearer token, which tells it from a staff API key
BEARER_PREFIX = "twa_"
PASSWORD_MIN, PASSWORD_MAX = 8, 256
NAME_MAX = 80

_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("an unknown login is checked against this")
_EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
_PHONE_DROP = re.compile(r"[\s\-().]")
_PHONE = re.compile(r"^\+[1-9][0-9]{9,14}$")
_CODE = re.compile(r"^[0-9]{6}$")


def digest(secret: str) -> str:
    """Return the SHA-256 hex digest under which a token or code is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_digest(secret: str, stored: str | None) -> bool:
    """Return whether ``secret`` hashes to ``stored``, in constant time."""
    return stored is not None and hmac.compare_digest(digest(secret), stored)


def normalise_login(login: str) -> tuple[str, str]:
    """Return ``(login, kind)``: an e-mail in lower case or a phone number as ``+digits``
    (a Kazakh ``8 7xx …`` becomes ``+7 7xx …``); raise :class:`BadInput` for anything else."""
    value = (login or "").strip()
    if len(value) > 320:
        raise BadInput("login: at most 320 characters")
    if "@" in value:
        if not _EMAIL.match(value):
            raise BadInput("login: not an e-mail address")
        return value.lower(), "email"
    phone = _PHONE_DROP.sub("", value)
    if re.fullmatch(r"8[0-9]{10}", phone):
        phone = "+7" + phone[1:]
    if not _PHONE.match(phone):
        raise BadInput("login: neither an e-mail address nor a phone number (+7 7xx xxx xx xx)")
    return phone, "phone"


def check_password(password: str, what: str = "password") -> None:
    """Raise :class:`BadInput` unless the password has 8–256 characters."""
    if not isinstance(password, str) or not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise BadInput(f"{what}: {PASSWORD_MIN} to {PASSWORD_MAX} characters")


def clean_name(name: str | None) -> str | None:
    """Return a display name without control characters, or None; at most 80 characters."""
    if name is None:
        return None
    text = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if len(text) > NAME_MAX:
        raise BadInput(f"display_name: at most {NAME_MAX} characters")
    return text or None


@dataclass(frozen=True)
class Account:
    """An account as its owner sees it."""

    id: int
    login: str
    login_kind: str
    role: str
    display_name: str | None
    verified: bool
    created_at: float


@dataclass(frozen=True)
class IssuedToken:
    """A new session or bearer token, in the clear exactly once."""

    token: str
    kind: str
    expires_at: float
    #: the session's CSRF token (sent back by the browser in ``X-CSRF-Token``); None for bearer
    csrf: str | None = None


@dataclass(frozen=True)
class TokenOwner:
    """Whom a presented token belongs to."""

    account_id: int
    role: str
    kind: str
    csrf_hash: str | None
    #: the organisation of a business account
    org_id: int | None = None


@dataclass
class Accounts:
    """Accounts over ``store``; ``now`` is injectable for tests of expiry and lockout."""

    store: Store
    settings: AccountSettings
    sender: CodeSender
    now: Callable[[], float] = time.time
    #: ``hook(conn, account_id)`` run inside the deletion's transaction (domains anonymise
    #: what they keep of the account's)
    deletion_hooks: list[Callable[[sa.Connection, int], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        tables = self.store.metadata.tables
        self.accounts = tables["accounts"]
        self.codes = tables["account_codes"]
        self.tokens = tables["account_tokens"]
        #: a business account's organisation (:mod:`twin.store.tables.business`)
        self.members = tables["org_members"]
        t, a, m = self.tokens, self.accounts, self.members
        # Built once: every request signed in by an account runs it, and building the
        # statement and its cache key anew cost more than SQLite's look-up (py-spy).
        self._owner_sql = (
            sa.select(t.c.token_hash, t.c.account_id, t.c.kind, t.c.csrf_hash, a.c.role, m.c.org_id)
            .join(a, a.c.id == t.c.account_id)
            .outerjoin(m, m.c.account_id == t.c.account_id)
            .where(
                t.c.token_hash == sa.bindparam("hashed"),
                t.c.kind == sa.bindparam("kind"),
                t.c.expires_at > sa.bindparam("now"),
                a.c.deleted_at.is_(None),
            )
        )

    # -- sign-up and verification ---------------------------------------------------------
    def signup(
        self,
        login: str,
        password: str,
        display_name: str | None = None,
        role: str = "resident",
    ) -> Account:
        """Create an unverified account (or renew a still unverified one) and send it a code.

        ``role`` is ``resident`` or ``business`` (a business signs up with its organisation,
        :mod:`twin.business.orgs`); staff accounts are not made here.

        A verified login answers :class:`Conflict`. Re-signing an unverified login replaces
        its password and code: the account belongs to whoever confirms a code first.
        """
        if role not in ("resident", "business"):
            raise BadInput("role: resident or business")
        login, kind = normalise_login(login)
        check_password(password)
        name = clean_name(display_name)
        password_hash = _HASHER.hash(password)
        code = f"{secrets.randbelow(10**6):06d}"
        now = self.now()
        a = self.accounts
        try:
            with self.store.write_transaction() as conn:
                row = conn.execute(
                    sa.select(a.c.id, a.c.verified).where(a.c.login == login)
                ).first()
                if row is not None and row.verified:
                    raise Conflict("an account with this login exists: sign in instead")
                if row is None:
                    account_id = conn.execute(
                        a.insert()
                        .values(
                            login=login,
                            login_kind=kind,
                            password_hash=password_hash,
                            role=role,
                            display_name=name,
                            verified=False,
                            created_at=now,
                            failed_signins=0,
                        )
                        .returning(a.c.id)
                    ).scalar_one()
                else:
                    account_id = row.id
                    conn.execute(
                        a.update()
                        .where(a.c.id == account_id)
                        .values(password_hash=password_hash, display_name=name, role=role)
                    )
                conn.execute(self.codes.delete().where(self.codes.c.account_id == account_id))
                conn.execute(
                    self.codes.insert().values(
                        account_id=account_id,
                        code_hash=digest(f"{account_id}:{code}"),
                        expires_at=now + self.settings.code_minutes * 60,
                        attempts=0,
                    )
                )
        except sa.exc.IntegrityError as exc:
            raise Conflict("an account with this login was just created: sign in") from exc
        self.sender.send(login, kind, code)
        return self.get(int(account_id))

    def verify(self, login: str, code: str) -> Account:
        """Confirm a sign-up with its code; raise :class:`BadInput` for a wrong, expired or
        used-up code (each wrong try counts)."""
        login, _ = normalise_login(login)
        if not isinstance(code, str) or not _CODE.match(code.strip()):
            raise BadInput("code: the 6 digits sent to you")
        code = code.strip()
        a, c = self.accounts, self.codes
        now = self.now()
        error: BadInput | None = None
        with self.store.write_transaction() as conn:
            row = conn.execute(
                sa.select(a.c.id, a.c.verified).where(a.c.login == login, a.c.deleted_at.is_(None))
            ).first()
            if row is None:
                raise BadInput("no sign-up is waiting for this login: sign up first")
            if row.verified:
                raise Conflict("this account is already verified: sign in")
            pending = conn.execute(sa.select(c).where(c.c.account_id == row.id)).first()
            if (
                pending is None
                or pending.expires_at <= now
                or pending.attempts >= self.settings.code_attempts
            ):
                raise BadInput("the code has expired or was tried too often: sign up again")
            if not same_digest(f"{row.id}:{code}", pending.code_hash):
                conn.execute(
                    c.update().where(c.c.account_id == row.id).values(attempts=c.c.attempts + 1)
                )
                error = BadInput("wrong code")
            else:
                conn.execute(a.update().where(a.c.id == row.id).values(verified=True))
                conn.execute(c.delete().where(c.c.account_id == row.id))
        if error is not None:
            raise error
        return self.get(int(row.id))

    # -- sign-in and tokens ---------------------------------------------------------------
    def signin(self, login: str, password: str) -> Account:
        """Return the account whose login and password these are.

        Raises :class:`Unauthorized` for a wrong pair (the same answer for an unknown login),
        :class:`RateLimited` while the account is locked, :class:`Forbidden` before
        verification.
        """
        login, _ = normalise_login(login)
        if not isinstance(password, str) or len(password) > PASSWORD_MAX:
            raise BadInput(f"password: at most {PASSWORD_MAX} characters")
        a = self.accounts
        with self.store.engine.connect() as conn:
            row = conn.execute(
                sa.select(a).where(a.c.login == login, a.c.deleted_at.is_(None))
            ).first()
        if row is None:
            _verify(_DUMMY_HASH, password)
            raise Unauthorized("wrong login or password")
        now = self.now()
        if row.locked_until is not None and row.locked_until > now:
            raise RateLimited(
                "the account is locked after repeated wrong passwords; try again later",
                row.locked_until - now,
            )
        if not _verify(row.password_hash, password):
            with self.store.write_transaction() as conn:
                failed = conn.execute(
                    a.update()
                    .where(a.c.id == row.id)
                    .values(failed_signins=a.c.failed_signins + 1)
                    .returning(a.c.failed_signins)
                ).scalar_one()
                if failed >= self.settings.lockout_failures:
                    conn.execute(
                        a.update()
                        .where(a.c.id == row.id)
                        .values(
                            failed_signins=0,
                            locked_until=now + self.settings.lockout_minutes * 60,
                        )
                    )
            raise Unauthorized("wrong login or password")
        if not row.verified:
            raise Forbidden("confirm the code sent to you before signing in")
        values: dict[str, Any] = {"failed_signins": 0, "locked_until": None}
        if _HASHER.check_needs_rehash(row.password_hash):
            values["password_hash"] = _HASHER.hash(password)
        with self.store.write_transaction() as conn:
            conn.execute(a.update().where(a.c.id == row.id).values(**values))
        return self.get(int(row.id))

    def issue(self, account_id: int, kind: str = "session") -> IssuedToken:
        """Return a new session (with its CSRF token) or bearer token for the account."""
        if kind not in ("session", "bearer"):
            raise BadInput("kind: 'session' or 'bearer'")
        token = secrets.token_urlsafe(32)
        if kind == "bearer":
            token = BEARER_PREFIX + token
        csrf = secrets.token_urlsafe(32) if kind == "session" else None
        now = self.now()
        expires = now + self.settings.session_days * 86400
        t = self.tokens
        with self.store.write_transaction() as conn:
            conn.execute(t.delete().where(t.c.account_id == account_id, t.c.expires_at <= now))
            conn.execute(
                t.insert().values(
                    token_hash=digest(token),
                    account_id=account_id,
                    kind=kind,
                    csrf_hash=None if csrf is None else digest(csrf),
                    created_at=now,
                    expires_at=expires,
                )
            )
        return IssuedToken(token=token, kind=kind, expires_at=expires, csrf=csrf)

    def owner_of(self, token: str, kind: str) -> TokenOwner | None:
        """Return whom a live ``kind`` token belongs to, or None."""
        if not token or len(token) > 200:
            return None
        hashed = digest(token)
        with self.store.statements() as conn:  # one round trip on PostGIS (autocommit)
            params = {"hashed": hashed, "kind": kind, "now": self.now()}
            row = conn.execute(self._owner_sql, params).first()
        if row is None or not hmac.compare_digest(row.token_hash, hashed):
            return None
        org = None if row.org_id is None else int(row.org_id)
        return TokenOwner(int(row.account_id), row.role, row.kind, row.csrf_hash, org)

    def revoke(self, token: str) -> None:
        """End the session or bearer token ``token`` (nothing if it is not live)."""
        with self.store.write_transaction() as conn:
            conn.execute(self.tokens.delete().where(self.tokens.c.token_hash == digest(token)))

    # -- the account itself ---------------------------------------------------------------
    def get(self, account_id: int) -> Account:
        """Return the account, or raise :class:`NotFound`."""
        a = self.accounts
        with self.store.engine.connect() as conn:
            row = conn.execute(
                sa.select(a).where(a.c.id == account_id, a.c.deleted_at.is_(None))
            ).first()
        if row is None:
            raise NotFound(f"no account {account_id}")
        return Account(
            id=int(row.id),
            login=row.login,
            login_kind=row.login_kind,
            role=row.role,
            display_name=row.display_name,
            verified=bool(row.verified),
            created_at=float(row.created_at),
        )

    def change_password(
        self, account_id: int, current: str, new: str, keep_token: str | None = None
    ) -> None:
        """Replace the password after checking the current one; every other session and
        token of the account ends (``keep_token``, the one asking, stays)."""
        check_password(new, "new_password")
        self._check_own_password(account_id, current)
        new_hash = _HASHER.hash(new)
        a, t = self.accounts, self.tokens
        with self.store.write_transaction() as conn:
            conn.execute(a.update().where(a.c.id == account_id).values(password_hash=new_hash))
            ends = t.delete().where(t.c.account_id == account_id)
            if keep_token:
                ends = ends.where(t.c.token_hash != digest(keep_token))
            conn.execute(ends)

    def delete(self, account_id: int, password: str) -> None:
        """Delete the account after checking its password: who it was is scrubbed, its id
        stays so that what it counted in aggregates still counts (see the module docstring)."""
        self._check_own_password(account_id, password)
        a = self.accounts
        with self.store.write_transaction() as conn:
            conn.execute(
                a.update()
                .where(a.c.id == account_id)
                .values(
                    login=f"deleted:{account_id}",
                    password_hash="",
                    display_name=None,
                    verified=False,
                    deleted_at=self.now(),
                )
            )
            conn.execute(self.tokens.delete().where(self.tokens.c.account_id == account_id))
            conn.execute(self.codes.delete().where(self.codes.c.account_id == account_id))
            for hook in self.deletion_hooks:
                hook(conn, account_id)

    def _check_own_password(self, account_id: int, password: str) -> None:
        a = self.accounts
        with self.store.engine.connect() as conn:
            stored = conn.execute(
                sa.select(a.c.password_hash).where(a.c.id == account_id, a.c.deleted_at.is_(None))
            ).scalar_one_or_none()
        if stored is None:
            raise NotFound(f"no account {account_id}")
        if not isinstance(password, str) or not _verify(stored, password):
            raise Forbidden("the current password is wrong")


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
