"""Air surface benchmark (issue 19): one day's surface for all stations at 100 m over the city,
IDW and ordinary kriging, each with its leave-one-out error.

Run: ``uv run python -m bench.air`` (``--day`` and ``--parameter`` to choose; ``--cell`` for
another resolution). Reads the real readings from the bundled files (no store needed): the
stations' daily means on the busiest day of the last winter unless ``--day`` says otherwise.

What is compared, in the same run on the same grid (city boundary's box, EPSG:32643):

* ours — :func:`twin.air.surface.grid_over` with "idw" (numpy, chunked) and "kriging"
  (PyKrige ``OrdinaryKriging``, linear variogram, ``backend="vectorized"``);
* the peer — PyKrige's own ``execute("grid", …)`` with ``backend="loop"`` (its default
  memory-light path) for kriging, and SciPy's ``RBFInterpolator`` (inverse multiquadric,
  nearest-neighbour free) as a second interpolator of the same points.

Goal: ≤ 1 s for each method of ours. The ratio printed is peer time / our time.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import pyogrio
import pyproj
from pykrige.ok import OrdinaryKriging
from scipy.interpolate import RBFInterpolator

from etl import airdata
from twin.air import surface
from twin.core.settings import DATA_DIR


def stations_of(day: str | None, parameter: str) -> tuple[str, np.ndarray, np.ndarray]:
    """Return (day, xy in metres, values) for the stations with a daily mean that day."""
    history = DATA_DIR / "almaty/air_quality/history"
    stations = pyogrio.read_dataframe(
        DATA_DIR / "almaty/air_quality/almaty_air_stations_airdatakz.geojson"
    )
    daily = airdata.read_hourly(history / f"{parameter}.csv.gz", set(stations["station_id"])).frame
    if day is None:
        winter = daily[daily["day"].between("2025-11-01", "2026-02-28")]
        day = str(winter.groupby("day").size().idxmax())
    mine = daily[daily["day"] == day].merge(
        pd.DataFrame(
            {
                "station_id": stations["station_id"],
                "x": stations.geometry.x,
                "y": stations.geometry.y,
            }
        )
    )
    to_m = pyproj.Transformer.from_crs(4326, 32643, always_xy=True)
    x, y = to_m.transform(mine["x"].to_numpy(), mine["y"].to_numpy())
    return day, np.column_stack([x, y]), mine["value"].to_numpy(dtype=float)


def city_box() -> tuple[float, float, float, float]:
    both = pyogrio.read_dataframe(
        DATA_DIR / "almaty/boundaries/almaty_city_and_districts_osm_2024-11-15.geojson"
    )
    city = both[both["@id"] == "relation/2465058"].to_crs(32643)
    w, s, e, n = city.total_bounds
    return float(w), float(s), float(e), float(n)


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--day")
    ap.add_argument("--parameter", default="pm10", choices=airdata.PARAMETERS)
    ap.add_argument("--cell", type=float, default=100.0)
    args = ap.parse_args()
    day, xy, z = stations_of(args.day, args.parameter)
    box = city_box()
    cols = int(np.ceil((box[2] - box[0]) / args.cell))
    rows = int(np.ceil((box[3] - box[1]) / args.cell))
    print(
        f"{args.parameter} on {day}: {len(z)} stations; grid {rows} x {cols} = "
        f"{rows * cols:,} cells of {args.cell:g} m"
    )
    cv = surface.cross_validate(xy, z)
    for m in surface.METHODS:
        e = cv.errors[m]
        print(f"  LOO {m:8s} RMSE {e['rmse']:.2f}  MAE {e['mae']:.2f}  bias {e['bias']:+.2f} µg/m³")
    print(f"  chosen: {cv.chosen}")

    ours_idw = timed(lambda: surface.grid_over("idw", xy, z, box, args.cell, max_cells=10**7))
    ours_ok = timed(lambda: surface.grid_over("kriging", xy, z, box, args.cell, max_cells=10**7))
    xs = box[0] + (np.arange(cols) + 0.5) * args.cell
    ys = box[3] - (np.arange(rows) + 0.5) * args.cell

    def peer_ok() -> None:
        ok = OrdinaryKriging(xy[:, 0] / 1000, xy[:, 1] / 1000, z, variogram_model="linear")
        ok.execute("grid", xs / 1000, ys / 1000, backend="loop")

    def peer_rbf() -> None:
        gx, gy = np.meshgrid(xs, ys)
        RBFInterpolator(xy, z, kernel="inverse_multiquadric", epsilon=1 / 5000)(
            np.column_stack([gx.ravel(), gy.ravel()])
        )

    p_ok = timed(peer_ok, repeat=1)
    p_rbf = timed(peer_rbf, repeat=1)
    goal = "met" if max(ours_idw, ours_ok) <= 1.0 else "NOT met"
    print(
        f"  ours IDW      {ours_idw:.3f} s   | peer SciPy RBF       {p_rbf:.3f} s  "
        f"ratio {p_rbf / ours_idw:.2f}"
    )
    print(
        f"  ours kriging  {ours_ok:.3f} s   | peer PyKrige 'loop'  {p_ok:.3f} s  "
        f"ratio {p_ok / ours_ok:.2f}"
    )
    print(f"  goal <= 1 s each: {goal}")


if __name__ == "__main__":
    main()
