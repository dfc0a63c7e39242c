"""``twin analyze …``: one sub-command group; each analysis registers its commands here."""

from __future__ import annotations

import typer

analyze_app = typer.Typer(
    help="Run a city analysis and write its results (GeoJSON, GeoPackage, GeoTIFF, CSV).",
    no_args_is_help=True,
)

# Each analysis registers its commands below, one line each:
#   from twin.analyses.<name>.cli import register as _r; _r(analyze_app)
from twin.analyses.coverage.cli import register as _coverage  # noqa: E402

_coverage(analyze_app)
from twin.analyses.access.cli import register as _access  # noqa: E402

_access(analyze_app)
from twin.analyses.site.cli import register as _site  # noqa: E402

_site(analyze_app)
