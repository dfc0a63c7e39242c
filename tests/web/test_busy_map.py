"""Issue 15, item 9: with every layer on, the residents' appeal counts turned the city orange
and hid the points. The counts are now light, coloured along a brown ramp by count, and drawn
below every line and point (tiles/style.py); the population grid is a purple ramp by its
estimate instead of one orange. Measured on the canvas at city zoom, as a resident sees it."""

from __future__ import annotations

from typing import Any

import layers
from tests.web.conftest import Session
from tests.web.pixels import sample

#: The share of pixels whose colour is a saturated orange (hue 15-45°, saturation and value
#: above 0.45): what "the map turns orange" means.
ORANGE_JS = """
([w, h]) => new Promise((resolve) => {
  const map = window.twin.map;
  map.once('render', () => {
    const off = document.createElement('canvas');
    off.width = w; off.height = h;
    const ctx = off.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(map.getCanvas(), 0, 0, w, h);
    const d = ctx.getImageData(0, 0, w, h).data;
    let orange = 0;
    for (let i = 0; i < d.length; i += 4) {
      const [r, g, b] = [d[i] / 255, d[i + 1] / 255, d[i + 2] / 255];
      const mx = Math.max(r, g, b), mn = Math.min(r, g, b);
      if (mx === 0 || mx === mn || mx !== r) continue;
      const hue = (60 * (g - b)) / (mx - mn);
      if (hue >= 15 && hue <= 45 && (mx - mn) / mx > 0.45 && mx > 0.45) orange += 1;
    }
    resolve(orange / (w * h));
  });
  map.triggerRepaint();
})
"""

ALL = ",".join(layers.ids())
VIEW = f"#map=11.00/43.25000/76.92000&layers={ALL}"


def _orange(session: Session) -> float:
    share: float = session.page.evaluate(ORANGE_JS, [200, 120])
    return share


def _grey_change(a: list[int], b: list[int]) -> float:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


def test_every_layer_on_stays_readable(make_session: Any) -> None:
    session: Session = make_session(width=1280, height=800)
    session.open(VIEW)
    page = session.page
    session.idle()
    orange = _orange(session)
    with_counts = sample(page)["grey"]
    page.evaluate("twin.map.setLayoutProperty('appeals-hexagons', 'visibility', 'none')")
    session.idle()
    without = sample(page)["grey"]
    change = _grey_change(with_counts, without)
    session.screenshot("busy-map.png")
    # measured before (load 13): 0.64 of the canvas orange, a mean change of 26 grey levels;
    # after: 0.003 and 5.6
    assert orange < 0.05, f"{orange:.0%} of the map is orange"
    assert change < 12, f"the appeal counts change the map by {change:.0f} grey levels"
    assert session.console_errors == []


def test_counts_are_drawn_below_every_point_layer(make_session: Any) -> None:
    session: Session = make_session(width=1280, height=800)
    session.open(VIEW)
    ids = session.page.evaluate("twin.map.getStyle().layers.map((l) => [l.id, l.type])")
    order = [i for i, _ in ids]
    hexes = [order.index(i) for i, _ in ids if i.endswith("-hexagons")]
    points = [order.index(i) for i, kind in ids if kind == "circle"]
    assert hexes and points
    assert max(hexes) < min(points), "a layer of counts is drawn above points"
