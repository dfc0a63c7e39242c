"""Who delivers verification codes. A deployment plugs in its SMS gateway or mail relay as a
:class:`CodeSender`; the default writes the code to the server log, which is what a developer
running the twin locally (and the tests) read."""

from __future__ import annotations

import importlib
import logging
from typing import Protocol

from twin.core.errors import BadInput

log = logging.getLogger("twin.accounts")


class CodeSender(Protocol):
    """Delivers a verification code to an e-mail address or phone number."""

    def send(self, login: str, kind: str, code: str) -> None:
        """Deliver ``code`` to ``login`` (``kind`` is "email" or "phone")."""


class LogSender:
    """Writes the code to the log ``twin.accounts`` at INFO: ``verification code for <login>:
    <code>``."""

    def send(self, login: str, kind: str, code: str) -> None:
        log.info("verification code for %s: %s", login, code)


def sender_from_setting(value: str) -> CodeSender:
    """Return the sender named by ``TWIN_ACCOUNTS_SENDER``: "log" or "package.module:Class"."""
    if value == "log":
        return LogSender()
    module, sep, name = value.partition(":")
    if not sep:
        raise BadInput(f"TWIN_ACCOUNTS_SENDER {value!r} is neither 'log' nor 'module:Class'")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise BadInput(f"TWIN_ACCOUNTS_SENDER {value!r} cannot be loaded: {exc}") from exc
    sender: CodeSender = cls()
    return sender
