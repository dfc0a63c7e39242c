"""``twin serve`` as real server processes for the tests of several processes: each started
with ``python -m twin.cli serve`` on a free port, waited for on ``/healthz``, and stopped (the
whole process group) afterwards."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_json(url: str, headers: Mapping[str, str] | None = None, timeout: float = 30) -> Any:
    """Return the JSON answer of GET ``url``."""
    req = urllib.request.Request(url, headers=dict(headers or {}))
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


@contextmanager
def twin_servers(
    env: Mapping[str, str],
    count: int = 1,
    *,
    workers: int = 1,
    timeout: float = 120,
    logs: Path | None = None,
) -> Iterator[list[tuple[str, subprocess.Popen[bytes]]]]:
    """Start ``count`` ``twin serve`` processes at once (no load, no warming) with ``env``
    added to this environment; yield each one's base URL and process. With ``logs`` (a
    folder) each server's output is kept there as ``serve-<port>.log``."""
    started: list[tuple[str, subprocess.Popen[bytes], Any]] = []
    try:
        for _ in range(count):
            port = free_port()
            cmd = [
                sys.executable,
                "-m",
                "twin.cli",
                "serve",
                "--no-load-if-empty",
                "--no-warm",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ]
            # a file, not a pipe: a pipe nobody reads blocks the server once full
            if logs is not None:
                logs.mkdir(parents=True, exist_ok=True)
                log = (logs / f"serve-{port}.log").open("w+b")
            else:
                log = tempfile.TemporaryFile()  # noqa: SIM115  (closed in the finally below)
            proc = subprocess.Popen(
                cmd,
                env={**os.environ, "SPATIALITE_LIBRARY_PATH": "mod_spatialite", **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            started.append((f"http://127.0.0.1:{port}", proc, log))
        deadline = time.monotonic() + timeout
        for base, proc, log in started:
            while True:
                try:
                    get_json(f"{base}/healthz", timeout=2)
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        err = log.read().decode(errors="replace")
                        raise RuntimeError(f"twin serve did not start: {err[-2000:]}") from None
                    time.sleep(0.2)
        yield [(base, proc) for base, proc, _ in started]
    finally:
        for _, proc, log in started:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=15)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            log.close()
