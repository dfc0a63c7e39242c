"""Resident accounts: sign-up with a verification code, sign-in, sessions and API tokens,
password change and deletion.

Why a package of its own: every public write (ratings, initiatives, ballots, appeals) is tied
to an account, so who someone is must be decided in one place, with no HTTP in it (the routers
in :mod:`twin.api.accounts` and the caller dependency in :mod:`twin.api.deps` only translate).
Staff (planner, admin, moderator) keep their API keys: see docs/architecture.md.
"""

from __future__ import annotations

from twin.accounts.senders import CodeSender, LogSender, sender_from_setting
from twin.accounts.service import Account, Accounts, IssuedToken, TokenOwner

__all__ = [
    "Account",
    "Accounts",
    "CodeSender",
    "IssuedToken",
    "LogSender",
    "TokenOwner",
    "sender_from_setting",
]
