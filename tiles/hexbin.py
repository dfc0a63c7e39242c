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
from tiles.zoom import PUBLIC_MAX_RES, ZoomRules
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


def merge_small(counts: HexCounts, res: int, k: int, levels: int = 3) -> HexCounts:
    """Return ``counts`` with no cell under ``k``: the points of a cell under ``k`` move to its
    parent (one resolution coarser, up to ``levels`` times); what is still under ``k`` after
    that is left out. Cells of ``k`` or more stay as they are, unless a parent's merged rest
    would be 1 to k-1 beside them: then the smallest of them join the rest (see below).

    A public map of a planner-only layer (appeals) must not show a count of 1 or 2: each such
    hexagon pointed at one resident's appeal (issue 14). Nor may two zooms give one away by
    subtraction: a parent of 12 drawn at one zoom, its child of 10 at the next with the other
    2 left out, say "2 appeals in the rest of this cell". So a rest under ``k`` takes in the
    parent's shown cells, smallest first, until it reaches ``k``: the parent is then drawn
    with its whole count, which is what the coarser zoom shows.

    >>> c = h3.latlng_to_cell(43.25, 76.95, 9)
    >>> near = [n for n in h3.grid_disk(c, 1) if h3.cell_to_parent(n, 8) == h3.cell_to_parent(c, 8)]
    >>> cells = np.array(sorted(near)[:3], dtype=np.uint64)
    >>> ll = np.zeros(3)
    >>> out = merge_small(HexCounts(cells, np.array([7, 2, 2]), ll, ll), 9, 5)
    >>> sorted(int(n) for n in out.counts), sorted(h3.get_resolution(int(c)) for c in out.cells)
    ([11], [8])
    >>> out = merge_small(HexCounts(cells, np.array([7, 3, 2]), ll, ll), 9, 5)
    >>> sorted(int(n) for n in out.counts), sorted(h3.get_resolution(int(c)) for c in out.cells)
    ([5, 7], [8, 9])
    """
    if k <= 1:
        return counts
    cells = counts.cells.tolist()
    values = counts.counts.tolist()
    shown = {int(c): int(n) for c, n in zip(cells, values, strict=True) if n >= k}
    rest = {int(c): int(n) for c, n in zip(cells, values, strict=True) if n < k}
    for level in range(1, levels + 1):
        parent_res = res - level
        if not rest or parent_res < 0:
            break
        merged: dict[int, int] = {}
        for c, n in rest.items():
            parent = h3.cell_to_parent(c, parent_res)
            merged[parent] = merged.get(parent, 0) + n
        beneath: dict[int, list[int]] = {}
        for c in shown:
            if h3.get_resolution(c) > parent_res:
                beneath.setdefault(h3.cell_to_parent(c, parent_res), []).append(c)
        rest = {}
        for parent, n in merged.items():
            for c in sorted(beneath.get(parent, ()), key=lambda c: (shown[c], c)):
                if n >= k:
                    break
                n += shown.pop(c)
            if n >= k:
                shown[parent] = n
            else:
                rest[parent] = n
    out_cells = np.array(sorted(shown), dtype=np.uint64)
    out_counts = np.array([shown[c] for c in sorted(shown)], dtype=np.int64)
    centres = np.array([h3.cell_to_latlng(int(c)) for c in out_cells]).reshape(-1, 2)
    return HexCounts(out_cells, out_counts, centres[:, 0], centres[:, 1])


class HexIndex:
    """Per-layer H3 counts over a store, built on first use; thread-safe. ``min_count`` is
    the smallest count shown where only aggregates are public (smaller cells are merged into
    coarser ones or left out, :func:`merge_small`)."""

    def __init__(self, store: Store, min_count: int = 5) -> None:
        self.store = store
        self.min_count = min_count
        self._public: dict[tuple[str, int], HexCounts] = {}
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
            for key in [k for k in self._public if k[0] == layer_id]:
                del self._public[key]

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

    def nested_counts(self, layer: Layer, res: int) -> HexCounts:
        """Return the counts of ``layer`` at ``res`` (at most :data:`PUBLIC_MAX_RES`) summed
        up from those at :data:`PUBLIC_MAX_RES`: H3 cells do not nest exactly (a point's cell
        at res 8 is not always the parent of its cell at res 9), so counts taken afresh at
        each resolution differ by the points near the edges, and subtracting two zooms would
        leave such stray small counts. Summed, a cell is exactly the sum of its children."""
        fine = self.counts(layer, PUBLIC_MAX_RES)
        if res >= PUBLIC_MAX_RES:
            return fine
        parents = np.array(
            [h3.cell_to_parent(int(c), res) for c in fine.cells.tolist()], dtype=np.uint64
        )
        cells, inverse = np.unique(parents, return_inverse=True)
        counts = np.bincount(inverse, weights=fine.counts).astype(np.int64)
        centres = np.array([h3.cell_to_latlng(int(c)) for c in cells]).reshape(-1, 2)
        return HexCounts(cells, counts, centres[:, 0], centres[:, 1])

    def public_counts(self, layer: Layer, res: int) -> HexCounts:
        """Return the counts of ``layer`` at ``res`` (:meth:`nested_counts`) with none under
        :attr:`min_count` (:func:`merge_small`)."""
        key = (layer.id, res)
        found = self._public.get(key)
        if found is None:
            found = merge_small(self.nested_counts(layer, res), res, self.min_count)
            with self._lock:
                self._public[key] = found
        return found

    def tile(self, layer: Layer, tile: Tile, res: int, *, public: bool = False) -> bytes:
        """Return the MVT layer of ``layer``'s hexagons at ``res`` that meet ``tile``.

        Each hexagon is a polygon with ``count``, ``h3`` (the cell id) and ``resolution`` (a
        merged cell's own, coarser one); its feature id is the H3 cell index. ``public``:
        the layer is shown only as aggregates, so small counts are merged or left out.
        """
        data = self.public_counts(layer, res) if public else self.counts(layer, res)
        west, south, east, north = tile.bounds_lonlat()
        # a merged cell is up to three resolutions coarser: look that much further out
        dlon, dlat = margin_deg(max(res - 3, 0) if public else res, (south + north) / 2)
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
                ("resolution", [h3.get_resolution(int(c)) for c in cells]),
            ],
        )
