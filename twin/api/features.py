"""OGC API – Features: ``/`` (JSON landing), ``/conformance``, ``/collections``,
``/collections/{id}``, ``/collections/{id}/queryables``, ``/collections/{id}/schema``,
``/collections/{id}/items`` and ``/collections/{id}/items/{fid}``, with edits (POST on
items; PUT, PATCH, DELETE on one item).

A thin edge over :mod:`twin.features`: the core checks every parameter and builds the SQL.
Query parameters are declared here for the API definition (GDAL reads the ``limit`` maximum
from it) but parsed by the core from the raw query string, so that unknown parameters and
repeated ones are refused too. Planner-only collections answer 404 to everyone else on every
route (:func:`twin.core.access.require_layer`). Edits: 401 without a key, 403 with a resident key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from layers import Layer
from twin.api.deps import CallerDep, RoleDep, StoreDep
from twin.api.limits import MB, STAFF, body_limit
from twin.api.urls import public_base, public_url
from twin.core.access import Caller, Role, require_layer, require_planner, visible_layers
from twin.core.errors import BadInput, Forbidden, NotFound
from twin.features import edits, encode, metadata
from twin.features.params import CRS84, DEFAULT_LIMIT, MAX_LIMIT, parse_items_query
from twin.features.query import FeatureQueries, FeatureSet, city_extent, extent
from twin.store import Store
from twin.store.tables.audit import read as audit_rows

#: A feature's GeoJSON may be a detailed polygon; planners and admins may send this much.
EDIT_BYTES = 10 * MB

router = APIRouter(tags=["OGC API – Features"])

_JSON = "application/json"
_GEOJSON = "application/geo+json"
_FEATURE_BODY = Body(
    media_type=_GEOJSON,
    description="A GeoJSON Feature; its properties must be declared ones of the collection.",
    examples=[
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [76.95, 43.24]},
            "properties": {"name": "Новая остановка"},
        }
    ],
)
FeatureBody = Annotated[Any, _FEATURE_BODY]
# Items answer by ``f`` or by Accept (GeoJSON, GeoPackage, CSV): caches must key on it.
_ITEMS_HEADERS = {"Content-Crs": f"<{CRS84}>", "Vary": "Accept"}
# OGC's parameter names: GDAL looks up /collections/{collectionId}/items in the API definition.
CollectionId = Annotated[str, Path(alias="collectionId", description="A collection id.")]
FeatureId = Annotated[str, Path(alias="featureId", description="A feature id (fid).")]
LangQuery = Annotated[str | None, Query(description="Language of titles: ru, kk or en.")]


def _base(request: Request) -> str:
    return public_base(request)


def _json(doc: dict[str, Any], lang: str | None = None, media: str = _JSON) -> JSONResponse:
    headers = {"Content-Language": lang} if lang else None
    return JSONResponse(doc, media_type=media, headers=headers)


def _only_json(f: str | None) -> None:
    if f not in (None, "json"):
        raise BadInput(f"f={f!r} is not supported here (only json)")


def _fid(text: str, layer_id: str) -> int:
    # An fid is a positive integer; anything else is simply not a feature of the collection.
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise NotFound(f"no feature {text[:40]!r} in collection {layer_id!r}")
    return int(text)


def _lang(request: Request, lang: str | None) -> str:
    return metadata.language(lang, request.headers.get("accept-language"))


def landing(request: Request) -> dict[str, Any]:
    """Return the landing page document (the web router may serve it for JSON clients)."""
    return metadata.landing(_base(request))


@router.get("/", summary="Landing page (JSON)", response_class=JSONResponse)
def landing_page(request: Request, f: str | None = None) -> JSONResponse:
    """Return the OGC API landing page: links to the API definition, conformance and data."""
    _only_json(f)
    return _json(landing(request))


@router.get("/conformance", summary="Conformance classes", response_class=JSONResponse)
def conformance(f: str | None = None) -> JSONResponse:
    """Return the conformance classes this service implements."""
    _only_json(f)
    return _json(metadata.conformance())


@router.get("/collections", summary="The collections", response_class=JSONResponse)
def collections(
    request: Request, store: StoreDep, role: RoleDep, lang: LangQuery = None, f: str | None = None
) -> JSONResponse:
    """Return every collection the caller may see, with titles, extents and licences."""
    _only_json(f)
    language = _lang(request, lang)
    base = _base(request)
    docs = [
        metadata.collection(layer, extent(store, layer), base, language)
        for layer in visible_layers(role)
    ]
    return _json(metadata.collections(docs, base), language)


@router.get("/collections/{collectionId}", summary="One collection", response_class=JSONResponse)
def collection(
    request: Request,
    collection_id: CollectionId,
    store: StoreDep,
    role: RoleDep,
    lang: LangQuery = None,
    f: str | None = None,
) -> JSONResponse:
    """Return the metadata of one collection."""
    layer = require_layer(role, collection_id)
    _only_json(f)
    language = _lang(request, lang)
    doc = metadata.collection(layer, extent(store, layer), _base(request), language)
    return _json(doc, language)


@router.get(
    "/collections/{collectionId}/queryables",
    summary="Queryable properties (JSON Schema)",
    response_class=JSONResponse,
)
def queryables(
    request: Request,
    collection_id: CollectionId,
    role: RoleDep,
    lang: LangQuery = None,
    f: str | None = None,
) -> JSONResponse:
    """Return the properties a filter, a sortby or a property parameter may name."""
    layer = require_layer(role, collection_id)
    _only_json(f)
    language = _lang(request, lang)
    doc = metadata.queryables_schema(layer, _base(request), language)
    return _json(doc, language, "application/schema+json")


@router.get(
    "/collections/{collectionId}/schema",
    summary="The JSON Schema of the features",
    response_class=JSONResponse,
)
def schema(
    request: Request,
    collection_id: CollectionId,
    role: RoleDep,
    lang: LangQuery = None,
    f: str | None = None,
) -> JSONResponse:
    """Return the JSON Schema of the collection's GeoJSON features (property types)."""
    layer = require_layer(role, collection_id)
    _only_json(f)
    language = _lang(request, lang)
    doc = metadata.feature_schema(layer, _base(request), language)
    return _json(doc, language, "application/schema+json")


def _with_params(request: Request, changes: dict[str, str | int | None]) -> str:
    """Return the request's URL with the query parameters in ``changes`` set or removed."""
    url = public_url(request).remove_query_params(list(changes))
    return str(url.include_query_params(**{k: v for k, v in changes.items() if v is not None}))


def _negotiate(request: Request) -> str:
    """Return the output format the Accept header asks for when ``f`` is not given."""
    accept = request.headers.get("accept", "")
    if "application/geopackage+sqlite3" in accept:
        return "gpkg"
    if "text/csv" in accept:
        return "csv"
    return "json"


@router.get(
    "/collections/{collectionId}/items",
    summary="Features of a collection",
    response_class=Response,
    responses={
        200: {
            "content": {
                _GEOJSON: {},
                "application/geopackage+sqlite3": {},
                "text/csv": {},
            },
            "description": "A GeoJSON FeatureCollection page, or a GeoPackage/CSV download.",
        }
    },
)
def items(
    request: Request,
    collection_id: CollectionId,
    store: StoreDep,
    role: RoleDep,
    bbox: Annotated[
        str | None, Query(description="minx,miny,maxx,maxy in CRS84 (lon/lat).")
    ] = None,
    datetime: Annotated[
        str | None,
        Query(description="An instant or interval (a/b, ../b, a/..) on the time properties."),
    ] = None,
    limit: Annotated[
        int | None,
        Query(
            description=f"Page size, 1 to {MAX_LIMIT:,} (default {DEFAULT_LIMIT}); downloads "
            "(f=gpkg, f=csv) return every match unless a limit is given.",
            json_schema_extra={"minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        ),
    ] = None,
    offset: Annotated[int | None, Query(description="Features to skip.")] = None,
    properties: Annotated[
        str | None, Query(description="Comma-separated declared properties to include.")
    ] = None,
    filter: Annotated[
        str | None, Query(description="A CQL2-text filter over the queryables.")
    ] = None,
    filter_lang: Annotated[
        str | None,
        Query(
            alias="filter-lang",
            description="Only cql2-text.",
            json_schema_extra={"enum": ["cql2-text"]},
        ),
    ] = None,
    sortby: Annotated[str | None, Query(description="Comma-separated +name / -name terms.")] = None,
    f: Annotated[str | None, Query(description="json, geojson, gpkg or csv.")] = None,
) -> Response:
    """Return features: a GeoJSON page with next/prev links, or a GeoPackage/CSV download of
    the whole (filtered) selection. Declared properties may also be used as parameters:
    ``?kind=school``."""
    layer = require_layer(role, collection_id)
    q = parse_items_query(
        layer,
        request.query_params.multi_items(),
        city=lambda: city_extent(store),
        format=_negotiate(request),
    )
    fs = FeatureQueries(store, layer).page(q)
    _add_ratings(request, layer, fs)
    if q.format in ("gpkg", "csv"):
        body = (
            encode.geopackage(fs, description=f"{layer.title.en}. {layer.attribution}")
            if q.format == "gpkg"
            else encode.csv(fs)
        )
        return Response(
            body,
            media_type=encode.MEDIA_TYPES[q.format],
            headers={
                **_ITEMS_HEADERS,
                "Content-Disposition": f'attachment; filename="{layer.id}.{q.format}"',
            },
        )
    matched = fs.number_matched or 0
    links = metadata.items_links(
        layer,
        _base(request),
        str(public_url(request)),
        lambda changes: _with_params(request, changes),
        number_matched=matched,
        returned=len(fs),
        offset=q.offset,
        limit=q.limit,
    )
    members = metadata.page_members(layer, links, number_matched=matched, returned=len(fs))
    return Response(
        encode.feature_collection(fs, members), media_type=_GEOJSON, headers=_ITEMS_HEADERS
    )


@router.get(
    "/collections/{collectionId}/items/{featureId}",
    summary="One feature",
    response_class=Response,
    responses={200: {"content": {_GEOJSON: {}}}},
)
def item(
    request: Request,
    collection_id: CollectionId,
    fid: FeatureId,
    store: StoreDep,
    role: RoleDep,
    f: str | None = None,
) -> Response:
    """Return one feature as GeoJSON; 404 for an unknown fid."""
    layer = require_layer(role, collection_id)
    number = _fid(fid, layer.id)
    if f not in (None, "json", "geojson"):
        raise BadInput(f"f={f!r} is not supported here (json or geojson)")
    fs = FeatureQueries(store, layer).one(number)
    if not len(fs):
        raise NotFound(f"no feature {number} in collection {layer.id!r}")
    _add_ratings(request, layer, fs)
    return Response(
        encode.feature(fs, _feature_links(request, layer.id, number)), media_type=_GEOJSON
    )


def _add_ratings(request: Request, layer: Layer, fs: FeatureSet) -> None:
    """Add residents' rating aggregates to the features of a ratable layer
    (:meth:`twin.participation.Ratings.properties_for`)."""
    if layer.ratable and len(fs):
        fs.extra.update(request.app.state.ratings.properties_for(layer.id, fs.fids))


def _feature_links(request: Request, layer_id: str, fid: int) -> list[dict[str, Any]]:
    base = _base(request)
    return [
        {
            "href": f"{base}collections/{layer_id}/items/{fid}",
            "rel": "self",
            "type": _GEOJSON,
        },
        {"href": f"{base}collections/{layer_id}", "rel": "collection", "type": _JSON},
    ]


# -- edits ----------------------------------------------------------------------------------
def _edit_existing(
    request: Request,
    collection_id: str,
    fid: str,
    store: Store,
    caller: Caller,
    body: Any,
    apply: Callable[..., Any],
) -> Response:
    """Return the answer to a PUT or PATCH of one feature, written with ``apply``."""
    layer = require_layer(caller.role, collection_id)
    edits.require_editor(caller.role)
    number = _fid(fid, layer.id)
    apply(store, layer, number, body, actor=_actor(caller))
    return _edited(request, store, layer, number, 200)


def _actor(caller: Caller) -> edits.Actor:
    """Return who edits, for the audit log: the API key's id (never the key; none for an
    account token, whose role is what the audit keeps) and the role."""
    return (caller.key_id, caller.role.value)


def _edited(request: Request, store: StoreDep, layer: Layer, fid: int, status: int) -> Response:
    fs = FeatureQueries(store, layer).one(fid)
    headers = {"Location": f"{_base(request)}collections/{layer.id}/items/{fid}"}
    return Response(
        encode.feature(fs, _feature_links(request, layer.id, fid)),
        status_code=status,
        media_type=_GEOJSON,
        headers=headers,
    )


_EDIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Invalid feature (nothing written)"},
    401: {"description": "No API key"},
    403: {"description": "The key's role may not edit"},
    404: {"description": "No such collection or feature"},
}


@router.post(
    "/collections/{collectionId}/items",
    status_code=201,
    summary="Create a feature",
    response_class=Response,
    responses=_EDIT_RESPONSES,
)
@body_limit(EDIT_BYTES, roles=STAFF)
def create_item(
    request: Request,
    collection_id: CollectionId,
    store: StoreDep,
    caller: CallerDep,
    body: FeatureBody,
) -> Response:
    """Create a feature (source ``api``); answer 201 with it and its Location."""
    layer = require_layer(caller.role, collection_id)
    edits.require_editor(caller.role)
    fid = edits.create(store, layer, body, actor=_actor(caller))
    return _edited(request, store, layer, fid, 201)


@router.put(
    "/collections/{collectionId}/items/{featureId}",
    summary="Replace a feature",
    response_class=Response,
    responses=_EDIT_RESPONSES,
)
@body_limit(EDIT_BYTES, roles=STAFF)
def replace_item(
    request: Request,
    collection_id: CollectionId,
    fid: FeatureId,
    store: StoreDep,
    caller: CallerDep,
    body: FeatureBody,
) -> Response:
    """Replace a feature's properties and geometry (properties not given become null)."""
    return _edit_existing(request, collection_id, fid, store, caller, body, edits.replace)


@router.patch(
    "/collections/{collectionId}/items/{featureId}",
    summary="Update a feature",
    response_class=Response,
    responses=_EDIT_RESPONSES,
)
@body_limit(EDIT_BYTES, roles=STAFF)
def update_item(
    request: Request,
    collection_id: CollectionId,
    fid: FeatureId,
    store: StoreDep,
    caller: CallerDep,
    body: FeatureBody,
) -> Response:
    """Update the properties and/or geometry given (merge patch; others are kept)."""
    return _edit_existing(request, collection_id, fid, store, caller, body, edits.update)


@router.delete(
    "/collections/{collectionId}/items/{featureId}",
    status_code=204,
    summary="Delete a feature",
    response_class=Response,
    responses=_EDIT_RESPONSES,
)
def delete_item(
    request: Request,
    collection_id: CollectionId,
    fid: FeatureId,
    store: StoreDep,
    caller: CallerDep,
) -> Response:
    """Delete a feature; 204 when done, 404 when there was none."""
    layer = require_layer(caller.role, collection_id)
    edits.require_editor(caller.role)
    edits.delete(store, layer, _fid(fid, layer.id), actor=_actor(caller))
    return Response(status_code=204)


@router.get("/api/audit", summary="The audit log of edits (admin)", tags=["admin"])
def audit_log(
    store: StoreDep,
    role: RoleDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="newest rows")] = 100,
) -> dict[str, Any]:
    """Return the newest edits: when, key id, role, action, layer, fid and content hashes."""
    if role is not Role.ADMIN:
        require_planner(role, "read the audit log")  # 401 without a key
        raise Forbidden("only an admin may read the audit log")
    return {"edits": audit_rows(store, limit)}
