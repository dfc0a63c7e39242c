"""The same requests get the same answers as recorded (``tests/support/answers.py``).

A change of the code's shape must not change what a client gets. On the GeoPackage store the
bodies (and tile ETags) are compared byte for byte; PostGIS writes a tile's features in the
order it reads the rows, which differs between two loads of the same data, so there a tile is
compared by its decoded features. Re-record (``uv run python -m tests.support.answers record``)
when an answer changes on purpose, and say why in the commit.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.answers import KEYS, MVT, RECORDING, replay
from tests.support.app import app_client


@pytest.fixture(scope="module")
def recorded() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads(RECORDING.read_text())
    return data


def _comparable(answer: dict[str, Any], kind: str) -> dict[str, Any]:
    out = {"status": answer["status"], "headers": dict(answer["headers"])}
    is_tile = answer["headers"].get("content-type", "").startswith(MVT)
    if kind == "postgis" and is_tile:
        out["headers"].pop("etag", None)
        out["body"] = answer["extra"].get("canonical")
    else:
        out["body"] = answer["sha256"]
    return out


def test_every_recorded_request_answers_as_recorded(
    store_url: str, recorded: dict[str, dict[str, Any]]
) -> None:
    # A store of its own (``store_url`` is new and empty): the corpus ends with edits.
    kind = "geopackage" if store_url.startswith("gpkg") else "postgis"
    with app_client(store_url, KEYS) as client:
        now = replay(client, load=True)
    was = recorded[kind]
    assert sorted(now) == sorted(was), "the corpus changed: re-record"
    moved = [key for key in was if _comparable(now[key], kind) != _comparable(was[key], kind)]
    detail = "\n".join(
        f"{key}\n  was {_comparable(was[key], kind)}\n  now {_comparable(now[key], kind)}"
        for key in moved[:10]
    )
    assert not moved, f"{len(moved)} of {len(was)} answers changed:\n{detail}"
