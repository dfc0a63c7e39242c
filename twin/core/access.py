"""Who may see what: the one place where a layer's access level meets a caller's role.

Every endpoint, search and analysis asks :func:`can_see` / :func:`visible_layers`, so a
planner-only layer cannot leak through a route that forgot to check.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from layers import LAYERS, Access, Layer
from twin.core.errors import Forbidden, NotFound, Unauthorized
from twin.core.settings import AuthSettings


class Role(StrEnum):
    """A caller's role; ``anonymous`` is a resident who sent no key."""

    ANONYMOUS = "anonymous"
    RESIDENT = "resident"
    PLANNER = "planner"
    ADMIN = "admin"
    #: staff who decide on reported content (participation) — sees no planner layers
    MODERATOR = "moderator"
    #: a signed-in business customer (an account with an organisation and a plan)
    BUSINESS = "business"


_SEES_PLANNER_LAYERS = {Role.PLANNER, Role.ADMIN}


@dataclass(frozen=True)
class Caller:
    """Who is asking: a role, and which key or account it came with (for the audit log,
    ownership of what a resident wrote, and per-caller limits). Neither id is a secret."""

    role: Role
    #: the id of the staff API key used (never the key itself)
    key_id: str | None = None
    #: the account of a signed-in resident or staff member
    account_id: int | None = None
    #: the organisation of a business account (plans, quotas and metering are per organisation)
    org_id: int | None = None


#: Keys made by ``twin keys create`` look like ``twin_<key id>_<secret>``.
KEY_PREFIX = "twin_"


def hash_key(key: str) -> str:
    """Return the SHA-256 hex digest of an API key (what the store and the ring keep)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def same_digest(a: str, b: str) -> bool:
    """Compare two digests in constant time."""
    return hmac.compare_digest(a.encode(), b.encode())


@dataclass(frozen=True)
class StoredKey:
    """An active API key as kept: its id (for logs and audit), role and digest."""

    key_id: str
    role: Role
    key_hash: str


class KeyRing:
    """Verifies API keys without keeping any in the clear.

    ``TWIN_API_KEYS`` (deployments, tests) are hashed when the ring is made; keys made by
    ``twin keys create`` are looked up by their id through ``lookup`` (set by the app to read
    the store, so a revoked key stops at once). Every comparison is of digests, in constant
    time.
    """

    def __init__(self, pairs: dict[str, str]) -> None:
        self._configured = [
            StoredKey(f"env-{hash_key(key)[:8]}", Role(role), hash_key(key))
            for key, role in pairs.items()
        ]
        self.lookup: Callable[[str], StoredKey | None] | None = None

    def verify(self, key: str) -> StoredKey | None:
        """Return the key's entry, or None when it is unknown or revoked."""
        digest = hash_key(key)
        found = None
        for entry in self._configured:  # no early exit: the same work whichever matches
            if same_digest(entry.key_hash, digest):
                found = entry
        if found is None and self.lookup is not None and key.startswith(KEY_PREFIX):
            key_id = key[len(KEY_PREFIX) :].partition("_")[0]
            if key_id.isalnum() and len(key_id) <= 16:
                stored = self.lookup(key_id)
                if stored is not None and same_digest(stored.key_hash, digest):
                    found = stored
        return found


def key_ring(auth: AuthSettings) -> KeyRing:
    """Return the ring of ``auth``'s keys (made, and the configured keys hashed, once)."""
    if auth._ring is None:
        auth._ring = KeyRing(auth.keys())
    ring: KeyRing = auth._ring
    return ring


def key_for(authorization: str | None, auth: AuthSettings) -> StoredKey | None:
    """Return the verified key of an ``Authorization`` header (None without one); raise
    :class:`Unauthorized` for a malformed header or an unknown or revoked key."""
    if not authorization:
        return None
    scheme, _, key = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("Authorization must be 'Bearer <key>'")
    entry = key_ring(auth).verify(key.strip())
    if entry is None:
        raise Unauthorized("unknown API key")
    return entry


def role_for(authorization: str | None, auth: AuthSettings) -> Role:
    """Return the role of an ``Authorization`` header value (``Bearer <key>``).

    No header means :attr:`Role.ANONYMOUS`; a header with an unknown key raises
    :class:`Unauthorized` rather than silently downgrading, so a typo in a planner's key is
    noticed.
    """
    entry = key_for(authorization, auth)
    return Role.ANONYMOUS if entry is None else entry.role


def can_see(role: Role, layer: Layer) -> bool:
    """Return whether ``role`` may see the features of ``layer``."""
    return layer.access is Access.PUBLIC or role in _SEES_PLANNER_LAYERS


def can_see_aggregate(role: Role, layer: Layer) -> bool:
    """Return whether ``role`` may see ``layer`` at least as aggregated (H3) counts."""
    return can_see(role, layer) or layer.public_aggregate


def visible_layers(role: Role) -> list[Layer]:
    """Return the layers ``role`` may see, in catalog order."""
    return [layer for layer in LAYERS if can_see(role, layer)]


def require_layer(role: Role, layer_id: str) -> Layer:
    """Return the layer ``layer_id`` if ``role`` may see it; otherwise raise :class:`NotFound`.

    An invisible layer answers exactly like a missing one, so its existence is not leaked.
    """
    for layer in LAYERS:
        if layer.id == layer_id and can_see(role, layer):
            return layer
    raise NotFound(f"no layer {layer_id!r}")


def require_planner(role: Role, action: str) -> None:
    """Raise :class:`Unauthorized` without a key and :class:`Forbidden` for a role that is not
    planner or admin; ``action`` says what was refused (e.g. "edit features")."""
    if role is Role.ANONYMOUS:
        raise Unauthorized(
            f"a planner or admin key is needed to {action} (Authorization: Bearer <key>)"
        )
    if role not in _SEES_PLANNER_LAYERS:
        raise Forbidden(f"role {role.value!r} may not {action}; planner or admin may")


def require_account(caller: Caller, action: str) -> int:
    """Return the caller's account id, or raise :class:`Unauthorized` naming ``action`` when the
    caller is not signed in (residents' writes, ballots, appeals are tied to an account)."""
    if caller.account_id is None:
        raise Unauthorized(f"sign in to {action}")
    return caller.account_id
