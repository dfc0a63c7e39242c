"""``twin photos sweep``: delete uploaded photos nothing named in time (file and row).

The server does the same every hour (``TWIN_PARTICIPATION_PHOTO_SWEEP_S``); this is for a
deployment that runs no server for a while, or to sweep at once (:mod:`twin.photos.sweep`).
"""

from __future__ import annotations

from typing import Annotated

import typer

from twin.cli.common import console, open_store, user_errors
from twin.core.settings import Settings

photos_app = typer.Typer(help="Residents' photos: sweep the unattached ones.")


@photos_app.command("sweep")
def sweep_cmd(
    hours: Annotated[
        float | None,
        typer.Option(help="Delete uploads older than this; default TWIN_PARTICIPATION_PHOTO_HOURS"),
    ] = None,
) -> None:
    """Delete the photos uploaded more than HOURS ago that no initiative or appeal names."""
    from twin.photos import PhotoStore
    from twin.photos.sweep import sweep

    settings = Settings.from_env()
    limit = settings.participation.photo_hours if hours is None else hours
    if limit <= 0:
        raise typer.BadParameter("hours must be more than 0")
    with user_errors():
        store = open_store(settings)
        try:
            done = sweep(store, PhotoStore(settings.photo_root()), hours=limit)
        finally:
            store.close()
    console.print(
        f"{len(done.deleted)} unattached photos older than {limit:g} h deleted; "
        f"{done.attached} attached kept"
    )
