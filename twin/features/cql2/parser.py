"""The CQL2-text parser: recursive descent from tokens to the expression tree, closed over
the layer's queryables and the allow-list of functions."""

from __future__ import annotations

from collections.abc import Collection
from typing import NoReturn

import shapely

from twin.core.errors import BadInput
from twin.features.cql2.lexer import Token, tokenize
from twin.features.cql2.literals import (
    bbox_literal,
    check_geometry,
    parse_date,
    parse_timestamp,
    show,
)
from twin.features.cql2.nodes import (
    And,
    Between,
    Comparison,
    GeometryLiteral,
    In,
    IsNull,
    Like,
    Literal,
    Node,
    Not,
    Or,
    Property,
    Scalar,
    Spatial,
)

MAX_LENGTH = 20_000
MAX_DEPTH = 40
MAX_IN_VALUES = 1_000
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
        found = "the end of the filter" if tok.kind == "end" else show(tok.text)
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
                f"filter: unknown property {show(name)} at position {tok.pos + 1} "
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
            f"filter: function {show(tok.text)} at position {tok.pos + 1} is not supported "
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
                f"filter: {show(name)} at position {tok.pos + 1} is not the geometry property "
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
                    f"filter: unexpected {show(tok.text)} at position {tok.pos + 1} "
                    f"inside the {word} literal"
                )
            j += 1
        end = self.tokens[j].pos + 1
        self.i = j + 1
        raw = self.text[start:end]
        if word == "BBOX":
            geom = bbox_literal(raw, start)
        else:
            try:
                geom = shapely.from_wkt(raw)
            except shapely.errors.ShapelyError as exc:
                raise BadInput(
                    f"filter: invalid {word} literal at position {start + 1}: {exc}"
                ) from None
        check_geometry(geom, word, start)
        return GeometryLiteral(geom)
