"""The store schema, derived from the layer catalog.

Every layer table has the same system columns — ``fid`` (integer key), ``source`` and
``source_id`` (the upsert key), ``synthetic`` (generated demo data), ``row_hash`` (content
hash, so a re-load that changes nothing writes nothing) and ``loaded_at`` — then the layer's
declared properties, then ``geom`` in EPSG:4326 with a spatial index.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from geoalchemy2 import Geometry

from layers import LAYERS, GeomType, Layer, PropType
from twin.store import tables as domain_tables

# Bump when the system tables or the mapping of types change; add a step to MIGRATIONS.
SCHEMA_VERSION = 2
#: The PostgreSQL advisory lock every writer of ``twin_changes`` holds until it commits, so
#: that change ids become visible in id order (``Store.write_transaction``).
CHANGE_LOG_LOCK = 20261127

SYSTEM_COLUMNS = ("fid", "source", "source_id", "synthetic", "row_hash", "loaded_at")
GEOM = "geom"

_GEOM_SQL = {
    GeomType.POINT: "POINT",
    GeomType.LINE: "MULTILINESTRING",
    GeomType.POLYGON: "MULTIPOLYGON",
}


def sql_type(prop_type: PropType) -> sa.types.TypeEngine[Any]:
    """Return the SQLAlchemy column type a declared property type is stored as."""
    types: dict[PropType, sa.types.TypeEngine[Any]] = {
        PropType.STR: sa.Text(),
        # GeoPackage knows INTEGER (64-bit in SQLite) but not BIGINT; GDAL skips BIGINT columns.
        PropType.INT: sa.BigInteger().with_variant(sa.Integer(), "geopackage"),
        PropType.FLOAT: sa.Double(),
        PropType.BOOL: sa.Boolean(),
        PropType.DATE: sa.Date(),
        PropType.DATETIME: sa.DateTime(timezone=True),
        PropType.JSON: sa.Text(),
    }
    return types[prop_type]


def layer_table(layer: Layer, metadata: sa.MetaData) -> sa.Table:
    """Return the table of ``layer`` registered in ``metadata``."""
    return sa.Table(
        layer.table,
        metadata,
        sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_id", sa.Text, nullable=False),
        sa.Column("synthetic", sa.Boolean, nullable=False, default=False),
        sa.Column("row_hash", sa.Text, nullable=False),
        sa.Column("loaded_at", sa.Text, nullable=False),
        *(sa.Column(p.name, sql_type(p.type)) for p in layer.properties),
        sa.Column(
            GEOM, Geometry(_GEOM_SQL[layer.geometry], srid=4326, spatial_index=True, nullable=False)
        ),
        sa.UniqueConstraint("source", "source_id", name=f"uq_{layer.table}_source"),
    )


def system_tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    """Return the twin's own tables: meta (schema version), provenance and quarantine."""
    meta = sa.Table(
        "twin_meta",
        metadata,
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    provenance = sa.Table(
        "twin_provenance",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("layer", sa.Text, nullable=False),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("rows_loaded", sa.Integer, nullable=False),
        sa.Column("rows_rejected", sa.Integer, nullable=False),
        sa.Column("inserted", sa.Integer, nullable=False),
        sa.Column("updated", sa.Integer, nullable=False),
        sa.Column("deleted", sa.Integer, nullable=False),
        sa.Column("licence", sa.Text, nullable=False),
        sa.Column("loaded_at", sa.Text, nullable=False),
    )
    quarantine = sa.Table(
        "twin_quarantine",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("layer", sa.Text, nullable=False),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("row", sa.Integer),
        sa.Column("source_id", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("properties", sa.Text, nullable=False),
        sa.Column("wkt", sa.Text),
        sa.Column("loaded_at", sa.Text, nullable=False),
    )
    # Every write logs the envelopes it touched (old and new geometry), in the same
    # transaction, so that any process serving tiles can drop exactly the stale cached tiles,
    # whoever wrote (a `twin load` in another process, an API edit in another worker).
    changes = sa.Table(
        "twin_changes",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("layer", sa.Text, nullable=False),
        sa.Column("minx", sa.Double, nullable=False),
        sa.Column("miny", sa.Double, nullable=False),
        sa.Column("maxx", sa.Double, nullable=False),
        sa.Column("maxy", sa.Double, nullable=False),
        sa.Column("changed_at", sa.Text, nullable=False),
        # the newest change of one layer (Store.change_heads) is one backward index step
        sa.Index("twin_changes_layer_id", "layer", "id"),
    )
    return {"meta": meta, "provenance": provenance, "quarantine": quarantine, "changes": changes}


def build_metadata(layers: tuple[Layer, ...] = LAYERS) -> tuple[sa.MetaData, dict[str, sa.Table]]:
    """Return the metadata of the whole store and the layer tables by layer id."""
    metadata = sa.MetaData()
    system_tables(metadata)
    domain_tables.define(metadata)
    tables = {layer.id: layer_table(layer, metadata) for layer in layers}
    return metadata, tables
