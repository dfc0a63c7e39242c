"""How the browser tests and the web benchmark start Debian's Chromium (no downloaded browser).

The flags keep a root, headless Chromium from reaching for the network (which is closed here)
and give it software WebGL for MapLibre.
"""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("TWIN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--enable-unsafe-swiftshader",
]
