"""Bulk inserts into SQLite through the driver: many rows per INSERT statement.

Why: ``executemany`` with one row per statement runs SQLite's whole statement cycle (reset,
bind, open the table's and indexes' cursors, step) once per row. An ``INSERT … VALUES (…),
(…), …`` of a few hundred rows runs it once per few hundred rows, and the values are bound
exactly as before (the same Python values, in the same order, so the stored rows are the same
bytes). Measured on the 10x buildings (82,010 rows, 11 bound columns): 0.24 s -> 0.20 s into
the layer table, 0.037 s -> 0.020 s into the R-tree's ``_rowid`` table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# SQLite's default SQLITE_MAX_VARIABLE_NUMBER since 3.32 (pysqlite3 bundles 3.51).
_MAX_VARIABLES = 32_766
_MAX_ROWS = 500  # more rows per statement measured no faster


def insert_rows(
    cursor: Any,
    table: str,
    columns: Sequence[str],
    values: Sequence[list[Any]],
    constants: Mapping[str, Any] | None = None,
) -> None:
    """Insert rows into ``table``; ``values`` holds one list per column of ``columns``, and
    ``constants`` the columns that have one value in every row.

    Rows are inserted in order, so rowids given by SQLite follow the lists' order. A constant
    is bound once per statement (numbered parameters ``?1``, ``?2`` … repeated in every row),
    not once per row: for the source and load time of 82,010 buildings, 0.198 s -> 0.184 s.
    """
    fixed = dict(constants or {})
    width = len(columns)
    n = len(values[0]) if values else 0
    if n == 0 or width == 0:
        return
    # Row-major and flat: one extended-slice assignment per column (C speed, no tuples).
    flat: list[Any] = [None] * (n * width)
    for j, column in enumerate(values):
        flat[j::width] = column
    k = len(fixed)
    per = max(1, min(_MAX_ROWS, (_MAX_VARIABLES - k) // width))
    names = ", ".join(f'"{c}"' for c in [*fixed, *columns])

    def statement(rows: int) -> str:
        shared = [f"?{i}" for i in range(1, k + 1)]
        tuples = (
            "(" + ", ".join(shared + [f"?{k + 1 + r * width + j}" for j in range(width)]) + ")"
            for r in range(rows)
        )
        return f'INSERT INTO "{table}" ({names}) VALUES ' + ", ".join(tuples)

    head = list(fixed.values())
    full = n // per
    step = per * width
    if full:
        cursor.executemany(
            statement(per), (head + flat[i * step : (i + 1) * step] for i in range(full))
        )
    rest = flat[full * step :]
    if rest:
        cursor.execute(statement(len(rest) // width), head + rest)
