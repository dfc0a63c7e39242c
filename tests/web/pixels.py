"""What the map canvas shows, read inside the page.

The WebGL canvas is copied into a 2-D canvas within MapLibre's ``render`` event, while the frame
is still in the drawing buffer, and sampled down to a small grey image.
"""

from __future__ import annotations

from typing import Any

SAMPLE_JS = """
([w, h]) => new Promise((resolve) => {
  const map = window.twin.map;
  map.once('render', () => {
    const off = document.createElement('canvas');
    off.width = w; off.height = h;
    const ctx = off.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(map.getCanvas(), 0, 0, w, h);
    const d = ctx.getImageData(0, 0, w, h).data;
    const grey = [];
    const colours = new Set();
    for (let i = 0; i < d.length; i += 4) {
      colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      grey.push(Math.round(0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2]));
    }
    resolve({ grey, colours: colours.size });
  });
  map.triggerRepaint();
})
"""


def sample(page: Any, width: int = 200, height: int = 120) -> dict[str, Any]:
    """Return ``{"grey": [...], "colours": n}`` of the map canvas scaled to width × height."""
    result: dict[str, Any] = page.evaluate(SAMPLE_JS, [width, height])
    return result


def changed_fraction(a: list[int], b: list[int], threshold: int = 12) -> float:
    """Return the fraction of pixels whose grey level differs by more than ``threshold``."""
    assert len(a) == len(b) and a
    return sum(abs(x - y) > threshold for x, y in zip(a, b, strict=True)) / len(a)
