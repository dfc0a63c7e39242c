"""Daily PM2.5 readings for the real air-quality stations."""

from __future__ import annotations

import datetime
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from etl.synthesise.frames import conform, day, iso, stream

DAYS = 30


def seasonal_pm25(days: np.ndarray) -> np.ndarray:
    """Return the city-wide typical daily PM2.5 (µg/m³) for each numpy day.

    Almaty's winter smog (coal heating under temperature inversions in the mountain bowl)
    brings January means near 80 µg/m³; summer days sit near 18.

    Examples
    --------
    >>> seasonal_pm25(np.array(["2026-01-15", "2026-07-15"], dtype="datetime64[D]")).round()
    array([80., 18.])
    """
    days = np.asarray(days, dtype="datetime64[D]")
    doy = (days - days.astype("datetime64[Y]")).astype(int)
    winter = ((1.0 + np.cos(2 * np.pi * (doy - 14) / 365.0)) / 2.0) ** 2
    return 18.0 + 62.0 * winter


def air_readings(
    sensors: gpd.GeoDataFrame,
    *,
    seed: int = 2026,
    today: datetime.date = datetime.date(2026, 11, 27),
) -> gpd.GeoDataFrame:
    """Return a copy of the air sensors with 30 days of generated daily PM2.5.

    Assumptions: a station's daily mean is the seasonal level (:func:`seasonal_pm25`) times
    a city-wide weather factor shared by all stations (an AR(1) series: inversions last a
    few days), times a station factor (lognormal, and lower on the southern foothills, which
    are higher and cleaner: -40 % per 0.1° of latitude south of 43.25°N, bounded), times
    daily station noise. ``readings`` is a JSON list ``[{"date": "YYYY-MM-DD", "pm25": x}]``
    for the 30 days ending ``today``; ``pm25`` is the last of them; ``readings_synthetic``
    is True. Every other column (the real station metadata) is kept.

    Parameters
    ----------
    sensors : GeoDataFrame
        The real ``air_sensors`` layer (EPSG:4326), canonically sorted.
    seed : int
        Seed of the ``"air"`` random stream.
    today : datetime.date
        The last day of readings.

    Returns
    -------
    GeoDataFrame
        The ``air_sensors`` layer frame with readings filled, rows in the input order.

    Examples
    --------
    >>> from etl.synthesise.toy import toy_layers
    >>> out = air_readings(toy_layers()["air_sensors"])
    >>> len(json.loads(out["readings"].iloc[0]))
    30
    """
    rng = stream(seed, "air")
    n = len(sensors)
    days = day(today) - np.arange(DAYS - 1, -1, -1).astype("timedelta64[D]")
    weather = np.empty(DAYS)
    level = float(rng.normal(0.0, 0.3))
    for i in range(DAYS):  # AR(1): thirty steps, not worth vectorising
        level = 0.7 * level + float(rng.normal(0.0, 0.3))
        weather[i] = level
    lat = shapely.get_y(shapely.centroid(np.asarray(sensors.geometry.values, dtype=object)))
    lat = np.nan_to_num(lat, nan=43.25)
    foothills = np.clip(1.0 + 4.0 * (lat - 43.25), 0.5, 1.4)
    station = np.exp(rng.normal(0.0, 0.2, n)) * foothills
    noise = np.exp(rng.normal(0.0, 0.15, (n, DAYS)))
    daily = seasonal_pm25(days)[None, :] * np.exp(weather)[None, :] * station[:, None] * noise
    pm25: np.ndarray = np.round(np.maximum(daily, 2.0), 1)
    dates = list(iso(days))
    readings = [
        json.dumps(
            [{"date": d, "pm25": float(v)} for d, v in zip(dates, row, strict=True)],
            separators=(",", ":"),
        )
        for row in pm25
    ]
    out = pd.DataFrame(sensors.drop(columns="geometry"))
    out["pm25"] = pm25[:, -1] if n else np.empty(0)
    out["readings"] = readings
    out["readings_synthetic"] = True
    return conform(
        out, "air_sensors", geometry=sensors.geometry, crs=str(sensors.crs or "EPSG:4326")
    )
