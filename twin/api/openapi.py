"""The OpenAPI document says what the API really answers.

FastAPI documents a 422 for validation errors, but the twin answers 400 (one error shape,
:mod:`twin.api.errors`); it knows nothing of the bearer keys, and nothing of 401/404/413/429.
This module adjusts the generated document once: the ``Error`` schema, the ``bearer``
security scheme (optional on every operation: without a key a caller is anonymous), and the
statuses every operation may answer — 400 and 401 everywhere (an unknown key is 401 on any
route), 404 where the path names something, 403 and 413 where a body is sent.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "a stable error code", "example": "bad_input"},
        "detail": {"type": "string", "description": "what was wrong, for a person"},
    },
}
_BODY_METHODS = ("post", "put", "patch", "delete")


def error(description: str) -> dict[str, Any]:
    """Return an OpenAPI response of the JSON error shape."""
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def adjust(schema: dict[str, Any]) -> dict[str, Any]:
    """Return the generated ``schema`` with errors, statuses and the security scheme."""
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    components.setdefault("securitySchemes", {})["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "a staff API key (planner, admin …) or a resident's account token; "
        "without one the caller is anonymous",
    }
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
            if method in _BODY_METHODS:
                responses.setdefault("403", error("The caller's role may not do this"))
                responses.setdefault("413", error("The request body is over its limit"))
            op.setdefault("security", [{}, {"bearer": []}])
    return schema


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the adjusted document (built once)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = adjust(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
