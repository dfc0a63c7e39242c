"""Extract: read a geodata file into raw tables, one per sub-layer, without judging the rows.

Readers only parse. They keep every column as the file has it, number every feature (``_row``,
1-based, in file order) and record the features whose geometry could not be parsed in
``row_errors`` instead of dropping them, so that :func:`etl.transform.conform` can reject them
with a reason. A problem with the whole file (missing, not geodata, truncated, not UTF-8, empty,
a CSV without coordinates) raises :class:`twin.core.errors.SourceError` naming the file.

Supported: GeoJSON (``.geojson``/``.json``), GeoPackage (``.gpkg``), Shapefile (``.shp`` or a
zipped shapefile ``.zip``), FlatGeobuf (``.fgb``), CSV with lon/lat or WKT columns (``.csv``,
see :mod:`etl.csvread`) and OSM PBF (``.pbf``/``.osm.pbf``).
"""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import pyogrio.raw
import shapely
from pyogrio.errors import DataSourceError

from etl.raw import EXPECTED, RawTable, decode_utf8
from twin.core.errors import SourceError

# The GDAL OSM driver also offers "multilinestrings" and "other_relations"; route and
# miscellaneous relations are not city features, so a whole-file read leaves them out.
OSM_LAYERS = ("points", "lines", "multipolygons")

_FORMATS = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".shp": "Shapefile",
    ".zip": "zipped Shapefile",
    ".fgb": "FlatGeobuf",
    ".csv": "CSV",
    ".pbf": "OSM PBF",
}


def read_file(path: str | Path, *, sublayer: str | None = None) -> list[RawTable]:
    """Return the raw tables of a geodata file: one per vector layer, or only ``sublayer``.

    Parameters
    ----------
    path
        A GeoJSON, GeoPackage, Shapefile (plain or zipped), FlatGeobuf, CSV or OSM PBF file.
    sublayer
        The one layer to read (a GeoPackage table, an OSM layer such as ``"points"``, a
        shapefile's name inside a zip). ``None`` reads every layer.

    Raises
    ------
    SourceError
        The file is missing, a directory, empty, not geodata, truncated, not UTF-8, or has no
        layer ``sublayer``.

    Examples
    --------
    >>> [t.name for t in read_file("data/almaty/osm/almaty_osm_2012-03.osm.pbf")]
    ['points', 'lines', 'multipolygons']
    """
    p = Path(path)
    if not p.exists():
        raise SourceError(f"{p}: no such file")
    if p.is_dir():
        raise SourceError(f"{p}: is a directory, not a file")
    suffix = p.suffix.lower()
    if suffix not in _FORMATS:
        raise SourceError(f"{p}: not a geodata file ({EXPECTED})")
    if p.stat().st_size == 0:
        raise SourceError(f"{p}: empty file (0 bytes)")

    if suffix == ".csv":
        from etl.csvread import read_csv  # CSV has its own parser for per-row errors

        return [read_csv(p)]
    if suffix in (".geojson", ".json"):
        return [_read_geojson(p, sublayer)]
    if suffix == ".zip":
        return _read_zip(p, sublayer)
    if suffix == ".pbf":
        return _read_layers(
            p, _FORMATS[suffix], _pick(p, _list_layers(p, "OSM PBF"), sublayer, default=OSM_LAYERS)
        )
    if suffix == ".gpkg":
        return _read_layers(p, "GeoPackage", _pick(p, _list_layers(p, "GeoPackage"), sublayer))
    # Single-layer formats: the table name is "" (the file is the layer).
    layers = _list_layers(p, _FORMATS[suffix])
    _pick(p, layers, sublayer)
    return [_read_layer(p, str(p), layers[0], name="", fmt=_FORMATS[suffix])[0]]


def _list_layers(p: Path, fmt: str, source: str | None = None) -> list[str]:
    """Return the names of the spatial layers GDAL sees in ``source`` (default: the file)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            listed = pyogrio.list_layers(source or str(p))
    except DataSourceError as e:
        raise _not_readable(p, fmt, e) from None
    # Attribute-only tables (geometry type None) are not map layers.
    return [str(name) for name, gtype in listed if gtype is not None]


def _pick(
    p: Path, layers: list[str], sublayer: str | None, default: tuple[str, ...] | None = None
) -> list[str]:
    """Return the layers to read: ``sublayer`` if given (it must exist), else all or default."""
    if sublayer:
        if sublayer not in layers:
            raise SourceError(f"{p}: no layer {sublayer!r} (layers: {', '.join(layers)})")
        return [sublayer]
    if default is not None:
        return [name for name in layers if name in default]
    return layers


def _not_readable(p: Path, fmt: str, e: Exception) -> SourceError:
    """Return the SourceError for a file GDAL cannot open as ``fmt``."""
    msg = str(e)
    if "not recognized as being in a supported file format" in msg:
        return SourceError(f"{p}: not a geodata file ({EXPECTED}); GDAL cannot open it as {fmt}")
    return SourceError(f"{p}: cannot be read as {fmt}: {msg}")


def _read_layers(p: Path, fmt: str, layers: list[str]) -> list[RawTable]:
    """Return one raw table per named layer of a multi-layer file."""
    return [_read_layer(p, str(p), layer, name=layer, fmt=fmt)[0] for layer in layers]


def _read_layer(
    p: Path, source: str, layer: str, *, name: str, fmt: str = "geodata"
) -> tuple[RawTable, np.ndarray]:
    """Return one layer read with pyogrio (unparseable geometries in ``row_errors``) and the
    GDAL feature ids."""
    try:
        with warnings.catch_warnings():
            # GDAL warns about each odd geometry; those rows are reported in row_errors.
            warnings.simplefilter("ignore")
            try:
                # Arrow halves the read (0.19 s against 0.39 s for 82,000 buildings).
                frame, wkb = _read_arrow(source, layer)
            except ValueError:
                # pyogrio's Arrow path cannot index by the FID when the FID column shares its
                # name with a field (GeoJSON features with an "id" member and an "id"
                # property); the row-by-row path can.
                frame = pyogrio.read_dataframe(
                    source, layer=layer, on_invalid="ignore", fid_as_index=True
                )
                wkb = None
    except DataSourceError as e:
        raise _not_readable(p, fmt, e) from None
    except Exception as e:  # a corrupt file fails inside GDAL with many exception types
        raise SourceError(f"{p}: cannot be read as {fmt}: {e}") from None
    fids = frame.index.to_numpy()
    if p.suffix.lower() == ".gpkg" and "fid" not in frame.columns:
        # A GeoPackage fid is the table's primary key, an id worth keeping.
        frame.insert(0, "fid", fids)
    frame = frame.reset_index(drop=True)
    frame["_row"] = np.arange(1, len(frame) + 1)
    row_errors: dict[int, str] = {}
    if len(frame) and frame.geometry.isna().any():
        row_errors = _wkb_errors(source, layer, frame)
    return RawTable(path=p, name=name, frame=frame, row_errors=row_errors, wkb=wkb), fids


# Little-endian WKB heads of the 2D types (Point … GeometryCollection): what the stores write.
_WKB_HEADS = pa.array([b"\x01" + code.to_bytes(4, "little") for code in range(1, 8)])


def _read_arrow(source: str, layer: str) -> tuple[gpd.GeoDataFrame, np.ndarray | None]:
    """Return a layer as ``pyogrio.read_dataframe(use_arrow=True, fid_as_index=True,
    on_invalid="ignore")`` reads it, and its WKB when every geometry's head is one the stores
    write (see :attr:`RawTable.wkb`), else None.

    Why not read_dataframe: it parses the WKB and drops it, and the store encoded the same
    geometries again (0.057 s of a 0.9 s load of 82,000 buildings). A layer with datetime or
    JSON fields, which pyogrio converts with its own rules, or without a geometry column, is
    read again by read_dataframe.
    """
    meta, table = pyogrio.read_arrow(source, layer=layer, return_fids=True, datetime_as_string=True)
    name = meta["geometry_name"] or "wkb_geometry"
    dates = [d for d in meta["dtypes"] if str(d).startswith("datetime") and d != "datetime64[D]"]
    if dates or "OFSTJSON" in meta["ogr_subtypes"] or name not in table.column_names:
        del table
        frame = pyogrio.read_dataframe(
            source, layer=layer, on_invalid="ignore", fid_as_index=True, use_arrow=True
        )
        return frame, None
    column = table.column(name).combine_chunks()
    storage = column.storage if isinstance(column, pa.ExtensionArray) else column
    try:
        df = table.drop_columns([name]).to_pandas(self_destruct=True)
    except UnicodeDecodeError as e:  # as pyogrio reports it
        raise DataSourceError(
            "The file being read is not encoded in UTF-8; please use_arrow=False"
        ) from e
    df = df.set_index(meta["fid_column"])
    df.index.names = ["fid"]
    wkb = storage.to_numpy(zero_copy_only=False)
    df["geometry"] = shapely.from_wkb(wkb, on_invalid="ignore")
    frame = gpd.GeoDataFrame(df, geometry="geometry", crs=meta["crs"])
    heads = pc.binary_slice(storage.drop_null(), 0, 5)
    canonical = pc.all(pc.is_in(heads, value_set=_WKB_HEADS)).as_py()
    return frame, wkb if canonical else None


def _wkb_errors(source: str, layer: str, frame: gpd.GeoDataFrame) -> dict[int, str]:
    """Return the rows whose geometry GDAL produced but shapely could not parse, with why.

    A second, geometry-only read is cheap and only happens when a null geometry is seen.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, _, wkb, _ = pyogrio.raw.read(source, layer=layer, columns=[])
    errors: dict[int, str] = {}
    missing = frame.geometry.isna().to_numpy()
    for i in np.flatnonzero(missing):
        if i < len(wkb) and wkb[i] is not None:
            try:
                shapely.from_wkb(wkb[i])
                why = "GDAL could not convert it"
            except shapely.errors.GEOSException as e:
                why = str(e).split(": ", 1)[-1]
            errors[int(i) + 1] = f"row {i + 1}: geometry could not be parsed: {why}"
    return errors


def _read_zip(p: Path, sublayer: str | None) -> list[RawTable]:
    """Return the shapefile(s) inside a zip, read through GDAL's /vsizip/."""
    try:
        with zipfile.ZipFile(p) as z:
            members = [m for m in z.namelist() if m.lower().endswith(".shp")]
    except zipfile.BadZipFile:
        raise SourceError(f"{p}: not a geodata file ({EXPECTED}); not a valid zip") from None
    if not members:
        raise SourceError(f"{p}: not a geodata file ({EXPECTED}); the zip holds no .shp")
    stems = [m[:-4] for m in members]
    if sublayer:
        if sublayer not in stems:
            raise SourceError(f"{p}: no layer {sublayer!r} (layers: {', '.join(stems)})")
        members = [members[stems.index(sublayer)]]
    tables = []
    for member in members:
        source = f"/vsizip/{p.resolve()}/{member}"
        layers = _list_layers(p, "zipped Shapefile", source)
        if not layers:
            continue
        name = member[:-4] if len(stems) > 1 or sublayer else ""
        tables.append(_read_layer(p, source, layers[0], name=name, fmt="zipped Shapefile")[0])
    return tables


def _read_geojson(p: Path, sublayer: str | None) -> RawTable:
    """Return a GeoJSON file, checked first for binary content, UTF-8 and truncation."""
    data = p.read_bytes()
    head = data[:4096]
    if b"\x00" in head or not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        raise SourceError(f"{p}: not a geodata file ({EXPECTED}); it is not JSON text")
    text = decode_utf8(p, data)
    body = text.lstrip("\ufeff \t\r\n")
    # GDAL's message for a cut-off file is vague; json locates the damage by line and column.
    if not body.rstrip().endswith("}"):
        _raise_json_error(p, text, truncated=True)
    try:
        layers = _list_layers(p, "GeoJSON")
    except SourceError:
        _raise_json_error(p, text)
        raise SourceError(
            f"{p}: not a geodata file ({EXPECTED}); valid JSON but not GeoJSON"
        ) from None
    _pick(p, layers, sublayer)
    table, fids = _read_layer(p, str(p), layers[0], name="", fmt="GeoJSON")
    # GDAL turns integer feature "id" members into FIDs (else numbers features 0..n-1).
    has_ids = not np.array_equal(fids, np.arange(len(fids)))
    _geojson_details(text, table, has_ids)
    return table


def _raise_json_error(p: Path, text: str, *, truncated: bool = False) -> None:
    """Raise the SourceError for invalid JSON, with line and column; return if it parses."""
    try:
        json.loads(text)
    except json.JSONDecodeError as e:
        if truncated or e.pos >= len(text.rstrip()):
            end = text.rstrip()
            line = end.count("\n") + 1
            col = len(end) - (end.rfind("\n") + 1)
            raise SourceError(
                f"{p}: truncated GeoJSON: the text stops at line {line}, column {col} before "
                f"the JSON is complete (json: {e})"
            ) from None
        raise SourceError(f"{p}: invalid GeoJSON: {e}") from None


def _geojson_details(text: str, table: RawTable, has_ids: bool) -> None:
    """Add what GDAL hides: feature-level ``id`` members and why a geometry came out null.

    Only parses the JSON when needed (null geometries, or non-sequential FIDs meaning the
    features carry ids), so a clean file costs no second parse.
    """
    frame = table.frame
    n = len(frame)
    null_rows = [
        int(i)
        for i in np.flatnonzero(frame.geometry.isna().to_numpy())
        if i + 1 not in table.row_errors
    ]
    needs_ids = has_ids and "id" not in frame.columns
    if not null_rows and not needs_ids:
        return
    doc = json.loads(text)
    features: list[Any] = []
    if isinstance(doc, dict):
        if doc.get("type") == "FeatureCollection":
            features = list(doc.get("features") or [])
        elif doc.get("type") == "Feature":
            features = [doc]
    if len(features) != n:
        return
    if needs_ids:
        ids = [f.get("id") if isinstance(f, dict) else None for f in features]
        if any(i is not None for i in ids):
            frame.insert(0, "id", ids)
    for i in null_rows:
        geom = features[i].get("geometry") if isinstance(features[i], dict) else None
        if geom is None:
            continue  # a genuinely null geometry; conform rejects it as empty
        table.row_errors[i + 1] = f"row {i + 1}: geometry could not be parsed: {_why(geom)}"


def _why(geom: Any) -> str:
    """Return why a GeoJSON geometry object is unusable, in words."""
    known = (
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
    )
    if not isinstance(geom, dict) or geom.get("type") not in known:
        kind = geom.get("type") if isinstance(geom, dict) else type(geom).__name__
        return f"unknown geometry type {kind!r}"
    try:
        shapely.from_geojson(json.dumps(geom))
    except (shapely.errors.GEOSException, ValueError) as e:
        return f"invalid {geom['type']}: " + str(e).split(": ", 1)[-1]
    return f"invalid {geom['type']}"
