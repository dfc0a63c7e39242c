"""The ``twin`` command line: every command of the twin, one module per group.

``twin load`` and ``twin layers`` (:mod:`twin.cli.data`), ``twin serve`` (:mod:`twin.cli.serve`),
``twin tiles …`` (:mod:`twin.cli.tiles`), ``twin analyze …`` (:mod:`twin.cli.analyze`) and
``twin events …`` (:mod:`twin.cli.events`), ``twin keys …`` (:mod:`twin.cli.keys`),
``twin photos sweep`` (:mod:`twin.cli.photos`).
Commands are thin: they read settings, open the store, call the core and print.
"""

from __future__ import annotations

import typer

from twin.cli import analyze, backup, data, events, keys, photos, serve, tiles

app = typer.Typer(
    help="Almaty City Twin: the city as layers — load, inspect and serve them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data.register(app)
backup.register(app)
serve.register(app)
app.add_typer(tiles.tiles_app, name="tiles")
app.add_typer(analyze.analyze_app, name="analyze")
app.add_typer(events.events_app, name="events")
app.add_typer(keys.keys_app, name="keys")
app.add_typer(photos.photos_app, name="photos")


def main() -> None:  # pragma: no cover - console entry point
    """Run the CLI."""
    app()
