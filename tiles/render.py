"""Drawing one tile: every layer the caller sees, each by its zoom's rules — features from the
tile source (the database's encoder or this process's), dense points as H3 hexagon counts —
and the biggest layer drawn coarser until the tile fits :data:`~tiles.zoom.MAX_TILE_BYTES`.

One body (a generator, :meth:`Renderer.steps`) serves the blocking and the asynchronous
caller: it yields each (layer, rules) to draw and is sent the bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Sequence

from layers import GeomType, Layer
from tiles.access import LayerAccess
from tiles.grid import Tile
from tiles.hexbin import HexIndex, margin_deg
from tiles.sources import LayerSource
from tiles.zoom import (
    MAX_TILE_BYTES,
    PUBLIC_MAX_RES,
    Mode,
    ZoomRules,
    coarser,
    h3_resolution,
    mode_at,
    zoom_rules,
)

#: A rendered tile: the uncompressed MVT, and per drawn layer the margin beyond the tile within
#: which a change alters it.
Rendered = tuple[bytes, dict[str, tuple[float, float]]]
log = logging.getLogger("twin.tiles")


def draws_hexagons(accesses: Sequence[LayerAccess], z: int) -> bool:
    """Return whether any of ``accesses`` is drawn as H3 hexagons at zoom ``z``."""
    return any(
        mode_at(a.layer, z, aggregate_only=a.aggregate_only) is Mode.HEXAGONS for a in accesses
    )


class Renderer:
    """Draws tiles from a feature source and an H3 index (no cache)."""

    def __init__(self, source: LayerSource, hexes: HexIndex) -> None:
        self.source = source
        self.hexes = hexes

    def render(
        self, accesses: Sequence[LayerAccess], tile: Tile, *, maxzoom: int | None = None
    ) -> Rendered:
        """Return the uncompressed MVT of ``accesses`` in ``tile``, and per drawn layer the
        margin beyond the tile within which a change alters it.

        Layers below their ``minzoom`` are left out; layers are concatenated in order.
        ``maxzoom`` is the last zoom a client will fetch (an archive's), where nothing may be
        dropped for size. A tile over :data:`~tiles.zoom.MAX_TILE_BYTES` has its biggest
        polygon or line layer redrawn with :func:`~tiles.zoom.coarser` rules until it fits.
        """
        steps = self.steps(accesses, tile, maxzoom)
        try:
            layer, rules = next(steps)
            while True:
                layer, rules = steps.send(self.source.layer_tile(layer, tile, rules))
        except StopIteration as done:
            return done.value

    def steps(
        self, accesses: Sequence[LayerAccess], tile: Tile, maxzoom: int | None
    ) -> Generator[tuple[Layer, ZoomRules], bytes, Rendered]:
        """The steps of :meth:`render`: yields each (layer, rules) to draw with the feature
        source and is sent the bytes; returns what :meth:`render` returns."""
        parts: list[bytes] = []
        rules: list[ZoomRules | None] = []
        drawn: list[Layer] = []
        margins: dict[str, tuple[float, float]] = {}
        for access in accesses:
            layer = access.layer
            if tile.z < layer.minzoom:
                continue
            drawn.append(layer)
            if mode_at(layer, tile.z, aggregate_only=access.aggregate_only) is Mode.HEXAGONS:
                cap = PUBLIC_MAX_RES if access.aggregate_only else 15
                res = h3_resolution(tile.z, cap=cap)
                parts.append(self.hexes.tile(layer, tile, res, public=access.aggregate_only))
                rules.append(None)
                _, south, _, north = tile.bounds_lonlat()
                margin_res = max(res - 3, 0) if access.aggregate_only else res
                margins[layer.id] = margin_deg(margin_res, (south + north) / 2)
            else:
                r = zoom_rules(layer, tile.z, maxzoom=maxzoom)
                parts.append((yield layer, r))
                rules.append(r)
                margins[layer.id] = (0.0, 0.0)
        for _ in range(12):
            if sum(map(len, parts)) <= MAX_TILE_BYTES:
                break
            shrinkable = [
                i
                for i, (layer, r) in enumerate(zip(drawn, rules, strict=True))
                if r is not None and layer.geometry is not GeomType.POINT and parts[i]
            ]
            if not shrinkable:
                break
            i = max(shrinkable, key=lambda k: len(parts[k]))
            r = coarser(rules[i] or ZoomRules(), drawn[i], tile.z)
            rules[i] = r
            parts[i] = yield drawn[i], r
        size = sum(map(len, parts))
        if size > MAX_TILE_BYTES:
            log.warning("tile %s of %s is %d bytes", tile, [d.id for d in drawn], size)
        return b"".join(parts), margins
