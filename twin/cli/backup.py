"""``twin backup FILE`` and ``twin restore FILE``: a consistent copy of the store while it
serves (SQLite online backup, or ``pg_dump``), and back (:mod:`twin.store.backup`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from twin.cli.common import console, user_errors
from twin.core.settings import Settings


def backup_cmd(file: Annotated[Path, typer.Argument(help="Where to write the backup")]) -> None:
    """Write a consistent backup of the store (it may keep serving meanwhile)."""
    from twin.store.backup import backup

    with user_errors():
        backup(Settings.from_env().store.database_url, file)
    console.print(f"backup written to {file}")


def restore_cmd(file: Annotated[Path, typer.Argument(help="A backup from twin backup")]) -> None:
    """Replace the store's contents with a backup (all or nothing)."""
    from twin.store.backup import restore

    with user_errors():
        restore(Settings.from_env().store.database_url, file)
    console.print(f"store restored from {file}")


def register(app: typer.Typer) -> None:
    """Add ``backup`` and ``restore`` to ``app``."""
    app.command("backup")(backup_cmd)
    app.command("restore")(restore_cmd)
