"""``twin load`` and ``twin layers``: put files into the store, and list what it holds."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from twin.cli.common import console, open_store, out, progress_bar, user_errors
from twin.core.settings import DATA_DIR, Settings


@contextmanager
def load_progress(total: int | None) -> Iterator[Callable[[str, int], None]]:
    with progress_bar() as bar:
        task = bar.add_task("loading", total=total)

        def advance(layer: str, rows: int) -> None:
            bar.update(task, advance=rows, description=f"loaded {layer}")

        yield advance


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
    from twin.budget.service import sync_layer as sync_budget_layer
    from twin.events.loading import load_bundled_events

    event_loads = []

    settings = Settings.from_env()
    with user_errors():
        store = open_store(settings)
        with load_progress(None) as advance:
            if paths:
                summary = load_files(store, paths, layer_id=layer, strict=strict, progress=advance)
            else:
                summary = load_bundled(store, DATA_DIR, seed=seed, progress=advance)
                event_loads = load_bundled_events(store, DATA_DIR)
                # the generated budget cycles are counted and drawn on the map now
                sync_budget_layer(store)
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
    for e in event_loads:
        table.add_row(
            "city_events",
            e.source,
            str(e.inserted),
            str(e.updated),
            str(e.unchanged),
            "0",
            str(len(e.rejected)),
        )
    out.print(table)
    if summary.rejected:
        console.print(
            f"[yellow]{len(summary.rejected)} rows rejected[/] (kept in the quarantine "
            "table twin_quarantine with the reason); the first ones:"
        )
        for rej in summary.rejected[:10]:
            console.print(f"  {rej.reason}", highlight=False)


def layers_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    lang: Annotated[str, typer.Option(help="Title language: ru, kk or en.")] = "en",
) -> None:
    """List every layer: id, title, geometry type, feature count and access level."""
    from layers import LAYERS

    settings = Settings.from_env()
    with user_errors():
        store = open_store(settings)
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


def register(app: typer.Typer) -> None:
    """Add ``load`` and ``layers`` to the ``twin`` command."""
    app.command("load")(load)
    app.command("layers")(layers_cmd)
