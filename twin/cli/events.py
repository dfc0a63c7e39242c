"""``twin events …``: city events from the command line — load an outage schedule, list the
events of a day (the same service the HTTP API uses)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from twin.cli.common import console, open_store, out, user_errors
from twin.core.settings import Settings

events_app = typer.Typer(help="City events: outages, emergencies, road closures, works.")


@events_app.command("load")
def load(
    path: Annotated[Path, typer.Argument(help="An AZhK planned-outage GeoJSON file.")],
) -> None:
    """Load an AZhK planned-outage file (bad rows quarantined with the reason)."""
    from twin.events.loading import load_azhk

    with user_errors():
        store = open_store(Settings.from_env())
        result = load_azhk(store, path)
    out.print(
        f"{path.name}: {result.inserted} inserted, {result.updated} updated, "
        f"{result.unchanged} unchanged, {len(result.rejected)} rejected"
    )
    for rej in result.rejected[:10]:
        console.print(f"  {rej.reason}", highlight=False)


@events_app.command("list")
def list_cmd(
    on: Annotated[str | None, typer.Option(help="Day (YYYY-MM-DD, Almaty); default: today")] = None,
) -> None:
    """List the events live on a day."""
    from twin.core.errors import BadInput
    from twin.events import service
    from twin.events.model import iso, local_day, today

    with user_errors():
        try:
            day = dt.date.fromisoformat(on) if on else today()
        except ValueError:
            raise BadInput(f"--on {on!r} is not a date (YYYY-MM-DD)") from None
        store = open_store(Settings.from_env())
        found = service.find(store, start=local_day(day)[0], end=local_day(day)[1])
    table = Table(title=f"city events on {day.isoformat()}")
    for col in ("id", "kind", "status", "starts", "ends", "title"):
        table.add_column(col)
    for e in found:
        table.add_row(
            str(e.id), e.kind, e.status, iso(e.starts_at) or "", iso(e.ends_at) or "open", e.title
        )
    out.print(table)
