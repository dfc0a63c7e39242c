"""The ``twin`` command line: load data, list layers, serve the map."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from twin.errors import TwinError
from twin.settings import DATA_DIR, Settings

app = typer.Typer(
    help="Almaty City Twin: the city as layers — load, inspect and serve them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)


def _register_analyses() -> None:
    from twin.analyses.cli import analyze_app

    app.add_typer(analyze_app, name="analyze")


_register_analyses()


def _register_tiles() -> None:
    from tiles.cli import tiles_app

    app.add_typer(tiles_app, name="tiles")


_register_tiles()
out = Console()


@contextmanager
def _user_errors() -> Iterator[None]:
    """Print a domain error as one clear line and exit 1, instead of a traceback."""
    try:
        yield
    except TwinError as exc:
        console.print(f"[bold red]error:[/] {exc.detail}", highlight=False)
        raise typer.Exit(1) from None


def progress_bar() -> Progress:
    """Return the command line's progress bar (drawn only on a terminal)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    )


@contextmanager
def _progress(total: int | None) -> Iterator[Callable[[str, int], None]]:
    with progress_bar() as bar:
        task = bar.add_task("loading", total=total)

        def advance(layer: str, rows: int) -> None:
            bar.update(task, advance=rows, description=f"loaded {layer}")

        yield advance


def _warm_map_tiles(store: Any) -> None:
    """Draw the public map's tiles to z14 ahead (``twin tiles warm``), saying so."""
    from tiles.cli import warm_with_bar
    from tiles.service import TileService

    service = TileService(store)
    if service.stored is None:  # TWIN_TILES_STORE_MB=0
        return
    summary = warm_with_bar(service, maxzoom=14)
    if summary.drawn:
        console.print(f"drew {summary.drawn:,} map tiles ahead (z0–z14), kept in the store")
    service.close()


def _open_store(settings: Settings) -> Any:
    from twin.store import open_store

    return open_store(settings.store.database_url)


@app.command()
def load(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Files to load (GeoJSON, GeoPackage, Shapefile or zipped Shapefile, FlatGeobuf, "
            "CSV with lon/lat or WKT, OSM PBF). None: the whole bundled Almaty set."
        ),
    ] = None,
    layer: Annotated[
        str | None,
        typer.Option(
            help="Layer the files load into (default: the file name, e.g. buildings.geojson)."
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            help="Load nothing from a file that has any bad row (default: bad rows go to "
            "quarantine, good rows load)."
        ),
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the generated demo layers.")] = 2026,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print every note.")] = False,
) -> None:
    """Load files into the store (one transaction per file), or the whole bundled Almaty set."""
    from etl.load import load_bundled, load_files

    settings = Settings.from_env()
    with _user_errors():
        store = _open_store(settings)
        with _progress(None) as advance:
            if paths:
                summary = load_files(store, paths, layer_id=layer, strict=strict, progress=advance)
            else:
                summary = load_bundled(store, DATA_DIR, seed=seed, progress=advance)
    # Repairs and CRS decisions always show; routine notes only with --verbose.
    routine = ("kept as EPSG:4326", "properties not in the file")
    notes = [n for n in summary.notes if verbose or not any(r in n for r in routine)]
    for note in notes[:50]:
        console.print(f"[dim]note:[/] {note}", highlight=False)
    if len(notes) > 50:
        console.print(f"[dim]… and {len(notes) - 50} more notes (see --verbose)[/]")
    table = Table(title="load summary")
    for col in ("layer", "source", "inserted", "updated", "unchanged", "deleted", "rejected"):
        table.add_column(col, justify="left" if col in ("layer", "source") else "right")
    for r in summary.results:
        table.add_row(
            r.layer,
            r.source,
            str(r.inserted),
            str(r.updated),
            str(r.unchanged),
            str(r.deleted),
            str(r.rejected),
        )
    out.print(table)
    if summary.rejected:
        console.print(
            f"[yellow]{len(summary.rejected)} rows rejected[/] (kept in the quarantine "
            "table twin_quarantine with the reason); the first ones:"
        )
        for rej in summary.rejected[:10]:
            console.print(f"  {rej.reason}", highlight=False)


@app.command("layers")
def layers_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    lang: Annotated[str, typer.Option(help="Title language: ru, kk or en.")] = "en",
) -> None:
    """List every layer: id, title, geometry type, feature count and access level."""
    from layers import LAYERS

    settings = Settings.from_env()
    with _user_errors():
        store = _open_store(settings)
        rows = [
            {
                "id": layer.id,
                "title": layer.title.get(lang),
                "geometry": layer.geometry.value,
                "count": store.count(layer),
                "access": layer.access.value,
                "module": layer.module,
            }
            for layer in LAYERS
        ]
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table()
    for col in ("id", "title", "geometry", "count", "access", "module"):
        table.add_column(col, justify="right" if col == "count" else "left")
    for row in rows:
        table.add_row(
            *(str(row[c]) for c in ("id", "title", "geometry", "count", "access", "module"))
        )
    out.print(table)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    load_if_empty: Annotated[
        bool, typer.Option(help="Load the bundled Almaty data first if the store is empty.")
    ] = True,
    warm: Annotated[
        bool,
        typer.Option(
            help="On the embedded store, draw the map's tiles up to z14 ahead and keep them "
            "in the file (tiles kept already are skipped: only the first start takes long).",
        ),
    ] = True,
) -> None:
    """Serve the map, tiles, features and analyses over HTTP."""
    import uvicorn

    from etl.load import load_bundled
    from twin.app import create_app

    settings = Settings.from_env()
    with _user_errors():
        store = _open_store(settings)
        try:
            if load_if_empty and sum(store.counts().values()) == 0:
                console.print("the store is empty: loading the bundled Almaty data first …")
                with _progress(None) as advance:
                    load_bundled(store, DATA_DIR, progress=advance)
            if warm and store.kind == "geopackage":
                _warm_map_tiles(store)
        finally:
            store.close()
    logging.basicConfig(level=logging.INFO)
    uvicorn.run(create_app(settings), host=host, port=port)


def main() -> None:  # pragma: no cover - console entry point
    """Run the CLI."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
