"""Checks of the literals a filter may carry: geometries (WKT, BBOX) and dates/timestamps."""

from __future__ import annotations

import datetime as dt
import re

import shapely

from twin.core.errors import BadInput

MAX_GEOMETRY_VERTICES = 10_000


def show(text: str) -> str:
    """Return caller text quoted for a message, cut to a readable length."""
    return repr(text if len(text) <= 40 else text[:37] + "...")


def bbox_literal(raw: str, start: int) -> shapely.Geometry:
    """Return the box of ``BBOX(minx, miny, maxx, maxy)`` (6 numbers: heights dropped)."""
    inner = raw[raw.index("(") + 1 : raw.rindex(")")]
    try:
        nums = [float(v) for v in inner.split(",")]
    except ValueError:
        nums = []
    if len(nums) not in (4, 6):
        raise BadInput(f"filter: BBOX at position {start + 1} needs 4 numbers")
    minx, miny, maxx, maxy = nums if len(nums) == 4 else (nums[0], nums[1], nums[3], nums[4])
    if minx > maxx or miny > maxy:
        raise BadInput(f"filter: BBOX at position {start + 1} has min greater than max")
    return shapely.box(minx, miny, maxx, maxy)


def check_geometry(geom: shapely.Geometry, word: str, start: int) -> None:
    """Raise :class:`BadInput` for an empty, oversized, non-lon/lat or invalid literal."""
    if geom is None or shapely.is_empty(geom):
        raise BadInput(f"filter: the {word} literal at position {start + 1} is empty")
    if shapely.get_num_coordinates(geom) > MAX_GEOMETRY_VERTICES:
        raise BadInput(
            f"filter: the {word} literal has more than {MAX_GEOMETRY_VERTICES:,} vertices"
        )
    minx, miny, maxx, maxy = shapely.bounds(geom).tolist()
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise BadInput(
            f"filter: the {word} literal at position {start + 1} is outside lon/lat "
            "(CRS84: longitude -180…180, latitude -90…90)"
        )
    if not shapely.is_valid(geom):
        reason = shapely.is_valid_reason(geom)
        raise BadInput(f"filter: the {word} literal at position {start + 1} is invalid: {reason}")


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})?$"
)


def parse_date(text: str, what: str) -> dt.date:
    """Return the calendar date of ``YYYY-MM-DD``; raise :class:`BadInput` naming ``what``."""
    if not _DATE.match(text):
        raise BadInput(f"{what} is not a date (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise BadInput(f"{what} is not a date: {exc}") from None


def parse_timestamp(text: str, what: str) -> dt.datetime:
    """Return an RFC 3339 timestamp as an aware UTC datetime (no offset means UTC)."""
    if not _TIMESTAMP.match(text):
        raise BadInput(f"{what} is not a timestamp (RFC 3339, e.g. 2024-05-01T12:00:00Z)")
    cleaned = text.replace("z", "Z").replace("t", "T")
    frac = re.search(r"\.(\d+)", cleaned)
    if frac and len(frac.group(1)) > 6:  # Python takes microseconds at most
        cleaned = cleaned.replace(frac.group(0), "." + frac.group(1)[:6])
    try:
        value = dt.datetime.fromisoformat(cleaned)
    except ValueError as exc:
        raise BadInput(f"{what} is not a timestamp: {exc}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    try:
        # An offset can push an instant at either end of the calendar outside it
        # (9999-12-31T23:59:59-01:00 is in the year 10000 in UTC).
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise BadInput(f"{what} is outside the years 1 … 9999 in UTC") from None
