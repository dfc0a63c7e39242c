"""The CQL2-text parser: what it accepts, the AST it builds, and what it refuses (by name)."""

from __future__ import annotations

import datetime as dt

import pytest
import shapely

from twin.core.errors import BadInput
from twin.features import cql2
from twin.features.cql2 import (
    And,
    Between,
    Comparison,
    In,
    IsNull,
    Like,
    Literal,
    Not,
    Or,
    Property,
    Spatial,
)
from twin.features.sqlfilter import like_parts
from twin.store.dialect import glob_pattern, like_pattern

Q = {"name", "levels", "kind", "start_date", "last_reading", "ramp"}


def parse(text: str) -> cql2.Node:
    return cql2.parse(text, Q)


def test_precedence_not_and_or() -> None:
    node = parse("levels = 1 OR NOT kind = 'a' AND name IS NULL")
    assert node == Or(
        (
            Comparison("=", Property("levels"), Literal(1)),
            And(
                (
                    Not(Comparison("=", Property("kind"), Literal("a"))),
                    IsNull(Property("name")),
                )
            ),
        )
    )


def test_parentheses_override_precedence() -> None:
    node = parse("(levels = 1 OR levels = 2) AND ramp = TRUE")
    assert isinstance(node, And) and isinstance(node.items[0], Or)
    assert node.items[1] == Comparison("=", Property("ramp"), Literal(True))


def test_keywords_are_case_insensitive_and_identifiers_may_be_quoted() -> None:
    assert parse('"levels" between 2 and 4') == Between(Property("levels"), Literal(2), Literal(4))
    assert parse("kind not in ('a', 'b')") == In(
        Property("kind"), (Literal("a"), Literal("b")), negated=True
    )
    assert parse("name is not null") == IsNull(Property("name"), negated=True)
    assert parse("name NOT LIKE 'a%'") == Like(Property("name"), "a%", negated=True)


def test_literals() -> None:
    assert parse("levels >= -2.5e1") == Comparison(">=", Property("levels"), Literal(-25.0))
    assert parse("name = 'O''Hara'") == Comparison("=", Property("name"), Literal("O'Hara"))
    assert parse("name = 'Алматы'") == Comparison("=", Property("name"), Literal("Алматы"))
    assert parse("start_date < DATE('2024-02-29')").right == Literal(dt.date(2024, 2, 29))  # type: ignore[union-attr]
    node = parse("last_reading > TIMESTAMP('2024-01-01T06:00:00+06:00')")
    assert node.right == Literal(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))  # type: ignore[union-attr]


def test_property_property_and_literal_first() -> None:
    assert parse("levels < kind") == Comparison("<", Property("levels"), Property("kind"))
    assert parse("3 < levels") == Comparison("<", Literal(3), Property("levels"))


def test_spatial_literals() -> None:
    node = parse("S_INTERSECTS(geometry, BBOX(76.9, 43.2, 77.0, 43.3))")
    assert isinstance(node, Spatial) and node.function == "S_INTERSECTS"
    assert isinstance(node.right, cql2.GeometryLiteral)
    assert node.right.geometry.equals(shapely.box(76.9, 43.2, 77.0, 43.3))
    node = parse("s_within(POLYGON((76.9 43.2, 77 43.2, 77 43.3, 76.9 43.2)), geom)")
    assert isinstance(node, Spatial) and isinstance(node.left, cql2.GeometryLiteral)
    assert node.right == Property("geometry")
    node = parse("S_CONTAINS(geometry, MULTIPOINT((76.9 43.2), (77 43.3)))")
    assert isinstance(node, Spatial)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "filter is empty"),
        ("levels = 1; DROP TABLE buildings", "unexpected character ';' at position 11"),
        ("1=1; DROP TABLE buildings", "unexpected character ';'"),
        ("levels = 1 OR 1=1", "has no property"),
        ("DROP TABLE buildings", "unknown property 'DROP'"),
        ("password = 'x'", "unknown property 'password'"),
        ("name = 'x' -- comment", "position 12"),
        ("name = 'x' /* c */", "unexpected character '/'"),
        ('name = "x"', "unknown property 'x'"),
        ("upper(name) = 'X'", "function 'upper' at position 1 is not supported"),
        ("CASEI(name) = 'x'", "function 'CASEI'"),
        ("pg_sleep(10) = 1", "function 'pg_sleep'"),
        ("S_DWITHIN(geometry, POINT(1 2), 10)", "function 'S_DWITHIN'"),
        ("levels = (SELECT 1)", "expected a value"),
        ("levels >", "found the end of the filter"),
        ("levels = 1 levels = 2", "expected AND, OR"),
        ("name LIKE 5", "must be a quoted string"),
        ("name = 'unclosed", "not closed"),
        ("levels IN ()", "expected a value"),
        ("POINT(1 2) = levels", "only be used in a spatial function"),
        ("geometry = 'x'", "can only be used in a spatial function"),
        ("S_INTERSECTS(levels, POINT(1 2))", "is not the geometry property"),
        ("S_INTERSECTS(geometry, geometry)", "geometry property on one side"),
        ("S_INTERSECTS(geometry, POINT(1 2); DROP)", "unexpected character ';'"),
        ("S_INTERSECTS(geometry, POINT(200 2))", "outside lon/lat"),
        ("S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))", "is invalid"),
        ("S_INTERSECTS(geometry, BBOX(1, 2, 3))", "BBOX at position 24 needs 4 numbers"),
        ("S_INTERSECTS(geometry, POINT(1 2)", "expected ')'"),
        ("start_date = DATE('2024-13-01')", "is not a date"),
        ("last_reading = TIMESTAMP('yesterday')", "is not a timestamp"),
        ("NOT " * 60 + "levels = 1", "nested more than 40 levels"),
        ("(" * 60 + "levels = 1" + ")" * 60, "nested more than 40 levels"),
        ("x" * 30_000, "more than the limit of 20,000"),
    ],
)
def test_refusals_name_the_problem(text: str, problem: str) -> None:
    with pytest.raises(BadInput) as err:
        parse(text)
    assert problem in err.value.detail


def test_in_list_has_a_limit() -> None:
    values = ", ".join(str(i) for i in range(1_001))
    with pytest.raises(BadInput, match="more than 1,000 values"):
        parse(f"levels IN ({values})")


def test_like_patterns_for_both_stores() -> None:
    parts = like_parts(r"50\%_x*[?%")
    assert like_pattern(parts) == r"50\%_x*[?%"
    assert glob_pattern(parts) == "50%?x[*][[][?]*"
    assert like_pattern(like_parts("a\\\\b")) == "a\\\\b"  # an escaped backslash stays one
    assert glob_pattern(like_parts("a\\\\b")) == "a\\b"
