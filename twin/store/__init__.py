"""The spatial store behind one interface: an embedded GeoPackage or PostGIS."""

from __future__ import annotations

from collections.abc import Sequence

from twin.core.errors import StoreError
from twin.store.base import Store
from twin.store.loading import Batch, LoadResult, Rejection


def open_store(url: str, *, create: bool = True, replicas: Sequence[str] = ()) -> Store:
    """Return the store at ``url`` (``gpkg:///file.gpkg`` or ``postgresql://…``), with its
    schema created or upgraded when ``create`` is true; layer reads go to the streaming
    ``replicas`` of a PostGIS primary (``postgresql://…`` each) when they are fresh enough."""
    store: Store
    if replicas and not url.startswith(("postgresql", "postgres:")):
        raise StoreError(
            "TWIN_DATABASE_REPLICA_URLS needs a PostgreSQL primary in TWIN_DATABASE_URL"
        )
    if url.startswith("gpkg:"):
        from twin.store.geopackage import GeoPackageStore

        store = GeoPackageStore(url)
    elif url.startswith(("postgresql", "postgres:")):
        from twin.store.postgis import PostGISStore

        store = PostGISStore(url, replicas=replicas)
    else:
        raise StoreError(
            f"TWIN_DATABASE_URL {url.split('@')[-1]!r} is neither gpkg:///path.gpkg "
            "nor postgresql://…"
        )
    if create:
        store.ensure_schema()
    return store


__all__ = ["Batch", "LoadResult", "Rejection", "Store", "open_store"]
