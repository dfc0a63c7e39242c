"""Property-based fuzzing of the whole HTTP API from its own OpenAPI document (schemathesis,
over a real uvicorn server on a small store of each kind), once per role: no input may make
a 5xx. The run is kept short (a few examples per operation); ``bench/abuse.py`` runs it long.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings

from tests.api.test_hardening import settings as app_settings
from tests.api.test_hardening import small_url  # noqa: F401  (the store fixture)
from twin.app import create_app

ROLES = {
    "anonymous": {},
    "resident": {"Authorization": "Bearer res-1"},
    "planner": {"Authorization": "Bearer plan-1"},
}
#: Examples per operation and role (the long run in bench/abuse.py uses thousands).
EXAMPLES = 8
#: The live stream never ends by design; the analyses are driven by their own tests.
SKIPPED_PATHS = ("/api/events",)


@pytest.fixture(scope="module")
def base_url(small_url: str) -> Iterator[str]:  # noqa: F811
    """Serve the app on ``small_url`` with uvicorn in a thread; yield its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        create_app(app_settings(small_url)), host="127.0.0.1", port=port, log_level="critical"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def api_schema(base_url: str) -> Any:
    schema: Any = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    for path in SKIPPED_PATHS:
        schema = schema.exclude(path=path)
    return schema


def _not_ready(response: Any) -> bool:
    """Return whether ``response`` is the store's documented 503 (a store without the city
    loaded cannot run the analyses that need its districts)."""
    return response.status_code == 503 and response.json().get("error") == "store_error"


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def test_no_input_makes_a_server_error(api_schema: Any, session: requests.Session) -> None:
    """Every operation, a few generated requests each, sent as each role: no 5xx."""
    failures: list[str] = []
    sent = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            nonlocal sent
            for role, headers in ROLES.items():
                response = case.call(headers=headers, session=session, timeout=60)
                sent += 1
                if response.status_code >= 500 and not _not_ready(response):
                    failures.append(
                        f"{case.method} {case.formatted_path} as {role}: "
                        f"{response.status_code} {response.text[:200]}\n"
                        f"  {case.as_curl_command()[:1000]}"
                    )

        run()
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures[:20])
    assert sent > 100
