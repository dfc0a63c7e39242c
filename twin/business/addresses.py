"""Place a house number the data does not have on its street, from the street's numbered houses.

Why: the bundled OpenStreetMap set numbers a few hundred of Almaty's buildings, so a business's
"Абая 10" usually names a house the data lacks, while проспект Абая itself and its houses 34–79
are there. Search alone then had two bad answers: the only "Абая, 10" in the data (a village
north of the city), or nothing. A geocoder places such a number by interpolating along the
street between known numbers (Nominatim's interpolation lines, TIGER's address ranges); no
library does that offline over our own layers, so it is written here, small:

* the street is the line layer's feature(s) with the hit's name, inside the city;
* its numbered houses are buildings whose ``street`` names the same street (street type and
  word form aside) standing within :data:`NEAR_STREET_M` of it;
* the number is placed on the straight line through the two known numbers nearest to it on
  its own side of the street — odd numbers on one side, even on the other, as in every
  Almaty street — and snapped to the street, which also stops it at the street's end.
  Almaty's streets are straight for long stretches, but the two sides' numbers do not face
  each other (35 can stand opposite 50), so a pair from both sides placed a number hundreds
  of metres off: in the test street, house 6 from 4 and 3 landed 730 m away, from 4 and 2 on
  its spot. Only when its side has fewer than two numbers are both sides used (said so:
  ``same_side`` false).

A street with fewer than two distinct numbered houses places nothing: the row is reported
unresolved rather than put at the middle of a 10 km avenue. The answer says it was
interpolated and from which houses.

Measured on the bundled set: "Абая 10" → (76.95, 43.24) on проспект Абая, from houses 34 and 36,
near the real Абая 10 (Dostyk corner, 76.955, 43.240).
"""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
import shapely.affinity

import layers as catalog
from twin.search import SearchHit, name_keys
from twin.store import Store
from twin.store.dialect import fold_text as fold

#: How far from its street a numbered house may stand (metres).
NEAR_STREET_M = 150.0
# metres per degree at Almaty's latitude (43.25° N): local distances only
_M_LAT = 111_320.0
_M_LON = 111_320.0 * float(np.cos(np.radians(43.25)))
_NUMBER = re.compile(r"\d+")


def house_number(text: str | None) -> int | None:
    """Return the leading number of a house number ("54 А" → 54, "77/8" → 77).

    >>> house_number("54 А"), house_number("77/8"), house_number("б/н")
    (54, 77, None)
    """
    m = _NUMBER.search(text or "")
    return int(m.group()) if m else None


@dataclass
class _Streets:
    by_name: dict[str, Any]  # folded street name -> its (multi)line, EPSG:4326
    houses: dict[tuple[str, ...], list[tuple[int, str, float, float]]]  # name keys -> houses


_cache: weakref.WeakKeyDictionary[Store, tuple[int, _Streets]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _build(store: Store) -> _Streets:
    roads = store.read_frame(catalog.get("roads"))
    roads = roads[roads["name"].notna() & roads.geometry.notna()]
    by_name: dict[str, Any] = {}
    for name, group in roads.groupby(roads["name"].map(lambda s: fold(str(s)))):
        by_name[str(name)] = shapely.union_all(np.asarray(group.geometry.values))
    b = store.read_frame(catalog.get("buildings"))
    b = b[b["street"].notna() & b["housenumber"].notna() & b.geometry.notna()]
    pts = b.geometry.representative_point()
    houses: dict[tuple[str, ...], list[tuple[int, str, float, float]]] = {}
    for street, num, x, y in zip(b["street"], b["housenumber"], pts.x, pts.y, strict=True):
        n = house_number(str(num))
        if n is not None:
            houses.setdefault(tuple(name_keys(str(street))), []).append(
                (n, str(num), float(x), float(y))
            )
    return _Streets(by_name, houses)


def _streets(store: Store) -> _Streets:
    # versioned by the roads' and buildings' own changes, not every write to the store
    head = store.last_change_id(["roads", "buildings"])
    with _lock:
        kept = _cache.get(store)
        if kept is None or kept[0] != head:
            kept = (head, _build(store))
            _cache[store] = kept
        return kept[1]


@dataclass(frozen=True)
class Placed:
    """A house number placed on its street."""

    point: tuple[float, float]
    #: the two known house numbers it was placed from
    from_houses: list[str]
    #: whether both were on the number's own side (same parity)
    same_side: bool


def interpolate(
    store: Store, street: SearchHit, number: str, within: shapely.Geometry | None = None
) -> Placed | None:
    """Return house ``number`` placed on the street ``street`` (a line layer's hit) from two
    known houses, of its own side when it has two, or None when the street has fewer than two
    distinct numbered houses (in ``within``, if given)."""
    n = house_number(number)
    line = _streets(store).by_name.get(fold(street.label))
    if n is None or line is None:
        return None
    if within is not None:
        line = shapely.intersection(line, within)
        if shapely.is_empty(line):
            return None
    known = _streets(store).houses.get(tuple(name_keys(street.label)), [])
    if not known:
        return None
    xy = np.array([(x, y) for _n, _t, x, y in known])
    # metres from the street, on a local plane (degrees scaled at the city's latitude)
    scaled = shapely.affinity.scale(line, _M_LON, _M_LAT, origin=(0, 0))
    near = shapely.distance(scaled, shapely.points(xy * [_M_LON, _M_LAT])) <= NEAR_STREET_M
    houses = sorted(
        (h for h, ok in zip(known, near, strict=True) if ok), key=lambda h: (abs(h[0] - n), h[0])
    )
    side = [h for h in houses if h[0] % 2 == n % 2]
    pair = _two_numbers(side)
    same_side = pair is not None
    if pair is None:
        pair = _two_numbers(houses)
    if pair is None:
        return None
    (n1, t1, x1, y1), (n2, t2, x2, y2) = pair
    f = (n - n1) / (n2 - n1)
    guess = shapely.Point(x1 + f * (x2 - x1), y1 + f * (y2 - y1))
    on_street = shapely.line_interpolate_point(line, shapely.line_locate_point(line, guess))
    return Placed((round(on_street.x, 7), round(on_street.y, 7)), [t1, t2], same_side)


def street_line(
    store: Store, street: SearchHit, within: shapely.Geometry | None = None
) -> shapely.Geometry | None:
    """Return the whole street of a line layer's hit (every feature of its name, in
    ``within`` if given), or None when it has no such line."""
    line = _streets(store).by_name.get(fold(street.label))
    if line is None:
        return None
    if within is not None:
        line = shapely.intersection(line, within)
    return None if shapely.is_empty(line) else line


def _two_numbers(
    houses: list[tuple[int, str, float, float]],
) -> tuple[tuple[int, str, float, float], tuple[int, str, float, float]] | None:
    """Return the first two houses of ``houses`` with different numbers, or None."""
    first = houses[0] if houses else None
    second = next((h for h in houses if first is not None and h[0] != first[0]), None)
    if first is None or second is None:
        return None
    return first, second
