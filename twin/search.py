"""Search across the layers' searchable properties (names, addresses, streets, titles).

The matching runs in the store, so it scales with the store rather than with the process:
every searchable property of a layer is folded to lower case (Unicode-aware on both stores,
each in its own way: ``store.sql.fold``) and
each word of the query must occur in the folded text. Results are ranked in SQL — exact
label, label prefix, word prefix, then anywhere — so a layer's best candidates come back first,
then merged across layers in Python.

Which layers are searched is the caller's business (:func:`twin.core.access.visible_layers`), so a
planner-only layer is never looked in for a resident.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import shapely
import sqlalchemy as sa

from layers import GeomType, Layer
from twin.core.errors import BadInput
from twin.store import Store
from twin.store.dialect import fold_text as fold
from twin.store.schema import GEOM

MAX_QUERY = 100
MAX_LIMIT = 50
# Where several layers match equally well, the order a resident most likely means is each
# layer's declared ``search_priority``; layers without one come after all that have one.
_UNRANKED = 1 << 30
# The property that names a feature, in order of preference; the first non-empty one is its label.
LABEL_PROPERTIES = ("name", "title", "address", "street", "category")
# Districts are labelled in the caller's language.
DISTRICT_LABEL = {"ru": "name_ru", "kk": "name_kk", "en": "name"}
_ESCAPE = "\\"


@dataclass(frozen=True)
class SearchHit:
    """One search result: where it is and what to call it."""

    layer: str
    fid: int
    label: str
    detail: str | None
    rank: int
    synthetic: bool
    point: tuple[float, float]
    bbox: tuple[float, float, float, float]

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form used by ``/api/search``."""
        return {
            "id": f"{self.layer}/{self.fid}",
            "layer": self.layer,
            "fid": self.fid,
            "label": self.label,
            "detail": self.detail,
            "rank": self.rank,
            "synthetic": self.synthetic,
            "point": list(self.point),
            "bbox": list(self.bbox),
        }


def _like_escape(text: str) -> str:
    return (
        text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    )


def searchable(layer: Layer) -> tuple[str, ...]:
    """Return the names of ``layer``'s searchable properties (empty: not searched)."""
    return tuple(p.name for p in layer.properties if p.searchable)


def _label_columns(layer: Layer, lang: str) -> list[str]:
    names = searchable(layer)
    if layer.id == "districts":
        first = DISTRICT_LABEL.get(lang, "name_ru")
        return [first, *[c for c in ("name_ru", "name", "name_kk") if c != first and c in names]]
    return [c for c in LABEL_PROPERTIES if c in names]


def _layer_sql(
    layer: Layer, words: Sequence[str], lang: str, store: Store, limit: int
) -> tuple[str, dict[str, Any], list[str]]:
    """Return (SQL, parameters, label columns) ranking ``layer``'s matches for ``words``."""
    cols = searchable(layer)
    label_cols = _label_columns(layer, lang)
    hay = " || ' ' || ".join(f"coalesce(t.\"{c}\", '')" for c in cols)
    label = "coalesce(" + ", ".join(f't."{c}"' for c in label_cols) + ", '')"
    f_hay = store.sql.fold(hay)
    esc = f"ESCAPE '{_ESCAPE}'"
    where = " AND ".join(f"{f_hay} LIKE :w{i} {esc}" for i in range(len(words)))
    whole = " ".join(words)
    params: dict[str, Any] = {f"w{i}": f"%{_like_escape(w)}%" for i, w in enumerate(words)}
    params.update(
        q=whole,
        q_prefix=f"{_like_escape(whole)}%",
        q_word=f"% {_like_escape(whole)}%",
        n=limit,
    )
    # A feature ranks by the best of its names (a district matches in any language).
    # A street name is not the building's own name: it only counts as "anywhere".
    names = [store.sql.fold(f't."{c}"') for c in label_cols if c != "street"]

    def any_name(test: str) -> str:
        return " OR ".join(f"{n} {test}" for n in names)

    rank = (
        f"CASE WHEN {any_name('= :q')} THEN 0 "
        f"WHEN {any_name(f'LIKE :q_prefix {esc}')} THEN 1 "
        f"WHEN {any_name(f'LIKE :q_word {esc}')} THEN 2 "
        f"WHEN {f_hay} LIKE :q_prefix {esc} OR {f_hay} LIKE :q_word {esc} THEN 3 "
        "ELSE 4 END"
    )
    select = ", ".join(f't."{c}"' for c in cols)
    sql = (
        f"SELECT t.fid, t.synthetic, {select}, {rank} AS rank, length({label}) AS label_len, "
        f'{store.sql.geom_wkb("t." + GEOM)} AS geom FROM "{layer.table}" t '
        f"WHERE {where} ORDER BY rank, label_len, t.fid LIMIT :n"
    )
    return sql, params, label_cols


def _anchor(geom: Any, kind: GeomType) -> tuple[float, float]:
    """Return a point on ``geom`` to fly to (a line's midpoint, a polygon's inner point)."""
    if kind is GeomType.POINT:
        p = geom
    elif kind is GeomType.LINE:
        p = shapely.line_interpolate_point(shapely.line_merge(geom), 0.5, normalized=True)
        if p.is_empty:
            p = shapely.point_on_surface(geom)
    else:
        p = shapely.point_on_surface(geom)
    return (round(p.x, 7), round(p.y, 7))


def _detail(row: dict[str, Any], cols: Sequence[str], label: str) -> str | None:
    """Return a second line for a hit: the first searchable value the label does not contain."""
    for c in ("address", "street", "category", "title", "name"):
        value = row.get(c)
        if c in cols and value and fold(str(value)) not in fold(label):
            return str(value)
    return None


def words_of(query: str) -> list[str]:
    """Return the folded words of a query (at most eight).

    >>> words_of("  Абая   Пр. ")
    ['абая', 'пр.']
    """
    return fold(query).split()[:8]


def search(
    store: Store,
    query: str,
    layers: Sequence[Layer],
    *,
    lang: str = "ru",
    limit: int = 10,
) -> list[SearchHit]:
    """Return up to ``limit`` features of ``layers`` matching every word of ``query``, best first.

    Line features with the same label (a street split into segments) are merged into one hit
    whose box covers them all.
    """
    if len(query) > MAX_QUERY:
        raise BadInput(f"q is longer than {MAX_QUERY} characters")
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"limit must be between 1 and {MAX_LIMIT}")
    words = words_of(query)
    if not words:
        return []
    hits: list[tuple[SearchHit, int]] = []
    with store.reading() as conn:
        store.sql.prepare(conn)
        for layer in layers:
            if not searchable(layer):
                continue
            lines = layer.geometry is GeomType.LINE
            # Streets come in many segments per name: fetch more, then merge them.
            sql, params, label_cols = _layer_sql(
                layer, words, lang, store, limit * 20 if lines else limit
            )
            result = conn.execute(sa.text(sql), params)
            rows = [dict(r) for r in result.mappings()]
            if not rows:
                continue
            geoms = store.sql.decode_geoms([r["geom"] for r in rows])
            merged: dict[str, tuple[SearchHit, Any]] = {}
            for row, geom in zip(rows, geoms, strict=True):
                label_col = next((c for c in label_cols if row.get(c)), None)
                label = str(row[label_col]) if label_col else ""
                if not label:
                    continue
                key = fold(label) if lines else f"{row['fid']}"
                if key in merged:
                    hit, g = merged[key]
                    merged[key] = (hit, shapely.union(g, geom))
                    continue
                hit = SearchHit(
                    layer=layer.id,
                    fid=int(row["fid"]),
                    label=label,
                    detail=_detail(row, searchable(layer), label),
                    rank=int(row["rank"]),
                    synthetic=bool(row["synthetic"]),
                    point=(0.0, 0.0),
                    bbox=(0.0, 0.0, 0.0, 0.0),
                )
                merged[key] = (hit, geom)
            for hit, geom in list(merged.values())[:limit]:
                x0, y0, x1, y1 = (round(float(v), 7) for v in shapely.bounds(geom))
                bounds = (x0, y0, x1, y1)
                placed = replace(hit, point=_anchor(geom, layer.geometry), bbox=bounds)
                priority = layer.search_priority
                hits.append((placed, _UNRANKED if priority is None else priority))
    hits.sort(key=lambda h: (h[0].rank, h[1], len(h[0].label), h[0].label, h[0].fid))
    return [h for h, _ in hits[:limit]]
