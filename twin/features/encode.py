"""Output encoders: a :class:`~twin.features.query.FeatureSet` to GeoJSON text, a GeoPackage
file or CSV with WKT. Pure functions from features to bytes; no HTTP here."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pyogrio
import shapely

from layers import PropType
from twin.features.query import FeatureSet

MEDIA_TYPES = {
    "json": "application/geo+json",
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "csv": "text/csv; charset=utf-8",
}


def feature_texts(fs: FeatureSet) -> list[str]:
    """Return each feature as GeoJSON text (``id`` = fid, declared properties, ``synthetic``)."""
    geometries: list[str] = shapely.to_geojson(fs.geoms).tolist() if len(fs) else []
    json_props = {n for n in fs.properties if fs.layer.prop(n).type is PropType.JSON}
    out = []
    for i, fid in enumerate(fs.fids):
        props: dict[str, Any] = {}
        for name in fs.properties:
            value = fs.values[name][i]
            props[name] = _json_value(value) if name in json_props else value
        for name, col in fs.extra.items():
            props[name] = col[i]
        props["synthetic"] = fs.synthetic[i]
        text = json.dumps(props, ensure_ascii=False, separators=(",", ":"))
        out.append(
            f'{{"type":"Feature","id":{fid},"geometry":{geometries[i]},"properties":{text}}}'
        )
    return out


def _json_value(text: str | None) -> Any:
    """Return a JSON property as data (stored as JSON text), or the text if it does not parse."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def feature(fs: FeatureSet, links: list[dict[str, Any]]) -> bytes:
    """Return the single feature of ``fs`` as a GeoJSON Feature with ``links``."""
    (text,) = feature_texts(fs)
    extra = json.dumps(links, ensure_ascii=False, separators=(",", ":"))
    return (text[:-1] + f',"links":{extra}}}').encode()


def feature_collection(fs: FeatureSet, members: dict[str, Any]) -> bytes:
    """Return a GeoJSON FeatureCollection; ``members`` (links, numberMatched …) come first."""
    head = json.dumps({"type": "FeatureCollection", **members}, ensure_ascii=False)
    body = ",".join(feature_texts(fs))
    return (head[:-1] + f',"features":[{body}]}}').encode()


def geopackage(fs: FeatureSet, *, description: str = "") -> bytes:
    """Return the features as a GeoPackage file (one layer named after the collection)."""
    frame = fs.to_frame()
    with tempfile.TemporaryDirectory(prefix="twin-gpkg-") as tmp:
        path = Path(tmp) / f"{fs.layer.id}.gpkg"
        pyogrio.write_dataframe(
            frame,
            path,
            layer=fs.layer.id,
            driver="GPKG",
            geometry_type=fs.layer.geometry.value,
            layer_options={"DESCRIPTION": description, "FID": "fid"},
        )
        return path.read_bytes()


def csv(fs: FeatureSet) -> bytes:
    """Return the features as CSV (UTF-8) with the geometry as WKT in the ``WKT`` column,
    which GDAL's CSV driver and QGIS read as geometry."""
    frame = fs.to_frame()
    table = frame.drop(columns="geometry")
    table["WKT"] = shapely.to_wkt(fs.geoms, rounding_precision=-1) if len(fs) else []
    text: str = table.to_csv(index=False, lineterminator="\n")
    return text.encode("utf-8")
