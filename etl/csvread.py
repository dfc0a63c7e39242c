"""Extract: read a CSV of points (lon/lat columns) or of WKT geometries, row by row.

CSV is parsed with pandas (every column as text first) rather than GDAL so that each bad row
gets its own reason in ``row_errors`` instead of failing the file or vanishing.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from etl.raw import EXPECTED, RawTable, decode_utf8
from twin.core.errors import SourceError

LON_NAMES = ("lon", "lng", "longitude", "x")
LAT_NAMES = ("lat", "latitude", "y")
WKT_NAMES = ("wkt", "geometry", "geom")
_NAN_TEXT = frozenset({"nan", "+nan", "-nan"})
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


def read_csv(p: Path) -> RawTable:
    """Return a CSV as a raw table: points from lon/lat columns (EPSG:4326), else WKT (no CRS).

    Columns are matched case-insensitively: longitude ``lon/lng/longitude/x`` with latitude
    ``lat/latitude/y``, or a WKT column ``wkt/geometry/geom``; lon/lat wins if both exist.
    The delimiter is the one of ``,`` ``;`` and tab that is most frequent in the header.
    Rows are numbered from 1 after the header.

    Raises
    ------
    SourceError
        Binary content, text that is not UTF-8, malformed CSV, or no coordinate/WKT columns.
    """
    data = p.read_bytes()
    if b"\x00" in data[:4096]:
        raise SourceError(f"{p}: not a geodata file ({EXPECTED}); it is binary, not CSV text")
    text = decode_utf8(p, data, csv=True)
    if not text.strip():
        raise SourceError(f"{p}: empty file (no header line)")
    header = text.lstrip("\ufeff").splitlines()[0]
    sep = max((",", ";", "\t"), key=header.count)
    try:
        df = pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skipinitialspace=True
        )
    except (pd.errors.ParserError, ValueError) as e:
        raise SourceError(f"{p}: malformed CSV: {e}") from None
    df = df.fillna("")  # rows with too few fields come back as NaN
    lower = {str(c).strip().lower(): c for c in df.columns}
    lon = next((lower[n] for n in LON_NAMES if n in lower), None)
    lat = next((lower[n] for n in LAT_NAMES if n in lower), None)
    wkt = next((lower[n] for n in WKT_NAMES if n in lower), None)
    rows = np.arange(1, len(df) + 1)
    errors: dict[int, list[str]] = {}
    if lon is not None and lat is not None:
        x = _coordinate(df[lon], "longitude", 180.0, rows, errors)
        y = _coordinate(df[lat], "latitude", 90.0, rows, errors)
        ok = ~(np.isnan(x) | np.isnan(y))
        geoms = np.full(len(df), None, dtype=object)
        geoms[ok] = shapely.points(x[ok], y[ok])
        crs: str | None = "EPSG:4326"
    elif wkt is not None:
        geoms = _wkt(df[wkt], rows, errors)
        df = df.drop(columns=[wkt])
        crs = None
    else:
        cols = ", ".join(str(c) for c in df.columns) or "(none)"
        raise SourceError(
            f"{p}: CSV has no coordinate columns (lon/lng/longitude/x with lat/latitude/y) "
            f"and no WKT column (wkt/geometry/geom); its columns are: {cols}"
        )
    df["_row"] = rows
    frame = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, index=df.index), crs=crs)
    row_errors = {r: f"row {r}: " + "; ".join(msgs) for r, msgs in sorted(errors.items())}
    return RawTable(path=p, name="", frame=frame, row_errors=row_errors)


def _coordinate(
    text: pd.Series, what: str, limit: float, rows: np.ndarray, errors: dict[int, list[str]]
) -> np.ndarray:
    """Return the column as floats, NaN where bad; each bad row's reason goes to ``errors``."""
    s = text.astype(str).str.strip()
    values = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, copy=True)
    bad = ~np.isfinite(values) | (np.abs(values) > limit)
    for i in np.flatnonzero(bad):
        raw = str(s.iat[int(i)])
        if raw == "":
            msg = f"{what} is missing"
        elif raw.lower() in _NAN_TEXT:
            msg = f"{what} is NaN, not a number"
        elif np.isnan(values[i]):
            hint = " (use '.' as the decimal separator)" if _DECIMAL_COMMA.match(raw) else ""
            msg = f"{what} {raw!r} is not a number{hint}"
        elif not np.isfinite(values[i]):
            msg = f"{what} {raw} is not a finite number"
        else:
            msg = f"{what} {raw} is outside [{-limit:g}, {limit:g}]"
        errors.setdefault(int(rows[i]), []).append(msg)
    values[bad] = np.nan
    return values


def _wkt(text: pd.Series, rows: np.ndarray, errors: dict[int, list[str]]) -> np.ndarray:
    """Return geometries parsed from WKT text, None where missing or unparseable (with why)."""
    s = text.astype(str).str.strip()
    present = (s != "").to_numpy()
    geoms = np.full(len(s), None, dtype=object)
    geoms[present] = shapely.from_wkt(s[present].to_numpy(), on_invalid="ignore")
    for i in np.flatnonzero(~present):
        errors.setdefault(int(rows[i]), []).append("geometry (WKT) is missing")
    for i in np.flatnonzero(present & pd.isna(geoms)):
        raw = str(s.iat[int(i)])
        try:
            shapely.from_wkt(raw)
            why = "unreadable"
        except shapely.errors.GEOSException as e:
            why = str(e).split(": ", 1)[-1]
        shown = raw if len(raw) <= 60 else raw[:57] + "..."
        errors.setdefault(int(rows[i]), []).append(f"WKT {shown!r} cannot be parsed: {why}")
    return geoms
