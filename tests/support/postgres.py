"""A throwaway PostgreSQL 15 + PostGIS cluster for tests and benchmarks, started without systemd.

``initdb`` refuses to run as root, so the cluster belongs to the ``postgres`` system user (created
by the Debian package) and lives in a temporary directory that user can write.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_BIN = Path(os.environ.get("TWIN_PG_BIN", "/usr/lib/postgresql/15/bin"))
#: the data directory of each running test cluster, by its port (to stop and start it again)
DATA_DIRS: dict[int, tuple[Path, str]] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(*args: str) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return list(args)


@contextmanager
def postgis_cluster(*, dbname: str = "twin") -> Iterator[str]:
    """Start a fresh cluster with a PostGIS database; yield its URL; stop and delete it after."""
    if not (PG_BIN / "initdb").exists():
        raise RuntimeError(
            f"PostgreSQL not found in {PG_BIN}: run .ci/run or install postgresql-15-postgis-3"
        )
    root = Path(tempfile.mkdtemp(prefix="twin-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    subprocess.run(
        _as_postgres(
            str(PG_BIN / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        ),
        check=True,
        capture_output=True,
    )
    opts = (
        f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        "-c shared_buffers=512MB -c max_connections=100"
    )
    subprocess.run(
        _as_postgres(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            opts,
            "-l",
            str(root / "log"),
            "-w",
            "start",
        ),
        check=True,
        capture_output=True,
    )
    DATA_DIRS[port] = (data, opts)
    try:
        url = f"postgresql://postgres@127.0.0.1:{port}/{dbname}"
        for _ in range(50):
            r = subprocess.run(
                [
                    str(PG_BIN / "psql"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-U",
                    "postgres",
                    "-c",
                    f"CREATE DATABASE {dbname}",
                ],
                capture_output=True,
                text=True,
            )
            if r.returncode == 0:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"could not create database: {r.stderr}")
        subprocess.run(
            [
                str(PG_BIN / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "-d",
                dbname,
                "-c",
                "CREATE EXTENSION postgis",
            ],
            check=True,
            capture_output=True,
        )
        yield url
    finally:
        subprocess.run(
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def pg_ctl(url: str, action: str) -> None:
    """Run ``pg_ctl stop`` (immediate, as a crash) or ``start`` on the test cluster of ``url``."""
    port = int(url.split("@")[-1].split("/")[0].split(":")[1])
    data, opts = DATA_DIRS[port]
    args = ["-m", "immediate", "stop"] if action == "stop" else ["-o", opts, "-w", "start"]
    subprocess.run(
        _as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(data.parent / "log"), *args
        ),
        check=True,
        capture_output=True,
    )


def create_database(url: str, name: str) -> str:
    """Create database ``name`` with PostGIS on the cluster of ``url``; return its URL."""
    import psycopg

    base = url.rsplit("/", 1)[0]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(f"{base}/{name}", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return f"{base}/{name}"


class StreamingReplica:
    """A hot standby of a test cluster, made the PostgreSQL way: ``pg_basebackup -R`` (which
    writes ``standby.signal`` and the primary's connection) from the running primary, started
    on its own port. It can be stopped and started again (the fault tests)."""

    def __init__(self, primary_url: str) -> None:
        host_port = primary_url.split("@")[-1].split("/")[0]
        host, port = host_port.split(":")
        self.root = Path(tempfile.mkdtemp(prefix="twin-pg-replica-"))
        self.data = self.root / "data"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self.port = _free_port()
        subprocess.run(
            _as_postgres(
                str(PG_BIN / "pg_basebackup"),
                "-h",
                host,
                "-p",
                port,
                "-U",
                "postgres",
                "-D",
                str(self.data),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
            ),
            check=True,
            capture_output=True,
        )
        self.start()

    def url(self, dbname: str) -> str:
        """Return the URL of database ``dbname`` on the replica."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> None:
        """Start the standby (read-only queries allowed) and wait until it accepts them."""
        opts = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.root} -c hot_standby=on -c fsync=off "
            "-c shared_buffers=128MB -c max_connections=100 "
            # streams again within 1 s of a restarted primary (PostgreSQL's default, 5 s, kept
            # every read that must see a newer write on the primary for 5 s: issue 20)
            "-c wal_retrieve_retry_interval=1s"
        )
        subprocess.run(
            _as_postgres(
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                opts,
                "-l",
                str(self.root / "log"),
                "-w",
                "start",
            ),
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        """Stop the standby at once (as a crash would)."""
        subprocess.run(
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"),
            capture_output=True,
        )

    def close(self) -> None:
        """Stop the standby and delete its files."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
