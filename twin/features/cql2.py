"""A CQL2-text parser for the subset the twin serves, producing a small AST.

The parser is deliberately closed: identifiers must be the layer's queryables (declared
properties, ``synthetic`` and the geometry), functions must be on :data:`FUNCTIONS`, and any
character outside the grammar (``;``, ``--``, ``*`` …) is refused with its position. Values
never become SQL text: :mod:`twin.features.sqlfilter` binds every literal as a parameter.

Supported (CQL2 1.0 conformance classes ``basic-cql2``, ``advanced-comparison-operators``,
``property-property``, ``basic-spatial-functions(-plus)``, ``spatial-functions``)::

    a = 1 AND (b <> 'x' OR NOT c IS NULL)
    name LIKE 'Аб%'   levels BETWEEN 2 AND 9   kind IN ('school', 'kindergarten')
    start_date >= DATE('2024-01-01')   last_reading < TIMESTAMP('2024-01-01T00:00:00Z')
    S_INTERSECTS(geometry, BBOX(76.9, 43.2, 77.0, 43.3))
    S_WITHIN(geometry, POLYGON((76.9 43.2, 77 43.2, 77 43.3, 76.9 43.2)))

Examples
--------
>>> parse("levels > 3 AND name LIKE 'Дом%'", {"levels", "name"})
And(items=(Comparison(op='>', left=Property(name='levels'), right=Literal(value=3)), \
Like(operand=Property(name='name'), pattern='Дом%', negated=False)))
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import NoReturn

import shapely

from twin.errors import BadInput

MAX_LENGTH = 20_000
MAX_DEPTH = 40
MAX_IN_VALUES = 1_000
MAX_GEOMETRY_VERTICES = 10_000
GEOMETRY_NAMES = frozenset({"geometry", "geom"})

SPATIAL_FUNCTIONS = (
    "S_INTERSECTS",
    "S_EQUALS",
    "S_DISJOINT",
    "S_TOUCHES",
    "S_WITHIN",
    "S_OVERLAPS",
    "S_CROSSES",
    "S_CONTAINS",
)
TEMPORAL_LITERALS = ("DATE", "TIMESTAMP")
GEOMETRY_KEYWORDS = (
    "POINT",
    "LINESTRING",
    "POLYGON",
    "MULTIPOINT",
    "MULTILINESTRING",
    "MULTIPOLYGON",
    "GEOMETRYCOLLECTION",
    "BBOX",
)
FUNCTIONS = (*SPATIAL_FUNCTIONS, *TEMPORAL_LITERALS)
COMPARISON_OPS = ("=", "<>", "<", ">", "<=", ">=")
_KEYWORDS = frozenset({"AND", "OR", "NOT", "LIKE", "IN", "BETWEEN", "IS", "NULL", "TRUE", "FALSE"})


# -- the AST ---------------------------------------------------------------------------
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


# -- the lexer -------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    """One lexeme: ``kind`` is ident, qident, string, number, op or end."""

    kind: str
    text: str
    pos: int
    value: str | float | int | None = None


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_:.]*)
  | (?P<op><>|<=|>=|[=<>(),\-+])
    """,
    re.VERBOSE,
)


def tokenize(text: str) -> list[Token]:
    """Return the tokens of ``text``; raise :class:`BadInput` at the first foreign character."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "'":
            value, i2 = _quoted(text, i, "'", "string")
            tokens.append(Token("string", text[i:i2], i, value))
            i = i2
            continue
        if c == '"':
            value, i2 = _quoted(text, i, '"', "identifier")
            tokens.append(Token("qident", text[i:i2], i, value))
            i = i2
            continue
        m = _TOKEN.match(text, i)
        if m is None:
            raise BadInput(f"filter: unexpected character {c!r} at position {i + 1}")
        kind = m.lastgroup or ""
        if kind == "number":
            raw = m.group()
            num: int | float = float(raw) if any(ch in raw for ch in ".eE") else int(raw)
            tokens.append(Token("number", raw, i, num))
        elif kind != "ws":
            tokens.append(Token(kind, m.group(), i))
        i = m.end()
    tokens.append(Token("end", "", n))
    return tokens


def _quoted(text: str, start: int, quote: str, what: str) -> tuple[str, int]:
    """Return the unescaped content of a quoted run at ``start`` and the index after it.

    A doubled quote (and, in strings, a backslash before the quote) stands for the quote.
    """
    out: list[str] = []
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == quote:
            if text[i + 1 : i + 2] == quote:
                out.append(quote)
                i += 2
                continue
            return "".join(out), i + 1
        if quote == "'" and c == "\\" and text[i + 1 : i + 2] == "'":
            out.append("'")
            i += 2
            continue
        out.append(c)
        i += 1
    raise BadInput(f"filter: {what} starting at position {start + 1} is not closed")


# -- the parser ------------------------------------------------------------------------
def parse(text: str, queryables: Collection[str]) -> Node:
    """Return the AST of the CQL2-text ``text`` over the properties ``queryables``.

    Raises :class:`BadInput` naming the problem (and its position) for anything outside the
    supported grammar: an unknown property, a function not on :data:`FUNCTIONS`, a malformed
    literal, trailing text.
    """
    if not text.strip():
        raise BadInput("filter is empty")
    if len(text) > MAX_LENGTH:
        raise BadInput(f"filter is {len(text):,} characters, more than the limit of {MAX_LENGTH:,}")
    return _Parser(text, tokenize(text), frozenset(queryables)).parse()


class _Parser:
    """Recursive descent over the token list (precedence: OR < AND < NOT < predicate)."""

    def __init__(self, text: str, tokens: list[Token], queryables: frozenset[str]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0
        self.queryables = queryables
        self.depth = 0

    # token helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def _peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def _word(self, tok: Token | None = None) -> str:
        tok = tok or self.tok
        return tok.text.upper() if tok.kind == "ident" else ""

    def _take(self) -> Token:
        tok = self.tok
        self.i += 1
        return tok

    def _expect_op(self, op: str) -> Token:
        if self.tok.kind != "op" or self.tok.text != op:
            raise self._error(f"expected {op!r}")
        return self._take()

    def _expect_word(self, word: str) -> None:
        if self._word() != word:
            raise self._error(f"expected {word}")
        self._take()

    def _error(self, message: str) -> BadInput:
        tok = self.tok
        found = "the end of the filter" if tok.kind == "end" else _show(tok.text)
        return BadInput(f"filter: {message} at position {tok.pos + 1}, found {found}")

    # grammar
    def parse(self) -> Node:
        node = self._or()
        if self.tok.kind != "end":
            raise self._error("expected AND, OR or the end of the filter")
        return node

    def _or(self) -> Node:
        items = [self._and()]
        while self._word() == "OR":
            self._take()
            items.append(self._and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def _and(self) -> Node:
        items = [self._not()]
        while self._word() == "AND":
            self._take()
            items.append(self._not())
        return items[0] if len(items) == 1 else And(tuple(items))

    def _not(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise BadInput(f"filter is nested more than {MAX_DEPTH} levels deep")
        try:
            if self._word() == "NOT":
                self._take()
                return Not(self._not())
            return self._predicate()
        finally:
            self.depth -= 1

    def _predicate(self) -> Node:
        tok = self.tok
        if tok.kind == "op" and tok.text == "(":
            self._take()
            node = self._or()
            self._expect_op(")")
            return node
        if tok.kind == "ident" and self._peek().text == "(":
            name = tok.text.upper()
            if name in SPATIAL_FUNCTIONS:
                return self._spatial(name)
        left = self._scalar()
        word = self._word()
        negated = False
        if word == "NOT" and self._word(self._peek()) in ("LIKE", "IN", "BETWEEN"):
            self._take()
            negated, word = True, self._word()
        if self.tok.kind == "op" and self.tok.text in COMPARISON_OPS:
            op = self._take().text
            right = self._scalar()
            if isinstance(left, Literal) and isinstance(right, Literal):
                raise BadInput(
                    f"filter: the comparison at position {tok.pos + 1} has no property; "
                    "one side must be a queryable property"
                )
            return Comparison(op, left, right)
        if word in ("LIKE", "IN", "BETWEEN", "IS"):
            if not isinstance(left, Property):
                raise BadInput(
                    f"filter: {word} at position {self.tok.pos + 1} must follow a property name"
                )
            return self._operator(left, word, negated)
        raise self._error("expected a comparison (=, <>, <, >, <=, >=, LIKE, IN, BETWEEN, IS)")

    def _operator(self, operand: Property, word: str, negated: bool) -> Node:
        """Parse what follows ``operand [NOT]`` for LIKE, IN, BETWEEN and IS [NOT] NULL."""
        if word == "IN":
            return self._in(operand, negated)
        self._take()
        if word == "LIKE":
            pattern = self._literal().value
            if not isinstance(pattern, str):
                raise BadInput("filter: the pattern after LIKE must be a quoted string")
            return Like(operand, pattern, negated)
        if word == "BETWEEN":
            low = self._literal()
            self._expect_word("AND")
            return Between(operand, low, self._literal(), negated)
        is_not = self._word() == "NOT"
        if is_not:
            self._take()
        self._expect_word("NULL")
        return IsNull(operand, is_not)

    def _in(self, operand: Property, negated: bool) -> In:
        self._take()
        self._expect_op("(")
        values = [self._literal()]
        while self.tok.kind == "op" and self.tok.text == ",":
            self._take()
            values.append(self._literal())
            if len(values) > MAX_IN_VALUES:
                raise BadInput(f"filter: IN lists more than {MAX_IN_VALUES:,} values")
        self._expect_op(")")
        return In(operand, tuple(values), negated)

    def _scalar(self) -> Scalar:
        tok = self.tok
        if tok.kind == "qident":
            self._take()
            return self._property(str(tok.value), tok)
        if tok.kind == "ident":
            word = tok.text.upper()
            opens = self._peek().text == "("
            if opens and word not in TEMPORAL_LITERALS:
                self._unknown_function(tok)
            if word in _KEYWORDS - {"TRUE", "FALSE"}:
                raise self._error("expected a property or a value")
            if not opens and word not in ("TRUE", "FALSE"):
                self._take()
                return self._property(tok.text, tok)
        return self._literal()

    def _property(self, name: str, tok: Token) -> Property:
        if name in GEOMETRY_NAMES:
            raise BadInput(
                f"filter: the geometry {name!r} (position {tok.pos + 1}) can only be used in "
                f"a spatial function ({', '.join(SPATIAL_FUNCTIONS)})"
            )
        if name not in self.queryables:
            raise BadInput(
                f"filter: unknown property {_show(name)} at position {tok.pos + 1} "
                f"(queryables: {', '.join(sorted(self.queryables))})"
            )
        return Property(name)

    def _unknown_function(self, tok: Token) -> NoReturn:
        word = tok.text.upper()
        if word in GEOMETRY_KEYWORDS:
            raise BadInput(
                f"filter: the geometry literal {word} at position {tok.pos + 1} can only be "
                "used in a spatial function"
            )
        raise BadInput(
            f"filter: function {_show(tok.text)} at position {tok.pos + 1} is not supported "
            f"(allowed: {', '.join(FUNCTIONS)})"
        )

    def _literal(self) -> Literal:
        tok = self.tok
        if tok.kind == "string":
            self._take()
            return Literal(str(tok.value))
        if tok.kind == "number":
            self._take()
            assert isinstance(tok.value, int | float)
            return Literal(tok.value)
        if tok.kind == "op" and tok.text in ("-", "+") and self._peek().kind == "number":
            self._take()
            num = self._take().value
            assert isinstance(num, int | float)
            return Literal(-num if tok.text == "-" else num)
        word = self._word()
        if word in ("TRUE", "FALSE"):
            self._take()
            return Literal(word == "TRUE")
        if word in TEMPORAL_LITERALS and self._peek().text == "(":
            return self._temporal(word)
        if tok.kind == "ident" and self._peek().text == "(":
            self._unknown_function(tok)
        raise self._error("expected a value (a quoted string, a number, TRUE, FALSE, DATE(…))")

    def _temporal(self, word: str) -> Literal:
        self._take()
        self._expect_op("(")
        tok = self.tok
        if tok.kind != "string":
            raise self._error(f"expected a quoted {word.lower()} inside {word}(…)")
        self._take()
        self._expect_op(")")
        text = str(tok.value)
        if word == "DATE":
            return Literal(parse_date(text, f"filter: DATE({text!r})"))
        return Literal(parse_timestamp(text, f"filter: TIMESTAMP({text!r})"))

    def _spatial(self, name: str) -> Spatial:
        self._take()
        self._expect_op("(")
        left = self._geometry_arg()
        self._expect_op(",")
        right = self._geometry_arg()
        self._expect_op(")")
        props = sum(isinstance(a, Property) for a in (left, right))
        if props != 1:
            raise BadInput(
                f"filter: {name} needs the geometry property on one side and a geometry "
                "literal on the other"
            )
        return Spatial(name, left, right)

    def _geometry_arg(self) -> Property | GeometryLiteral:
        tok = self.tok
        name = str(tok.value) if tok.kind == "qident" else tok.text
        if tok.kind in ("ident", "qident") and name in GEOMETRY_NAMES:
            self._take()
            return Property("geometry")
        word = self._word()
        if word in GEOMETRY_KEYWORDS and self._peek().text == "(":
            return self._geometry_literal(word)
        if tok.kind in ("ident", "qident") and self._peek().text != "(":
            raise BadInput(
                f"filter: {_show(name)} at position {tok.pos + 1} is not the geometry property "
                f"(use {' or '.join(sorted(GEOMETRY_NAMES))})"
            )
        if tok.kind == "ident":
            self._unknown_function(tok)
        raise self._error("expected the geometry property or a geometry literal")

    def _geometry_literal(self, word: str) -> GeometryLiteral:
        start = self.tok.pos
        self._take()
        # Find the matching parenthesis; the text in between is handed to GEOS (WKT) or read
        # as four numbers (BBOX). Only numbers, commas, signs and parentheses may occur.
        depth, j = 0, self.i
        while True:
            tok = self.tokens[j]
            if tok.kind == "end":
                raise BadInput(f"filter: {word} literal at position {start + 1} is not closed")
            if tok.kind == "op" and tok.text == "(":
                depth += 1
            elif tok.kind == "op" and tok.text == ")":
                depth -= 1
                if depth == 0:
                    break
            elif (tok.kind not in ("number", "op") or tok.text in COMPARISON_OPS) and not (
                word == "GEOMETRYCOLLECTION" and self._word(tok) in GEOMETRY_KEYWORDS
            ):
                raise BadInput(
                    f"filter: unexpected {_show(tok.text)} at position {tok.pos + 1} "
                    f"inside the {word} literal"
                )
            j += 1
        end = self.tokens[j].pos + 1
        self.i = j + 1
        raw = self.text[start:end]
        if word == "BBOX":
            geom = _bbox_literal(raw, start)
        else:
            try:
                geom = shapely.from_wkt(raw)
            except shapely.errors.ShapelyError as exc:
                raise BadInput(
                    f"filter: invalid {word} literal at position {start + 1}: {exc}"
                ) from None
        _check_geometry(geom, word, start)
        return GeometryLiteral(geom)


def _show(text: str) -> str:
    """Return caller text quoted for a message, cut to a readable length."""
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _bbox_literal(raw: str, start: int) -> shapely.Geometry:
    inner = raw[raw.index("(") + 1 : raw.rindex(")")]
    try:
        nums = [float(v) for v in inner.split(",")]
    except ValueError:
        nums = []
    if len(nums) not in (4, 6):
        raise BadInput(f"filter: BBOX at position {start + 1} needs 4 numbers")
    minx, miny, maxx, maxy = nums if len(nums) == 4 else (nums[0], nums[1], nums[3], nums[4])
    if minx > maxx or miny > maxy:
        raise BadInput(f"filter: BBOX at position {start + 1} has min greater than max")
    return shapely.box(minx, miny, maxx, maxy)


def _check_geometry(geom: shapely.Geometry, word: str, start: int) -> None:
    if geom is None or shapely.is_empty(geom):
        raise BadInput(f"filter: the {word} literal at position {start + 1} is empty")
    if shapely.get_num_coordinates(geom) > MAX_GEOMETRY_VERTICES:
        raise BadInput(
            f"filter: the {word} literal has more than {MAX_GEOMETRY_VERTICES:,} vertices"
        )
    minx, miny, maxx, maxy = shapely.bounds(geom).tolist()
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise BadInput(
            f"filter: the {word} literal at position {start + 1} is outside lon/lat "
            "(CRS84: longitude -180…180, latitude -90…90)"
        )
    if not shapely.is_valid(geom):
        reason = shapely.is_valid_reason(geom)
        raise BadInput(f"filter: the {word} literal at position {start + 1} is invalid: {reason}")


# -- temporal text -----------------------------------------------------------------------
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})?$"
)


def parse_date(text: str, what: str) -> dt.date:
    """Return the calendar date of ``YYYY-MM-DD``; raise :class:`BadInput` naming ``what``."""
    if not _DATE.match(text):
        raise BadInput(f"{what} is not a date (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise BadInput(f"{what} is not a date: {exc}") from None


def parse_timestamp(text: str, what: str) -> dt.datetime:
    """Return an RFC 3339 timestamp as an aware UTC datetime (no offset means UTC)."""
    if not _TIMESTAMP.match(text):
        raise BadInput(f"{what} is not a timestamp (RFC 3339, e.g. 2024-05-01T12:00:00Z)")
    cleaned = text.replace("z", "Z").replace("t", "T")
    frac = re.search(r"\.(\d+)", cleaned)
    if frac and len(frac.group(1)) > 6:  # Python takes microseconds at most
        cleaned = cleaned.replace(frac.group(0), "." + frac.group(1)[:6])
    try:
        value = dt.datetime.fromisoformat(cleaned)
    except ValueError as exc:
        raise BadInput(f"{what} is not a timestamp: {exc}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)
