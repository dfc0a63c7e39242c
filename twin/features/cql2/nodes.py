"""The CQL2 expression tree: what :func:`twin.features.cql2.parse` returns and
:mod:`twin.features.sqlfilter` compiles. Plain frozen dataclasses, no SQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import shapely


@dataclass(frozen=True)
class Property:
    """A queryable's name (already checked against the layer)."""

    name: str


@dataclass(frozen=True)
class Literal:
    """A scalar value: text, a number, a boolean, a date or a UTC timestamp."""

    value: str | int | float | bool | dt.date | dt.datetime


@dataclass(frozen=True)
class GeometryLiteral:
    """A WKT or BBOX literal, parsed and checked (lon/lat, vertex limit)."""

    geometry: shapely.Geometry

    @property
    def wkt(self) -> str:
        """Return the geometry as WKT (what is bound as a parameter)."""
        return str(shapely.to_wkt(self.geometry, rounding_precision=-1))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Return (minx, miny, maxx, maxy) of the literal."""
        minx, miny, maxx, maxy = shapely.bounds(self.geometry).tolist()
        return minx, miny, maxx, maxy


Scalar = Property | Literal


@dataclass(frozen=True)
class Comparison:
    """``left op right`` with op one of :data:`COMPARISON_OPS`."""

    op: str
    left: Scalar
    right: Scalar


@dataclass(frozen=True)
class Like:
    """``operand [NOT] LIKE pattern`` (``%`` any run, ``_`` one character, ``\\`` escapes)."""

    operand: Property
    pattern: str
    negated: bool = False


@dataclass(frozen=True)
class In:
    """``operand [NOT] IN (values…)``."""

    operand: Property
    values: tuple[Literal, ...]
    negated: bool = False


@dataclass(frozen=True)
class Between:
    """``operand [NOT] BETWEEN low AND high``."""

    operand: Property
    low: Literal
    high: Literal
    negated: bool = False


@dataclass(frozen=True)
class IsNull:
    """``operand IS [NOT] NULL``."""

    operand: Property
    negated: bool = False


@dataclass(frozen=True)
class Spatial:
    """``S_…(left, right)``: one side the geometry property, the other a literal."""

    function: str
    left: Property | GeometryLiteral
    right: Property | GeometryLiteral


@dataclass(frozen=True)
class And:
    """All of ``items``."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """Any of ``items``."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """The negation of ``item``."""

    item: Node


Node = Comparison | Like | In | Between | IsNull | Spatial | And | Or | Not
