"""``twin analyze coverage`` and ``twin analyze placement``.

The output format follows each ``--out`` file's extension: ``.geojson`` (white spots or
proposed cameras, with the metrics as top-level members), ``.gpkg`` (every result as its own
layer, districts with their shares as polygons), ``.tif`` (cameras seeing each 5 m cell) or
``.csv`` (the per-district table, or the proposed cameras).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import typer
from rich.table import Table

from twin.analyses.coverage.analysis import CoverageResult, PlacementResult, PreparedScope
from twin.analyses.coverage.cameras import METRIC_CRS, CameraEdits, to_lonlat, to_metric
from twin.analyses.coverage.placement import Template
from twin.analyses.coverage.results import feature_collection
from twin.analyses.coverage.scope import Scope, parse_bbox
from twin.analyses.coverage.targets import Weights
from twin.cli.common import connect_cluster, open_store, out
from twin.cli.common import console as err
from twin.core.errors import BadInput, TwinError

COVERAGE_FORMATS = (".geojson", ".json", ".gpkg", ".tif", ".tiff", ".csv")
PLACEMENT_FORMATS = (".geojson", ".json", ".gpkg", ".csv")

District = Annotated[
    str | None, typer.Option(help="Analyse one district (name in English, Russian or Kazakh).")
]
Bbox = Annotated[str | None, typer.Option(help="Analyse a bbox: west,south,east,north (degrees).")]
PolygonFile = Annotated[
    Path | None, typer.Option("--polygon", help="Analyse the area of a GeoJSON polygon file.")
]
WeightsOpt = Annotated[
    str | None,
    typer.Option(
        help="Weights as name=value pairs, e.g. 'base=1,population=1,pois=0.5,appeals=0.5'."
    ),
]
EditsOpt = Annotated[
    Path | None,
    typer.Option(
        help="What-if camera edits, a JSON file {add: [...], update: [...], remove: [...]}."
    ),
]
Planned = Annotated[bool, typer.Option(help="Count planned cameras as covering.")]
Outs = Annotated[
    list[Path],
    typer.Option("--out", "-o", help="Output file(s); the format follows the extension."),
]


def _scope(district: str | None, bbox: str | None, polygon: Path | None) -> Scope:
    given = [v is not None for v in (district, bbox, polygon)]
    if sum(given) > 1:
        raise BadInput("give at most one of --district, --bbox, --polygon")
    if district is not None:
        return Scope(kind="district", district=district)
    if bbox is not None:
        return Scope(kind="bbox", bbox=parse_bbox(bbox.split(",")))
    if polygon is not None:
        try:
            data = json.loads(polygon.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BadInput(f"{polygon}: not a readable GeoJSON file ({exc})") from None
        if isinstance(data, dict) and data.get("type") == "FeatureCollection":
            feats = data.get("features") or []
            if len(feats) != 1:
                raise BadInput(f"{polygon}: give exactly one polygon feature")
            data = feats[0]
        return Scope(kind="polygon", polygon=data)
    return Scope()


def _weights(text: str | None) -> Weights:
    if not text:
        return Weights()
    values: dict[str, float] = {}
    for pair in text.split(","):
        name, sep, value = pair.partition("=")
        try:
            values[name.strip()] = float(value)
        except ValueError:
            raise BadInput(f"--weights: {pair!r} is not name=number") from None
        if not sep:
            raise BadInput(f"--weights: {pair!r} is not name=number")
    return Weights.from_mapping(values)


def _edits(path: Path | None) -> CameraEdits:
    if path is None:
        return CameraEdits()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInput(f"{path}: not a readable JSON file ({exc})") from None
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected an object with add / update / remove")
    return CameraEdits(
        add=data.get("add") or [], update=data.get("update") or [], remove=data.get("remove") or []
    )


def _check_outs(outs: list[Path], formats: tuple[str, ...]) -> None:
    if not outs:
        raise BadInput("give at least one --out file")
    for path in outs:
        if path.suffix.lower() not in formats:
            raise BadInput(f"{path}: unknown output format; use one of {', '.join(formats)}")


def _prepare(scope: Scope, include_planned: bool) -> PreparedScope:
    from twin.analyses.coverage.inputs import read_city

    connect_cluster()  # the heavy step there, if set
    store = open_store()
    try:
        with err.status("reading the city …"):
            city, area, label = read_city(store, scope)
    finally:
        store.close()
    with err.status(f"computing visibility of {len(city.cameras):,} cameras over {label} …"):
        return PreparedScope(city, area, label, include_planned=include_planned)


def _district_polygons(prepared: PreparedScope, table: pd.DataFrame) -> gpd.GeoDataFrame:
    regions = dict(zip(prepared.targets.district_names, prepared.targets.regions, strict=True))
    geoms = [regions[d] for d in table["district"]]
    return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, crs=METRIC_CRS), crs=METRIC_CRS)


def _print_districts(table: pd.DataFrame, summary: dict[str, Any], title: str) -> None:
    grid = Table(title=title)
    for col in ("district", "street %", "area %", "weighted %", "white spots m²"):
        grid.add_column(col, justify="left" if col == "district" else "right")
    rows: list[dict[str, Any]] = [
        *({str(k): v for k, v in r.items()} for r in table.to_dict("records")),
        {"district": "all", **summary},
    ]
    for row in rows:
        grid.add_row(
            str(row["district"]),
            str(row["street_pct"]),
            str(row["area_pct"]),
            str(row["weighted_pct"]),
            f"{row['area_m2'] - row['covered_m2']:,.0f}",
        )
    out.print(grid)


def _write_coverage(result: CoverageResult, prepared: PreparedScope, path: Path) -> None:
    ext = path.suffix.lower()
    members = {"scope": result.scope_label, "summary": result.summary}
    if ext in (".geojson", ".json"):
        fc = feature_collection(
            result.white_spots, **members, districts=result.districts.to_dict("records")
        )
        path.write_text(json.dumps(fc, ensure_ascii=False, default=_jsonable), encoding="utf-8")
    elif ext == ".gpkg":
        path.unlink(missing_ok=True)
        layers = {
            "white_spots": result.white_spots,
            "coverage": result.coverage,
            "district_coverage": _district_polygons(prepared, result.districts),
            "cameras": result.cameras,
        }
        for name, frame in layers.items():
            frame.to_crs(4326).to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    elif ext in (".tif", ".tiff"):
        path.write_bytes(result.geotiff())
    else:
        result.districts.to_csv(path, index=False)


def _write_placement(result: PlacementResult, prepared: PreparedScope, path: Path) -> None:
    ext = path.suffix.lower()
    proposed = result.proposed
    if ext in (".geojson", ".json"):
        fc = feature_collection(
            proposed,
            scope=result.scope_label,
            before=result.before,
            after=result.after,
            stats=result.stats,
        )
        path.write_text(json.dumps(fc, ensure_ascii=False, default=_jsonable), encoding="utf-8")
    elif ext == ".gpkg":
        path.unlink(missing_ok=True)
        layers = {
            "proposed_cameras": proposed,
            "white_spots_after": result.white_spots_after,
            "district_coverage_after": _district_polygons(prepared, result.districts_after),
        }
        for name, frame in layers.items():
            frame.to_crs(4326).to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    else:
        table = pd.DataFrame(proposed.drop(columns="geometry"))
        lon, lat = to_lonlat(proposed.geometry.x.to_numpy(), proposed.geometry.y.to_numpy())
        table.insert(2, "lon", np.round(lon, 7))
        table.insert(3, "lat", np.round(lat, 7))
        table.to_csv(path, index=False)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _fail(exc: TwinError) -> typer.Exit:
    err.print(f"[bold red]error:[/] {exc.detail}", highlight=False)
    return typer.Exit(1)


def coverage_cmd(
    out_files: Outs,
    district: District = None,
    bbox: Bbox = None,
    polygon: PolygonFile = None,
    weights: WeightsOpt = None,
    edits: EditsOpt = None,
    include_planned: Planned = False,
    min_spot_m2: Annotated[float, typer.Option(help="Smallest white spot reported, m².")] = 25.0,
) -> None:
    """Camera coverage of street space: white spots, shares per district, count raster."""
    try:
        _check_outs(out_files, COVERAGE_FORMATS)
        scope = _scope(district, bbox, polygon)
        w, e = _weights(weights), _edits(edits)
        prepared = _prepare(scope, include_planned)
        with err.status("white spots and district shares …"):
            result = prepared.coverage(weights=w, edits=e, min_spot_m2=min_spot_m2)
        for path in out_files:
            with err.status(f"writing {path} …"):
                _write_coverage(result, prepared, path)
    except TwinError as exc:
        raise _fail(exc) from None
    _print_districts(result.districts, result.summary, f"camera coverage — {result.scope_label}")
    err.print(f"{len(result.white_spots):,} white spots; wrote {', '.join(map(str, out_files))}")


def placement_cmd(
    out_files: Outs,
    k: Annotated[int, typer.Option("-k", "--k", help="How many new cameras to place.")] = 10,
    district: District = None,
    bbox: Bbox = None,
    polygon: PolygonFile = None,
    weights: WeightsOpt = None,
    edits: EditsOpt = None,
    include_planned: Planned = False,
    kind: Annotated[str, typer.Option(help="Camera kind to place: fixed or ptz.")] = "fixed",
    fov: Annotated[float, typer.Option(help="Field of view, degrees.")] = 90.0,
    range_m: Annotated[float, typer.Option("--range", help="Range, metres (<= 1000).")] = 100.0,
    mount_height: Annotated[float, typer.Option(help="Mount height, metres.")] = 6.0,
    spacing: Annotated[float, typer.Option(help="Candidate spacing along streets, m.")] = 50.0,
    intersections: Annotated[bool, typer.Option(help="Use street intersections.")] = True,
    candidates: Annotated[
        Path | None,
        typer.Option(help="Candidate points (any vector file; optional heading_deg column)."),
    ] = None,
    demand_cell: Annotated[float, typer.Option(help="Demand cell size, m.")] = 5.0,
) -> None:
    """Propose K new cameras that cover the most uncovered weight (lazy greedy)."""
    try:
        _check_outs(out_files, PLACEMENT_FORMATS)
        scope = _scope(district, bbox, polygon)
        template = Template(kind=kind, fov_deg=fov, range_m=range_m, mount_height_m=mount_height)
        w, e = _weights(weights), _edits(edits)
        given = _given(candidates) if candidates is not None else None
        prepared = _prepare(scope, include_planned)
        with err.status(f"placing {k} cameras …"):
            result = prepared.placement(
                k,
                template=template,
                weights=w,
                edits=e,
                spacing_m=spacing,
                intersections=intersections,
                given=given,
                demand_cell_m=demand_cell,
            )
        for path in out_files:
            _write_placement(result, prepared, path)
    except TwinError as exc:
        raise _fail(exc) from None
    grid = Table(title=f"proposed cameras — {result.scope_label}")
    for col in ("rank", "street", "heading", "gain (weight)", "gain m²", "cumulative"):
        grid.add_column(col, justify="left" if col == "street" else "right")
    for row in result.proposed.to_dict("records"):
        grid.add_row(
            str(row["rank"]),
            str(row["street"] or "—"),
            f"{row['heading_deg']:.0f}°",
            f"{row['gain_weight']:,.0f}",
            f"{row['gain_m2']:,.0f}",
            f"{row['cumulative_weight']:,.0f}",
        )
    out.print(grid)
    err.print(
        f"weighted coverage {result.before['weighted_pct']}% -> {result.after['weighted_pct']}% "
        f"({result.stats['candidates']:,} candidates, {result.stats['evaluated']:,} evaluated)"
    )


def _given(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    import pyogrio

    try:
        frame = pyogrio.read_dataframe(path)
    except Exception as exc:  # pyogrio raises its own hierarchy for unreadable files
        raise BadInput(f"{path}: cannot read candidates ({exc})") from None
    if len(frame) == 0 or not (frame.geom_type == "Point").all():
        raise BadInput(f"{path}: candidates must be a non-empty layer of points")
    frame = frame if frame.crs is not None else frame.set_crs(4326)
    lonlat = frame.to_crs(4326)
    x, y = to_metric(lonlat.geometry.x.to_numpy(), lonlat.geometry.y.to_numpy())
    heading = (
        pd.to_numeric(frame["heading_deg"], errors="coerce").to_numpy(float)
        if "heading_deg" in frame
        else None
    )
    return x, y, heading


def register(app: typer.Typer) -> None:
    """Add ``coverage`` and ``placement`` to the ``twin analyze`` group."""
    app.command("coverage")(coverage_cmd)
    app.command("placement")(placement_cmd)
