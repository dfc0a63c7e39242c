"""Reads of the ``air_readings`` layer: a station's daily series and one day across stations.

Why a service rather than the features API alone: a card and the surface need the series of
one station and pollutant, or all stations on one day, as plain numbers with the unit and
the source's licence attached, in one bounded query.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

import layers
from etl import airdata
from twin.core.errors import BadInput, NotFound
from twin.store import Store

PARAMETERS = ("pm10", "no2")
UNIT = "µg/m³"
MAX_DAYS = 4000  # the whole bundled history (since December 2021) fits


def parameter_checked(parameter: str) -> str:
    """Return ``parameter`` if the readings hold it, else raise :class:`BadInput`."""
    if parameter not in PARAMETERS:
        raise BadInput(f"unknown pollutant {parameter!r}; one of {', '.join(PARAMETERS)}")
    return parameter


def source_note() -> dict[str, str]:
    """Return the readings' source, licence and attribution (they travel with every answer)."""
    layer = layers.get("air_readings")
    return {"source": layer.source, "licence": layer.licence, "attribution": layer.attribution}


def _table(store: Store) -> sa.Table:
    return store.tables["air_readings"]


def _day(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)[:10]


def station_series(
    store: Store,
    station_id: str,
    parameter: str,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> dict[str, Any]:
    """Return a station's daily means of ``parameter`` between ``start`` and ``end``.

    Raises :class:`NotFound` for a station without any reading of that pollutant and
    :class:`BadInput` for an unknown pollutant or a range that ends before it starts.
    """
    parameter_checked(parameter)
    if start and end and end < start:
        raise BadInput(f"end {end} is before start {start}")
    t = _table(store)
    query = sa.select(t.c.day, t.c.value, t.c.hours).where(
        t.c.station_id == station_id, t.c.parameter == parameter
    )
    if start:
        query = query.where(t.c.day >= start)
    if end:
        query = query.where(t.c.day <= end)
    query = query.order_by(t.c.day.desc()).limit(MAX_DAYS)
    with store.engine.connect() as conn:
        rows = conn.execute(query).fetchall()
        if not rows:
            known = conn.execute(
                sa.select(sa.func.count()).where(
                    t.c.station_id == station_id, t.c.parameter == parameter
                )
            ).scalar_one()
            if not known:
                raise NotFound(f"station {station_id!r} has no {parameter} readings")
    days = [{"date": _day(d), "value": float(v), "hours": int(h)} for d, v, h in reversed(rows)]
    return {
        "station_id": station_id,
        "parameter": parameter,
        "unit": UNIT,
        "timezone": "Asia/Almaty",
        "days": days,
        "latest": days[-1] if days else None,
        **source_note(),
    }


def day_values(store: Store, parameter: str, day: dt.date) -> pd.DataFrame:
    """Return every station's daily mean of ``parameter`` on ``day``: ``station_id``, ``lon``,
    ``lat``, ``value`` (one row per station with a reading and a location)."""
    parameter_checked(parameter)
    t = _table(store)
    query = sa.select(t.c.station_id, t.c.value).where(t.c.parameter == parameter, t.c.day == day)
    with store.engine.connect() as conn:
        values = pd.DataFrame(conn.execute(query).fetchall(), columns=["station_id", "value"])
    stations = store.read_frame(layers.get("air_sensors"))
    where = stations.drop_duplicates("station_id").set_index("station_id").geometry
    values = values.drop_duplicates("station_id")
    values = values[values["station_id"].isin(where.index)]
    pts = where.reindex(values["station_id"])
    return pd.DataFrame(
        {
            "station_id": values["station_id"].to_numpy(),
            "lon": pts.x.to_numpy(),
            "lat": pts.y.to_numpy(),
            "value": values["value"].to_numpy(dtype=np.float64),
        }
    )


def city_daily(
    data_dir: Path, parameter: str, *, start: dt.date | None = None, end: dt.date | None = None
) -> dict[str, Any]:
    """Return AirData.kz's city-wide daily means of ``parameter`` (PM2.5 since March 2017, the
    others since December 2021), read from the bundled files, with the source and licence."""
    if parameter not in airdata.CITY_PARAMETERS:
        raise BadInput(
            f"unknown pollutant {parameter!r}; one of {', '.join(airdata.CITY_PARAMETERS)}"
        )
    frame = airdata.read_city_daily(
        data_dir / f"almaty/air_quality/history/daily_{parameter}.csv.gz"
    )
    if start:
        frame = frame[frame["date"] >= start.isoformat()]
    if end:
        frame = frame[frame["date"] <= end.isoformat()]
    days = [
        {"date": d, "value": round(float(v), 2), "stations": int(n)}
        for d, v, n in zip(
            frame["date"].tolist(),
            frame["value"].tolist(),
            frame["n_stations"].fillna(0).tolist(),
            strict=True,
        )
    ]
    return {
        "parameter": parameter,
        "unit": UNIT,
        "days": days,
        "source": "AirData.kz city-wide daily means (data/almaty/air_quality/history/"
        f"daily_{parameter}.csv.gz), as published",
        "licence": layers.get("air_readings").licence,
        "attribution": layers.get("air_readings").attribution,
    }


def days_available(store: Store, parameter: str) -> list[dict[str, Any]]:
    """Return the days with readings of ``parameter`` and how many stations each has."""
    parameter_checked(parameter)
    t = _table(store)
    query = (
        sa.select(t.c.day, sa.func.count(sa.distinct(t.c.station_id)))
        .where(t.c.parameter == parameter)
        .group_by(t.c.day)
        .order_by(t.c.day)
    )
    with store.engine.connect() as conn:
        return [{"date": _day(d), "stations": int(n)} for d, n in conn.execute(query)]
