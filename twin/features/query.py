"""Run feature queries on a store: pages of items, one item, counts and extents.

Queries are SQLAlchemy Core over ``store.tables`` (aliased ``t``); the geometry is selected
with the store's own ``sql.geom_wkb`` and decoded with ``sql.decode_geoms``. Values come back
driver-typed and differently on the two stores (SQLite: ISO text dates, 0/1 booleans;
psycopg: ``date``/``datetime``/``bool``), so :func:`plain_value` brings them to one JSON-ready
form: that is what makes both stores answer byte-identically.
"""

from __future__ import annotations

import datetime as dt
import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa

from layers import Layer, PropType
from twin.features.params import Bbox, ItemsQuery, queryables
from twin.features.sqlfilter import Condition, FilterCompiler
from twin.store import Store

# Used for the bbox size limit when the store holds no city boundary (an empty test store).
ALMATY_EXTENT: Bbox = (76.7382775, 43.0328438, 77.1667539, 43.4036849)
MAX_FID = 2**63 - 1


@dataclass
class FeatureSet:
    """Features as columns: ``values[name]`` holds JSON-ready values (JSON properties as
    text), ``geoms`` shapely geometries in EPSG:4326."""

    layer: Layer
    properties: tuple[str, ...]
    fids: list[int]
    synthetic: list[bool]
    values: dict[str, list[Any]]
    geoms: np.ndarray
    number_matched: int | None = None
    #: values added beside the declared properties by another domain (e.g. residents'
    #: rating aggregates, :mod:`twin.participation`), one list per name, in ``fids`` order
    extra: dict[str, list[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.fids)

    def to_frame(self) -> gpd.GeoDataFrame:
        """Return the features as a GeoDataFrame (``fid``, properties, ``synthetic``)."""
        data: dict[str, Any] = {"fid": pd.Series(self.fids, dtype="int64")}
        for name in self.properties:
            kind = self.layer.prop(name).type
            col = self.values[name]
            if kind is PropType.INT:
                data[name] = pd.Series(col, dtype="Int64")
            elif kind is PropType.FLOAT:
                data[name] = pd.Series([np.nan if v is None else v for v in col], dtype="float64")
            elif kind is PropType.BOOL:
                data[name] = pd.Series(col, dtype="boolean")
            else:
                data[name] = pd.Series(col, dtype=object)
        for name, col in self.extra.items():
            if all(isinstance(v, int) for v in col):
                data[name] = pd.Series(col, dtype="Int64")
            elif all(v is None or isinstance(v, int | float) for v in col):
                data[name] = pd.Series([np.nan if v is None else v for v in col], dtype="float64")
            else:
                data[name] = pd.Series(col, dtype=object)
        data["synthetic"] = pd.Series(self.synthetic, dtype=bool)
        return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(self.geoms, crs=4326), crs=4326)


def plain_value(kind: PropType, value: Any) -> Any:
    """Return a stored value as JSON-ready data, the same from both stores."""
    if value is None:
        return None
    if kind is PropType.BOOL:
        return bool(value)
    if kind is PropType.INT:
        return int(value)
    if kind is PropType.FLOAT:
        f = float(value)
        return f if math.isfinite(f) else None
    if kind is PropType.DATE:
        return value.isoformat() if isinstance(value, dt.date) else str(value)[:10]
    if kind is PropType.DATETIME:
        if isinstance(value, dt.datetime):
            aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
            return aware.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return str(value)
    return str(value)


class FeatureQueries:
    """Queries over one layer of one store."""

    def __init__(self, store: Store, layer: Layer) -> None:
        self.store = store
        self.layer = layer
        self.t = store.tables[layer.id].alias("t")
        self.sql = FilterCompiler(layer, self.t, store.sql)

    def where(self, q: ItemsQuery) -> list[Condition]:
        """Return the conditions of ``q`` (bbox, datetime, filter)."""
        conds: list[Condition] = []
        if q.bbox is not None:
            conds.append(self.sql.bbox(q.bbox))
        if q.interval is not None:
            conds.append(self.sql.interval(q.interval))
        if q.filter is not None:
            conds.append(self.sql.compile(q.filter))
        return conds

    def _columns(self, properties: tuple[str, ...]) -> list[sa.ColumnElement[Any]]:
        # type_coerce to NullType: no SQLAlchemy result processing (its SQLite DateTime
        # parser does not take the stored "…Z" text); plain_value normalises instead.
        raw = sa.types.NullType()
        cols: list[sa.ColumnElement[Any]] = [self.t.c.fid, sa.type_coerce(self.t.c.synthetic, raw)]
        cols += [sa.type_coerce(self.t.c[n], raw).label(n) for n in properties]
        cols.append(sa.literal_column(self.store.sql.geom_wkb("t.geom")).label("geom"))
        return cols

    def page(self, q: ItemsQuery, *, count: bool = True) -> FeatureSet:
        """Return the features of ``q`` (one page, or all when ``q.limit`` is None) and, with
        ``count``, how many match in total."""
        conds = self.where(q)
        stmt = (
            sa.select(*self._columns(q.properties))
            .select_from(self.t)
            .where(*conds)
            .order_by(*self.sql.order_by(q.sortby))
        )
        if q.limit is not None:
            stmt = stmt.limit(q.limit)
        if q.offset:
            stmt = stmt.offset(q.offset)
        with self.store.reading() as conn:
            rows = conn.execute(stmt).fetchall()
            matched = None
            if count:
                if q.limit is None and not q.offset:
                    matched = len(rows)
                else:
                    counter = sa.select(sa.func.count()).select_from(self.t).where(*conds)
                    matched = int(conn.execute(counter).scalar_one())
        fs = self._feature_set(rows, q.properties)
        fs.number_matched = matched
        return fs

    def one(self, fid: int, properties: tuple[str, ...] | None = None) -> FeatureSet:
        """Return the feature ``fid`` (an empty set when there is none)."""
        props = self.layer.prop_names if properties is None else properties
        if not 0 < fid <= MAX_FID:
            return self._feature_set([], props)
        stmt = sa.select(*self._columns(props)).select_from(self.t).where(self.t.c.fid == fid)
        with self.store.reading() as conn:
            rows = conn.execute(stmt).fetchall()
        return self._feature_set(rows, props)

    def key(self, fid: int) -> tuple[str, str] | None:
        """Return (source, source_id) of feature ``fid``, or None."""
        if not 0 < fid <= MAX_FID:
            return None
        stmt = sa.select(self.t.c.source, self.t.c.source_id).where(self.t.c.fid == fid)
        with self.store.reading() as conn:
            row = conn.execute(stmt).first()
        return None if row is None else (str(row[0]), str(row[1]))

    def fid_of(self, source: str, source_id: str) -> int | None:
        """Return the fid stored for (source, source_id), or None."""
        stmt = sa.select(self.t.c.fid).where(
            self.t.c.source == source, self.t.c.source_id == source_id
        )
        with self.store.reading() as conn:
            value = conn.execute(stmt).scalar_one_or_none()
        return None if value is None else int(value)

    def _feature_set(self, rows: Sequence[Any], properties: tuple[str, ...]) -> FeatureSet:
        types = queryables(self.layer)
        values: dict[str, list[Any]] = {}
        for j, name in enumerate(properties, start=2):
            kind = types[name].type
            values[name] = [plain_value(kind, r[j]) for r in rows]
        geoms = (
            self.store.sql.decode_geoms([r[-1] for r in rows])
            if rows
            else np.array([], dtype=object)
        )
        return FeatureSet(
            layer=self.layer,
            properties=properties,
            fids=[int(r[0]) for r in rows],
            synthetic=[bool(r[1]) for r in rows],
            values=values,
            geoms=geoms,
        )

    # -- extents -------------------------------------------------------------------------
    def spatial_extent(self) -> Bbox | None:
        """Return the exact (minx, miny, maxx, maxy) of every feature, or None when empty."""
        parts = self.store.sql.exact_bounds(self.t.c.geom)
        aggs = [
            sa.func.min(parts[0]),
            sa.func.min(parts[1]),
            sa.func.max(parts[2]),
            sa.func.max(parts[3]),
        ]
        with self.store.reading() as conn:
            row = conn.execute(sa.select(*aggs).select_from(self.t)).one()
        if row[0] is None:
            return None
        return float(row[0]), float(row[1]), float(row[2]), float(row[3])

    def temporal_extent(self) -> tuple[str | None, str | None] | None:
        """Return the first start and the last end (or start) of the layer's time span."""
        temporal = self.layer.temporal
        if temporal is None:
            return None
        start = self.layer.prop(temporal.start)
        raw = sa.types.NullType()
        first = sa.func.min(sa.type_coerce(self.t.c[start.name], raw))
        last_cols = [self.t.c[start.name]]
        if temporal.end is not None:
            last_cols.insert(0, self.t.c[temporal.end])
        last = sa.func.max(sa.type_coerce(sa.func.coalesce(*last_cols), raw))
        with self.store.reading() as conn:
            row = conn.execute(sa.select(first, last).select_from(self.t)).one()
        return plain_value(start.type, row[0]), plain_value(start.type, row[1])


@dataclass(frozen=True)
class Extent:
    """A layer's spatial and temporal extent."""

    bbox: Bbox | None
    interval: tuple[str | None, str | None] | None


# Extents cost a scan per layer; they are kept per store until its change log moves on (every
# load, edit and delete writes to it), so /collections stays cheap and never stale.
_EXTENTS: weakref.WeakKeyDictionary[Store, tuple[int, dict[str, Extent]]] = (
    weakref.WeakKeyDictionary()
)


def extent(store: Store, layer: Layer) -> Extent:
    """Return the extent of ``layer`` (cached until the store's next change)."""
    change = store.last_change_id()
    cached = _EXTENTS.get(store)
    if cached is None or cached[0] != change:
        cached = (change, {})
        _EXTENTS[store] = cached
    found = cached[1].get(layer.id)
    if found is None:
        queries = FeatureQueries(store, layer)
        found = Extent(queries.spatial_extent(), queries.temporal_extent())
        cached[1][layer.id] = found
    return found


def city_extent(store: Store) -> Bbox:
    """Return the extent of the city boundary layer (the reference for the bbox limit)."""
    from layers import get

    bbox = extent(store, get("city_boundary")).bbox
    return bbox if bbox is not None else ALMATY_EXTENT
