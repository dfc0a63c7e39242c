"""A staff post of a city event around "Дом 2" of ``tests.support.frames.buildings_frame``
(76.902..76.903, 43.25..43.251), shared by the API tests of events and of their layers."""

from __future__ import annotations

from typing import Any

AREA: dict[str, Any] = {
    "type": "Polygon",
    "coordinates": [[[76.9015, 43.2495], [76.9035, 43.2495], [76.9035, 43.2515],
                     [76.9015, 43.2515], [76.9015, 43.2495]]],
}  # fmt: skip
#: a street east of "Дом 3", for a road closure
LINE: dict[str, Any] = {"type": "LineString", "coordinates": [[76.905, 43.252], [76.909, 43.252]]}
OUTAGE: dict[str, Any] = {
    "kind": "outage_water",
    "severity": "major",
    "title": "Нет холодной воды",
    "address": "Дом 2",
    "starts_at": "2026-07-22T08:00",
    "ends_at": "2026-07-22T20:00",
    "geometry": AREA,
    "note": "valve 17, call the crew lead",  # staff only: never in public answers or layers
}
