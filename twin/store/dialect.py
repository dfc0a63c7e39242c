"""What differs in SQL between the stores, as one small interface: ``store.sql``.

Query builders outside the store (features and CQL2, search, tiles drawn in process, the
H3 index) build SQL that is the same on both stores except for these few pieces, and ask the
store's dialect for them instead of asking which store they have. A new backend implements
this class (and :class:`twin.store.base.Store`'s load hooks); nothing outside ``twin/store``
changes.

Every method returns SQL text or a SQLAlchemy Core expression over a layer table aliased
``t``; values are bound parameters, identifiers come from the layer registry.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from layers import Layer

Condition = ColumnElement[bool]
Bbox = tuple[float, float, float, float]


class SpatialSQL(abc.ABC):
    """The SQL one backend writes differently (see the module docstring)."""

    # -- geometry on the wire ------------------------------------------------------------
    @abc.abstractmethod
    def geom_wkb(self, column: str) -> str:
        """Return SQL selecting the geometry ``column`` in the form :meth:`decode_geoms` takes."""

    @abc.abstractmethod
    def decode_geoms(self, values: Sequence[Any]) -> np.ndarray:
        """Return shapely geometries from values selected with :meth:`geom_wkb`."""

    # -- text SQL over ``t`` (loads, reads, tiles drawn in process) ------------------------
    @abc.abstractmethod
    def bbox(self, layer: Layer) -> tuple[str, str]:
        """Return (join, where) keeping the rows of ``t`` whose envelope meets the box bound
        as ``:minx``, ``:miny``, ``:maxx``, ``:maxy``."""

    @abc.abstractmethod
    def bounds(self, layer: Layer) -> tuple[str, tuple[str, str, str, str]]:
        """Return (join, (minx, miny, maxx, maxy) expressions) of each row of ``t``'s
        envelope; the join is the same as :meth:`bbox`'s, so both may be used together."""

    @abc.abstractmethod
    def extent(self, layer: Layer) -> str:
        """Return SQL selecting one row: the layer's (minx, miny, maxx, maxy), quickly (an
        index's envelope may be a little larger than the exact one); NULLs when empty."""

    # -- SQLAlchemy Core expressions (OGC API Features and CQL2) --------------------------
    @abc.abstractmethod
    def date(self, value: dt.date) -> ColumnElement[Any]:
        """Return a date as a bound value comparable with a stored DATE column."""

    @abc.abstractmethod
    def timestamp(self, value: dt.datetime) -> ColumnElement[Any]:
        """Return an aware timestamp (whole seconds) comparable with a stored DATETIME column."""

    def ordered_text(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        """Return a text column as it must be compared and sorted: in byte order."""
        return column

    @abc.abstractmethod
    def like(self, column: ColumnElement[Any], parts: Sequence[str]) -> Condition:
        """Return a case-sensitive LIKE of ``column`` against a pattern given as parts:
        ``"%"`` (any run), ``"_"`` (one character) or ``"\\c"`` (the literal ``c``)."""

    @abc.abstractmethod
    def spatial(
        self,
        function: str,
        left: ColumnElement[Any],
        right: ColumnElement[Any],
        literal_bounds: Bbox,
        table: sa.FromClause,
        layer: Layer,
    ) -> Condition:
        """Return the spatial predicate ``ST_<function>(left, right)`` (``Intersects``,
        ``Within`` …); one side is the layer's geometry, the other a literal whose envelope
        is ``literal_bounds`` (an index may use it unless the function is ``Disjoint``)."""

    @abc.abstractmethod
    def intersects_box(self, table: sa.FromClause, layer: Layer, bbox: Bbox) -> Condition:
        """Return "the row's geometry intersects ``bbox``" (exact, index-assisted)."""

    @abc.abstractmethod
    def exact_bounds(self, geom: ColumnElement[Any]) -> list[ColumnElement[Any]]:
        """Return the exact minx, miny, maxx, maxy of ``geom`` (the same on every store)."""

    # -- text folding (search) -------------------------------------------------------------
    @abc.abstractmethod
    def fold(self, expr: str) -> str:
        """Return SQL folding a text expression as :func:`fold_text` does (lower case,
        Unicode-aware, ``ё`` as ``е``)."""

    def prepare(self, conn: sa.Connection) -> None:
        """Make a connection ready for :meth:`fold` (nothing by default)."""
        return None


def fold_text(text: str) -> str:
    """Return ``text`` folded for matching: lower case, and ``ё`` as ``е``.

    >>> fold_text("Проспект АБАЯ, Ёлочка")
    'проспект абая, елочка'
    """
    return text.lower().replace("ё", "е")


def like_pattern(parts: Sequence[str]) -> str:
    """Return the parts as a SQL LIKE pattern with backslash as the escape character."""
    out = []
    for p in parts:
        if p in ("%", "_"):
            out.append(p)
        else:
            c = p[1]
            out.append("\\" + c if c in "%_\\" else c)
    return "".join(out)


def glob_pattern(parts: Sequence[str]) -> str:
    """Return the parts as an SQLite GLOB pattern (case-sensitive, like CQL2's LIKE)."""
    out = []
    for p in parts:
        if p == "%":
            out.append("*")
        elif p == "_":
            out.append("?")
        else:
            c = p[1]
            out.append(f"[{c}]" if c in "*?[" else c)
    return "".join(out)
