"""The business categories: read from ``categories.toml`` (data, not code), and the outlets
of a category picked out of its catalog layer."""

from __future__ import annotations

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

    def summary(self) -> dict[str, Any]:
        """Return a JSON-ready description (for API answers and the report)."""
        return {
            "name": self.name,
            "title": self.title.as_dict(),
            "layer": self.layer,
            "field": self.field,
            "values": list(self.values),
            "minutes": self.minutes,
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
