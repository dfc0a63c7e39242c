"""How many features of a loaded store fall in another district under the 2024 boundaries
than under the 2017 ones (issue 19, part 6), per layer: each feature's point on surface is
placed in the districts of both vintages.

    uv run python scripts/boundary_shift.py gpkg:///path/to/loaded.gpkg
"""

from __future__ import annotations

import sys

import geopandas as gpd
import numpy as np
import pyogrio  # noqa: F401  (before the first SpatiaLite connection)
import shapely

import layers
from etl.bundled.city import DISTRICTS_FILE, DISTRICTS_FILE_2017
from etl.bundled.common import district_name
from twin.core.settings import DATA_DIR
from twin.store import open_store


def _district_of(points: np.ndarray, districts: gpd.GeoDataFrame) -> np.ndarray:
    out = np.full(len(points), None, dtype=object)
    pts, polys = shapely.STRtree(districts.geometry.values).query(points, predicate="within")
    out[pts] = districts["district"].to_numpy(dtype=object)[polys]
    return out


def main(url: str) -> None:
    old = gpd.read_file(DATA_DIR / DISTRICTS_FILE_2017)
    old["district"] = old["name"].map(district_name)
    new = gpd.read_file(DATA_DIR / DISTRICTS_FILE)
    new["district"] = new["name:ru"].map(district_name)
    store = open_store(url)
    total = moved_total = 0
    print(f"{'layer':<22}{'features':>10}{'other district':>16}{'now in':>8}{'now out':>9}")
    try:
        for layer in layers.LAYERS:
            if layer.id in ("districts", "city_boundary"):
                continue
            frame = store.read_frame(layer)
            if frame.empty:
                continue
            points = shapely.point_on_surface(np.asarray(frame.geometry.values))
            a, b = _district_of(points, old), _district_of(points, new)
            switched = int(((a != b) & (a != None) & (b != None)).sum())  # noqa: E711
            came_in = int(((a == None) & (b != None)).sum())  # noqa: E711
            went_out = int(((a != None) & (b == None)).sum())  # noqa: E711
            total += len(frame)
            moved_total += switched + came_in + went_out
            if switched or came_in or went_out:
                print(f"{layer.id:<22}{len(frame):>10,}{switched:>16,}{came_in:>8,}{went_out:>9,}")
    finally:
        store.close()
    print(f"{'all layers':<22}{total:>10,}{moved_total:>16,} (switched, in or out)")


if __name__ == "__main__":
    main(sys.argv[1])
