"""Staff API keys kept hashed, on both stores: ``twin keys create`` shows a key once, the store
keeps only its digest, the key works at once and stops at once when revoked; the keys of
``TWIN_API_KEYS`` keep working (hashed at start-up)."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from twin.app import create_app
from twin.cli import app as cli
from twin.core.access import KeyRing, Role, hash_key
from twin.core.settings import AuthSettings, Settings, StoreSettings
from twin.store import open_store

ITEMS = "/collections/cameras/items?limit=1"  # a planner-only layer: 404 for anyone else


def test_a_key_is_shown_once_stored_hashed_and_revocable(store_url: str) -> None:
    env = {"TWIN_DATABASE_URL": store_url, "TWIN_API_KEYS": ""}
    runner = CliRunner()
    made = runner.invoke(cli, ["keys", "create", "planner", "--label", "situation centre"], env=env)
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("twin_") and len(key) > 40
    key_id = key.split("_")[1]

    listed = runner.invoke(cli, ["keys", "list"], env=env)
    assert key_id in listed.stdout and "situation centre" in listed.stdout
    assert key.split("_", 2)[2] not in listed.stdout  # the secret is never shown again

    store = open_store(store_url)
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT key_id, key_hash, role FROM twin_api_keys")).all()
    store.close()
    assert [(r.key_id, r.role) for r in rows] == [(key_id, "planner")]
    assert rows[0].key_hash == hash_key(key) and key not in repr(rows)

    settings = Settings(store=StoreSettings(database_url=store_url), auth=AuthSettings())
    with TestClient(create_app(settings)) as client:
        assert client.get(ITEMS).status_code == 404
        assert client.get(ITEMS, headers={"Authorization": f"Bearer {key}"}).status_code == 200
        wrong = key[:-1] + ("A" if key[-1] != "A" else "B")
        r = client.get(ITEMS, headers={"Authorization": f"Bearer {wrong}"})
        assert r.status_code == 401 and r.json()["error"] == "unauthorized"

        gone = runner.invoke(cli, ["keys", "revoke", key_id], env=env)
        assert gone.exit_code == 0, gone.output
        r = client.get(ITEMS, headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 401  # at once, on the running server

    again = runner.invoke(cli, ["keys", "revoke", key_id], env=env)
    assert again.exit_code == 1 and "no active key" in again.output
    bad = runner.invoke(cli, ["keys", "create", "superuser"], env=env)
    assert bad.exit_code == 1 and "is not one of" in bad.output


def test_configured_keys_are_kept_as_digests() -> None:
    ring = KeyRing({"plan-1": "planner", "adm-1": "admin"})
    assert "plan-1" not in repr(vars(ring))
    found = ring.verify("plan-1")
    assert found is not None and found.role is Role.PLANNER
    assert found.key_id.startswith("env-") and "plan" not in found.key_id
    assert ring.verify("plan-2") is None and ring.verify("") is None
    # a made-up key in the stored format is looked up by id, and refused without a match
    ring.lookup = lambda key_id: None
    assert ring.verify("twin_deadbeef_secret") is None


def test_a_key_is_known_by_its_id_in_the_log_and_the_audit(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    env = {"TWIN_DATABASE_URL": store_url, "TWIN_API_KEYS": ""}
    made = CliRunner().invoke(cli, ["keys", "create", "planner"], env=env)
    key = made.stdout.strip().splitlines()[-1]
    key_id, secret = key.split("_")[1], key.split("_", 2)[2]
    headers = {"Authorization": f"Bearer {key}"}
    settings = Settings(
        store=StoreSettings(database_url=store_url), auth=AuthSettings(api_keys="admin:adm-1")
    )
    caplog.set_level(logging.INFO, logger="twin.api.keys")
    with TestClient(create_app(settings)) as client:
        square = [[[76.95, 43.24], [76.951, 43.24], [76.951, 43.241], [76.95, 43.24]]]
        feature = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": square},
                   "properties": {"name": "Дом"}}  # fmt: skip
        r = client.post("/collections/buildings/items", json=feature, headers=headers)
        assert r.status_code == 201, r.text
        audit = client.get("/api/audit", headers={"Authorization": "Bearer adm-1"}).json()
    assert [(e["key_id"], e["role"]) for e in audit["edits"]] == [(key_id, "planner")]
    lines = [r.getMessage() for r in caplog.records if r.name == "twin.api.keys"]
    assert f"POST /collections/buildings/items by key {key_id} (planner)" in lines
    assert all(secret not in line for line in caplog.messages)  # the key itself never is
