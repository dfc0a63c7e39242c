"""Reader of the AirData.kz hourly readings: one pollutant per file, turned into daily means.

Why a reader of its own: the publisher's ``datetime_utc`` is not UTC. It carries US Pacific
offsets (``-08:00`` in winter, ``-07:00`` in summer, switching on the US daylight-saving
dates), i.e. the instants were written out in the publishing server's own zone. Checked on
the data (kgmt_27, NO2): parsed as instants the series is strictly hourly with no duplicate
across every US switch, while read as wall-clock times the repeated 01:00 of each November
carries two different readings. So each stamp is parsed with its offset, turned into UTC,
and the reading is assigned to its day in Almaty (``Asia/Almaty``: UTC+6 until 1 March 2024,
UTC+5 since; zoneinfo knows both). Example: ``2021-12-02 11:00:00-08:00`` is 19:00 UTC,
01:00 on 3 December 2021 in Almaty.

Readings within one hour are averaged first (WAQI stations report up to three times an hour); a
daily mean is the mean of the hourly means, kept when at least :data:`MIN_HOURS` of the 24
hours were measured (the usual 75 % completeness rule), with its hour count. Rows that cannot
be used — time that does not parse, a station not in the station list, a missing, negative or
impossible value (over :data:`MAX_VALUE` µg/m³) — are returned as rejections naming the file's
row; a file without the expected columns is refused whole."""

from __future__ import annotations

import gzip
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from twin.core.errors import SourceError
from twin.store import Rejection

LOCAL_TZ = "Asia/Almaty"
MIN_HOURS = 18
MAX_VALUE = 2000.0
PARAMETERS = ("pm10", "no2")
COLUMNS = ("datetime_utc", "station_id", "value_ugm3")

#: US EPA AQI categories (Technical Assistance Document, 2024) by 24-hour PM10, µg/m³:
#: the upper bound of each category. Above the last one the air is "hazardous".
AQI_PM10 = (
    (54.0, "good"),
    (154.0, "moderate"),
    (254.0, "sensitive"),
    (354.0, "unhealthy"),
    (424.0, "very_unhealthy"),
)
AQI_CATEGORIES = (*(c for _, c in AQI_PM10), "hazardous")


@dataclass
class DailyReadings:
    """A file's daily means (``station_id``, ``parameter``, ``day`` ISO text, ``value``,
    ``hours``) and the hourly rows rejected, with the reason."""

    parameter: str
    frame: pd.DataFrame
    rejected: list[Rejection] = field(default_factory=list)
    hourly_rows: int = 0


def aqi_category(pm10: float | None) -> str | None:
    """Return the US EPA AQI category of a 24-hour PM10 mean (µg/m³), None without one.

    Examples
    --------
    >>> [aqi_category(v) for v in (12.0, 54.4, 55.0, 300.0, 500.0, None)]
    ['good', 'good', 'moderate', 'unhealthy', 'hazardous', None]
    """
    if pm10 is None or not np.isfinite(pm10):
        return None
    value = float(np.floor(pm10))  # the EPA truncates PM10 to whole µg/m³
    for upper, category in AQI_PM10:
        if value <= upper:
            return category
    return "hazardous"


def to_utc(stamps: pd.Series) -> pd.Series:
    """Return the stamps (text with offsets) as UTC instants; NaT where one does not parse.

    Examples
    --------
    >>> to_utc(pd.Series(["2021-12-02 11:00:00-08:00", "yesterday"])).tolist()
    [Timestamp('2021-12-02 19:00:00+0000', tz='UTC'), NaT]
    """
    return pd.to_datetime(stamps, utc=True, format="ISO8601", errors="coerce")


def local_day(utc: pd.Series) -> pd.Series:
    """Return the Almaty calendar day (ISO text) of each UTC instant.

    Examples
    --------
    >>> local_day(to_utc(pd.Series(["2021-12-02 11:00:00-08:00"]))).tolist()
    ['2021-12-03']
    """
    return utc.dt.tz_convert(LOCAL_TZ).dt.strftime("%Y-%m-%d")


def parameter_of(path: Path) -> str:
    """Return the pollutant a file holds, from its name (``pm10.csv.gz`` -> ``pm10``)."""
    stem = path.name.split(".")[0].lower()
    if stem not in PARAMETERS:
        raise SourceError(
            f"{path.name}: not an AirData.kz hourly file of a known pollutant "
            f"(expected one of {', '.join(p + '.csv.gz' for p in PARAMETERS)})"
        )
    return stem


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        with (
            gzip.open(path, "rt", encoding="utf-8")
            if path.suffix == ".gz"
            else path.open(encoding="utf-8") as fh
        ):
            return pd.read_csv(fh, dtype={"station_id": str, "datetime_utc": str})
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, EOFError) as exc:
        raise SourceError(f"{path.name}: cannot be read as a CSV file ({exc})") from None


def read_hourly(path: Path, stations: Collection[str]) -> DailyReadings:
    """Read an AirData.kz hourly file and return its daily means per station.

    Parameters
    ----------
    path : Path
        ``pm10.csv.gz`` or ``no2.csv.gz`` (plain ``.csv`` too), the publisher's columns.
    stations : collection of str
        The station ids the readings may name (the station layer's).
    """
    parameter = parameter_of(path)
    raw = _read_csv(path)
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise SourceError(
            f"{path.name}: missing column(s) {', '.join(missing)}; an AirData.kz hourly file "
            f"has {', '.join(COLUMNS)}"
        )
    utc = to_utc(raw["datetime_utc"])
    value = pd.to_numeric(raw["value_ugm3"], errors="coerce")
    station = raw["station_id"].astype(str)
    checks = (
        (utc.isna(), "time {t!r} does not parse as a date and time with an offset"),
        (~station.isin(set(stations)), "unknown station {s!r}"),
        (value.isna(), "no value"),
        (value < 0, "negative value {v} µg/m³"),
        (value > MAX_VALUE, "impossible value {v} µg/m³ (over 2,000)"),
    )
    stamps: list[str] = raw["datetime_utc"].astype(str).tolist()
    names: list[str] = station.tolist()
    numbers: list[float] = value.astype(float).tolist()
    reasons: dict[int, str] = {}  # position -> the first problem found
    for bad, template in checks:
        for i in np.flatnonzero(bad.to_numpy()).tolist():
            if i not in reasons:
                reasons[i] = template.format(t=stamps[i], s=names[i], v=numbers[i])
    rejected = [
        Rejection(
            row=i + 1,
            source_id=None,
            reason=f"{path.name} row {i + 1}: {reasons[i]}",
            properties={
                "datetime_utc": stamps[i],
                "station_id": names[i],
                "value_ugm3": None if np.isnan(numbers[i]) else numbers[i],
            },
            wkt=None,
        )
        for i in sorted(reasons)
    ]
    good = np.ones(len(raw), dtype=bool)
    good[list(reasons)] = False
    hourly = pd.DataFrame({"station_id": station[good], "utc": utc[good], "value": value[good]})
    hourly = hourly.drop_duplicates(["station_id", "utc"])
    # WAQI stations report up to three times an hour: average within the hour first, so a
    # day's mean weighs hours equally and ``hours`` counts hours, not reports.
    hourly["utc"] = hourly["utc"].dt.floor("h")
    hourly = hourly.groupby(["station_id", "utc"], sort=False)["value"].mean().reset_index()
    hourly["day"] = local_day(hourly["utc"])
    daily = (
        hourly.groupby(["station_id", "day"], sort=True)["value"]
        .agg(["mean", "size"])
        .reset_index()
        .rename(columns={"mean": "value", "size": "hours"})
    )
    daily = daily[daily["hours"] >= MIN_HOURS].reset_index(drop=True)
    daily["value"] = daily["value"].round(2)
    daily.insert(1, "parameter", parameter)
    return DailyReadings(parameter, daily, rejected, hourly_rows=len(raw))


def latest_by_station(daily: pd.DataFrame) -> pd.DataFrame:
    """Return per station the last day with any daily mean and each pollutant's mean that day.

    Columns: ``station_id``, ``latest_day``, one per pollutant in :data:`PARAMETERS` (NaN
    where the station did not measure it that day), ``aqi`` (from PM10).
    """
    if daily.empty:
        return pd.DataFrame(columns=["station_id", "latest_day", *PARAMETERS, "aqi"])
    last = daily.groupby("station_id")["day"].max().rename("latest_day").reset_index()
    on_last = daily.merge(
        last, left_on=["station_id", "day"], right_on=["station_id", "latest_day"]
    )
    wide = on_last.pivot_table(
        index="station_id", columns="parameter", values="value", aggfunc="first"
    )
    out = last.set_index("station_id").join(wide.reindex(columns=list(PARAMETERS)))
    out["aqi"] = [aqi_category(v) for v in out["pm10"]]
    return out.reset_index()


def recent_series(daily: pd.DataFrame, station_id: str, end: str, days: int = 30) -> list[dict]:
    """Return the station's daily means for the ``days`` days ending ``end`` (inclusive), one
    dict per day with data: ``{"date", "pm10", "no2"}`` (a pollutant absent that day is left
    out)."""
    start = (pd.Timestamp(end) - pd.Timedelta(days=days - 1)).strftime("%Y-%m-%d")
    mine = daily[(daily["station_id"] == station_id) & daily["day"].between(start, end)]
    out: list[dict] = []
    for day, group in mine.groupby("day", sort=True):
        row: dict = {"date": day}
        for p, v in zip(group["parameter"], group["value"], strict=True):
            row[str(p)] = float(v)
        out.append(row)
    return out


CITY_PARAMETERS = ("pm25", "pm10", "no2", "so2", "co")


def read_city_daily(path: Path) -> pd.DataFrame:
    """Return AirData.kz's city-wide daily means (``daily_<pollutant>.csv.gz``): ``date``,
    ``value`` (µg/m³), ``n_stations``, oldest first. The publisher computes them from cluster
    means of its cleaned hourly readings; they are taken as published."""
    try:
        frame = pd.read_csv(path, usecols=["date", "value_ugm3", "n_stations"])
    except (OSError, ValueError, EOFError) as exc:
        raise SourceError(f"{path.name}: not an AirData.kz city daily file ({exc})") from None
    frame = frame.rename(columns={"value_ugm3": "value"}).dropna(subset=["date", "value"])
    return frame.sort_values("date").reset_index(drop=True)
