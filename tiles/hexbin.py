"""Dense point layers as H3 hexagons with counts (h3 v4, in Python: PostgreSQL here has no
h3 extension, and the same code then serves both stores).

The counts are precomputed per layer and resolution from all of the layer's points, not from
the points inside one tile: a hexagon that straddles two tiles must show the same count in
both. A layer's counts are rebuilt lazily after any change to the layer.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import h3.api.basic_int as h3
import numpy as np
import shapely
import sqlalchemy as sa

from layers import GeomType, Layer
from tiles.geometry import draw
from tiles.grid import Tile
from tiles.mvt import POLYGON, encode_layer, geometry_commands
from tiles.zoom import ZoomRules
from twin.store import Store

#: The properties of a hexagon feature, with their TileJSON types.
HEX_FIELDS = {"count": "Number", "h3": "String", "resolution": "Number"}


@dataclass(frozen=True)
class HexCounts:
    """Points per H3 cell at one resolution: cell ids, counts and cell centres."""

    cells: np.ndarray
    counts: np.ndarray
    lat: np.ndarray
    lng: np.ndarray


def margin_deg(res: int, lat: float) -> tuple[float, float]:
    """Return (dlon, dlat): how far beyond a tile a point can be and still fall in a hexagon
    drawn in that tile — two hexagon radii, generously converted to degrees at ``lat``."""
    edge_m = h3.average_hexagon_edge_length(res, unit="m") * 1.5
    dlat = 2 * edge_m / 111_320.0
    return dlat / max(math.cos(math.radians(min(abs(lat), 85.0))), 0.01), dlat


class HexIndex:
    """Per-layer H3 counts over a store, built on first use; thread-safe."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._points: dict[str, np.ndarray] = {}
        self._counts: dict[tuple[str, int], HexCounts] = {}
        self._lock = threading.Lock()
        self._sql = {}
        for layer_id in store.tables:
            col = store.sql.geom_wkb("t.geom")
            self._sql[layer_id] = sa.text(f'SELECT {col} FROM "{layer_id}" t')

    def invalidate(self, layer_id: str) -> None:
        """Forget the counts of ``layer_id`` (its points changed)."""
        with self._lock:
            self._points.pop(layer_id, None)
            for key in [k for k in self._counts if k[0] == layer_id]:
                del self._counts[key]

    def _lnglat(self, layer: Layer) -> np.ndarray:
        pts = self._points.get(layer.id)
        if pts is None:
            with self.store.reading() as conn:
                values = [r[0] for r in conn.execute(self._sql[layer.id])]
            geoms = self.store.sql.decode_geoms(values) if values else np.empty(0, dtype=object)
            pts = shapely.get_coordinates(geoms) if len(geoms) else np.empty((0, 2))
            self._points[layer.id] = pts
        return pts

    def counts(self, layer: Layer, res: int) -> HexCounts:
        """Return the point counts of ``layer`` per H3 cell at resolution ``res``."""
        key = (layer.id, res)
        with self._lock:
            found = self._counts.get(key)
            if found is not None:
                return found
            pts = self._lnglat(layer)
            cells = np.fromiter(
                (h3.latlng_to_cell(lat, lng, res) for lng, lat in pts.tolist()),
                dtype=np.uint64,
                count=len(pts),
            )
            uniq, counts = np.unique(cells, return_counts=True)
            centres = np.array([h3.cell_to_latlng(int(c)) for c in uniq]).reshape(-1, 2)
            found = HexCounts(uniq, counts, centres[:, 0], centres[:, 1])
            self._counts[key] = found
            return found

    def tile(self, layer: Layer, tile: Tile, res: int) -> bytes:
        """Return the MVT layer of ``layer``'s hexagons at ``res`` that meet ``tile``.

        Each hexagon is a polygon with ``count``, ``h3`` (the cell id) and ``resolution``; its
        feature id is the H3 cell index.
        """
        data = self.counts(layer, res)
        west, south, east, north = tile.bounds_lonlat()
        dlon, dlat = margin_deg(res, (south + north) / 2)
        near = np.flatnonzero(
            (data.lng >= west - dlon)
            & (data.lng <= east + dlon)
            & (data.lat >= south - dlat)
            & (data.lat <= north + dlat)
        )
        if len(near) == 0:
            return b""
        cells = data.cells[near]
        rings = [[(lng, lat) for lat, lng in h3.cell_to_boundary(int(c))] for c in cells.tolist()]
        hexes = shapely.polygons(rings)
        meets = shapely.intersects(hexes, shapely.box(west, south, east, north))
        cells, hexes, counts = cells[meets], hexes[meets], data.counts[near][meets]
        paths, survivors = draw(hexes, tile, GeomType.POLYGON, ZoomRules())
        cells, counts = cells[survivors], counts[survivors]
        cmds, offsets = geometry_commands(POLYGON, paths, len(cells))
        return encode_layer(
            layer.id,
            POLYGON,
            cells,
            cmds,
            offsets,
            [
                ("count", [int(c) for c in counts]),
                ("h3", [h3.int_to_str(int(c)) for c in cells]),
                ("resolution", [res] * len(cells)),
            ],
        )
