"""The spatial store behind one interface: an embedded GeoPackage or PostGIS."""

from __future__ import annotations

from twin.core.errors import StoreError
from twin.store.base import Store
from twin.store.loading import Batch, LoadResult, Rejection


def open_store(url: str, *, create: bool = True) -> Store:
    """Return the store at ``url`` (``gpkg:///file.gpkg`` or ``postgresql://…``), with its
    schema created or upgraded when ``create`` is true."""
    store: Store
    if url.startswith("gpkg:"):
        from twin.store.geopackage import GeoPackageStore

        store = GeoPackageStore(url)
    elif url.startswith(("postgresql", "postgres:")):
        from twin.store.postgis import PostGISStore

        store = PostGISStore(url)
    else:
        raise StoreError(
            f"TWIN_DATABASE_URL {url.split('@')[-1]!r} is neither gpkg:///path.gpkg "
            "nor postgresql://…"
        )
    if create:
        store.ensure_schema()
    return store


__all__ = ["Batch", "LoadResult", "Rejection", "Store", "open_store"]
