"""Compile checked requests (a CQL2 AST, a bbox, a time interval, sort keys) to SQLAlchemy
Core expressions over a layer table aliased ``t``.

Identifiers come only from the layer (``t.c[name]`` after the parser checked the name);
every value is a bound parameter. What differs between the stores is the store's dialect
(``store.sql``, :mod:`twin.store.dialect`), so that both answer every query identically:
dates bound as each stores them, text compared in byte order, LIKE case-sensitive, spatial
predicates by GEOS on both with each store's index. NULLs sort last on both; the fid breaks
ties so pages are stable.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import operator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from layers.model import Layer, Prop, PropType
from twin.core.errors import BadInput
from twin.features import cql2
from twin.features.params import Bbox, Interval, SortKey, check_number, queryables
from twin.store.dialect import SpatialSQL

Condition = ColumnElement[bool]
_NUMERIC = (PropType.INT, PropType.FLOAT)
_ORDERING = ("<", ">", "<=", ">=")
_FLIPPED = {"=": "=", "<>": "<>", "<": ">", ">": "<", "<=": ">=", ">=": "<="}
_OPERATORS = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


class FilterCompiler:
    """Builds the WHERE and ORDER BY of one layer's queries in one store's dialect."""

    def __init__(self, layer: Layer, table: sa.FromClause, dialect: SpatialSQL) -> None:
        self.layer = layer
        self.t = table
        self.dialect = dialect
        self.props = queryables(layer)

    # -- values ----------------------------------------------------------------------------
    def bind(self, prop: Prop, value: Any) -> ColumnElement[Any]:
        """Return ``value`` (already typed for ``prop``) as a bound parameter."""
        if prop.type is PropType.DATE:
            return self.dialect.date(value)
        if prop.type is PropType.DATETIME:
            return self.dialect.timestamp(value.replace(microsecond=0))
        if prop.type is PropType.BOOL:
            return sa.literal(value, sa.Boolean)
        if prop.type in _NUMERIC:
            is_int = isinstance(value, int) and not isinstance(value, bool)
            return sa.literal(value, sa.BigInteger if is_int else sa.Double)
        return sa.literal(value, sa.Text)

    def typed(self, prop: Prop, value: Any, where: str) -> Any:
        """Return a literal converted to ``prop``'s type; raise :class:`BadInput` if it is not
        one (text is parsed for numbers, booleans and dates)."""
        kind = prop.type
        if kind in (PropType.STR, PropType.JSON):
            if not isinstance(value, str):
                raise BadInput(
                    f"{where}: {prop.name!r} is text; compare it with a quoted string, "
                    f"not {_show(value)}"
                )
            return value
        if kind in _NUMERIC:
            if isinstance(value, str):
                with contextlib.suppress(ValueError):
                    value = float(value) if any(c in value for c in ".eE") else int(value)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise BadInput(f"{where}: {prop.name!r} is a number, not {_show(value)}")
            check_number(value, f"{where}: {prop.name!r}")
            if isinstance(value, float) and value.is_integer() and kind is PropType.INT:
                return int(value)
            return value
        if kind is PropType.BOOL:
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            if not isinstance(value, bool):
                raise BadInput(f"{where}: {prop.name!r} is TRUE or FALSE, not {_show(value)}")
            return value
        if kind is PropType.DATE:
            if isinstance(value, dt.datetime):
                return value.astimezone(dt.UTC).date()
            if isinstance(value, dt.date):
                return value
            if isinstance(value, str):
                return cql2.parse_date(value, f"{where}: {prop.name!r} value {_show(value)}")
            raise BadInput(f"{where}: {prop.name!r} is a date; use DATE('YYYY-MM-DD')")
        # DATETIME
        if isinstance(value, dt.datetime):
            return value
        if isinstance(value, dt.date):
            return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
        if isinstance(value, str):
            return cql2.parse_timestamp(value, f"{where}: {prop.name!r} value {_show(value)}")
        raise BadInput(f"{where}: {prop.name!r} is a timestamp; use TIMESTAMP('…Z')")

    def column(self, name: str, *, ordering: bool = False) -> ColumnElement[Any]:
        """Return the column of queryable ``name`` (byte-order collation when ``ordering``)."""
        col: ColumnElement[Any] = self.t.c[name]
        if ordering and self.props[name].type is PropType.STR:
            col = self.dialect.ordered_text(col)
        return col

    # -- the filter --------------------------------------------------------------------------
    def compile(self, node: cql2.Node) -> Condition:
        """Return the SQL condition of a parsed CQL2 filter."""
        if isinstance(node, cql2.And):
            return sa.and_(*(self.compile(n) for n in node.items))
        if isinstance(node, cql2.Or):
            return sa.or_(*(self.compile(n) for n in node.items))
        if isinstance(node, cql2.Not):
            return sa.not_(self.compile(node.item))
        if isinstance(node, cql2.Comparison):
            return self._comparison(node)
        if isinstance(node, cql2.Like):
            return self._like(node)
        if isinstance(node, cql2.In):
            prop = self.props[node.operand.name]
            binds = [self.bind(prop, self.typed(prop, v.value, "IN")) for v in node.values]
            col = self.column(prop.name)
            return col.not_in(binds) if node.negated else col.in_(binds)
        if isinstance(node, cql2.Between):
            prop = self.props[node.operand.name]
            low = self.bind(prop, self.typed(prop, node.low.value, "BETWEEN"))
            high = self.bind(prop, self.typed(prop, node.high.value, "BETWEEN"))
            cond = self.column(prop.name, ordering=True).between(low, high)
            return sa.not_(cond) if node.negated else cond
        if isinstance(node, cql2.IsNull):
            col = self.column(node.operand.name)
            return col.is_not(None) if node.negated else col.is_(None)
        if isinstance(node, cql2.Spatial):
            return self._spatial(node)
        raise BadInput(f"filter: unsupported expression {type(node).__name__}")

    def _comparison(self, node: cql2.Comparison) -> Condition:
        op, left, right = node.op, node.left, node.right
        if isinstance(left, cql2.Literal):
            # "5 < levels" is "levels > 5": keep the property on the left.
            op, left, right = _FLIPPED[op], right, left
        assert isinstance(left, cql2.Property)
        prop = self.props[left.name]
        ordering = op in _ORDERING
        lhs = self.column(prop.name, ordering=ordering)
        rhs: ColumnElement[Any]
        if isinstance(right, cql2.Property):
            other = self.props[right.name]
            same = prop.type == other.type or {prop.type, other.type} <= set(_NUMERIC)
            if not same:
                raise BadInput(
                    f"filter: {prop.name!r} ({prop.type.value}) and {other.name!r} "
                    f"({other.type.value}) cannot be compared"
                )
            rhs = self.column(other.name, ordering=ordering)
        else:
            rhs = self.bind(prop, self.typed(prop, right.value, f"filter {op}"))
        result: Condition = _OPERATORS[op](lhs, rhs)
        return result

    def _like(self, node: cql2.Like) -> Condition:
        prop = self.props[node.operand.name]
        if prop.type not in (PropType.STR, PropType.JSON):
            raise BadInput(f"filter: LIKE needs a text property; {prop.name!r} is {prop.type}")
        cond = self.dialect.like(self.column(prop.name), like_parts(node.pattern))
        return sa.not_(cond) if node.negated else cond

    def _spatial(self, node: cql2.Spatial) -> Condition:
        literal = next(a for a in (node.left, node.right) if isinstance(a, cql2.GeometryLiteral))
        geom_lit = sa.func.ST_GeomFromText(sa.literal(literal.wkt, sa.Text), 4326)
        left, right = (
            self.t.c.geom if isinstance(a, cql2.Property) else geom_lit
            for a in (node.left, node.right)
        )
        function = node.function[2:].capitalize()  # S_INTERSECTS -> Intersects
        return self.dialect.spatial(function, left, right, literal.bounds, self.t, self.layer)

    # -- bbox, time, order ---------------------------------------------------------------------
    def bbox(self, bbox: Bbox) -> Condition:
        """Return "the feature's geometry intersects ``bbox``" (exact, index-assisted)."""
        return self.dialect.intersects_box(self.t, self.layer, bbox)

    def interval(self, interval: Interval) -> Condition:
        """Return "the feature's time span meets ``interval``".

        A feature spans [start, end] of the layer's temporal properties; a null end means
        it is still going on (an unresolved appeal, an unfinished work); a null start never
        matches. Dates are compared with the calendar day (UTC) of the interval's ends.
        """
        temporal = self.layer.temporal
        assert temporal is not None
        start = self.props[temporal.start]
        conds: list[Condition] = [self.column(start.name).is_not(None)]
        if interval.end is not None:
            conds.append(
                self.column(start.name)
                <= self.bind(start, self.typed(start, interval.end, "datetime"))
            )
        if interval.start is not None:
            if temporal.end is None:
                conds.append(
                    self.column(start.name)
                    >= self.bind(start, self.typed(start, interval.start, "datetime"))
                )
            else:
                end = self.props[temporal.end]
                low = self.bind(end, self.typed(end, interval.start, "datetime"))
                conds.append(sa.or_(self.column(end.name).is_(None), self.column(end.name) >= low))
        return sa.and_(*conds)

    def order_by(self, keys: tuple[SortKey, ...]) -> list[ColumnElement[Any]]:
        """Return the ORDER BY terms: the keys (NULLs last) then the fid."""
        terms: list[ColumnElement[Any]] = []
        for key in keys:
            col = self.column(key.name, ordering=True)
            terms.append((col.desc() if key.descending else col.asc()).nulls_last())
        terms.append(self.t.c.fid.asc())
        return terms


# -- LIKE patterns ---------------------------------------------------------------------------
def like_parts(pattern: str) -> list[str]:
    """Return a CQL2 LIKE pattern as parts: ``"%"`` (any run), ``"_"`` (one character) or a
    one-character literal (``\\`` escapes the next character)."""
    parts: list[str] = []
    escaped = False
    for c in pattern:
        if escaped:
            parts.append("\\" + c)
            escaped = False
        elif c == "\\":
            escaped = True
        elif c in "%_":
            parts.append(c)
        else:
            parts.append("\\" + c)
    if escaped:
        parts.append("\\\\")
    return parts


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
