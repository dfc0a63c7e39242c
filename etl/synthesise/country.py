"""A country-scale data set for load and scale tests: the loaded city copied across Kazakhstan.

Almaty is one city of 17 regions and ~20 M people; a twin of the country holds about a
hundred cities' worth of buildings, streets and cameras. This generator makes that load from
the city already in a store: ``copies - 1`` copies of its buildings, roads and cameras, each
moved as a whole onto one point of a seeded, jittered grid over Kazakhstan's extent (so the
copies never overlap and tiles, searches and analyses meet realistic density everywhere),
marked ``synthetic`` and stored as their own sources (``country-c<k>``).

Memory stays bounded: the city is read once, and each copy is made, loaded in its own
transaction and dropped before the next (a copy of the bundled city is ~20,000 rows).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence

import geopandas as gpd
import numpy as np
import shapely

import layers
from twin.store import Batch, Store

#: the layers copied (the bulk of a city by rows)
COPIED = ("buildings", "roads", "cameras")
#: Kazakhstan's populated extent, lon/lat (west, south, east, north)
COUNTRY = (51.0, 41.5, 84.0, 54.0)
LICENCE = "synthetic (copies of ODbL data: © OpenStreetMap contributors)"


def offsets(copies: int, origin: tuple[float, float], seed: int = 0) -> np.ndarray:
    """Return ``copies - 1`` (dx, dy) shifts in degrees moving ``origin`` onto a jittered grid
    over :data:`COUNTRY` (cells at least 0.6° apart: wider than the city)."""
    n = copies - 1
    if n <= 0:
        return np.empty((0, 2))
    west, south, east, north = COUNTRY
    cols = int(np.ceil(np.sqrt(n * (east - west) / (north - south))))
    rows = int(np.ceil(n / cols))
    dx, dy = (east - west) / cols, (north - south) / rows
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    lon = west + (i % cols + 0.5) * dx + rng.uniform(-0.1, 0.1, n) * dx
    lat = south + (i // cols + 0.5) * dy + rng.uniform(-0.1, 0.1, n) * dy
    return np.column_stack([lon - origin[0], lat - origin[1]])


def copies_of(
    frames: dict[str, gpd.GeoDataFrame], copies: int, seed: int = 0
) -> Iterator[tuple[int, list[Batch]]]:
    """Yield, per copy ``k`` (1 … copies - 1), the batches of its layers."""
    cities = frames["buildings"] if len(frames["buildings"]) else next(iter(frames.values()))
    west, south, east, north = cities.total_bounds
    origin = ((west + east) / 2, (south + north) / 2)
    for k, (dx, dy) in enumerate(offsets(copies, origin, seed), start=1):
        batches = []
        for lid, base in frames.items():
            frame = base.drop(columns=["fid"], errors="ignore").copy()
            frame["source_id"] = frame["source_id"].astype(str) + f"-c{k}"
            frame["synthetic"] = True
            shift = functools.partial(np.add, np.array([dx, dy]))
            moved = shapely.transform(np.asarray(base.geometry.values), shift)
            frame = gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=moved, crs=4326)
            batches.append(
                Batch(layers.get(lid), f"country-c{k}", frame, f"country x{copies}", "0" * 64,
                      LICENCE)
            )  # fmt: skip
        yield k, batches


def generate(
    store: Store,
    copies: int,
    *,
    seed: int = 0,
    layer_ids: Sequence[str] = COPIED,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Add ``copies - 1`` copies of the store's city to it (one transaction per copy); return
    the rows written per layer."""
    frames = {}
    for lid in layer_ids:
        frame = store.read_frame(layers.get(lid), with_system=True)
        city = ~frame["source"].astype(str).str.startswith("country-")
        frames[lid] = frame[city].drop(columns=["source", "row_hash"])
    written = dict.fromkeys(layer_ids, 0)
    for k, batches in copies_of(frames, copies, seed):
        for result in store.load(batches):
            written[result.layer] += result.inserted + result.updated
        if progress is not None:
            progress(k, copies - 1)
    return written
