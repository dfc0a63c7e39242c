"""The OpenAPI document describes the API (issue 14, items 4 and 7), checked by walking it.

* every operation: no 422 (validation is 400), 400 and 401 in the error shape, 404 where
  the path names something, 403 where the caller's role is checked, 413 where a body is sent,
  429 with ``Retry-After`` where the route is rate-limited; the bearer scheme is declared;
* the edit bodies are typed: a GeoJSON Feature per layer with the layer's own properties
  (checked with a JSON Schema validator against bodies the API takes and refuses);
* what the document says is what is answered: every GET is sent as each role, and the status
  and media type answered must be documented for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

import layers
from tests.appeals.scene import load_scene
from tests.support.frames import buildings_frame
from twin.app import create_app
from twin.core.settings import AuthSettings, Settings, StoreSettings
from twin.store import Batch, open_store

KEYS = {"planner": "doc-planner", "admin": "doc-admin", "moderator": "doc-moderator"}
ROLES: dict[str, dict[str, str]] = {
    "anonymous": {},
    **{role: {"Authorization": f"Bearer {key}"} for role, key in KEYS.items()},
}
#: a value for each path parameter that names something in the test store
PATH_VALUES = {
    "collectionId": "buildings",
    "featureId": "1",
    "layer_id": "buildings",
    "fid": "1",
    "layers": "buildings",
    "z": "14",
    "x": "11000",
    "y": "6000",
    "fmt": "json",
    "request_id": "1",
    "appeal_id": "1",
    "district": "Almaly",
}
#: streams that never end (server-sent events): their documents are checked, not their answers
NOT_SENT = {"/api/events"}
RATE_LIMITED = [
    ("post", "/api/participation/{layer_id}/{fid}/rating"),
    ("put", "/api/participation/{layer_id}/{fid}/reaction"),
    ("post", "/api/initiatives"),
    ("post", "/api/reports"),
    ("post", "/api/photos"),
    ("post", "/api/accounts/signin"),
    ("post", "/api/analysis/placement"),
    ("get", "/api/analysis/site"),
]
ROLE_CHECKED = [
    ("get", "/api/audit"),
    ("get", "/api/analysis/appeals"),
    ("get", "/api/moderation/queue"),
    ("post", "/collections/{collectionId}/items"),
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    url = f"gpkg:///{tmp_path_factory.mktemp('openapi')}/twin.gpkg"
    store = open_store(url)
    try:
        load_scene(store)
        store.load([Batch(layers.get("buildings"), "osm", buildings_frame(3), "f", "0" * 64, "x")])
    finally:
        store.close()
    keys = ",".join(f"{role}:{key}" for role, key in KEYS.items())
    app = create_app(
        Settings(store=StoreSettings(database_url=url), auth=AuthSettings(api_keys=keys))
    )
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def doc(client: TestClient) -> dict[str, Any]:
    r = client.get("/openapi.json")
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    return body


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method, path, op


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    found: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        found = found[part]
    resolved: dict[str, Any] = found
    return resolved


def test_every_operation_documents_its_refusals(doc: dict[str, Any]) -> None:
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for method, path, op in _operations(doc):
        where = f"{method.upper()} {path}"
        statuses = op["responses"]
        assert "422" not in statuses, where
        for status in (s for s in statuses if s.startswith("4")):
            content = statuses[status]["content"]
            if path.startswith("/open311/"):
                assert set(content) == {"application/json", "text/xml"}, where
            else:
                assert content == {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                }, where
        assert {"400", "401"} <= set(statuses), where
        assert {"bearer": []} in op["security"], where
        if "{" in path:
            assert "404" in statuses, where
        if "requestBody" in op:
            assert "413" in statuses, where
    for method, path in ROLE_CHECKED:
        assert "403" in doc["paths"][path][method]["responses"], (method, path)
    for method, path in RATE_LIMITED:
        limited = doc["paths"][path][method]["responses"]["429"]
        assert "Retry-After" in limited["headers"], (method, path)


def test_json_schemas_are_documented_as_such(doc: dict[str, Any]) -> None:
    for tail in ("queryables", "schema"):
        ok = doc["paths"][f"/collections/{{collectionId}}/{tail}"]["get"]["responses"]["200"]
        assert set(ok["content"]) == {"application/schema+json"}


def _edit_body(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    body = doc["paths"][path][method]["requestBody"]
    assert set(body["content"]) == {"application/geo+json", "application/json"}
    schema: dict[str, Any] = body["content"]["application/geo+json"]["schema"]
    return schema


@pytest.mark.parametrize(
    ("method", "path", "partial"),
    [
        ("post", "/collections/{collectionId}/items", False),
        ("put", "/collections/{collectionId}/items/{featureId}", False),
        ("patch", "/collections/{collectionId}/items/{featureId}", True),
    ],
)
def test_edit_bodies_are_typed_per_layer(
    doc: dict[str, Any], method: str, path: str, partial: bool
) -> None:
    schema = _edit_body(doc, method, path)
    by_title = {}
    for ref in schema["anyOf"]:
        one = _resolve(doc, ref)
        by_title[one["title"]] = one
    kind = " (partial)" if partial else ""
    assert {f"{layer.id} feature{kind}" for layer in layers.LAYERS} == set(by_title)
    buildings = by_title[f"buildings feature{kind}"]
    props = buildings["properties"]["properties"]
    assert props["properties"]["levels"]["type"] == ["integer", "null"]
    assert props["properties"]["name"]["maxLength"] == 10_000
    assert props["additionalProperties"] is False
    assert buildings["required"] == ([] if partial else ["type", "geometry"])
    check = jsonschema_rs.validator_for(buildings)
    ring = [[76.95, 43.24], [76.951, 43.24], [76.951, 43.241], [76.95, 43.24]]
    good = {"type": "Feature", "properties": {"name": "Дом", "levels": 3},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}  # fmt: skip
    assert check.is_valid(good)
    point = {"type": "Point", "coordinates": [76.95, 43.24]}
    for bad in ({**good, "properties": {"name": {"a": 1}}},
                {**good, "properties": {"floors": 3}},
                {**good, "geometry": point}):  # fmt: skip
        assert not check.is_valid(bad), bad


def test_a_body_the_schema_refuses_is_refused_by_the_api(
    client: TestClient, doc: dict[str, Any]
) -> None:
    schema = _edit_body(doc, "post", "/collections/{collectionId}/items")
    buildings = next(
        _resolve(doc, r)
        for r in schema["anyOf"]
        if _resolve(doc, r)["title"] == "buildings feature"
    )
    check = jsonschema_rs.validator_for(buildings)
    planner = ROLES["planner"]
    ring = [[76.95, 43.24], [76.951, 43.24], [76.951, 43.241], [76.95, 43.24]]
    good = {"type": "Feature", "properties": {"name": "Дом", "levels": 3},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}  # fmt: skip
    assert check.is_valid(good)
    made = client.post("/collections/buildings/items", json=good, headers=planner)
    assert made.status_code == 201, made.text
    assert made.headers["content-type"].startswith("application/geo+json")
    bad = {**good, "properties": {"levels": "three"}}
    assert not check.is_valid(bad)
    assert client.post("/collections/buildings/items", json=bad, headers=planner).status_code == 400


def _media(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def test_every_get_answers_as_documented(client: TestClient, doc: dict[str, Any]) -> None:
    problems: list[str] = []
    sent = 0
    for method, path, op in _operations(doc):
        if method != "get" or path in NOT_SENT:
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), "1"), path)
        for role, headers in ROLES.items():
            r = client.get(url, headers=headers)
            sent += 1
            documented = op["responses"].get(str(r.status_code))
            if documented is None:
                problems.append(f"{role} GET {url}: {r.status_code} not documented")
                continue
            media = documented.get("content")
            if r.status_code in (204, 304) or not media:
                continue
            if _media(r.headers.get("content-type", "")) not in media:
                problems.append(
                    f"{role} GET {url} {r.status_code}: {r.headers.get('content-type')} "
                    f"not in {sorted(media)}"
                )
    assert sent > 200
    assert problems == [], "\n".join(problems)
