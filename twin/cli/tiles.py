"""``twin tiles warm`` and ``twin tiles export``: draw tiles ahead, or export them to PMTiles."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from twin.cli.common import open_store, out, progress_bar, user_errors
from twin.core.settings import Settings

if TYPE_CHECKING:
    from tiles.service import TileService
    from tiles.warm import WarmSummary

tiles_app = typer.Typer(
    help="Vector tiles: draw them ahead of time, or export them to PMTiles for a CDN or "
    "offline use.",
    no_args_is_help=True,
)


def warm_with_bar(service: TileService, **options: Any) -> WarmSummary:
    """Run :func:`tiles.warm.warm` with a progress bar on the terminal."""
    from tiles.warm import warm

    with progress_bar() as bar:
        task = bar.add_task("tiles", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return warm(service, progress=advance, **options)


@tiles_app.command("warm")
def warm(
    layers: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated public layer ids, each warmed on its own (default: the "
            "sources of the map's style: the basemap composite and each thematic layer)."
        ),
    ] = None,
    maxzoom: Annotated[int, typer.Option(help="Last zoom to draw.", min=0, max=22)] = 14,
    minzoom: Annotated[int, typer.Option(help="First zoom to draw.", min=0, max=22)] = 0,
    processes: Annotated[
        int | None, typer.Option(help="Drawing processes (default: one per core).", min=1)
    ] = None,
) -> None:
    """Draw tiles ahead of time and keep them in the embedded store's file, so that the map
    is served from disk. Tiles already kept are skipped; an edit drops exactly the tiles it
    touches, and running this again draws only those."""
    from tiles.service import TileService

    settings = Settings.from_env()
    ids = [i.strip() for i in layers.split(",") if i.strip()] if layers else None
    with user_errors():
        store = open_store(settings)
        try:
            summary = warm_with_bar(
                TileService(store, settings.tiles),
                layer_ids=ids,
                minzoom=minzoom,
                maxzoom=maxzoom,
                processes=processes,
            )
        finally:
            store.close()
    out.print(
        f"drew {summary.drawn} of {summary.planned} tiles (the rest were kept already), "
        f"kept {summary.kept}, {summary.bytes / 1e6:.1f} MB, "
        f"z{summary.minzoom}–z{summary.maxzoom}; "
        f"tile sets: {'; '.join(','.join(s) for s in summary.sets)}",
        highlight=False,
    )


@tiles_app.command("export")
def export(
    pmtiles: Annotated[Path, typer.Option("--pmtiles", help="The PMTiles file to write.")],
    layers: Annotated[
        str | None,
        typer.Option(help="Comma-separated public layer ids (default: every public layer)."),
    ] = None,
    maxzoom: Annotated[int, typer.Option(help="Last zoom in the archive.", min=0, max=22)] = 14,
    minzoom: Annotated[int, typer.Option(help="First zoom in the archive.", min=0, max=22)] = 0,
) -> None:
    """Write the public vector tiles of the store to one PMTiles archive."""
    from tiles.export import export_pmtiles
    from tiles.service import TileService

    settings = Settings.from_env()
    ids = [i.strip() for i in layers.split(",") if i.strip()] if layers else None
    with user_errors():
        store = open_store(settings)
        try:
            service = TileService(store, settings.tiles)
            with progress_bar() as bar:
                task = bar.add_task("tiles", total=None)

                def advance(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                summary = export_pmtiles(
                    service,
                    pmtiles,
                    layer_ids=ids,
                    minzoom=minzoom,
                    maxzoom=maxzoom,
                    progress=advance,
                )
        finally:
            store.close()
    out.print(
        f"wrote {summary.path}: {summary.tiles} tiles, z{summary.minzoom}–z{summary.maxzoom}, "
        f"{summary.bytes / 1e6:.1f} MB, largest tile {summary.largest_tile / 1e3:.0f} KB; "
        f"layers: {', '.join(summary.layers)}",
        highlight=False,
    )
