"""Browser tests: our app served by uvicorn in a thread, driven by Playwright in Debian's
Chromium (no browser download: ``executable_path``). Only on the GeoPackage store, to keep the
suite fast; the endpoints behind the map are tested on both stores in tests/api.

Screenshots are kept under ``artifacts/screenshots/``.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn

from tests.support.accounts import code_from_log
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from twin.app import create_app
from twin.core.settings import PROJECT_ROOT, AuthSettings, Settings, StoreSettings

PLANNER_KEY = "web-test-planner"
MODERATOR_KEY = "web-test-moderator"
#: an admin key: one staff page that moderates and handles appeals and the budget
ADMIN_KEY = "web-test-admin"
WEB = PROJECT_ROOT / "web"
SCREENSHOTS = PROJECT_ROOT / "artifacts" / "screenshots"
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def almaty_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return a GeoPackage store with the bundled Almaty set (overrides the both-stores
    fixture of tests/conftest.py: browser tests run on the embedded store only)."""
    from etl.load import load_bundled
    from twin.core.settings import DATA_DIR
    from twin.store import open_store

    url = f"gpkg:///{tmp_path_factory.mktemp('almaty-web')}/almaty.gpkg"
    store = open_store(url)
    try:
        load_bundled(store, DATA_DIR)
    finally:
        store.close()
    return url


def _sources_newer_than(target: Path) -> bool:
    built = target.stat().st_mtime
    sources = [WEB / "index.html", WEB / "package-lock.json", WEB / "vite.config.js"]
    sources += [WEB / "docs.html", WEB / "redoc.html"]
    sources += list((WEB / "src").rglob("*"))
    return any(p.stat().st_mtime > built for p in sources if p.is_file())


@pytest.fixture(scope="session")
def web_dist() -> Path:
    """Return web/dist, rebuilding it when the sources changed (npm must be installed)."""
    index = WEB / "dist" / "index.html"
    if not index.exists() or _sources_newer_than(index):
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("web/dist is missing or stale and npm is not installed: run scripts/setup")
        if not (WEB / "node_modules").exists():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
        subprocess.run([npm, "run", "build"], cwd=WEB, check=True, capture_output=True)
    return WEB / "dist"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(almaty_url: str, web_dist: Path) -> Iterator[str]:
    """Yield the base URL of the app on the Almaty store, served by uvicorn in a thread."""
    settings = Settings(
        store=StoreSettings(database_url=almaty_url),
        auth=AuthSettings(
            api_keys=f"planner:{PLANNER_KEY},moderator:{MODERATOR_KEY},admin:{ADMIN_KEY}"
        ),
    )
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", workers=1
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the app did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Yield a headless Debian Chromium driven by Playwright."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/setup installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Session:
    """One page with everything it logged and requested."""

    page: Any
    base: str
    console_errors: list[str] = field(default_factory=list)
    requests: list[Any] = field(default_factory=list)

    def open(self, fragment: str = "") -> None:
        """Load the map (``fragment`` is the URL hash) and wait until it is ready and idle."""
        self.page.goto(f"{self.base}/{fragment}")
        self.page.wait_for_function("document.body.dataset.ready", timeout=30000)
        assert self.page.evaluate("document.body.dataset.ready") == "true"
        self.idle()

    def idle(self, timeout: int = 20000) -> None:
        """Wait until the map has loaded every tile it needs and finished moving."""
        self.page.wait_for_function(
            "window.twin && window.twin.map && window.twin.map.loaded() && "
            "!window.twin.map.isMoving() && window.twin.map.areTilesLoaded()",
            timeout=timeout,
        )
        self.page.evaluate(
            "() => new Promise(r => { const m = window.twin.map; "
            "if (m.loaded() && !m.isMoving()) { m.once('idle', r); m.triggerRepaint(); } "
            "else m.once('idle', r); })"
        )

    def page_xy(self, lon: float, lat: float) -> tuple[float, float]:
        """Return where (lon, lat) is drawn, in page pixels (``map.project`` + the map's box)."""
        x, y = self.page.evaluate(
            "([lon, lat]) => { const p = twin.map.project([lon, lat]); return [p.x, p.y]; }",
            [lon, lat],
        )
        box = self.page.locator("#map").bounding_box()
        return box["x"] + x, box["y"] + y

    def click_lnglat(self, lon: float, lat: float) -> None:
        """Click the map where (lon, lat) is drawn."""
        self.page.mouse.click(*self.page_xy(lon, lat))

    def foreign_hosts(self) -> set[str]:
        """Return the hosts other than ours that the page requested."""
        ours = urlsplit(self.base).netloc
        hosts = set()
        for r in self.requests:
            parts = urlsplit(r.url)
            if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != ours:
                hosts.add(parts.netloc)
        return hosts

    def sign_up(
        self, caplog: pytest.LogCaptureFixture, login: str, password: str = "a long pb password"
    ) -> dict[str, str]:
        """Sign a resident up and in, in this page's cookies (the code read from the server's
        log); return the ``X-CSRF-Token`` header its writes need."""
        caplog.set_level(logging.INFO, logger="twin.accounts")
        req = self.page.request
        r = req.post(
            self.base + "/api/accounts/signup", data={"login": login, "password": password}
        )
        assert r.status == 201, r.text()
        r = req.post(
            self.base + "/api/accounts/verify",
            data={"login": login, "code": code_from_log(caplog, login), "kind": "session"},
        )
        assert r.status == 200, r.text()
        return {"X-CSRF-Token": r.json()["csrf_token"]}

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        self.page.screenshot(path=str(path))
        return path


def _is_noise(text: str) -> bool:
    # Chromium's software GL reports driver performance notes through the console.
    return "GL Driver Message" in text or "GPU stall" in text


@pytest.fixture
def make_session(browser: Any, server: str) -> Iterator[Any]:
    """Return a factory of pages (viewport, locale) that record errors and requests."""
    contexts = []

    def make(width: int = 1100, height: int = 720, **kw: Any) -> Session:
        # Reduced motion: the map jumps instead of flying, so no tiles are loaded on the way.
        kw.setdefault("reduced_motion", "reduce")
        # The tests' own probes (wait_for_function with a string) are eval, which the app's
        # Content-Security-Policy forbids; the app under its CSP is tested in test_csp.py.
        kw.setdefault("bypass_csp", True)
        context = browser.new_context(viewport={"width": width, "height": height}, **kw)
        contexts.append(context)
        page = context.new_page()
        s = Session(page=page, base=server)
        page.on(
            "console",
            lambda m: (
                m.type == "error" and not _is_noise(m.text) and s.console_errors.append(m.text)
            ),
        )
        page.on("pageerror", lambda e: s.console_errors.append(f"pageerror: {e}"))
        page.on("request", lambda r: s.requests.append(r))
        return s

    yield make
    for c in contexts:
        c.close()


@pytest.fixture
def session(make_session: Any) -> Session:
    """Return a desktop-size page (not yet loaded)."""
    s: Session = make_session()
    return s


@dataclass(frozen=True)
class Known:
    """A feature of the store the tests look for on the map."""

    layer: str
    fid: int
    name: str
    lon: float
    lat: float
    start: str | None = None


@pytest.fixture(scope="session")
def known(almaty_url: str) -> dict[str, Known]:
    """Return features picked from the store: the largest named building, a health facility
    with a unique name, a large work polygon that started in the last years, and the air
    station with real PM10 readings farthest from any other sensor (so that a click hits it
    alone)."""
    import pandas as pd

    import layers
    from twin.store import open_store

    store = open_store(almaty_url)
    try:
        buildings = store.read_frame(layers.get("buildings"))
        health = store.read_frame(layers.get("health"))
        works = store.read_frame(layers.get("works"))
        air = store.read_frame(layers.get("air_sensors"))
    finally:
        store.close()
    out: dict[str, Known] = {}

    named = buildings[buildings["name"].notna()].copy()
    named["m2"] = named.geometry.to_crs(32643).area
    b = named.sort_values("m2", ascending=False).iloc[0]
    p = b.geometry.representative_point()
    out["building"] = Known("buildings", int(b["fid"]), str(b["name"]), p.x, p.y)

    names = health["name"].dropna()
    unique = sorted(names[~names.duplicated(keep=False)])
    h = health[health["name"] == unique[0]].iloc[0]
    out["health"] = Known("health", int(h["fid"]), str(h["name"]), h.geometry.x, h.geometry.y)

    dated = works[works["start_date"].notna() & (works["start_date"].astype(str) >= "2023-01-01")]
    dated = dated.assign(m2=dated.geometry.to_crs(32643).area)
    w = dated.sort_values("m2", ascending=False).iloc[0]
    p = w.geometry.representative_point()
    out["work"] = Known(
        "works", int(w["fid"]), str(w["title"]), p.x, p.y, start=str(w["start_date"])[:10]
    )

    metric = air.geometry.to_crs(32643)
    alone = [metric.drop(i).distance(g).min() for i, g in metric.items()]
    with_readings = [i for i in range(len(air)) if pd.notna(air["pm10"].iloc[i])]
    a = air.iloc[max(with_readings, key=lambda i: alone[i])]
    out["air"] = Known("air_sensors", int(a["fid"]), str(a["name"]), a.geometry.x, a.geometry.y)
    return out
