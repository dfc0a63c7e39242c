"""Create, check and upgrade the store schema.

The schema carries a version in ``twin_meta``. A store written by a newer program is refused,
an older one is upgraded step by step (``MIGRATIONS``), and the layer tables are reconciled with
the catalog: a missing table or declared column is added, while a column whose stored type
differs from the declared one is an error — the store is never silently misread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from twin.core.errors import StoreError
from twin.store import triggers
from twin.store.schema import GEOM, SCHEMA_VERSION, sql_type

if TYPE_CHECKING:
    from twin.store.base import Store


def _withhold_small_appeal_rates(store: Store, conn: sa.Connection) -> None:
    """1 -> 2: a district's ``appeals_per_10k`` standing for fewer than k appeals (rate ×
    population / 10,000, rounded, under :data:`twin.core.privacy.MIN_PUBLIC_COUNT`) is
    withheld in the stored rows, as the ETL withholds it since (issue 14): the map's
    dashboard hid it at read time, but ``/collections`` and the tiles of a store loaded
    before served it as stored."""
    from twin.core.privacy import MIN_PUBLIC_COUNT

    table = store.tables.get("district_indicators")
    if table is None or not sa.inspect(conn).has_table(table.name):
        return
    stored = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
    if not {"appeals_per_10k", "population"} <= stored:
        return
    rate, population = table.c.appeals_per_10k, table.c.population
    count = sa.func.round(rate * population / 10_000.0)
    conn.execute(
        table.update()
        .where(rate.is_not(None))
        .where(sa.or_(population.is_(None), count < MIN_PUBLIC_COUNT))
        .values(appeals_per_10k=None)
    )


# version n -> the step that takes a store from n to n + 1.
MIGRATIONS: dict[int, Callable[[Store, sa.Connection], None]] = {
    1: _withhold_small_appeal_rates,
}


def _kind(t: sa.types.TypeEngine[Any]) -> str:
    """Return a coarse kind for a column type, comparable across SQLite and PostgreSQL."""
    checks: list[tuple[type, str]] = [
        (sa.Boolean, "bool"),
        (sa.DateTime, "datetime"),
        (sa.Date, "date"),
        (sa.Integer, "int"),
        (sa.Float, "float"),
        (sa.Numeric, "float"),
        (sa.String, "text"),
        (sa.Text, "text"),
    ]
    for cls, kind in checks:
        if isinstance(t, cls):
            return kind
    return type(t).__name__.lower()


def read_version(conn: sa.Connection, store: Store) -> int | None:
    """Return the stored schema version, or None for a store without one."""
    if not sa.inspect(conn).has_table("twin_meta"):
        return None
    value = conn.execute(
        sa.select(store.meta_table.c.value).where(store.meta_table.c.key == "schema_version")
    ).scalar_one_or_none()
    return None if value is None else int(value)


def ensure_schema(store: Store) -> list[str]:
    """Create or upgrade ``store``'s schema; return a line per change made."""
    done: list[str] = []
    with store.write_transaction() as conn:
        store._prepare(conn)
        version = read_version(conn, store)
        inspector = sa.inspect(conn)
        if version is None and any(inspector.has_table(t) for t in store.tables):
            raise StoreError(
                f"{store.url.split('@')[-1]} holds layer tables but no twin schema version: "
                "it was not written by this program; refusing to guess its layout"
            )
        if version is not None and version > SCHEMA_VERSION:
            raise StoreError(
                f"the store has schema version {version}, newer than this program's "
                f"{SCHEMA_VERSION}; upgrade the program"
            )
        if version is None:
            store.metadata.create_all(conn)
            done.append(f"created schema version {SCHEMA_VERSION}")
            store._derive_columns(conn)
        else:
            while version < SCHEMA_VERSION:
                MIGRATIONS[version](store, conn)
                done.append(f"upgraded schema {version} -> {version + 1}")
                version += 1
            done += _reconcile(store, conn)
            done += store._derive_columns(conn)
        done += triggers.install(conn, store.sql)
        _write_version(store, conn)
    return done


def _reconcile(store: Store, conn: sa.Connection) -> list[str]:
    """Add the twin's own and its domains' tables the store lacks (twin.store.tables), and
    layer tables and declared columns the catalog has and the store lacks."""
    from layers import get

    done: list[str] = []
    inspector = sa.inspect(conn)
    layer_tables = {t.name for t in store.tables.values()}
    for table in store.metadata.sorted_tables:
        if table.name not in layer_tables and not inspector.has_table(table.name):
            table.create(conn)
            done.append(f"added table {table.name}")
            continue
        if table.name in layer_tables:
            continue
        have = {ix["name"] for ix in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in have:
                index.create(conn)
                done.append(f"added index {index.name}")
    for layer_id, table in store.tables.items():
        if not inspector.has_table(table.name):
            table.create(conn)
            done.append(f"added table {table.name}")
            continue
        stored = {c["name"]: c["type"] for c in inspector.get_columns(table.name)}
        if GEOM not in stored:
            raise StoreError(f"table {table.name} has no {GEOM} column")
        for prop in get(layer_id).properties:
            expected = sql_type(prop.type)
            if prop.name not in stored:
                type_sql = expected.compile(dialect=conn.dialect)
                conn.exec_driver_sql(
                    f'ALTER TABLE "{table.name}" ADD COLUMN "{prop.name}" {type_sql}'
                )
                done.append(f"added column {table.name}.{prop.name}")
            elif _kind(stored[prop.name]) != _kind(expected):
                raise StoreError(
                    f"column {table.name}.{prop.name} is stored as {stored[prop.name]} but the "
                    f"catalog declares {prop.type.value}; refusing to misread it"
                )
    return done


def _write_version(store: Store, conn: sa.Connection) -> None:
    meta = store.meta_table
    conn.execute(meta.delete().where(meta.c.key == "schema_version"))
    conn.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
