"""The map at ``/`` for browsers, its assets, and content negotiation with the JSON landing."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from twin.api import web

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>map</title>")
    js = b"console.log('map');" * 50
    (tmp_path / "assets" / "app-1234.js").write_bytes(js)
    (tmp_path / "assets" / "app-1234.js.gz").write_bytes(gzip.compress(js))
    (tmp_path / "secret.txt").write_text("no")
    return tmp_path


def _client(dist: Path) -> TestClient:
    app = FastAPI()

    @app.get("/")
    def landing() -> dict[str, str]:
        return {"title": "landing"}

    web.install(app, dist)
    return TestClient(app)


def test_browsers_get_the_map_and_clients_get_json(dist: Path) -> None:
    c = _client(dist)
    html = c.get("/", headers={"Accept": BROWSER})
    assert html.status_code == 200 and "<title>map</title>" in html.text
    assert html.headers["cache-control"] == "no-cache"
    assert c.get("/", headers={"Accept": "application/json"}).json() == {"title": "landing"}
    assert c.get("/", headers={"Accept": "*/*"}).json() == {"title": "landing"}
    assert c.get("/?f=json", headers={"Accept": BROWSER}).json() == {"title": "landing"}
    assert "map" in c.get("/?f=html", headers={"Accept": "*/*"}).text


def test_assets_are_immutable_and_precompressed(dist: Path) -> None:
    c = _client(dist)
    r = c.get("/assets/app-1234.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert r.text.startswith("console.log")  # the client decodes it
    assert "immutable" in r.headers["cache-control"]
    assert r.headers["content-type"].startswith("text/javascript")
    plain = c.get("/assets/app-1234.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers


@pytest.mark.parametrize(
    "path", ["/assets/../secret.txt", "/assets/%2e%2e/secret.txt", "/assets/nope.js"]
)
def test_no_escape_from_the_assets_folder(dist: Path, path: str) -> None:
    r = _client(dist).get(path)
    assert r.status_code == 404 and r.text != "no"


def test_unbuilt_map_says_how_to_build(tmp_path: Path) -> None:
    r = _client(tmp_path / "missing").get("/", headers={"Accept": BROWSER})
    assert r.status_code == 503 and "npm run build" in r.text


def test_the_real_app_shares_root_with_the_ogc_landing(tmp_path: Path, dist: Path) -> None:
    from twin.app import create_app
    from twin.core.settings import Settings, StoreSettings

    settings = Settings(store=StoreSettings(database_url=f"gpkg:///{tmp_path}/empty.gpkg"))
    app = create_app(settings)
    with TestClient(app) as c:
        landing = c.get("/", headers={"Accept": "application/json"})
        assert landing.status_code == 200
        assert any(link["rel"] == "conformance" for link in landing.json()["links"])
        page = c.get("/", headers={"Accept": BROWSER})
        assert page.headers["content-type"].startswith("text/html")
        assert c.get("/?f=json", headers={"Accept": BROWSER}).json()["links"]
