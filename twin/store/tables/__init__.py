"""The tables of the twin's domains (accounts, participation, budget, appeals, events …),
beside the layer tables the catalog derives (:mod:`twin.store.schema`).

Each domain declares its tables in a module of its own here, as a function that adds them to
the store's metadata, and is listed in :data:`DOMAINS`. They are created with the schema, and
a store opened by a newer program gets the tables it lacks (``twin.store.upgrade``); a change
to an existing table needs a migration step there.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from twin.store.tables import (
    accounts,
    api_keys,
    appeals,
    audit,
    budget,
    business,
    events,
    participation,
)

#: Functions adding a domain's tables to the metadata, in dependency order.
DOMAINS: tuple[Callable[[sa.MetaData], None], ...] = (
    accounts.add_tables,
    participation.add_tables,
    budget.add_tables,
    events.add_event_tables,
    appeals.add,
    api_keys.add_tables,
    audit.add_tables,
    business.add_tables,
)


def define(metadata: sa.MetaData) -> None:
    """Add every domain's tables to ``metadata``."""
    for add in DOMAINS:
        add(metadata)
