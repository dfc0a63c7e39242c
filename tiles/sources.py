"""Where a layer's tile is encoded: by the database itself when the store offers it (PostGIS
``ST_AsMVT``, ``Store.tile_encoder``), else in this process from the store's rows
(:class:`tiles.embedded.EmbeddedSource`). Both take the same rules and give the same
features (tested), so the service above does not care which it has.
"""

from __future__ import annotations

from typing import Any, Protocol

from layers import Layer
from tiles.geometry import SIMPLIFY_MIN_COORDS
from tiles.grid import BUFFER, EXTENT, Tile
from tiles.zoom import ZoomRules, tile_props
from twin.store import Store
from twin.store.base import TileEncoder


class LayerSource(Protocol):
    """Something that encodes one layer's features in one tile."""

    def layer_tile(self, layer: Layer, tile: Tile, rules: ZoomRules) -> bytes:
        """Return the MVT layer (a ``Tile`` message) or ``b""`` when it has no feature."""
        ...


def tile_params(tile: Tile, rules: ZoomRules) -> dict[str, Any]:
    """Return the parameters a database's tile query binds for ``tile`` at ``rules``: ``z``,
    ``x``, ``y``; ``w``, ``s``, ``e``, ``n`` (the tile in degrees); ``min_size`` and ``tol``
    (:func:`tiles.zoom.zoom_rules`)."""
    w, s, e, n = tile.bounds_lonlat()
    return {
        "z": tile.z,
        "x": tile.x,
        "y": tile.y,
        "w": w,
        "s": s,
        "e": e,
        "n": n,
        "min_size": rules.min_size,
        "tol": rules.tolerance_m,
    }


class DatabaseSource:
    """Tiles the database encodes itself, with this package's rules."""

    def __init__(self, encoder: TileEncoder) -> None:
        self.encoder = encoder

    def layer_tile(self, layer: Layer, tile: Tile, rules: ZoomRules) -> bytes:
        """Return the MVT layer of ``layer`` in ``tile`` (``b""`` when it has no feature)."""
        return self.encoder.layer_tile(layer, tile_params(tile, rules))

    async def layer_tile_async(self, layer: Layer, tile: Tile, rules: ZoomRules) -> bytes:
        """Do what :meth:`layer_tile` does, waiting for the database in the event loop."""
        return await self.encoder.layer_tile_async(layer, tile_params(tile, rules))

    def close(self) -> None:
        """Release the encoder's connections."""
        self.encoder.close()

    async def aclose(self) -> None:
        """Close the asynchronous path's connections."""
        await self.encoder.aclose()


def database_encoder(store: Store) -> TileEncoder | None:
    """Return the store's own tile encoder with this package's rules, or None."""
    return store.tile_encoder(
        tile_props, extent=EXTENT, buffer=BUFFER, simplify_min_coords=SIMPLIFY_MIN_COORDS
    )


def make_source(store: Store, encoder: str = "auto") -> LayerSource:
    """Return the tile source for ``store``: the database's encoder when it has one (unless
    ``encoder`` is "embedded"), else in-process. ``encoder="database"`` insists on the
    database's and refuses a store without one."""
    if encoder != "embedded":
        native = database_encoder(store)
        if native is not None:
            return DatabaseSource(native)
        if encoder == "database":
            raise ValueError("this store does not encode vector tiles itself")
    from tiles.embedded import EmbeddedSource

    return EmbeddedSource(store)
