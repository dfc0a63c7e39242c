"""The OGC API – Features documents about the service: landing page, conformance, collection
metadata and queryables, derived from the layer catalog. Pure: ``base`` is the service root URL
(ending in ``/``) and every link is built from it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from layers import Layer, PropType
from layers.model import LANGS
from twin.core.errors import BadInput
from twin.features.params import CRS84, queryables
from twin.features.query import Extent

GEOJSON = "application/geo+json"
JSON = "application/json"
SCHEMA_JSON = "application/schema+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
GPKG = "application/geopackage+sqlite3"
CSV = "text/csv"
TRS_GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"

CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
)

_LICENCE_URLS = (
    ("ODbL", "https://opendatacommons.org/licenses/odbl/1-0/"),
    ("CC0", "https://creativecommons.org/publicdomain/zero/1.0/"),
    ("CC BY-NC 4.0", "https://creativecommons.org/licenses/by-nc/4.0/"),
)
_JSON_TYPES = {
    PropType.STR: {"type": "string"},
    PropType.INT: {"type": "integer"},
    PropType.FLOAT: {"type": "number"},
    PropType.BOOL: {"type": "boolean"},
    PropType.DATE: {"type": "string", "format": "date"},
    PropType.DATETIME: {"type": "string", "format": "date-time"},
    PropType.JSON: {"type": "string", "contentMediaType": "application/json"},
}


def language(lang: str | None, accept_language: str | None = None) -> str:
    """Return the interface language: ``lang`` if given (checked), else the first supported one
    in ``Accept-Language``, else Russian."""
    if lang is not None:
        if lang not in LANGS:
            raise BadInput(f"lang {lang!r} is not supported (languages: {', '.join(LANGS)})")
        return lang
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGS:
            return code
    return "ru"


def _link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, Any]:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def landing(base: str) -> dict[str, Any]:
    """Return the landing page document."""
    return {
        "title": "Almaty City Twin",
        "description": "Open data of the Almaty digital twin: city layers as OGC API – Features "
        "(GeoJSON, GeoPackage, CSV), with CQL2 filters and feature edits.",
        "links": [
            _link(base + "?f=json", "self", JSON, "This document"),
            _link(base + "openapi.json", "service-desc", OPENAPI, "The API definition"),
            _link(base + "docs", "service-doc", "text/html", "The API documentation"),
            _link(base + "conformance", "conformance", JSON, "Conformance classes"),
            _link(base + "collections", "data", JSON, "The collections"),
        ],
    }


def conformance() -> dict[str, Any]:
    """Return the conformance declaration."""
    return {"conformsTo": list(CONFORMANCE)}


def licence_links(layer: Layer) -> list[dict[str, Any]]:
    """Return ``license`` links for the known licences named in the layer's licence text."""
    return [
        _link(url, "license", "text/html", layer.licence)
        for key, url in _LICENCE_URLS
        if key in layer.licence
    ]


def collection(layer: Layer, extent: Extent, base: str, lang: str) -> dict[str, Any]:
    """Return the metadata of one collection (titles in ``lang``, extent from the data)."""
    items = f"{base}collections/{layer.id}/items"
    doc: dict[str, Any] = {
        "id": layer.id,
        "title": layer.title.get(lang),
        "description": (layer.description.get(lang) if layer.description else layer.source),
        "titles": layer.title.as_dict(),
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "license": layer.licence,
        "attribution": layer.attribution,
        "geometryType": layer.geometry.value,
        "links": [
            _link(f"{base}collections/{layer.id}", "self", JSON, layer.title.get(lang)),
            _link(items, "items", GEOJSON, "Features as GeoJSON"),
            _link(items + "?f=gpkg", "enclosure", GPKG, "The whole collection as GeoPackage"),
            _link(items + "?f=csv", "enclosure", CSV, "The whole collection as CSV (WKT)"),
            _link(
                f"{base}collections/{layer.id}/queryables",
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                SCHEMA_JSON,
                "Queryable properties",
            ),
            _link(
                f"{base}collections/{layer.id}/schema",
                "describedby",
                SCHEMA_JSON,
                "The schema of the features",
            ),
            *licence_links(layer),
        ],
    }
    ext: dict[str, Any] = {}
    if extent.bbox is not None:
        ext["spatial"] = {"bbox": [list(extent.bbox)], "crs": CRS84}
    if extent.interval is not None:
        ext["temporal"] = {"interval": [list(extent.interval)], "trs": TRS_GREGORIAN}
    if ext:
        doc["extent"] = ext
    if layer.temporal is not None:
        doc["temporalProperties"] = {"start": layer.temporal.start, "end": layer.temporal.end}
    return doc


def collections(docs: list[dict[str, Any]], base: str) -> dict[str, Any]:
    """Return the collections list document."""
    return {
        "links": [_link(base + "collections", "self", JSON, "The collections")],
        "collections": docs,
    }


def queryables_schema(layer: Layer, base: str, lang: str) -> dict[str, Any]:
    """Return the JSON Schema of what a filter may name (OGC API – Features Part 3)."""
    props: dict[str, Any] = {
        "geometry": {
            "title": "geometry",
            "format": f"geometry-{layer.geometry.value.lower()}",
            "x-ogc-role": "primary-geometry",
        }
    }
    for p in queryables(layer).values():
        schema: dict[str, Any] = {"title": p.title.get(lang), **_JSON_TYPES[p.type]}
        if p.choices:
            schema["enum"] = list(p.choices)
        if p.minimum is not None:
            schema["minimum"] = p.minimum
        if p.maximum is not None:
            schema["maximum"] = p.maximum
        if p.unit:
            schema["x-unit"] = p.unit
        props[p.name] = schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}collections/{layer.id}/queryables",
        "type": "object",
        "title": layer.title.get(lang),
        "properties": props,
        "additionalProperties": False,
    }


def feature_schema(layer: Layer, base: str, lang: str) -> dict[str, Any]:
    """Return the JSON Schema of the collection's GeoJSON features (``describedby``): GDAL
    and QGIS take the field types from it rather than guessing from a sample page."""
    props: dict[str, Any] = {}
    for p in queryables(layer).values():
        # A plain "type" (no ["string", "null"]): GDAL reads only that form. Values may be
        # null all the same; JSON properties may hold any JSON value.
        schema: dict[str, Any] = {"title": p.title.get(lang)}
        if p.type is not PropType.JSON:
            schema.update(_JSON_TYPES[p.type])
        props[p.name] = schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}collections/{layer.id}/schema",
        "title": layer.title.get(lang),
        "type": "object",
        "required": ["type", "id", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "integer"},
            "geometry": {
                "format": f"geometry-{layer.geometry.value.lower()}",
                "x-ogc-role": "primary-geometry",
            },
            "properties": {"type": "object", "properties": props},
        },
    }


HrefWith = Callable[[dict[str, str | int | None]], str]


def items_links(
    layer: Layer,
    base: str,
    self_href: str,
    href_with: HrefWith,
    *,
    number_matched: int,
    returned: int,
    offset: int,
    limit: int | None,
) -> list[dict[str, Any]]:
    """Return the links of an items page: self, next/prev, the selection as downloads and
    the collection. ``href_with(changes)`` returns this request's URL with the query
    parameters in ``changes`` set (or removed, for None)."""
    links = [_link(self_href, "self", GEOJSON, "This page")]
    if limit is not None:
        if offset + returned < number_matched:
            next_href = href_with({"offset": offset + limit, "limit": limit})
            links.append(_link(next_href, "next", GEOJSON, "The next page"))
        if offset > 0:
            prev_href = href_with({"offset": max(0, offset - limit), "limit": limit})
            links.append(_link(prev_href, "prev", GEOJSON, "The previous page"))
    for fmt, media in (("gpkg", GPKG), ("csv", CSV)):
        href = href_with({"offset": None, "limit": None, "f": fmt})
        links.append(_link(href, "alternate", media, f"This selection as {fmt.upper()}"))
    links.append(_link(f"{base}collections/{layer.id}", "collection", JSON, layer.id))
    return links


def page_members(
    layer: Layer, links: list[dict[str, Any]], *, number_matched: int, returned: int
) -> dict[str, Any]:
    """Return the members of a FeatureCollection page besides its features."""
    return {
        "timeStamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "numberMatched": number_matched,
        "numberReturned": returned,
        "attribution": layer.attribution,
        "links": links,
    }
