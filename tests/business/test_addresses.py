"""House numbers placed on their street from their own side's numbers (issue 21).

A known-answer street: улица Тестовая runs east along 43.25° N. Its even houses 2 and 4
stand on the north side 80 m apart; its odd houses 1 and 3 on the south side much further
east (the two sides' numbers do not face each other). House 6 belongs 80 m east of 4, at
76.9030; the nearest two numbers, 4 and 3, from both sides put it at 76.8940, 730 m off.
"""

from __future__ import annotations

import shapely

from tests.appeals.scene import load_rows
from twin.business.addresses import interpolate
from twin.business.sites import _place
from twin.search import search
from twin.store import Store

LAT = 43.25
_DX = 0.001  # about 81 m of longitude here


def _street(store: Store, houses: dict[str, float] | None = None) -> None:
    load_rows(
        store,
        "roads",
        {
            "source_id": ["s1", "s2"],
            "name": ["улица Тестовая", "проспект Тестовая"],
            "highway": ["residential", "primary"],
        },
        [
            shapely.LineString([(76.89, LAT), (76.93, LAT)]),
            shapely.LineString([(76.89, LAT + 0.02), (76.93, LAT + 0.02)]),
        ],
    )
    houses = houses or {"2": 76.901, "4": 76.902, "1": 76.905, "3": 76.906}
    load_rows(
        store,
        "buildings",
        {
            "source_id": [f"h{n}" for n in houses],
            "street": ["улица Тестовая"] * len(houses),
            "housenumber": list(houses),
        },
        [
            shapely.Point(x, LAT + (0.0003 if int(n) % 2 == 0 else -0.0003)).buffer(0.0001)
            for n, x in houses.items()
        ],
    )


def _hit(store: Store) -> object:
    hits = [h for h in search(store, "Тестовая", [*_layers()]) if h.layer == "roads"]
    assert hits, "the street is found"
    return hits[0]


def _layers() -> list[object]:
    import layers

    return [layers.get("roads"), layers.get("buildings")]


def test_a_house_is_placed_from_its_own_side(store: Store) -> None:
    _street(store)
    placed = interpolate(store, _hit(store), "6")  # type: ignore[arg-type]
    assert placed is not None
    assert placed.from_houses == ["4", "2"] and placed.same_side
    lon, lat = placed.point
    assert abs(lon - 76.903) < 1e-6 and abs(lat - LAT) < 1e-6, placed.point
    odd = interpolate(store, _hit(store), "7")  # type: ignore[arg-type]
    assert odd is not None and odd.from_houses == ["3", "1"] and odd.same_side
    assert abs(odd.point[0] - 76.908) < 1e-6, odd.point


def test_a_side_without_two_numbers_uses_both_and_says_so(store: Store) -> None:
    _street(store, {"2": 76.901, "4": 76.902, "1": 76.905})
    placed = interpolate(store, _hit(store), "3")  # type: ignore[arg-type]
    assert placed is not None and not placed.same_side
    assert sorted(placed.from_houses) == ["2", "4"]  # 3's nearest numbers, either side
    assert interpolate(store, _hit(store), "6").same_side  # type: ignore[arg-type,union-attr]


def test_other_streets_of_the_same_name_are_listed(store: Store) -> None:
    _street(store)
    found = _place(store, "Тестовая 6", _layers(), "ru", None)  # type: ignore[arg-type]
    assert isinstance(found, tuple), found
    how = found[1]
    assert how["precision"] == "interpolated" and how["label"] == "улица Тестовая"
    assert how["other_streets"] == ["проспект Тестовая"]
    typed = _place(store, "улица Тестовая 6", _layers(), "ru", None)  # type: ignore[arg-type]
    assert isinstance(typed, tuple) and typed[1]["other_streets"] == [], typed
