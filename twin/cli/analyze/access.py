"""``twin analyze access | isochrone | schools``: the access analyses from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from twin.cli.common import connect_cluster, console, open_store, out, user_errors, write_frame
from twin.core.errors import BadInput

EngineOpt = Annotated[
    str, typer.Option(help="auto (pgRouting on PostGIS, scipy otherwise), python or pgrouting")
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", "-o", help="Write the result: .geojson, .gpkg or .csv")
]


def _service(engine: str) -> Any:
    """The access service over the network as it is now: roads closed now (city events of
    kind road_closure) are left out, as in the HTTP API."""
    from twin.analyses.access.service import AccessService
    from twin.events.service import road_closures

    connect_cluster()  # every building's nearest facility there, if set
    store = open_store()
    closures = [geom for _, geom in road_closures(store)]
    return AccessService(store, engine=engine, closures=closures)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "–"
        return f"{value:.0f}" if value.is_integer() and abs(value) >= 10 else f"{value:.2f}"
    return str(value)


def _table(frame: pd.DataFrame, columns: list[str], title: str) -> Table:
    table = Table(title=title)
    for c in columns:
        table.add_column(c, justify="left" if c in ("district", "name") else "right")
    for rec in frame[columns].to_dict("records"):
        table.add_row(*(_cell(v) for v in rec.values()))
    return table


def access(
    profile: Annotated[str, typer.Option(help="walk or wheelchair")] = "walk",
    view: Annotated[str, typer.Option(help="districts, cells (H3 res 9) or buildings")] = (
        "districts"
    ),
    category: Annotated[
        str | None, typer.Option(help="Comma list of: school, kindergarten, clinic, bus_stop, park")
    ] = None,
    engine: EngineOpt = "auto",
    output: OutOpt = None,
) -> None:
    """Walking time to the nearest school, kindergarten, clinic, bus stop and park; the
    15-minute-city score; per district, the share of residents within 10 and 15 minutes."""
    from twin.analyses.access.output import hexagons
    from twin.analyses.access.profiles import Mode, categories
    from twin.analyses.access.profiles import profile as get_profile

    with user_errors():
        prof = get_profile(profile)
        if prof.mode is Mode.DRIVE:
            raise BadInput("the access analysis is for walk or wheelchair")
        cats = categories(category)
        svc = _service(engine)
        result: pd.DataFrame
        if view == "districts":
            result = svc.districts(prof, cats)
            cols = ["district", *[f"{c.name}_15" for c in cats], "accessible_clinic_15"]
            out.print(_table(result, cols, f"share of residents within 15 min ({profile})"))
        elif view == "cells":
            result = hexagons(svc.cells(prof, cats))
        elif view == "buildings":
            result = svc.buildings(prof, cats)
        else:
            raise BadInput(f"unknown view {view!r}; use districts, cells or buildings")
        if view != "districts":
            console.print(f"{len(result)} {view}; mean score15 = {result['score15'].mean():.2f}")
        if output is not None:
            write_frame(result, output)


def isochrone(
    lon: Annotated[float, typer.Argument(help="Longitude of the start")],
    lat: Annotated[float, typer.Argument(help="Latitude of the start")],
    minutes: Annotated[str, typer.Option(help="Comma list of minutes (each in (0, 60])")] = (
        "5,10,15,20"
    ),
    mode: Annotated[str, typer.Option(help="walk, wheelchair or drive")] = "walk",
    engine: EngineOpt = "auto",
    output: OutOpt = None,
) -> None:
    """Isochrones from a point: the area reachable within each number of minutes."""
    from twin.analyses.access.output import parse_floats
    from twin.analyses.access.profiles import profile as get_profile

    with user_errors():
        steps = parse_floats(minutes, "minutes") or []
        result = _service(engine).isochrone(get_profile(mode), lon, lat, steps)
        frame = result.drop(columns="geometry")
        cols = ["minutes", "mode", "area_km2", "streets_km"]
        out.print(_table(frame, cols, f"isochrones from ({lon}, {lat})"))
        if output is not None:
            write_frame(result, output)


def schools(
    kind: Annotated[str, typer.Option(help="school or kindergarten")] = "school",
    age_share: Annotated[
        float | None,
        typer.Option(
            help="Share of residents of that age (default 0.16 school, 0.09 kindergarten)"
        ),
    ] = None,
    overload_at: Annotated[float, typer.Option(help="Load above which it is overloaded")] = 1.0,
    engine: EngineOpt = "auto",
    output: OutOpt = None,
) -> None:
    """School load: network catchments, pupils estimate, load = pupils / capacity."""
    with user_errors():
        result = _service(engine).schools(kind, age_share, overload_at)
        a = result.assumptions
        console.print(
            f"assumption: {a['age_share']:.0%} of residents are aged {a['age_range']}; "
            f"catchment = {a['catchment']}",
            highlight=False,
        )
        over = result.schools[result.schools["overloaded"]].sort_values("load", ascending=False)
        cols = ["fid", "name", "district", "capacity", "pupils_estimate", "load"]
        out.print(_table(over.head(30), cols, f"{len(over)} overloaded {kind}s (top 30)"))
        if output is not None:
            write_frame(result.schools, output)


def register(app: typer.Typer) -> None:
    """Add the access commands to ``twin analyze``."""
    app.command("access")(access)
    app.command("isochrone")(isochrone)
    app.command("schools")(schools)
