"""The business categories: read from ``categories.toml`` (data, not code), and the outlets
of a category picked out of its catalog layer."""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import geopandas as gpd

import layers
from layers.model import Titles
from twin.core.errors import BadInput

TABLE = Path(__file__).with_name("categories.toml")
#: Tables of the file that are settings, not categories.
_SETTINGS = ("road_class", "footfall")
#: the name of a business's own category starts so (it is never cached by name alone)
CUSTOM_PREFIX = "custom-"
CUSTOM_VALUES_MAX = 20
_VALUE = re.compile(r"^[a-z0-9_]{1,40}$")


@dataclass(frozen=True)
class SiteCategory:
    """One business category: the features of ``layer`` whose ``field`` is in ``values``.

    ``minutes`` is the walking reach of a shop of the category: the competition radius of
    the Huff model, the catchment limit and the niche test.
    """

    name: str
    title: Titles
    layer: str
    field: str
    values: tuple[str, ...]
    minutes: float
    aliases: tuple[str, ...] = ()
    #: the Huff attraction of the new outlet against each competitor's 1 (a business's own
    #: category, :func:`custom_category`, may say its outlet pulls more or less)
    attraction: float = 1.0

    def summary(self) -> dict[str, Any]:
        """Return a JSON-ready description (for API answers and the report)."""
        return {
            "name": self.name,
            "title": self.title.as_dict(),
            "layer": self.layer,
            "field": self.field,
            "values": list(self.values),
            "minutes": self.minutes,
            "attraction": self.attraction,
            "custom": self.name.startswith(CUSTOM_PREFIX),
        }


def _category(name: str, row: dict[str, Any]) -> SiteCategory:
    """Return the category of one TOML table; raise ``ValueError`` on a malformed one."""
    try:
        t = row["title"]
        cat = SiteCategory(
            name=name,
            title=Titles(str(t["ru"]), str(t["kk"]), str(t["en"])),
            layer=str(row["layer"]),
            field=str(row["field"]),
            values=tuple(str(v) for v in row["values"]),
            minutes=float(row["minutes"]),
            aliases=tuple(str(a) for a in row.get("aliases", ())),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{TABLE.name}: category {name!r} lacks or mistypes {exc}") from None
    layer = layers.get(cat.layer)  # UnknownLayer for a typo
    if cat.field not in layer.prop_names:
        raise ValueError(f"{TABLE.name}: {cat.layer} has no property {cat.field!r}")
    if not cat.values or not 0 < cat.minutes <= 30:
        raise ValueError(f"{TABLE.name}: {name!r} needs values and minutes in (0, 30]")
    return cat


@cache
def _table() -> dict[str, Any]:
    with TABLE.open("rb") as f:
        return tomllib.load(f)


@cache
def categories() -> dict[str, SiteCategory]:
    """Return every category of the table by name, in table order."""
    return {
        name: _category(name, row)
        for name, row in _table().items()
        if name not in _SETTINGS and isinstance(row, dict)
    }


@cache
def road_class_weights() -> dict[str, float]:
    """Return the access value (0–1) of each road class."""
    return {str(k): float(v) for k, v in _table().get("road_class", {}).items()}


@cache
def footfall_excluded() -> frozenset[str]:
    """Return the POI categories left out of the footfall proxy."""
    return frozenset(str(v) for v in _table().get("footfall", {}).get("exclude", ()))


def category(name: str) -> SiteCategory:
    """Return the category called ``name`` (or one of its aliases); raise :class:`BadInput`
    if there is none.

    >>> category("supermarket").name
    'grocery'
    """
    key = (name or "").strip().lower()
    cats = categories()
    if key in cats:
        return cats[key]
    for cat in cats.values():
        if key in cat.aliases:
            return cat
    raise BadInput(f"unknown category {name!r}; use one of: {', '.join(cats)}")


def outlets(frame: gpd.GeoDataFrame, cat: SiteCategory) -> gpd.GeoDataFrame:
    """Return the features of ``frame`` (the category's layer) that are outlets of ``cat``,
    as points (a polygon feature by a point on its surface)."""
    if len(frame) == 0 or cat.field not in frame:
        return frame.iloc[0:0]
    mine = frame[frame[cat.field].isin(cat.values)]
    mine = mine[mine.geometry.notna() & ~mine.geometry.is_empty].copy()
    if len(mine) and not (mine.geom_type == "Point").all():
        mine = mine.set_geometry(mine.geometry.representative_point())
    return mine


def custom_category(
    values: list[str],
    minutes: float = 10.0,
    attraction: float = 1.0,
    title: str | None = None,
) -> SiteCategory:
    """Return a business's own category: its competitors are the points of interest whose
    ``category`` is in ``values`` (OSM amenity/shop values such as ``pharmacy``), within
    ``minutes`` on foot (1–30), and its new outlet pulls ``attraction`` times what one
    competitor pulls (0.1–10). Raise :class:`BadInput` naming what is wrong.

    >>> custom_category(["Bakery", "cafe"], 8, 1.5).values
    ('bakery', 'cafe')
    """
    if not isinstance(values, list) or not 1 <= len(values) <= CUSTOM_VALUES_MAX:
        raise BadInput(f"pois: 1 to {CUSTOM_VALUES_MAX} point-of-interest categories")
    clean = sorted({str(v).strip().lower() for v in values})
    bad = [v for v in clean if not _VALUE.match(v)]
    if bad:
        raise BadInput(f"pois: {bad[0]!r} is not a category (letters, digits, _; e.g. pharmacy)")
    if not 1 <= float(minutes) <= 30:
        raise BadInput("minutes: 1 to 30")
    if not 0.1 <= float(attraction) <= 10:
        raise BadInput("attraction: 0.1 to 10 (1: as strong as one competitor)")
    key = f"{','.join(clean)}|{float(minutes):g}|{float(attraction):g}"
    name = CUSTOM_PREFIX + hashlib.sha256(key.encode()).hexdigest()[:12]
    label = (title or "").strip()[:80] or ", ".join(clean)
    return SiteCategory(
        name=name,
        title=Titles(label, label, label),
        layer="pois",
        field="category",
        values=tuple(clean),
        minutes=float(minutes),
        attraction=float(attraction),
    )
