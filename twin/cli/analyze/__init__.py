"""``twin analyze …``: one sub-command group; each analysis has a module here that registers
its commands (the analyses themselves know nothing of the command line)."""

from __future__ import annotations

import typer

from twin.cli.analyze import access, coverage, site

analyze_app = typer.Typer(
    help="Run a city analysis and write its results (GeoJSON, GeoPackage, GeoTIFF, CSV).",
    no_args_is_help=True,
)

coverage.register(analyze_app)
access.register(analyze_app)
site.register(analyze_app)
