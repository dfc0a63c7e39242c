"""``twin analyze site``: where to open an outlet of a business category, from the command
line — ranked cells (GeoJSON, GeoPackage or CSV), catchments, niches and an HTML report."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from twin.cli.common import connect_cluster, console, open_store, out, user_errors, write_frame

FileOpt = Annotated[Path | None, typer.Option(help="Write to .geojson, .gpkg or .csv")]


def site(
    category: Annotated[str, typer.Argument(help="pharmacy, cafe, grocery, bank, fuel, …")],
    top: Annotated[int, typer.Option(help="How many cells to show and write (1..1000)")] = 20,
    res: Annotated[int, typer.Option(help="H3 resolution, 8–10")] = 9,
    weights: Annotated[
        str | None, typer.Option(help="e.g. demand:1,competition:1,access:0.5")
    ] = None,
    district: Annotated[str | None, typer.Option(help="Only this district")] = None,
    all_cells: Annotated[
        bool, typer.Option("--all", help="Write every ranked cell, not only the top")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--out", "-o", help="Ranked cells: .geojson, .gpkg or .csv")
    ] = None,
    catchments: FileOpt = None,
    building_catchments: Annotated[
        Path | None,
        typer.Option(help="Every building with its nearest outlet and residents (.gpkg, …)"),
    ] = None,
    niches: FileOpt = None,
    report: Annotated[Path | None, typer.Option(help="Write the HTML report (pydeck)")] = None,
    validate: Annotated[
        bool, typer.Option(help="Also hide 20% of the outlets and print the lift")
    ] = False,
) -> None:
    """Rank H3 cells for a new outlet of CATEGORY: demand (residents within walking reach),
    competition (Huff share against existing outlets) and access (bus stops, street class,
    footfall), with each factor's contribution."""
    from twin.analyses.site.output import ranked_frame
    from twin.analyses.site.service import SiteService

    with user_errors():
        connect_cluster()  # the walking times there, if set
        store = open_store()
        try:
            with console.status("scoring the city…"):
                svc = SiteService(store)
                result = svc.site(
                    category, top=None if all_cells else top, res=res, weights=weights,
                    district=district,
                )  # fmt: skip
            cat = result.category
            shown = result.cells.head(top)
            table = Table(title=f"{cat.title.en}: best cells of {result.total:,} "
                          f"(weights {result.weights})")  # fmt: skip
            cols = ("#", "h3", "district", "score", "demand", "compet.", "access",
                    "residents", "outlets", "nearest")  # fmt: skip
            for col in cols:
                table.add_column(col, justify="left" if col in ("h3", "district") else "right")
            for _, r in shown.iterrows():
                nearest = r["nearest_min"]
                table.add_row(
                    str(r["rank"]), r["h3"], str(r["district"] or "–"), f"{r['score']:.1f}",
                    f"{r['demand_pts']:.1f}", f"{r['competition_pts']:.1f}",
                    f"{r['access_pts']:.1f}", f"{r['residents_within']:,.0f}",
                    str(int(r["outlets_within"])),
                    "–" if nearest != nearest else f"{nearest:.0f} min",
                )  # fmt: skip
            out.print(table)
            from twin.analyses.site.output import why

            for _, r in shown.head(3).iterrows():
                out.print(f"#{r['rank']} {r['h3']}: {why(r, cat)}", highlight=False)
            if output is not None:
                write_frame(ranked_frame(result.cells, cat), output)
            shapes = None
            if catchments is not None or report is not None:
                shapes, summary = svc.catchments(category, res=res, district=district)
                console.print(
                    f"{summary['outlets']} outlets; "
                    f"{summary['unassigned_residents']:,.0f} of {summary['residents']:,.0f} "
                    f"residents farther than {summary['limit_minutes']:g} min from all",
                    highlight=False,
                )
                if catchments is not None:
                    write_frame(shapes, catchments)
            if building_catchments is not None:
                write_frame(svc.building_catchments(category), building_catchments)
            found = None
            if niches is not None or report is not None:
                found = svc.niches(category, res=res, weights=weights, district=district)
                console.print(f"{len(found)} niches", highlight=False)
                if niches is not None:
                    write_frame(found, niches)
            extra: dict[str, object] = {}
            if validate:
                from twin.analyses.site.validation import recover

                check = recover(svc.model, cat, res, weights=weights)
                extra["validation"] = (
                    f"{check.recovered} of {check.hidden} hidden outlets in the top 10% of "
                    f"cells: lift {check.lift:.2f} (vs inhabited cells "
                    f"{check.lift_populated:.2f}, p = {check.p_value:.1e})"
                )
                out.print(extra["validation"], highlight=False)
            if report is not None and shapes is not None and found is not None:
                from twin.analyses.site.report import report_html, write_report

                everything = svc.site(category, top=None, res=res, weights=weights)
                shown_result = replace(result, cells=shown.reset_index(drop=True))
                page = report_html(svc.model, shown_result, everything.cells, shapes, found, extra)
                write_report(report, page)
                console.print(f"wrote the report to {report}")
        finally:
            store.close()


def register(app: typer.Typer) -> None:
    """Add the site command to ``twin analyze``."""
    app.command("site")(site)
