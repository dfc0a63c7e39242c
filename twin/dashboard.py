"""District dashboards: the ``district_indicators`` layer as tables a chart can draw.

Numbers come straight from the layer (one row per district per year); the only thing computed
here is the city average, the plain mean of the districts' values for a year.

Every value says whether it is generated (``generated``). The indicators are produced by
``etl/synthesise/indicators.py``: every year before the latest is back-projected, so
generated, except for the indicators in ``layers.programme.REAL_HISTORY`` (the area); the
latest year is computed from the loaded layers, so it is generated exactly where the indicator
rests on layers with generated features (its ``Prop.generated_from``: schools, appeals, works,
participatory projects, cameras). Each row's own ``synthetic`` flag cannot tell these apart:
every row is marked.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.ops import polylabel

import layers
from layers import PropType
from layers.common import DISTRICT_NAMES
from layers.programme import REAL_HISTORY
from twin.core.errors import NotFound
from twin.core.privacy import MIN_PUBLIC_COUNT, public_k
from twin.store import Store

# Not indicators: the keys of a row.
_KEYS = ("district", "period")


def indicator_props() -> list[layers.Prop]:
    """Return the numeric properties of ``district_indicators`` (the dashboard's indicators)."""
    layer = layers.get("district_indicators")
    return [
        p
        for p in layer.properties
        if p.name not in _KEYS and p.type in (PropType.INT, PropType.FLOAT)
    ]


def _clean(value: Any) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, int | float):
        return value
    return float(value)


#: Indicators that are a count of residents' appeals per so many residents: a value standing
#: for fewer than k appeals is withheld (:mod:`twin.core.privacy`).
PEOPLE_RATES = {"appeals_per_10k": 10_000}


def withhold_small_rates(table: pd.DataFrame, k: int) -> pd.DataFrame:
    """Return ``table`` with each :data:`PEOPLE_RATES` value that stands for fewer than ``k``
    appeals (rate × population / per, as rounded when stored) set to NaN. The ETL already
    withholds them; this covers stores loaded before it did, and a larger configured ``k``.

    >>> t = pd.DataFrame({"population": [300_000, 300_000], "appeals_per_10k": [0.1, 2.0]})
    >>> withhold_small_rates(t, 5)["appeals_per_10k"].tolist()
    [nan, 2.0]
    """
    k = public_k(k)
    out = table.copy()
    for name, per in PEOPLE_RATES.items():
        if name not in out or "population" not in out:
            continue
        count = out[name].astype(float) * out["population"].astype(float) / per
        # a rounded 0.0 may hide 1-4 appeals, so it is withheld too
        out.loc[~(count.round() >= k), name] = np.nan
    return out


def indicator_frame(store: Store, k: int = MIN_PUBLIC_COUNT) -> pd.DataFrame:
    """Return the indicator table: one row per (district, period), a column per indicator;
    rates standing for fewer than ``k`` appeals withheld (:func:`withhold_small_rates`)."""
    frame = store.read_frame(layers.get("district_indicators"))
    cols = [*_KEYS, *(p.name for p in indicator_props())]
    out = pd.DataFrame(frame[cols]).dropna(subset=list(_KEYS))
    out["period"] = out["period"].astype(int)
    out = withhold_small_rates(out, k)
    return out.sort_values(["district", "period"]).reset_index(drop=True)


def _label_point(geom: Any) -> shapely.Point:
    """Return the pole of inaccessibility of the largest part: where a label sits best."""
    parts = list(getattr(geom, "geoms", [geom]))
    largest = max(parts, key=lambda g: g.area)
    return polylabel(largest, tolerance=0.0005)


def district_names(store: Store) -> list[dict[str, Any]]:
    """Return each district's names (``name`` in English, ``name_ru``, ``name_kk``) and a
    point inside it to put its label on (``label``: lon, lat; None if it has no boundary)."""
    frame = store.read_frame(layers.get("districts"))
    points = [_label_point(g) for g in frame.geometry.values]
    by_name: dict[str, dict[str, Any]] = {}
    for r, p in zip(frame.drop(columns="geometry").to_dict("records"), points, strict=True):
        if not r.get("name"):
            continue
        by_name[str(r["name"])] = {
            "name": str(r["name"]),
            "name_ru": str(r.get("name_ru") or r["name"]),
            "name_kk": str(r.get("name_kk") or r["name"]),
            "label": [round(p.x, 6), round(p.y, 6)],
        }
    for name in DISTRICT_NAMES:
        by_name.setdefault(name, {"name": name, "name_ru": name, "name_kk": name, "label": None})
    return [by_name[k] for k in sorted(by_name)]


def _sources(p: layers.Prop) -> list[dict[str, Any]]:
    """Return the layers an indicator is counted from, each with the provenance of what it
    takes from them (the property's own where declared: a population is gov.kz's)."""
    out = []
    for lid in p.based_on:
        layer = layers.get(lid)
        prov = p.provenance or layer.provenance
        out.append(
            {
                "layer": lid,
                "title": layer.title.as_dict(),
                "provenance": None if prov is None else prov.summary(),
            }
        )
    return out


def indicator_meta() -> list[dict[str, Any]]:
    """Return id, titles, unit and type of every indicator, the layers with generated
    features that its latest value is computed from (``generated_from``: id and titles), and
    every layer it is counted from with how old and complete that layer is (``sources``:
    the dashboard writes "OSM 2012, sparse" beside the figure, issue 15 item 12)."""
    return [
        {
            "name": p.name,
            "title": p.title.as_dict(),
            "unit": p.unit,
            "type": p.type.value,
            "generated_from": [
                {"layer": lid, "title": layers.get(lid).title.as_dict()} for lid in p.generated_from
            ],
            "sources": _sources(p),
        }
        for p in indicator_props()
    ]


def is_generated(indicator: str, year: int, latest_year: int) -> bool:
    """Return whether ``indicator``'s value for ``year`` is generated: back-projected (a year
    before ``latest_year``, unless its history is real) or computed from generated layers.

    >>> is_generated("population", 2025, 2026), is_generated("population", 2026, 2026)
    (True, False)
    >>> is_generated("cameras_per_10k", 2026, 2026), is_generated("area_km2", 2019, 2026)
    (True, False)
    """
    if year < latest_year and indicator not in REAL_HISTORY:
        return True
    return bool(layers.get("district_indicators").prop(indicator).generated_from)


def _series(rows: pd.DataFrame, column: str, latest_year: int) -> list[dict[str, Any]]:
    return [
        {
            "year": int(y),
            "value": _clean(v),
            "generated": is_generated(column, int(y), latest_year),
        }
        for y, v in zip(rows["period"], rows[column], strict=True)
    ]


def city_average(table: pd.DataFrame) -> pd.DataFrame:
    """Return the mean of the districts' values per year, one row per year.

    >>> t = pd.DataFrame({"district": ["A", "B"], "period": [2020, 2020], "x": [1.0, 3.0]})
    >>> city_average(t)["x"].tolist()
    [2.0]
    """
    values = [c for c in table.columns if c not in _KEYS]
    return table.groupby("period", as_index=False)[values].mean().sort_values("period")


def overview(store: Store, k: int = MIN_PUBLIC_COUNT) -> dict[str, Any]:
    """Return every district's indicators for every year, and the city average.

    ``values[district][year][indicator]`` and ``city_average[year][indicator]``; each
    indicator lists the years whose values are generated (``generated_years``).
    """
    table = indicator_frame(store, k)
    meta = indicator_meta()
    names = [m["name"] for m in meta]
    values: dict[str, dict[str, dict[str, Any]]] = {}
    for rec in table.to_dict("records"):
        row = {n: _clean(rec[n]) for n in names}
        values.setdefault(str(rec["district"]), {})[str(int(rec["period"]))] = row
    avg = {
        str(int(rec["period"])): {n: _round(_clean(rec[n])) for n in names}
        for rec in city_average(table).to_dict("records")
    }
    years = sorted({int(y) for y in table["period"]})
    for m in meta:
        m["generated_years"] = [y for y in years if is_generated(m["name"], y, years[-1])]
    return {
        "indicators": meta,
        "years": years,
        "districts": district_names(store),
        "values": values,
        "city_average": avg,
    }


def _round(value: float | int | None) -> float | None:
    return None if value is None else round(float(value), 2)


def district_dashboard(store: Store, district: str, k: int = MIN_PUBLIC_COUNT) -> dict[str, Any]:
    """Return one district's indicators: its history, the city average and the other
    districts for each year, and the latest year's value with its rank among the districts;
    every value with whether it is generated (see the module's docstring).

    Raise :class:`NotFound` for a district that has no indicators.
    """
    table = indicator_frame(store, k)
    known = {str(d) for d in table["district"].unique()}
    match = next((d for d in known if d.lower() == district.lower()), None)
    if match is None:
        raise NotFound(f"no district {district!r}; known: {', '.join(sorted(known))}")
    avg = city_average(table)
    mine = table[table["district"] == match]
    latest_year = int(mine["period"].max())
    # The synthesiser's latest year (the same for every district) decides what is generated.
    newest = int(table["period"].max())
    out = []
    for meta in indicator_meta():
        name = meta["name"]
        latest = table[table["period"] == latest_year][["district", name]].dropna()
        ordered = latest.sort_values(name, ascending=False)["district"].tolist()
        own = _clean(mine[mine["period"] == latest_year][name].iloc[0])
        avg_latest = avg[avg["period"] == latest_year][name]
        out.append(
            {
                **meta,
                "history": _series(mine, name, newest),
                "city_average": [
                    {**s, "value": _round(s["value"])} for s in _series(avg, name, newest)
                ],
                "others": {
                    str(d): _series(rows, name, newest)
                    for d, rows in table[table["district"] != match].groupby("district")
                },
                "latest": {
                    "year": latest_year,
                    "value": own,
                    "generated": is_generated(name, latest_year, newest),
                    "city_average": _round(_clean(avg_latest.iloc[0])) if len(avg_latest) else None,
                    "rank": ordered.index(match) + 1 if match in ordered else None,
                    "of": len(ordered),
                },
            }
        )
    names = next((n for n in district_names(store) if n["name"] == match), None)
    return {"district": match, "names": names, "year": latest_year, "indicators": out}
