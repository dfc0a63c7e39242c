"""The query parameters of ``/collections/{id}/items``, parsed and checked into an
:class:`ItemsQuery` before any SQL exists.

Everything a caller names is checked against the layer: property names in ``properties``,
``sortby`` and ``filter`` must be declared, unknown parameters are refused (OGC API –
Features Part 1, /req/core/query-param-unknown), and every limit is stated in the message.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from layers.model import Layer, Prop, PropType, t
from twin.core.errors import BadInput
from twin.features import cql2

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
MAX_OFFSET = 10_000_000
#: Terms a ``sortby`` may have (a store refuses a few thousand; a person needs a handful).
MAX_SORT_TERMS = 16
# A bbox may cover at most this many times the area of the city's extent: a bigger one is
# a whole-country request that belongs to the download formats, not to a paged query.
BBOX_AREA_FACTOR = 4.0
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
FORMATS = ("json", "geojson", "gpkg", "csv")
_STANDARD = frozenset(
    {
        "bbox",
        "bbox-crs",
        "crs",
        "datetime",
        "limit",
        "offset",
        "properties",
        "filter",
        "filter-lang",
        "filter-crs",
        "sortby",
        "f",
        "lang",
    }
)
# ``synthetic`` is on every feature, so callers may filter and sort on it like a property.
SYNTHETIC = Prop("synthetic", PropType.BOOL, t("Демо-данные", "Демо-деректер", "Demo data"))

Bbox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Interval:
    """A closed time interval in UTC; ``None`` is an open end (``..``)."""

    start: dt.datetime | None
    end: dt.datetime | None


@dataclass(frozen=True)
class SortKey:
    """One ``sortby`` term."""

    name: str
    descending: bool = False


@dataclass(frozen=True)
class ItemsQuery:
    """A checked items request. ``limit`` ``None`` means every matching feature (downloads)."""

    properties: tuple[str, ...]
    bbox: Bbox | None = None
    interval: Interval | None = None
    filter: cql2.Node | None = None
    sortby: tuple[SortKey, ...] = ()
    limit: int | None = DEFAULT_LIMIT
    offset: int = 0
    format: str = "json"


def queryables(layer: Layer) -> dict[str, Prop]:
    """Return the properties a filter or sort may name: the declared ones and ``synthetic``."""
    return {**{p.name: p for p in layer.properties}, SYNTHETIC.name: SYNTHETIC}


def parse_items_query(
    layer: Layer,
    params: Iterable[tuple[str, str]],
    *,
    city: Callable[[], Bbox],
    format: str = "json",
) -> ItemsQuery:
    """Return the checked query of an items request; raise :class:`BadInput` naming the problem.

    ``params`` are the raw query pairs; ``city`` returns the city's extent (for the bbox limit);
    ``format`` is the negotiated output format (downloads default to every feature).
    Parameters named like a queryable are equality filters (``?kind=school``).

    Examples
    --------
    >>> import layers
    >>> q = parse_items_query(layers.get("schools"), [("limit", "5"), ("sortby", "-capacity")],
    ...                       city=lambda: (76.7, 43.0, 77.2, 43.4))
    >>> q.limit, q.sortby
    (5, (SortKey(name='capacity', descending=True),))
    """
    values: dict[str, str] = {}
    for key, value in params:
        if key in values:
            raise BadInput(f"query parameter {key!r} is given more than once")
        values[key] = value
    props = queryables(layer)
    unknown = [k for k in values if k not in _STANDARD and k not in props]
    if unknown:
        raise BadInput(
            f"unknown query parameter {_cut(unknown[0])} (parameters: "
            f"{', '.join(sorted(_STANDARD))}, or a property name to filter on)"
        )
    fmt = values.get("f", format)
    if fmt not in FORMATS:
        raise BadInput(f"f={_cut(fmt)} is not supported (formats: {', '.join(FORMATS)})")
    download = fmt in ("gpkg", "csv")

    # Part 2 (CRS by reference) with one CRS: lon/lat CRS84, in and out. EPSG:4326 is refused
    # rather than served, as it would mean lat/lon axis order.
    for key in ("crs", "bbox-crs", "filter-crs"):
        if key in values and values[key].strip("<>[]") not in (CRS84, "OGC:CRS84"):
            raise BadInput(f"{key} {_cut(values[key])} is not supported (only {CRS84})")
    if values.get("filter-lang", "cql2-text") != "cql2-text":
        raise BadInput(
            f"filter-lang {_cut(values['filter-lang'])} is not supported (only cql2-text)"
        )

    clauses: list[cql2.Node] = []
    if values.get("filter") is not None:
        clauses.append(cql2.parse(values["filter"], props))
    for name in [k for k in values if k in props]:
        clauses.append(
            cql2.Comparison(
                "=", cql2.Property(name), cql2.Literal(text_value(props[name], values[name]))
            )
        )
    node: cql2.Node | None = None
    if clauses:
        node = clauses[0] if len(clauses) == 1 else cql2.And(tuple(clauses))

    default_limit = None if download else DEFAULT_LIMIT
    return ItemsQuery(
        properties=parse_properties(layer, values.get("properties")),
        bbox=parse_bbox(values["bbox"], city()) if "bbox" in values else None,
        interval=parse_datetime(layer, values["datetime"]) if "datetime" in values else None,
        filter=node,
        sortby=parse_sortby(layer, values.get("sortby")),
        limit=parse_limit(values["limit"]) if "limit" in values else default_limit,
        offset=_integer("offset", values.get("offset", "0"), 0, MAX_OFFSET),
        format=fmt,
    )


def parse_limit(text: str) -> int:
    """Return ``limit`` as an int in 1 … :data:`MAX_LIMIT`."""
    return _integer("limit", text, 1, MAX_LIMIT)


def _integer(name: str, text: str, low: int, high: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise BadInput(f"{name} must be an integer, not {_cut(text)}") from None
    if value < low:
        raise BadInput(f"{name} must be at least {low}; got {value}")
    if value > high:
        raise BadInput(f"{name} {value:,} is above the maximum of {high:,}")
    return value


def parse_bbox(text: str, city: Bbox) -> Bbox:
    """Return ``minx,miny,maxx,maxy`` (4 or 6 numbers, CRS84) checked for range and size."""
    parts = text.split(",")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        nums = []
    if len(nums) not in (4, 6) or not all(math.isfinite(v) for v in nums):
        raise BadInput(
            f"bbox must be 4 numbers minx,miny,maxx,maxy (or 6 with heights), not {_cut(text)}"
        )
    minx, miny, maxx, maxy = nums if len(nums) == 4 else (nums[0], nums[1], nums[3], nums[4])
    if not (
        -180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90
    ):
        raise BadInput("bbox is outside CRS84 (longitude -180…180, latitude -90…90)")
    if minx > maxx:
        raise BadInput(
            "bbox minx is greater than maxx (bboxes across the antimeridian are not supported)"
        )
    if miny > maxy:
        raise BadInput("bbox miny is greater than maxy")
    area = (maxx - minx) * (maxy - miny)
    limit = BBOX_AREA_FACTOR * (city[2] - city[0]) * (city[3] - city[1])
    if area > limit:
        raise BadInput(
            f"bbox covers {area:.4g} square degrees, more than the limit of "
            f"{BBOX_AREA_FACTOR:g} times the city's extent ({limit:.4g} square degrees); "
            "use a smaller bbox, or f=gpkg / f=csv to download a whole collection"
        )
    return minx, miny, maxx, maxy


def parse_datetime(layer: Layer, text: str) -> Interval:
    """Return the ``datetime`` instant or interval (``a/b``, ``../b``, ``a/..``)."""
    if layer.temporal is None:
        raise BadInput(f"collection {layer.id!r} has no time properties; datetime does not apply")
    if "/" in text:
        a, _, b = text.partition("/")
        start, end = _instant(a, open_ok=True), _instant(b, open_ok=True)
        if start is None and end is None:
            raise BadInput("datetime interval '../..' is open at both ends")
        if start is not None and end is not None and start > end:
            raise BadInput("datetime interval starts after it ends")
        return Interval(start, end)
    value = _instant(text, open_ok=False)
    return Interval(value, value)


def _instant(text: str, *, open_ok: bool) -> dt.datetime | None:
    text = text.strip()
    if open_ok and text in ("", ".."):
        return None
    what = f"datetime {_cut(text)}"
    if len(text) == 10:
        d = cql2.parse_date(text, what)
        return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)
    return cql2.parse_timestamp(text, what)


def parse_properties(layer: Layer, text: str | None) -> tuple[str, ...]:
    """Return the declared properties to include (all when ``text`` is None)."""
    if text is None:
        return layer.prop_names
    names = [n.strip() for n in text.split(",") if n.strip()]
    declared = set(layer.prop_names)
    for name in names:
        if name not in declared and name != SYNTHETIC.name:
            raise BadInput(
                f"properties: unknown property {_cut(name)} of collection {layer.id!r} "
                f"(properties: {', '.join(layer.prop_names)})"
            )
    # Catalog order, whatever order was asked; synthetic is always included.
    return tuple(n for n in layer.prop_names if n in names)


def parse_sortby(layer: Layer, text: str | None) -> tuple[SortKey, ...]:
    """Return ``sortby`` terms: ``name``, ``+name`` or ``-name``, comma-separated."""
    if text is None:
        return ()
    props = queryables(layer)
    terms = text.split(",")
    if len(terms) > MAX_SORT_TERMS:
        raise BadInput(f"sortby has {len(terms):,} terms, more than the limit of {MAX_SORT_TERMS}")
    keys: list[SortKey] = []
    seen: set[str] = set()
    for term in terms:
        # A '+' arrives as a space when the caller did not percent-encode it.
        term = term.strip()
        descending = term.startswith("-")
        name = term.lstrip("+-").strip()
        if name.upper().endswith((" DESC", " ASC")):
            name, _, direction = name.rpartition(" ")
            descending = direction.upper() == "DESC"
        if name not in props:
            raise BadInput(f"sortby: unknown property {_cut(name)} (sortable: {', '.join(props)})")
        if name in seen:
            raise BadInput(f"sortby names {name!r} more than once")
        seen.add(name)
        keys.append(SortKey(name, descending))
    return tuple(keys)


def text_value(prop: Prop, text: str) -> str | int | float | bool:
    """Return a query-string value typed for ``prop`` (dates stay text, checked later)."""
    what = f"{prop.name}={_cut(text)}"
    if prop.type is PropType.INT:
        try:
            number = int(text)
        except ValueError:
            raise BadInput(f"{what}: {prop.name!r} is an integer property") from None
        check_number(number, what)
        return number
    if prop.type is PropType.FLOAT:
        try:
            value = float(text)
        except ValueError:
            raise BadInput(f"{what}: {prop.name!r} is a number property") from None
        if not math.isfinite(value):
            raise BadInput(f"{what}: not a finite number")
        return value
    if prop.type is PropType.BOOL:
        lowered = text.strip().lower()
        if lowered not in ("true", "false"):
            raise BadInput(f"{what}: {prop.name!r} is true or false")
        return lowered == "true"
    return text


#: Integers a store can compare with (64-bit signed, as SQLite and PostgreSQL's bigint).
INT_MIN, INT_MAX = -(2**63), 2**63 - 1


def check_number(value: int | float, what: str) -> None:
    """Raise :class:`BadInput` unless ``value`` is a finite number a store can compare with."""
    if isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
        raise BadInput(f"{what}: the number is outside the 64-bit integer range (±9.2e18)")
    if isinstance(value, float) and not math.isfinite(value):
        raise BadInput(f"{what}: not a finite number")


def _cut(text: str) -> str:
    """Return caller text quoted for a message, cut to a readable length."""
    return repr(text if len(text) <= 40 else text[:37] + "...")
