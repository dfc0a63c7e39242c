"""The OpenAPI document says what the API really answers.

FastAPI documents a 422 for validation errors, but the twin answers 400 (one error shape,
:mod:`twin.api.errors`); it knows nothing of the bearer keys, of 401/403/404/413/429, of
media types other than JSON, nor of the shape of a GeoJSON edit. This module adjusts the
generated document once, from the app's routes:

* the ``Error`` schema and the ``bearer`` security scheme (optional on every operation:
  without a key a caller is anonymous);
* 400 and 401 everywhere (an unknown key is 401 on any route); 404 where the path names
  something; 403 where the route looks at the caller (it depends on ``get_caller`` or
  ``get_role``: that is where a role is refused); 413 where a body is sent (the body cap of
  :mod:`twin.api.limits` applies to every body); 429 with ``Retry-After`` on the routes that
  count a caller's requests (:data:`RATE_LIMITED`);
* the media types answered where they are not JSON (:data:`MEDIA`);
* typed edit bodies: a GeoJSON Feature per layer, with the layer's declared properties
  (:func:`twin.features.edits.edit_schema`).

``tests/api/test_openapi.py`` walks the document and sends every GET as each role: a status
or media type answered but not documented fails it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant

import layers
from twin.api.deps import get_caller, get_role
from twin.api.errors import OPEN311_PREFIX
from twin.features.edits import edit_schema

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "a stable error code", "example": "bad_input"},
        "detail": {"type": "string", "description": "what was wrong, for a person"},
    },
}
_BODY_METHODS = ("post", "put", "patch", "delete")
_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}

#: Routes that count a caller's requests and answer 429 with ``Retry-After`` past a limit:
#: residents' writes (``twin.participation.limits``: per account and address), photo uploads,
#: sign-in after repeated wrong passwords, the metered business analyses (an organisation's
#: quota). The heavy analyses' 429 is declared on their routes (``ANALYSIS_RESPONSES``).
RATE_LIMITED: dict[str, tuple[str, ...]] = {
    "/api/participation/{layer_id}/{fid}/rating": ("post", "put", "delete"),
    "/api/participation/{layer_id}/{fid}/reaction": ("put", "delete"),
    "/api/initiatives": ("post",),
    "/api/initiatives/{initiative_id}/support": ("post", "delete"),
    "/api/reports": ("post",),
    "/api/photos": ("post",),
    "/api/accounts/signin": ("post",),
    "/api/analysis/site": ("get",),
    "/api/analysis/niches": ("get",),
    "/api/analysis/catchments": ("get",),
}

_GEOJSON = "application/geo+json"
_SCHEMA = "application/schema+json"
_OPEN311 = ("application/json", "text/xml")
#: What a route answers where it is not (only) JSON: ``{(method, path): {status: types}}``.
MEDIA: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {
    ("get", "/collections/{collectionId}/queryables"): {"200": (_SCHEMA,)},
    ("get", "/collections/{collectionId}/schema"): {"200": (_SCHEMA,)},
    ("post", "/collections/{collectionId}/items"): {"201": (_GEOJSON,)},
    ("put", "/collections/{collectionId}/items/{featureId}"): {"200": (_GEOJSON,)},
    ("patch", "/collections/{collectionId}/items/{featureId}"): {"200": (_GEOJSON,)},
    ("get", "/api/appeals/hexagons"): {"200": (_GEOJSON,)},
    ("get", "/api/analysis/appeals"): {"200": ("application/json", "text/csv")},
    ("get", "/api/analysis/appeals/forecast"): {"200": ("application/json", "text/csv")},
    ("get", "/api/analysis/appeals/hotspots"): {"200": (_GEOJSON, "text/csv")},
    ("get", "/api/analysis/appeals/emerging"): {"200": (_GEOJSON, "text/csv")},
    ("get", "/api/air/surface.png"): {"200": ("image/png",)},
    ("get", "/api/air/surface.tif"): {"200": ("image/tiff",)},
    ("get", "/api/air/surface/contours"): {"200": (_GEOJSON,)},
    ("get", "/api/analysis/results/{rid}/coverage.tif"): {"200": ("image/tiff",)},
    ("get", "/api/business/usage.csv"): {"200": ("text/csv",)},
    ("get", "/api/analysis/site/report"): {"200": ("text/html", "application/pdf")},
    ("get", "/api/budget/cycles/{cycle_id}/export.pb"): {"200": ("text/plain",)},
    ("get", "/api/budget/cycles/{cycle_id}/export.geojson"): {"200": (_GEOJSON,)},
    ("get", "/api/budget/cycles/{cycle_id}/export.csv"): {"200": ("text/csv",)},
    ("get", "/api/photos/{name}"): {"200": ("image/jpeg", "image/png", "image/webp")},
    ("get", "/api/events"): {"200": ("text/event-stream",)},
    ("get", "/open311/v2/services.{fmt}"): {"200": _OPEN311},
    ("get", "/open311/v2/requests.{fmt}"): {"200": _OPEN311},
    ("get", "/open311/v2/requests/{request_id}.{fmt}"): {"200": _OPEN311},
    ("post", "/open311/v2/requests.{fmt}"): {"201": _OPEN311},
}
#: The operations whose body is a GeoJSON Feature of the collection named in the path.
FEATURE_EDITS = {
    ("post", "/collections/{collectionId}/items"): False,
    ("put", "/collections/{collectionId}/items/{featureId}"): False,
    ("patch", "/collections/{collectionId}/items/{featureId}"): True,
}


def error(description: str) -> dict[str, Any]:
    """Return an OpenAPI response of the JSON error shape."""
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


#: Open311's own error shape (GeoReport v2), JSON or XML by the path's extension.
OPEN311_ERRORS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}


def _error_content(path: str) -> dict[str, Any]:
    if path.startswith(OPEN311_PREFIX):
        return {
            "application/json": {"schema": {"$ref": "#/components/schemas/Open311Errors"}},
            "text/xml": {},
        }
    content: dict[str, Any] = error("")["content"]
    return content


def _uses_caller(dependant: Dependant) -> bool:
    return any(d.call in (get_caller, get_role) or _uses_caller(d) for d in dependant.dependencies)


def caller_operations(app: FastAPI) -> set[tuple[str, str]]:
    """Return ``(method, path)`` of every route that depends on who the caller is (walked
    as FastAPI's own document generator walks included routers)."""
    found = set()
    for ctx in routing.iter_route_contexts(app.routes):
        if isinstance(ctx.original_route, routing.APIRoute) and _uses_caller(ctx.dependant):
            found |= {(m.lower(), str(ctx.path_format)) for m in ctx.methods or ()}
    return found


def _feature_schemas(components: dict[str, Any], partial: bool) -> dict[str, Any]:
    """Add each layer's edit schema to ``components``; return the body's ``anyOf`` of them."""
    refs = []
    for layer in layers.LAYERS:
        name = f"{'FeaturePatch' if partial else 'Feature'}_{layer.id}"
        components["schemas"][name] = edit_schema(layer, partial=partial)
        refs.append({"$ref": f"#/components/schemas/{name}"})
    return {
        "description": "A GeoJSON Feature of the collection named in the path: its "
        "properties must be the collection's declared ones (one schema per collection)",
        "anyOf": refs,
    }


def _set_media(responses: dict[str, Any], status: str, types: tuple[str, ...]) -> None:
    answer = responses.setdefault(status, {"description": "Successful Response"})
    old = answer.get("content", {})
    answer["content"] = {t: old.get(t, {}) for t in types}


def adjust(schema: dict[str, Any], takes_caller: set[tuple[str, str]]) -> dict[str, Any]:
    """Return the generated ``schema`` with errors, statuses, media types, typed edit bodies
    and the security scheme; ``takes_caller`` are the operations that look at the caller."""
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    components["schemas"]["Open311Errors"] = OPEN311_ERRORS
    components.setdefault("securitySchemes", {})["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "a staff API key (planner, admin …) or a resident's account token; "
        "without one the caller is anonymous",
    }
    bodies = {partial: _feature_schemas(components, partial) for partial in (False, True)}
    for path, operations in schema.get("paths", {}).items():
        for method, op in operations.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            responses: dict[str, Any] = op["responses"]
            responses.pop("422", None)
            responses.setdefault("400", error("The request is malformed or out of range"))
            responses.setdefault("401", error("An unknown key, or a key is needed here"))
            if "{" in path:
                responses.setdefault("404", error("No such thing, or not visible to the caller"))
            if (method, path) in takes_caller:
                responses.setdefault("403", error("The caller's role may not do this"))
            if method in _BODY_METHODS:
                responses.setdefault("413", error("The request body is over its limit"))
            if method in RATE_LIMITED.get(path, ()):
                responses.setdefault(
                    "429",
                    {**error("Too many requests from this caller; retry after the header's "
                             "seconds"), "headers": _RETRY_AFTER},
                )  # fmt: skip
            for status, types in MEDIA.get((method, path), {}).items():
                if status != "200":
                    responses.pop("200", None)  # the route answers another success status
                _set_media(responses, status, types)
            for status, answer in responses.items():
                if status.startswith("4"):  # every refusal in the shape the route answers
                    answer["content"] = _error_content(path)
            partial = FEATURE_EDITS.get((method, path))
            if partial is not None:
                body = bodies[partial]
                op["requestBody"] = {
                    "required": True,
                    "content": {
                        "application/geo+json": {"schema": body},
                        "application/json": {"schema": body},
                    },
                }
            op.setdefault("security", [{}, {"bearer": []}])
    return schema


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the adjusted document (built once)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = adjust(generate(), caller_operations(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
