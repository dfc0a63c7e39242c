"""``twin backup`` / ``twin restore`` on both stores: a round trip gives back the same rows
(counts and a checksum of every feature), after the store was changed in between."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from typer.testing import CliRunner

import layers
from tests.support.frames import buildings_frame
from tests.support.postgres import create_database
from twin.app import create_app
from twin.cli import app as cli
from twin.core.settings import AuthSettings, Settings, StoreSettings
from twin.store import Batch, open_store
from twin.store.geopackage import gpkg_path


def _checksum(url: str) -> tuple[int, str]:
    store = open_store(url, create=False)
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(
                sa.text('SELECT source_id, name, levels FROM "buildings" ORDER BY source_id')
            ).all()
    finally:
        store.close()
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()


def test_backup_and_restore_round_trip(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url)
    store.load([Batch(layers.get("buildings"), "osm", buildings_frame(5), "f", "0" * 64, "x")])
    store.close()
    before = _checksum(store_url)
    assert before[0] == 5

    env = {"TWIN_DATABASE_URL": store_url}
    runner = CliRunner()
    target = tmp_path / "twin.backup"
    made = runner.invoke(cli, ["backup", str(target)], env=env)
    assert made.exit_code == 0, made.output
    assert target.is_file() and target.stat().st_size > 0
    assert not list(tmp_path.glob("*.partial"))

    # the store changes after the backup ...
    store = open_store(store_url)
    store.load([Batch(layers.get("buildings"), "osm", buildings_frame(2), "g", "1" * 64, "y")])
    store.close()
    assert _checksum(store_url) != before

    # ... and the restore brings back exactly what was backed up
    done = runner.invoke(cli, ["restore", str(target)], env=env)
    assert done.exit_code == 0, done.output
    assert _checksum(store_url) == before

    missing = runner.invoke(cli, ["restore", str(tmp_path / "nope")], env=env)
    assert missing.exit_code == 1 and "no backup file" in missing.output


# -- while the server serves ------------------------------------------------------------------
PLANNER = {"Authorization": "Bearer backup-planner"}


def _tables(url: str) -> dict[str, tuple[int, str]]:
    """Return every table of the store at ``url``: its row count and a checksum of its rows
    (sorted, so the physical order does not matter)."""
    store = open_store(url, create=False)
    try:
        names = sa.inspect(store.engine).get_table_names()
        out = {}
        with store.engine.connect() as conn:
            for name in names:
                if name == "spatial_ref_sys" or name.startswith(("rtree_", "sqlite_")):
                    continue
                rows = sorted(
                    repr(tuple(r)) for r in conn.execute(sa.text(f'SELECT * FROM "{name}"'))
                )
                out[name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    finally:
        store.close()
    return out


def _scratch(store_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if store_url.startswith("gpkg:///"):
        return f"gpkg:///{tmp_path}/scratch.gpkg"
    return create_database(request.getfixturevalue("postgis_url"), f"twin_scratch_{os.getpid()}")


def test_backup_while_serving_and_restore_round_trip(
    store_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """``twin backup`` while the server answers reads and a planner keeps adding buildings:
    the backup holds every building acknowledged before it began and none begun after it
    ended (a consistent snapshot); ``twin restore`` (the server still serving) gives back the
    backup's tables with identical counts and checksums, and the server answers from them."""
    store = open_store(store_url)
    store.load([Batch(layers.get("buildings"), "osm", buildings_frame(20), "f", "0" * 64, "x")])
    store.close()
    settings = Settings(
        store=StoreSettings(database_url=store_url),
        auth=AuthSettings(api_keys="planner:backup-planner"),
    )
    with serving(create_app(settings)) as base:
        stop = threading.Event()
        written: list[tuple[float, float, int]] = []  # (sent, acknowledged, fid)
        statuses: list[int] = []

        def write() -> None:
            with httpx.Client(base_url=base, timeout=60) as c:
                i = 0
                while not stop.is_set():
                    sent = time.monotonic()
                    r = c.post("/collections/buildings/items", headers=PLANNER,
                               json=_building(i))  # fmt: skip
                    statuses.append(r.status_code)
                    if r.status_code == 201:
                        fid = int(r.headers["location"].rstrip("/").rsplit("/", 1)[-1])
                        written.append((sent, time.monotonic(), fid))
                    i += 1

        def read() -> None:
            with httpx.Client(base_url=base, timeout=60) as c:
                while not stop.is_set():
                    statuses.append(c.get("/collections/buildings/items?limit=5").status_code)
                    statuses.append(c.get("/tiles/buildings/15/23384/12005.mvt").status_code)

        threads = [threading.Thread(target=write), threading.Thread(target=read)]
        for t in threads:
            t.start()
        while len(written) < 5:  # the writer is well under way
            time.sleep(0.05)
        target = tmp_path / "serving.backup"
        began = time.monotonic()
        made = CliRunner().invoke(
            cli, ["backup", str(target)], env={"TWIN_DATABASE_URL": store_url}
        )
        ended = time.monotonic()
        assert made.exit_code == 0, made.output
        while not any(sent > ended for sent, _, _ in written):  # and goes on after it
            time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        assert set(statuses) <= {200, 201, 204}, set(statuses)

        # the backup, restored into a store of its own, is a consistent snapshot
        scratch = _scratch(store_url, tmp_path, request)
        if scratch.startswith("gpkg:///"):
            shutil.copy(target, gpkg_path(scratch))
        else:
            done = CliRunner().invoke(cli, ["restore", str(target)],
                                      env={"TWIN_DATABASE_URL": scratch})  # fmt: skip
            assert done.exit_code == 0, done.output
        snapshot = _tables(scratch)
        store = open_store(scratch, create=False)
        try:
            with store.engine.connect() as conn:
                fids = {int(f) for (f,) in conn.execute(sa.text('SELECT fid FROM "buildings"'))}
        finally:
            store.close()
        assert {fid for _, acked, fid in written if acked < began} <= fids
        assert not {fid for sent, _, fid in written if sent > ended} & fids
        assert len(fids) >= 20 + 5

        # restored while the server serves: identical tables, and the server answers from them
        assert _tables(store_url) != snapshot
        done = CliRunner().invoke(
            cli, ["restore", str(target)], env={"TWIN_DATABASE_URL": store_url}
        )
        assert done.exit_code == 0, done.output
        assert _tables(store_url) == snapshot
        with httpx.Client(base_url=base, timeout=60) as c:
            r = c.get("/collections/buildings/items?limit=1")
            assert r.status_code == 200 and r.json()["numberMatched"] == len(fids)


def _building(i: int) -> dict[str, Any]:
    x, y = 76.90 + (i % 100) * 0.0005, 43.24 + (i // 100) * 0.0005
    ring = [[x, y], [x + 0.0002, y], [x + 0.0002, y + 0.0002], [x, y + 0.0002], [x, y]]
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"name": f"backup {i}", "levels": 2}}  # fmt: skip


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread; yield its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
