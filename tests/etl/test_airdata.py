"""The AirData.kz reader: time-zone normalisation on known rows, daily means, bad rows."""

from __future__ import annotations

import doctest
import gzip
from pathlib import Path

import pandas as pd
import pytest

from etl import airdata
from twin.core.errors import SourceError

HEADER = "datetime_utc,station_id,station_name,source,lat,lon,value_ugm3\n"


def _write(path: Path, rows: list[tuple[str, str, object]]) -> Path:
    lines = [f"{t},{s},x,kgmt,43.2,76.9,{v}" for t, s, v in rows]
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(HEADER + "\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("stamp", "utc", "almaty_day"),
    [
        # the first row of the bundled pm10 file: 19:00 UTC, 01:00 next day in Almaty (UTC+6)
        ("2021-12-02 11:00:00-08:00", "2021-12-02T19:00:00Z", "2021-12-03"),
        # US summer time (-07:00), still UTC+6 in Almaty: 00:00 on 2 June
        ("2023-06-01 11:00:00-07:00", "2023-06-01T18:00:00Z", "2023-06-02"),
        # since 1 March 2024 Almaty is UTC+5: the same wall clock is 23:00 on 1 June
        ("2024-06-01 11:00:00-07:00", "2024-06-01T18:00:00Z", "2024-06-01"),
    ],
)
def test_pacific_offsets_become_utc_and_almaty_days(stamp: str, utc: str, almaty_day: str) -> None:
    parsed = airdata.to_utc(pd.Series([stamp]))
    assert parsed.iloc[0] == pd.Timestamp(utc)
    assert airdata.local_day(parsed).tolist() == [almaty_day]


def test_daily_means_per_almaty_day_hours_counted_and_sub_hourly_reports_averaged(
    tmp_path: Path,
) -> None:
    # Almaty day 2024-06-02 (UTC+5) runs 2024-06-01 19:00Z .. 2024-06-02 18:00Z,
    # i.e. Pacific 12:00-07:00 on 1 June to 11:00-07:00 on 2 June.
    start = pd.Timestamp("2024-06-01 19:00", tz="UTC")
    rows = []
    for h in range(24):
        t = (start + pd.Timedelta(hours=h)).tz_convert("America/Los_Angeles")
        rows.append((t.isoformat(sep=" "), "kgmt_1", 10.0 if h < 12 else 30.0))
    # a second report in the first hour (WAQI style): that hour's mean becomes (10 + 70) / 2
    rows.append(("2024-06-01 12:20:00-07:00", "kgmt_1", 70.0))
    # a station with only 17 hours that day: below the 18-hour rule, no daily mean
    for h in range(17):
        t = (start + pd.Timedelta(hours=h)).tz_convert("America/Los_Angeles")
        rows.append((t.isoformat(sep=" "), "kgmt_2", 5.0))
    out = airdata.read_hourly(_write(tmp_path / "pm10.csv.gz", rows), {"kgmt_1", "kgmt_2"})
    assert out.rejected == []
    assert out.frame.to_dict("records") == [
        {"station_id": "kgmt_1", "parameter": "pm10", "day": "2024-06-02",
         "value": round((40.0 + 11 * 10.0 + 12 * 30.0) / 24, 2), "hours": 24},
    ]  # fmt: skip


def test_the_repeated_november_hour_keeps_both_readings(tmp_path: Path) -> None:
    # 2022-11-06 01:00 happens twice in US Pacific time: two instants an hour apart.
    rows = [("2022-11-06 01:00:00-07:00", "s", 1.0), ("2022-11-06 01:00:00-08:00", "s", 3.0)]
    # They are 08:00 and 09:00 UTC, inside Almaty's 6 November (18:00Z on the 5th to 17:00Z).
    day = pd.date_range("2022-11-05 18:00", periods=24, freq="h", tz="UTC")
    rows += [
        (t.tz_convert("America/Los_Angeles").isoformat(sep=" "), "s", 2.0)
        for t in day
        if t.hour not in (8, 9)
    ]
    out = airdata.read_hourly(_write(tmp_path / "no2.csv.gz", rows), {"s"})
    assert out.frame[["day", "hours", "value"]].to_dict("records") == [
        {"day": "2022-11-06", "hours": 24, "value": 2.0}
    ]


def test_bad_rows_are_rejected_naming_the_row(tmp_path: Path) -> None:
    rows = [
        ("2024-01-01 00:00:00-08:00", "kgmt_1", 12.0),
        ("not a time", "kgmt_1", 12.0),
        ("2024-01-01 01:00:00-08:00", "nowhere", 12.0),
        ("2024-01-01 02:00:00-08:00", "kgmt_1", -3.0),
        ("2024-01-01 03:00:00-08:00", "kgmt_1", 2500.0),
        ("2024-01-01 04:00:00-08:00", "kgmt_1", ""),
    ]
    out = airdata.read_hourly(_write(tmp_path / "pm10.csv.gz", rows), {"kgmt_1"})
    reasons = [r.reason for r in out.rejected]
    assert reasons == [
        "pm10.csv.gz row 2: time 'not a time' does not parse as a date and time with an offset",
        "pm10.csv.gz row 3: unknown station 'nowhere'",
        "pm10.csv.gz row 4: negative value -3.0 µg/m³",
        "pm10.csv.gz row 5: impossible value 2500.0 µg/m³ (over 2,000)",
        "pm10.csv.gz row 6: no value",
    ]
    assert out.frame.empty  # one good hour is not a day


def test_files_in_the_wrong_format_are_refused_whole(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"not an AirData\.kz hourly file"):
        airdata.read_hourly(tmp_path / "so2.csv.gz", {"s"})
    bad = tmp_path / "pm10.csv"
    bad.write_text("time,station,value\n2024-01-01,s,1\n", encoding="utf-8")
    with pytest.raises(SourceError, match="missing column"):
        airdata.read_hourly(bad, {"s"})
    garbage = tmp_path / "no2.csv.gz"
    garbage.write_bytes(b"\x1f\x8bnot gzip at all")
    with pytest.raises(SourceError, match="cannot be read"):
        airdata.read_hourly(garbage, {"s"})


def test_aqi_categories_follow_the_epa_pm10_breakpoints() -> None:
    values = [0.0, 54.9, 55.0, 154.9, 155.0, 254.9, 255.0, 354.9, 355.0, 424.9, 425.0, None]
    assert [airdata.aqi_category(v) for v in values] == [
        "good", "good", "moderate", "moderate", "sensitive", "sensitive",
        "unhealthy", "unhealthy", "very_unhealthy", "very_unhealthy", "hazardous", None,
    ]  # fmt: skip


def test_latest_values_all_come_from_one_day() -> None:
    daily = pd.DataFrame(
        {
            "station_id": ["a", "a", "a", "b"],
            "parameter": ["pm10", "no2", "pm10", "no2"],
            "day": ["2026-01-01", "2026-01-02", "2026-01-02", "2025-05-05"],
            "value": [80.0, 40.0, 60.0, 9.0],
            "hours": [24, 24, 24, 24],
        }
    )
    latest = airdata.latest_by_station(daily).set_index("station_id")
    assert latest.loc["a", "latest_day"] == "2026-01-02"
    assert (latest.loc["a", "pm10"], latest.loc["a", "no2"]) == (60.0, 40.0)
    assert latest.loc["a", "aqi"] == "moderate"
    assert pd.isna(latest.loc["b", "pm10"]) and pd.isna(latest.loc["b", "aqi"])
    series = airdata.recent_series(daily, "a", "2026-01-02")
    assert series == [
        {"date": "2026-01-01", "pm10": 80.0},
        {"date": "2026-01-02", "no2": 40.0, "pm10": 60.0},
    ]


def test_docstring_examples_run() -> None:
    assert doctest.testmod(airdata).failed == 0
