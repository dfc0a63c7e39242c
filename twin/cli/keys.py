"""``twin keys create / list / revoke``: staff API keys, kept hashed in the store.

``create`` prints the key once (to standard output, so it can be piped into a secret store);
afterwards only its id is ever shown — in ``list``, in logs and in the audit of edits.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.table import Table

from twin.cli.common import console, open_store, out, user_errors
from twin.core.settings import Settings

keys_app = typer.Typer(help="Staff API keys: create (shown once), list, revoke.")


def _when(ts: float | None) -> str:
    return "" if ts is None else dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M")


@keys_app.command("create")
def create(
    role: Annotated[str, typer.Argument(help="planner, admin, moderator, business or resident")],
    label: Annotated[str, typer.Option(help="Whose key it is, for the list")] = "",
) -> None:
    """Create a key for ROLE and print it (this is the only time it is shown)."""
    from twin.store.tables.api_keys import create_key

    with user_errors():
        key_id, key = create_key(open_store(Settings.from_env()), role, label)
    console.print(f"key {key_id} ({role}) created; it is shown once, keep it now:")
    out.print(key, highlight=False, soft_wrap=True)


@keys_app.command("list")
def list_cmd() -> None:
    """List the keys: id, role, label, created, revoked (never the key)."""
    from twin.store.tables.api_keys import list_keys

    with user_errors():
        keys = list_keys(open_store(Settings.from_env()))
    table = Table(title="API keys")
    for col in ("id", "role", "label", "created (UTC)", "revoked (UTC)"):
        table.add_column(col)
    for k in keys:
        table.add_row(k.key_id, k.role, k.label, _when(k.created_at), _when(k.revoked_at))
    out.print(table)


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (from twin keys list)")],
) -> None:
    """Revoke a key at once."""
    from twin.store.tables.api_keys import revoke_key

    with user_errors():
        revoke_key(open_store(Settings.from_env()), key_id)
    console.print(f"key {key_id} revoked")
