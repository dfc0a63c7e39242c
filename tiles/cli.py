"""``twin tiles …``: the tile commands of the command line (registered by :mod:`twin.cli`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

tiles_app = typer.Typer(
    help="Vector tiles: export them to PMTiles for a CDN or offline use.",
    no_args_is_help=True,
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
    from twin.cli import _open_store, _user_errors, console, out
    from twin.settings import Settings

    settings = Settings.from_env()
    ids = [i.strip() for i in layers.split(",") if i.strip()] if layers else None
    with _user_errors():
        store = _open_store(settings)
        try:
            service = TileService(store)
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                disable=not console.is_terminal,
            ) as bar:
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
