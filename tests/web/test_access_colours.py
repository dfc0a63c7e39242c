"""Issue 15, item 9: the wheelchair-access view's colours are none of the colours of the layers
it recolours (the schools' green dots, the clinics' red), so both read together."""

from __future__ import annotations

import re
from typing import Any

from layers.city import HEALTH, SCHOOLS
from tests.web.conftest import Session


def _distance(a: str, b: str) -> float:
    ra, rb = ([int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in (a, b))
    return float(sum((x - y) ** 2 for x, y in zip(ra, rb, strict=True)) ** 0.5)


def test_access_colours_differ_from_school_and_clinic_colours(make_session: Any) -> None:
    session: Session = make_session()
    session.open("#map=14/43.25/76.92&layers=schools,health,accessibility")
    page = session.page
    paint = page.evaluate(
        "JSON.stringify(twin.map.getStyle().layers.filter((l) => l.id.startsWith('twin-access-'))"
        ".map((l) => l.paint))"
    )
    access = {c.lower() for c in re.findall(r"#[0-9a-fA-F]{6}", paint)}
    assert len(access) >= 3, paint
    taken = {c.lower() for c in [*SCHOOLS.style.category_colors.values(), SCHOOLS.style.color]}
    taken.add(HEALTH.style.color.lower())
    # near colours read as the same (the old ones were 22 and 17 apart in RGB)
    for a in access:
        for b in taken:
            assert _distance(a, b) > 60, (a, b)
    assert session.console_errors == []
