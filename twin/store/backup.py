"""``twin backup`` / ``twin restore`` for both stores, with each database's own tools.

The GeoPackage is copied with SQLite's online backup API (page by page, consistent while the
server keeps reading and writing; a plain file copy of a WAL database is not). PostGIS is
dumped with ``pg_dump -Fc`` and restored with ``pg_restore --clean --if-exists
--single-transaction`` (all or nothing). Only this package knows which backend it has.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

# The store's own SQLite (twin.store.geopackage), not the standard library's: two SQLite
# libraries in one process drop each other's POSIX locks when one closes the file
# (sqlite.org/howtocorrupt.html, 2.2.1). With the stdlib's, a backup taken in the serving
# process made the store's next connection fail with "disk I/O error".
import pysqlite3.dbapi2 as sqlite3

from twin.core.errors import SourceError, StoreError
from twin.store.geopackage import gpkg_path
from twin.store.postgis.urls import libpq_url


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(f"/usr/lib/postgresql/15/bin/{name}")
    if found is None:
        raise StoreError(f"{name} is not installed (Debian: postgresql-client)")
    return found


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise StoreError(f"{Path(args[0]).name} failed: {done.stderr.strip()[:500]}")


def backup(url: str, target: Path) -> None:
    """Write a consistent copy of the store at ``url`` to ``target``."""
    target = Path(target)
    if url.startswith("gpkg:///"):
        source = gpkg_path(url)
        if not source.is_file():
            raise StoreError(f"no store file {source}")
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        src, dst = sqlite3.connect(source), sqlite3.connect(partial)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        partial.replace(target)  # nothing half-written under the target's name
        return
    partial = target.with_name(target.name + ".partial")
    _run([_tool("pg_dump"), "-Fc", "--no-owner", "-d", libpq_url(url), "-f", str(partial)])
    partial.replace(target)


def restore(url: str, source: Path) -> None:
    """Replace the store at ``url`` with the backup ``source`` (all or nothing)."""
    source = Path(source)
    if not source.is_file():
        raise SourceError(f"no backup file {source}")
    if url.startswith("gpkg:///"):
        try:
            src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            src.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise SourceError(f"{source} is not a GeoPackage backup: {exc}") from None
        dst = sqlite3.connect(gpkg_path(url))
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        return
    _run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "-d",
            libpq_url(url),
            str(source),
        ]
    )
