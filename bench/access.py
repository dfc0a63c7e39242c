"""Access benchmark: nearest facility for every building of the 10× scaled city, and isochrones.

Run: ``uv run python -m bench.access`` (one run; builds a throwaway GeoPackage of the bundled
Almaty set first, which is not timed).

* ours: the street graph from ``roads``, then walking minutes from every building of the 10×
  scaled city to the nearest school, kindergarten, clinic, bus stop and park (snapping,
  multi-source Dijkstra with scipy, reading off at the buildings) — goal ≤ 10 s;
* one isochrone request (5/10/15/20 min walking from the centre) — goal ≤ 300 ms; driving is
  printed too;
* the peer, pandana (contraction hierarchies), on the same graph: pandana maps points to the
  nearest *node*, so the graph it gets is ours with every building and facility inserted as a
  node (edges split at the snap points, a connector for the access leg). Distances must match
  ours within 1 m; the speed ratio is pandana time / our time (> 1: we are faster).
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator

import pyogrio  # noqa: F401  (before SpatiaLite)

os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")

import numpy as np
import pandas as pd

import layers
from bench.scaled import scaled_buildings
from twin.analyses.access.graph import ModeGraph, build_graph, metric_xy
from twin.analyses.access.isochrone import isochrones
from twin.analyses.access.nearest import access_table, destinations
from twin.analyses.access.profiles import DRIVE, WALK, categories
from twin.analyses.access.search import ScipyEngine, Snapped, snap
from twin.store import open_store

CENTRE = (76.9286, 43.2567)
LIMIT_MIN = 60.0


def split_graph(mg: ModeGraph, pts: Snapped) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Return (nodes x/y, edges from/to/metres, node id of each point) with every point of
    ``pts`` inserted on its edge and joined to it by its access leg."""
    g, n, k = mg.graph, mg.n_nodes, len(pts)
    a, b = g.a[mg.edge], g.b[mg.edge]
    snap_id = n + np.arange(k)
    point_id = n + k + np.arange(k)
    order = np.lexsort((pts.t, pts.pos))
    pos, t, sid = pts.pos[order], pts.t[order], snap_id[order]
    first = np.r_[True, pos[1:] != pos[:-1]]
    last = np.r_[pos[1:] != pos[:-1], True]
    prev_node = np.where(first, mg.u[pos], np.r_[-1, sid[:-1]])
    prev_t = np.where(first, 0.0, np.r_[0.0, t[:-1]])
    untouched = np.setdiff1d(np.arange(len(mg.edge)), pos)
    frm = np.r_[mg.u[untouched], prev_node, sid[last], snap_id]
    to = np.r_[mg.v[untouched], sid, mg.v[pos[last]], point_id]
    metres = np.r_[
        mg.length[untouched],
        (t - prev_t) * mg.length[pos],
        (1.0 - t[last]) * mg.length[pos[last]],
        pts.offset_m,
    ]
    on = a[pts.pos] + (b[pts.pos] - a[pts.pos]) * pts.t[:, None]
    xy = np.vstack([g.node_xy, on, pts.xy])
    nodes = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]})
    edges = pd.DataFrame({"from": frm, "to": to, "metres": np.maximum(metres, 0.0)})
    return nodes, edges, point_id


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence pandana's C++ progress output (written to file descriptor 1)."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def pandana_nearest(
    mg: ModeGraph, xy_by_cat: dict[str, np.ndarray], targets: np.ndarray
) -> tuple[dict[str, np.ndarray], float, float]:
    """Return metres to the nearest POI per category for each target, the total seconds
    (network + POIs + queries) and the query seconds, with pandana."""
    import pandana

    names = list(xy_by_cat)
    all_xy = np.vstack([targets, *xy_by_cat.values()])
    pts = snap(mg, all_xy)
    nodes, edges, point_id = split_graph(mg, pts)
    sizes = np.cumsum([len(targets), *(len(v) for v in xy_by_cat.values())])
    # pandana places a POI at the node nearest to its coordinates; generated schools sit
    # exactly on building points, so move facility nodes 1 cm off to keep them their own.
    nodes.loc[point_id[len(targets) :], "x"] += 0.01
    maxdist = LIMIT_MIN * WALK.metres_per_minute
    t0 = time.perf_counter()
    with _quiet_stdout():
        net = pandana.Network(
            nodes["x"], nodes["y"], edges["from"], edges["to"], edges[["metres"]], twoway=True
        )
        t1 = time.perf_counter()
        out: dict[str, np.ndarray] = {}
        for i, name in enumerate(names):
            ids = point_id[sizes[i] : sizes[i + 1]]
            net.set_pois(name, maxdist, 1, nodes["x"].iloc[ids], nodes["y"].iloc[ids])
            near = net.nearest_pois(maxdist, name, num_pois=1)
            out[name] = near[1].reindex(point_id[: len(targets)]).to_numpy(float)
    t2 = time.perf_counter()
    return out, t2 - t0, t2 - t1


def main() -> None:
    """Run the benchmark once and print the table."""
    from etl.load import load_bundled
    from twin.core.settings import DATA_DIR

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"gpkg:///{tmp}/almaty.gpkg")
        load_bundled(store, DATA_DIR)
        roads = store.read_frame(layers.get("roads"))
        frames = {lid: store.read_frame(layers.get(lid)) for lid in
                  ("schools", "health", "bus_stops", "parks")}  # fmt: skip
        store.close()
    buildings = scaled_buildings(10)
    pts = buildings.geometry.representative_point()
    xy = metric_xy(pts.x.to_numpy(), pts.y.to_numpy())
    cats = categories(None)

    engine = ScipyEngine()
    t0 = time.perf_counter()
    graph = build_graph(roads)
    t1 = time.perf_counter()
    ours = access_table(engine, graph, WALK, frames, xy, cats, limit=LIMIT_MIN)
    t2 = time.perf_counter()
    ours_total, ours_query = t2 - t0, t2 - t1

    mg = graph.for_profile(WALK)
    dest_xy = {c.name: destinations(frames, c).xy for c in cats}
    theirs, pd_total, pd_query = pandana_nearest(mg, dest_xy, xy)

    worst = 0.0
    compared = 0
    for c in cats:
        mine = ours[f"{c.name}_min"].to_numpy() * WALK.metres_per_minute
        other = theirs[c.name]
        ok = np.isfinite(mine) & (mine < LIMIT_MIN * WALK.metres_per_minute - 1)
        compared += int(ok.sum())
        worst = max(worst, float(np.max(np.abs(mine[ok] - other[ok]), initial=0.0)))

    iso_times: dict[str, list[float]] = {"walk": [], "drive": []}
    centre = tuple(metric_xy(np.array([CENTRE[0]]), np.array([CENTRE[1]]))[0])
    for prof in (WALK, DRIVE):
        graph.for_profile(prof).tree  # noqa: B018  (index built once, as in the server)
        for _ in range(5 if prof is WALK else 2):
            s = time.perf_counter()
            isochrones(engine, graph, prof, (centre[0], centre[1]))
            iso_times[prof.mode.value].append(time.perf_counter() - s)

    print(f"graph: {graph.n_nodes:,} nodes, {graph.n_edges:,} edges "
          f"({graph.length.sum() / 1000:,.0f} km of street)")  # fmt: skip
    print(f"targets: {len(xy):,} buildings of the 10x scaled city; 5 categories, "
          f"{sum(len(v) for v in dest_xy.values()):,} facility points")  # fmt: skip
    print()
    print(f"{'nearest facility, 5 categories':<40}{'total s':>10}{'search s':>10}")
    print(f"{'ours (scipy, graph build included)':<40}{ours_total:>10.2f}{ours_query:>10.2f}")
    print(f"{'pandana 0.8 (CH build included)':<40}{pd_total:>10.2f}{pd_query:>10.2f}")
    print(f"ratio pandana/ours: total {pd_total / ours_total:.2f}x, "
          f"search only {pd_query / ours_query:.2f}x (> 1: ours is faster)")  # fmt: skip
    print(f"distances equal: max |ours - pandana| = {worst:.4f} m over {compared:,} "
          f"building-category pairs ({'OK' if worst <= 1.0 else 'FAIL'}, goal <= 1 m)")  # fmt: skip
    print(f"goal <= 10 s: {'OK' if ours_total <= 10 else 'MISSED'}")
    print()
    walk_ms = statistics.median(iso_times["walk"]) * 1000
    drive_ms = statistics.median(iso_times["drive"]) * 1000
    print(f"isochrone 5/10/15/20 min walking from the centre: median {walk_ms:.0f} ms "
          f"({'OK' if walk_ms <= 300 else 'MISSED'}, goal <= 300 ms)")  # fmt: skip
    print(f"isochrone 5/10/15/20 min driving from the centre: median {drive_ms:.0f} ms")


if __name__ == "__main__":
    main()
