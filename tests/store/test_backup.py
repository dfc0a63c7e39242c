"""``twin backup`` / ``twin restore`` on both stores: a round trip gives back the same rows
(counts and a checksum of every feature), after the store was changed in between."""

from __future__ import annotations

import hashlib
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

import layers
from tests.support.frames import buildings_frame
from twin.cli import app as cli
from twin.store import Batch, open_store


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
