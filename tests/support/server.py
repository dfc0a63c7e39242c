"""A real HTTP server for tests that need one (streams: Starlette's TestClient reads a whole
response before returning, so a never-ending server-sent-events stream needs uvicorn), and a
small reader of server-sent events over httpx in a thread."""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn


def free_port() -> int:
    """Return a free local TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread; yield its base URL; stop it afterwards."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the app did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@dataclass
class Received:
    """One server-sent event as a client sees it."""

    id: str | None
    event: str
    data: Any


@dataclass
class SSEClient:
    """Reads a server-sent-events stream in a thread; :meth:`next` returns parsed events."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    events: queue.Queue[Received] = field(default_factory=queue.Queue)
    comments: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    status: int | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _response: Any = None

    def start(self, timeout: float = 10) -> SSEClient:
        threading.Thread(target=self._run, daemon=True).start()
        if not self.ready.wait(timeout):
            raise AssertionError(f"the stream {self.url} did not open (status {self.status})")
        return self

    def _run(self) -> None:
        try:
            with (
                httpx.Client(timeout=httpx.Timeout(5, read=None)) as client,
                client.stream("GET", self.url, headers=self.headers) as response,
            ):
                self.status = response.status_code
                self._response = response
                if response.status_code != 200:
                    self.ready.set()
                    return
                event_id: str | None = None
                kind = "message"
                data: list[str] = []
                for line in response.iter_lines():
                    if self._stop.is_set():
                        return
                    if line.startswith(":"):
                        self.comments.append(line[1:].strip())
                        if line.startswith(": ready"):
                            self.ready.set()
                    elif line.startswith("id:"):
                        event_id = line[3:].strip()
                    elif line.startswith("event:"):
                        kind = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].strip())
                    elif line == "":
                        if data:
                            self.events.put(Received(event_id, kind, json.loads("\n".join(data))))
                        event_id, kind, data = None, "message", []
        except Exception:  # closed under the reader (close()) or by the server
            pass
        finally:
            self.ended.set()
            self.ready.set()

    def next(self, timeout: float = 5) -> Received:
        """Return the next event; fail after ``timeout`` seconds."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout} s on {self.url}") from None

    def none_within(self, seconds: float) -> bool:
        """Whether no event arrives within ``seconds``."""
        try:
            self.events.get(timeout=seconds)
        except queue.Empty:
            return True
        return False

    def close(self) -> None:
        """Stop reading and close the connection."""
        self._stop.set()
        if self._response is not None:
            with contextlib.suppress(Exception):  # the reader may be closing it too
                self._response.close()
        self.ended.wait(5)
