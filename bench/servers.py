"""Tile servers under test, each a uvicorn subprocess with one worker on a free 127.0.0.1 port.

Our app and tipg run the same way (one worker, no access log) so that on a 2-core machine they
compete for the same CPU with the database on equal terms. tipg lives in its own virtualenv
(its pins may clash with ours), created with uv on first use and reused after.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from twin.core.settings import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "artifacts" / "bench"
TIPG_VENV = ARTIFACTS / "tipg-venv"
TIPG_VERSION = "1.6.1"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tipg_python() -> Path:
    """Return the Python of tipg's own virtualenv (tipg, uvicorn, uvloop, httptools), creating
    it with uv if it is missing or lacks one of them."""
    python = TIPG_VENV / "bin" / "python"
    probe = [
        str(python),
        "-c",
        f"import tipg, uvloop, httptools; assert tipg.__version__ == '{TIPG_VERSION}'",
    ]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["uv", "venv", "--clear", "--python", "3.11", str(TIPG_VENV)],
        check=True,
        env=env,
        timeout=120,
    )
    subprocess.run(
        # The same server stack as ours: uvicorn with uvloop and httptools (its "standard"
        # speed-ups), so that the comparison is of the two applications.
        [
            "uv",
            "pip",
            "install",
            "--python",
            str(python),
            f"tipg=={TIPG_VERSION}",
            "uvicorn",
            "uvloop",
            "httptools",
        ],
        check=True,
        env=env,
        timeout=600,
    )
    return python


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} answered")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as resp:
            if resp.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout_s:.0f} s")


@contextlib.contextmanager
def uvicorn_server(
    python: Path | str,
    app: str,
    *,
    env: Mapping[str, str],
    health: str,
    factory: bool = False,
    cwd: Path = PROJECT_ROOT,
    log: Path | None = None,
    timeout_s: float = 90.0,
) -> Iterator[str]:
    """Run ``app`` under uvicorn (1 worker) on a free port; yield its base URL; stop it after."""
    port = free_port()
    cmd: Sequence[str] = [
        str(python),
        "-m",
        "uvicorn",
        app,
        *(["--factory"] if factory else []),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    out = log.open("ab") if log else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, cwd=cwd, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base + health, proc, timeout_s)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        if log:
            out.close()  # type: ignore[union-attr]


def ours(
    database_url: str, *, log: Path | None = None, env: Mapping[str, str] | None = None
) -> contextlib.AbstractContextManager[str]:
    """Return a context manager running our app on ``database_url`` (with ``env`` on top of
    the machine's); it yields the base URL."""
    env = {
        "TWIN_DATABASE_URL": database_url,
        "SPATIALITE_LIBRARY_PATH": "mod_spatialite",
        **(env or {}),
    }
    return uvicorn_server(
        sys.executable, "twin.app:create_app", env=env, health="/healthz", factory=True, log=log
    )


def tipg(
    database_url: str, tables: Sequence[str], *, log: Path | None = None
) -> contextlib.AbstractContextManager[str]:
    """Return a context manager running tipg on ``database_url``, restricted to ``tables`` of
    schema public; it yields the base URL."""
    from tiles.grid import BUFFER

    # tipg matches tables by their qualified name ("public.buildings").
    quoted = ",".join(f'"public.{t}"' for t in tables)
    env = {
        "DATABASE_URL": database_url,
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": f"[{quoted}]",
        # tipg silently truncates a tile at 10,000 features by default; ours does not, so the
        # cap is lifted for both to carry the same features.
        "TIPG_MAX_FEATURES_PER_TILE": "1000000",
        # tipg clips geometry to a 256-pixel buffer around the tile by default (MVTSettings.
        # tile_buffer); ours keeps 64 (tiles.grid.BUFFER). A wider buffer means more vertices
        # to clip and encode per tile, so tipg gets ours, for the two to draw the same tile.
        "TIPG_TILE_BUFFER": str(BUFFER),
        # No catalog refresh in the middle of a pass (ours builds its catalog once too).
        "TIPG_CATALOG_TTL": "3600",
        "TIPG_DB_MAX_CONN_SIZE": "10",
    }
    # Run from the artifacts folder, so that neither our packages nor a stray .env are in reach.
    return uvicorn_server(
        tipg_python(), "tipg.main:app", env=env, health="/healthz", cwd=ARTIFACTS, log=log
    )
