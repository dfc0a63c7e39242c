"""Tiles encoded in this process from any store: the path for the embedded GeoPackage store.

A tile is one R-tree query for the rows whose envelope meets the tile, then vectorised
shapely work over the whole layer (:mod:`tiles.geometry`) and the array encoder
(:mod:`tiles.mvt`). Each layer's query text is built once, from the registry.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
import sqlalchemy as sa

from layers import LAYERS, GeomType, Layer, PropType
from tiles.geometry import draw
from tiles.grid import Tile
from tiles.mvt import MVT_KIND, encode_layer, geometry_commands
from tiles.zoom import ZoomRules, envelope_floor, tile_props
from twin.store import Store
from twin.store.triggers import rating_columns


def _as_text(v: Any) -> str:
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


_COERCE = {
    PropType.BOOL: bool,
    PropType.INT: int,
    PropType.FLOAT: float,
}


def typed_columns(layer: Layer, columns: Sequence[np.ndarray]) -> list[tuple[str, list[Any]]]:
    """Return the tile's properties as MVT columns, each value as its declared type (SQLite
    hands booleans back as 0/1 and dates as text; PostGIS dates as date objects)."""
    out = []
    for prop, col in zip(tile_props(layer), columns, strict=True):
        fn = _COERCE.get(prop.type)
        values = col.tolist()
        if fn is not None:
            values = [None if v is None else fn(v) for v in values]
        else:  # text as it comes (most of it), dates and times formatted
            values = [v if v is None or type(v) is str else _as_text(v) for v in values]
        out.append((prop.name, values))
    return out


def encode_features(
    layer: Layer,
    tile: Tile,
    fids: np.ndarray,
    columns: Sequence[np.ndarray],
    geoms: np.ndarray,
    rules: ZoomRules,
) -> bytes:
    """Return the MVT layer of ``layer`` in ``tile`` from candidate rows (lon/lat geometries
    whose envelope meets the tile): those that intersect the tile, big enough at this zoom,
    clipped, simplified and snapped to the tile grid; ``fid`` is the feature id."""
    west, south, east, north = tile.bounds_lonlat()
    box = shapely.box(west, south, east, north)
    shapely.prepare(box)
    idx = np.flatnonzero(shapely.intersects(box, geoms))
    paths, survivors = draw(geoms[idx], tile, layer.geometry, rules)
    idx = idx[survivors]
    kind = MVT_KIND[layer.geometry]
    cmds, offsets = geometry_commands(kind, paths, len(idx))
    props = typed_columns(layer, [c[idx] for c in columns])
    return encode_layer(layer.id, kind, fids[idx], cmds, offsets, props)


class EmbeddedSource:
    """Encodes feature tiles in Python from any :class:`~twin.store.Store`."""

    kind = "embedded"

    def __init__(self, store: Store) -> None:
        self.store = store
        self._sql = {layer.id: self._query(layer) for layer in LAYERS}
        self._drawing = threading.Lock()

    def _query(self, layer: Layer) -> tuple[str, Sequence[str] | None]:
        """Return the layer's candidate query as the driver takes it, and the order of its
        parameters when the driver's are positional (SQLite's ``?``)."""
        compiled = self._text(layer).compile(dialect=self.store.engine.dialect)
        return str(compiled), compiled.positiontup

    def _text(self, layer: Layer) -> sa.TextClause:
        join, where = self.store.sql.bbox(layer)
        ratings, derived = rating_columns(layer, self.store.engine.dialect.name)
        join = f"{join} {ratings}"
        props = "".join(
            f', {derived[p.name]} AS "{p.name}"' if p.name in derived else f', t."{p.name}"'
            for p in tile_props(layer)
        )
        geom = self.store.sql.geom_wkb("t.geom")
        if layer.geometry is GeomType.POLYGON:  # see tiles.zoom.envelope_floor
            # (the envelope's expressions use the same join as the bbox's)
            _, (x0, y0, x1, y1) = self.store.sql.bounds(layer)
            where += (
                f" AND (({x1} - {x0}) * ({y1} - {y0}) >= :min_deg2 "
                f"OR {y1} > :lat_bound OR {y0} < -:lat_bound)"
            )
        return sa.text(f'SELECT t.fid{props}, {geom} FROM "{layer.table}" t {join} WHERE {where}')

    def layer_tile(self, layer: Layer, tile: Tile, rules: ZoomRules) -> bytes:
        """Return the MVT layer of ``layer`` in ``tile`` (``b""`` when it has no feature)."""
        # Tiles are drawn in this process, mostly holding the GIL: a second drawing thread
        # only contends for it (every tile finishes later, none sooner), so they take turns,
        # one at a time. Measured with bench.tiles at concurrency 8 on 2 cores: one drawing
        # thread 122 tiles/s, z14 p95 182 ms; one per core 111 tiles/s, 197 ms.
        with self._drawing:
            return self._layer_tile(layer, tile, rules)

    def _layer_tile(self, layer: Layer, tile: Tile, rules: ZoomRules) -> bytes:
        west, south, east, north = tile.bounds_lonlat()
        min_deg2, lat_bound = envelope_floor(rules, tile)
        params = {
            "minx": west,
            "miny": south,
            "maxx": east,
            "maxy": north,
            "min_deg2": min_deg2,
            "lat_bound": lat_bound,
        }
        # Straight through the driver's cursor: SQLAlchemy's result rows cost ~7% of a tile
        # here (0.27 of 3.6 s over bench.tiles' 391 tiles, cProfile), for nothing used. Still
        # inside the store's own transaction (its BEGIN): a bare SQLite statement next to a
        # writer that re-creates triggers failed with "database schema has changed" (a test of
        # concurrent reads and writes caught it, one run in three).
        sql, order = self._sql[layer.id]
        with self.store.reading() as conn, conn.begin():
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(sql, [params[k] for k in order] if order else params)
                rows = cursor.fetchall()
            finally:
                cursor.close()
        if not rows:
            return b""
        cols = list(zip(*rows, strict=True))
        fids = np.asarray(cols[0], dtype=np.int64)
        geoms = self.store.sql.decode_geoms(cols[-1])
        props = [np.asarray(c, dtype=object) for c in cols[1:-1]]
        return encode_features(layer, tile, fids, props, geoms, rules)
