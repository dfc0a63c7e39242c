"""The twin's HTTP app over a test store, as the API tests drive it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient

from twin.app import create_app
from twin.core.settings import AuthSettings, Settings, StoreSettings


@contextmanager
def app_client(
    database_url: str, api_keys: str = "", photos_dir: Path | None = None
) -> Iterator[TestClient]:
    """Yield a client of the app on ``database_url`` (lifespan run) with ``role:key`` pairs
    (and residents' photos kept in ``photos_dir``)."""
    settings = Settings(
        store=StoreSettings(database_url=database_url),
        auth=AuthSettings(api_keys=api_keys),
        photos_dir=photos_dir,
    )
    with TestClient(create_app(settings)) as client:
        yield client
