"""The GeoPackage store's SQL (SpatiaLite in GeoPackage mode, the GeoPackage R-tree as index).

- Geometry crosses the wire as GeoPackage blobs: a header (with an envelope) before the WKB,
  stripped in Python rather than parsed by SpatiaLite per row.
- DATE and DATETIME are ISO text in a GeoPackage, so values are bound as the same text.
- SQLite's LIKE is case-insensitive for ASCII, CQL2's is not: GLOB is.
- SpatiaLite's predicates answer 1, 0 or -1 (error), and use no index by themselves: the
  R-tree ``rtree_<table>_geom`` narrows the rows first.
- SQLite's ``lower`` knows only ASCII: text is folded by a Python function registered on the
  connection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from layers import Layer
from twin.store.dialect import Bbox, Condition, SpatialSQL, fold_text, glob_pattern

_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def _rtree(layer: Layer) -> str:
    return f"rtree_{layer.table}_geom"


class GeoPackageSQL(SpatialSQL):
    """SQL for the embedded GeoPackage store."""

    def geom_wkb(self, column: str) -> str:
        return column

    def decode_geoms(self, values: Sequence[Any]) -> np.ndarray:
        wkb = [bytes(v)[8 + _ENVELOPE_BYTES[(v[3] >> 1) & 7] :] for v in values]
        return shapely.from_wkb(wkb)

    def bbox(self, layer: Layer) -> tuple[str, str]:
        return (
            f'JOIN "{_rtree(layer)}" r ON r.id = t.fid',
            "r.maxx >= :minx AND r.minx <= :maxx AND r.maxy >= :miny AND r.miny <= :maxy",
        )

    def bounds(self, layer: Layer) -> tuple[str, tuple[str, str, str, str]]:
        return (
            f'JOIN "{_rtree(layer)}" r ON r.id = t.fid',
            ("r.minx", "r.miny", "r.maxx", "r.maxy"),
        )

    def extent(self, layer: Layer) -> str:
        # The R-tree's 32-bit boxes (rounded outwards): a scan of one small table.
        return f'SELECT min(minx), min(miny), max(maxx), max(maxy) FROM "{_rtree(layer)}"'

    def date(self, value: dt.date) -> ColumnElement[Any]:
        return sa.literal(value.isoformat(), sa.Text)

    def timestamp(self, value: dt.datetime) -> ColumnElement[Any]:
        return sa.literal(value.strftime("%Y-%m-%dT%H:%M:%SZ"), sa.Text)

    def like(self, column: ColumnElement[Any], parts: Sequence[str]) -> Condition:
        glob = sa.literal(glob_pattern(parts), sa.Text)
        cond: Condition = column.op("GLOB", return_type=sa.Boolean)(glob)
        return cond

    def spatial(
        self,
        function: str,
        left: ColumnElement[Any],
        right: ColumnElement[Any],
        literal_bounds: Bbox,
        table: sa.FromClause,
        layer: Layer,
    ) -> Condition:
        cond: Condition = getattr(sa.func, "ST_" + function)(left, right) == 1
        if function != "Disjoint":  # a true answer implies overlapping envelopes
            cond = sa.and_(self._in_rtree(table, layer, literal_bounds), cond)
        return cond

    def intersects_box(self, table: sa.FromClause, layer: Layer, bbox: Bbox) -> Condition:
        minx, miny, maxx, maxy = (sa.literal(float(v), sa.Double) for v in bbox)
        envelope = sa.func.BuildMbr(minx, miny, maxx, maxy, sa.literal(4326, sa.Integer))
        return sa.and_(
            self._in_rtree(table, layer, bbox),
            sa.func.ST_Intersects(table.c.geom, envelope) == 1,
        )

    def _in_rtree(self, table: sa.FromClause, layer: Layer, bbox: Bbox) -> Condition:
        """Return "the row's envelope meets ``bbox``" through the GeoPackage R-tree."""
        r = sa.table(
            _rtree(layer),
            sa.column("id"),
            sa.column("minx"),
            sa.column("miny"),
            sa.column("maxx"),
            sa.column("maxy"),
        )
        minx, miny, maxx, maxy = (sa.literal(float(v), sa.Double) for v in bbox)
        inside = sa.select(r.c.id).where(
            r.c.maxx >= minx, r.c.minx <= maxx, r.c.maxy >= miny, r.c.miny <= maxy
        )
        return table.c.fid.in_(inside)

    def exact_bounds(self, geom: ColumnElement[Any]) -> list[ColumnElement[Any]]:
        # Not the R-tree: it keeps 32-bit floats, and the two stores must agree exactly.
        return [
            sa.func.ST_MinX(geom),
            sa.func.ST_MinY(geom),
            sa.func.ST_MaxX(geom),
            sa.func.ST_MaxY(geom),
        ]

    def fold(self, expr: str) -> str:
        return f"twin_fold({expr})"

    def prepare(self, conn: sa.Connection) -> None:
        raw = conn.connection.driver_connection
        raw.create_function(  # type: ignore[union-attr]
            "twin_fold", 1, lambda v: None if v is None else fold_text(str(v)), deterministic=True
        )
