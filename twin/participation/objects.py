"""Which features may be rated: those of a layer the catalog marks ``ratable`` that the caller
may see and that exist."""

from __future__ import annotations

import sqlalchemy as sa

from layers import Layer
from twin.core.access import Role, require_layer
from twin.core.errors import NotFound
from twin.store import Store


def ratable_layer(role: Role, layer_id: str) -> Layer:
    """Return the ratable layer ``layer_id`` visible to ``role``, or raise :class:`NotFound`."""
    layer = require_layer(role, layer_id)
    if not layer.ratable:
        raise NotFound(f"features of layer {layer_id!r} cannot be rated")
    return layer


def require_feature(conn: sa.Connection, store: Store, layer: Layer, fid: int) -> None:
    """Raise :class:`NotFound` unless feature ``fid`` of ``layer`` exists."""
    table = store.tables[layer.id]
    if conn.execute(sa.select(table.c.fid).where(table.c.fid == fid)).first() is None:
        raise NotFound(f"no feature {fid} in layer {layer.id!r}")
