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

from twin.features.cql2.literals import MAX_GEOMETRY_VERTICES, parse_date, parse_timestamp
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
from twin.features.cql2.parser import (
    COMPARISON_OPS,
    FUNCTIONS,
    GEOMETRY_NAMES,
    MAX_DEPTH,
    MAX_IN_VALUES,
    MAX_LENGTH,
    SPATIAL_FUNCTIONS,
    parse,
)

__all__ = [
    "COMPARISON_OPS",
    "FUNCTIONS",
    "GEOMETRY_NAMES",
    "MAX_DEPTH",
    "MAX_GEOMETRY_VERTICES",
    "MAX_IN_VALUES",
    "MAX_LENGTH",
    "SPATIAL_FUNCTIONS",
    "And",
    "Between",
    "Comparison",
    "GeometryLiteral",
    "In",
    "IsNull",
    "Like",
    "Literal",
    "Node",
    "Not",
    "Or",
    "Property",
    "Scalar",
    "Spatial",
    "parse",
    "parse_date",
    "parse_timestamp",
]
