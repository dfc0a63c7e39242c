"""The load of a layer derived from the store's own records: the city events
(:mod:`twin.events.service`) and the budget cycles' projects (:mod:`etl.budget_layer`) are
written as catalog layers from their tables, in the same transaction as every change of the
record, so tiles, the OGC collections and search treat them like any layer.

Both writers make the same load: the records' rows conformed to the layer, compared with the
stored rows by their hashes, and where anything differs a load that replaces the whole source.
It is one function so the two cannot drift apart (they were near-copies). It lives in etl
because it conforms (:func:`etl.transform.conform`); the services above (twin.events) may
import etl, and etl the store below it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry

from etl.transform import conform
from layers.model import Layer
from twin.core.errors import StoreError
from twin.store import Batch
from twin.store.loading import row_hashes


def derived_batch(
    conn: sa.Connection,
    layer: Layer,
    rows: list[dict[str, Any]],
    geoms: Sequence[BaseGeometry],
    *,
    source: str,
    what: str,
) -> Batch | None:
    """Return the load that makes ``source``'s features of ``layer`` these ``rows`` at
    ``geoms``, or None when the stored ones already are (same ids, same row hashes).

    Parameters
    ----------
    conn
        The caller's connection (its write transaction), to read the stored row hashes.
    layer
        The derived layer.
    rows
        One dict a feature: ``source_id`` (the record's id), ``synthetic`` where the records
        have it, and the layer's properties.
    geoms
        The features' geometries (EPSG:4326), in the order of ``rows``.
    source
        The source the features are stored under; also the load's file name in the
        provenance log (a derived layer has no file).
    what
        What a row is (``"event"``, ``"budget project"``), to name it in an error.

    Raises
    ------
    StoreError
        When the layer refuses a row: the records' own checks are stricter than the layer's,
        so that is a bug of the writer, not bad input.
    """
    raw = gpd.GeoDataFrame(rows or {"source_id": []}, geometry=geoms or [], crs=4326)
    flags = raw.pop("synthetic").astype(bool) if "synthetic" in raw else False
    result = conform(raw, layer, origin=source, id_column="source_id", synthetic=flags)
    if result.rejected:
        bad = result.rejected[0]
        raise StoreError(f"{what} {bad.source_id} ({layer.id}): {bad.reason}")
    frame = result.frame
    hashes = row_hashes(frame, layer) if len(frame) else []
    stored: dict[str, str] = dict(
        conn.execute(
            sa.text(f'SELECT source_id, row_hash FROM "{layer.table}" WHERE source = :s'),
            {"s": source},
        ).fetchall()
    )
    if stored == dict(zip(frame["source_id"].astype(str), hashes, strict=True)):
        return None
    # the rows' hashes are of fixed length: joined, they name the rows' content unambiguously
    digest = hashlib.sha256("".join(hashes).encode()).hexdigest()
    return Batch(layer, source, frame, source, digest, layer.licence, replace=True)
