"""The API's viewers (issue 14, item 7): Swagger UI at /docs and ReDoc at /redoc are our own
built pages (npm swagger-ui-dist and redoc, bundled into web/dist), so they work in Chromium
under the map's Content-Security-Policy with no request to another host. FastAPI's own pages
load their scripts from a CDN; this test failed against them (and against their absence).

The app is served on an empty GeoPackage store: the document does not depend on the data.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn

from twin.app import create_app
from twin.core.settings import Settings, StoreSettings


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, web_dist: Path) -> Iterator[str]:
    url = f"gpkg:///{tmp_path_factory.mktemp('docs')}/twin.gpkg"
    app = create_app(Settings(store=StoreSettings(database_url=url)))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the app did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def _open(browser: Any, url: str) -> tuple[Any, Any, list[str], list[str]]:
    """Open ``url`` under its CSP; return the context, page, errors and requested URLs."""
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    requested: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("request", lambda r: requested.append(r.url))
    response = page.goto(url)
    assert response.status == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "https:" not in csp
    return context, page, errors, requested


def _foreign(base: str, urls: list[str]) -> set[str]:
    ours = urlsplit(base).netloc
    return {
        urlsplit(u).netloc
        for u in urls
        if urlsplit(u).scheme in ("http", "https", "ws", "wss") and urlsplit(u).netloc != ours
    }


def test_swagger_ui_works_from_our_own_files(browser: Any, base: str) -> None:
    context, page, errors, requested = _open(browser, f"{base}/docs")
    try:
        page.wait_for_selector(".opblock-tag", timeout=60_000)
        # an operation of the document, opened: its parameters and responses are drawn
        op = page.locator("[id$='-items_collections__collectionId__items_get']")
        op.locator(".opblock-summary").click()
        op.locator(".responses-table").first.wait_for(timeout=30_000)
        assert "401" in op.inner_text()
        assert page.locator(".opblock").count() > 50
        assert errors == [], errors
        assert _foreign(base, requested) == set()
        assert f"{base}/openapi.json" in requested
    finally:
        context.close()


def test_redoc_works_from_our_own_files(browser: Any, base: str) -> None:
    context, page, errors, requested = _open(browser, f"{base}/redoc")
    try:
        page.wait_for_selector("body[data-ready='true']", timeout=90_000)
        page.wait_for_selector("[data-section-id^='tag/']", timeout=30_000)
        assert page.locator("h2").count() > 50  # an operation's heading each
        assert "Almaty City Twin" in page.locator("h1").first.inner_text()
        assert errors == [], errors
        assert _foreign(base, requested) == set()
    finally:
        context.close()
