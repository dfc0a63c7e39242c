"""The map under its own Content-Security-Policy (issue 14): the page loads, renders and
reports no violation, with nothing from another host. The other browser tests bypass the
policy only because their probes are eval."""

from __future__ import annotations

import time
from typing import Any

from tests.web.pixels import sample


def _until(page: Any, js: str, timeout: float = 30.0) -> None:
    # polled from here: a wait_for_function predicate is eval, which the policy forbids
    deadline = time.monotonic() + timeout
    while not page.evaluate(js):
        assert time.monotonic() < deadline, f"timed out waiting for {js}"
        page.wait_for_timeout(200)


def test_the_map_runs_under_its_content_security_policy(make_session: Any) -> None:
    session = make_session(1100, 720, bypass_csp=False)
    response = session.page.goto(f"{session.base}/#map=15.00/43.25650/76.94550")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    _until(session.page, "() => document.body.dataset.ready === 'true'")
    _until(
        session.page,
        "() => window.twin.map.loaded() && !window.twin.map.isMoving() "
        "&& window.twin.map.areTilesLoaded()",
    )
    violations = [e for e in session.console_errors if "Content Security Policy" in e]
    assert violations == [] and session.console_errors == []
    assert session.foreign_hosts() == set()
    assert sample(session.page)["colours"] > 50, "the canvas is (nearly) uniform"
