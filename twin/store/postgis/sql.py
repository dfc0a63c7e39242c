"""The PostGIS store's SQL: GiST indexes used by the operators themselves, typed dates,
byte-order text (``COLLATE "C"``, as SQLite compares), ICU for Unicode-aware lower case."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from layers import Layer
from twin.store.dialect import Bbox, Condition, SpatialSQL, like_pattern


class PostGISSQL(SpatialSQL):
    """SQL for the PostGIS store."""

    def geom_wkb(self, column: str) -> str:
        return f"ST_AsBinary({column})"

    def decode_geoms(self, values: Sequence[Any]) -> np.ndarray:
        return shapely.from_wkb([bytes(v) for v in values])

    def bbox(self, layer: Layer) -> tuple[str, str]:
        return ("", "t.geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)")

    def bounds(self, layer: Layer) -> tuple[str, tuple[str, str, str, str]]:
        return ("", ("ST_XMin(t.geom)", "ST_YMin(t.geom)", "ST_XMax(t.geom)", "ST_YMax(t.geom)"))

    def extent(self, layer: Layer) -> str:
        return (
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
            f'FROM (SELECT ST_Extent(geom) AS e FROM "{layer.table}") b'
        )

    def date(self, value: dt.date) -> ColumnElement[Any]:
        return sa.literal(value, sa.Date)

    def timestamp(self, value: dt.datetime) -> ColumnElement[Any]:
        return sa.literal(value, sa.DateTime(timezone=True))

    def ordered_text(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        return column.collate("C")

    def like(self, column: ColumnElement[Any], parts: Sequence[str]) -> Condition:
        return column.like(sa.literal(like_pattern(parts), sa.Text), escape="\\")

    def spatial(
        self,
        function: str,
        left: ColumnElement[Any],
        right: ColumnElement[Any],
        literal_bounds: Bbox,
        table: sa.FromClause,
        layer: Layer,
    ) -> Condition:
        cond: Condition = getattr(sa.func, "ST_" + function)(left, right, type_=sa.Boolean)
        return cond

    def intersects_box(self, table: sa.FromClause, layer: Layer, bbox: Bbox) -> Condition:
        minx, miny, maxx, maxy = (sa.literal(float(v), sa.Double) for v in bbox)
        envelope = sa.func.ST_MakeEnvelope(minx, miny, maxx, maxy, sa.literal(4326, sa.Integer))
        cond: Condition = sa.func.ST_Intersects(table.c.geom, envelope, type_=sa.Boolean)
        return cond

    def exact_bounds(self, geom: ColumnElement[Any]) -> list[ColumnElement[Any]]:
        return [
            sa.func.ST_XMin(geom),
            sa.func.ST_YMin(geom),
            sa.func.ST_XMax(geom),
            sa.func.ST_YMax(geom),
        ]

    def fold(self, expr: str) -> str:
        # An ICU collation makes lower() Unicode-aware whatever the database's own locale is.
        return f"translate(lower(({expr}) COLLATE \"und-x-icu\"), 'ё', 'е')"
