"""The coverage analyses' heavy step on a Dask cluster: every camera's visibility polygon.

With ``TWIN_DASK_SCHEDULER=tcp://host:8786`` the whole-city step of coverage and placement —
each camera's (or candidate's) view sector minus the shadows of the buildings it meets — runs
as tasks on that cluster (``dask.distributed``, the cluster operators already run); without
it, in this process as before. A camera's polygon depends only on the footprints within its
range, so the work is cut in space: cameras are binned into square cells, and each task gets
one cell's cameras with the footprints that meet the cell grown by its cameras' longest range
(the halo). The footprints go as they are in the process's own :class:`Obstacles` (same
parts, same order, their vertex and edge arrays gathered by :meth:`Obstacles.take`), and
:func:`visibility_polygons` takes shadows in footprint order, so each polygon is the same,
vertex for vertex, as the in-process one (tested).

What Dask costs on top of the polygons is moving footprints and polygons between processes
on the same cores. Measured at the city ×10 (30,000 cameras, 82,050 footprint parts, six
tasks; the CPU seconds of one run in the client and worker processes together, on a
LocalCluster of one worker, where in process takes 2.6 s): 7.6–8.0 s when each
task got its footprints as pickled shapely objects, built its obstacles from them and sent
back pickled polygons (pickle writes a geometry at a time: 0.8 s for the footprints, 0.4 s
for the polygons, about as much again to read them; building the six tasks' obstacles
0.9 s). Now both go as WKB buffers (:mod:`twin.analyses.wkb`) with the flat arrays
:meth:`Obstacles.take` gathers, so a worker only builds a tree (ms); 4.0–4.3 s. And each
task's footprints are *held* on the cluster (:class:`twin.analyses.cluster.Held`) under a key
naming their content: the same analysis again sends no footprint at all and runs each task
where its footprints are, 3.3–3.7 s. The held footprints are sent to the worker their task
is meant for, spread as the tasks are: left to the scheduler, they were not spread evenly
and their tasks followed them (on two workers, 1.2 s of CPU on one and 2.1 s on the other in
one run). The key is the footprints' content, not their place in this
process' obstacles, so an edited building sends again only the cells it lies in; another set
of cameras (placement's candidates) is cut into other cells and sends those.

Partitions are plain arrays, not dask-geopandas frames: a spatial partition of
dask-geopandas pays only when a query touches few partitions, and its partitioning is lost on
some round trips (dask-geopandas issues #114, #237, #260); here every task touches one cell
and returns polygons in its cameras' order, so nothing depends on keeping it.

The tasks run through :mod:`twin.analyses.cluster`: a worker lost in the middle of an
analysis is not an error, the scheduler runs its tasks again on another worker (the answer is
the same: the tasks are pure).
"""

from __future__ import annotations

import hashlib
import logging

import numpy as np
import shapely

from twin.analyses import cluster, wkb
from twin.analyses.coverage.visibility import Obstacles, visibility_polygons

log = logging.getLogger("twin.analyses")

#: side of the square cells the cameras are binned into (metres)
CELL_M = 1_500.0
#: below this many cameras a request is computed in process (a what-if edit of a few cameras
#: would wait longer for the round trip than for the polygons)
MIN_CAMERAS = 200

# (kept here for the callers that connect through coverage: the client is the analyses' one)
connect = cluster.connect
client = cluster.client


def _cell_task(
    x: np.ndarray,
    y: np.ndarray,
    heading: np.ndarray,
    fov: np.ndarray,
    range_m: np.ndarray,
    active: np.ndarray,
    footprints: Obstacles,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the visibility polygons of one cell's cameras among its footprints, packed
    (:func:`twin.analyses.wkb.pack`)."""
    return wkb.pack(visibility_polygons(x, y, heading, fov, range_m, footprints, active=active))


def _footprints(obstacles: Obstacles, parts: np.ndarray) -> cluster.Held:
    """Return the footprint parts ``parts`` of ``obstacles`` to be held on the cluster,
    keyed by their content (their WKB, in order): sent only when the cluster does not hold
    the same footprints already, whatever their indices in this ``obstacles``."""
    buf, offsets = wkb.pack(obstacles.parts[parts])
    digest = hashlib.blake2b(buf.tobytes(), digest_size=16)
    digest.update(offsets.tobytes())
    # what they take on a worker, roughly: their WKB again as geometries, and the vertex and
    # edge arrays (16 and 32 bytes each)
    vertices, edges = int(obstacles.vcount[parts].sum()), int(obstacles.ecount[parts].sum())
    return cluster.Held(
        f"footprints-{digest.hexdigest()}",
        lambda: obstacles.take(parts),
        nbytes=len(buf) + vertices * 16 + edges * 32,
    )


def partitions(
    x: np.ndarray,
    y: np.ndarray,
    range_m: np.ndarray,
    obstacles: Obstacles,
    cell_m: float,
    tasks: int | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return, per non-empty cell, its cameras' indices and the indices (ascending) of the
    footprint parts that meet the cell's cameras' extent grown by their longest range.

    With ``tasks``, neighbouring cells (in column order) are grouped into about that many
    partitions of about equal camera counts, each with the union of its cells' footprints:
    fewer, larger tasks pay the per-task cost (shipping footprints, building their index)
    fewer times, and neighbours share most of their halo."""
    key = np.floor(x / cell_m).astype(np.int64) * 1_000_003 + np.floor(y / cell_m).astype(np.int64)
    order = np.argsort(key, kind="stable")
    cuts = np.flatnonzero(np.diff(key[order])) + 1
    out = []
    for cams in np.split(order, cuts) if len(order) else []:
        halo = float(range_m[cams].max()) + 1.0
        box = shapely.box(
            x[cams].min() - halo, y[cams].min() - halo, x[cams].max() + halo, y[cams].max() + halo
        )
        parts = np.sort(obstacles.tree.query(box)) if len(obstacles) else np.empty(0, np.int64)
        out.append((np.sort(cams), parts))
    if tasks is None or len(out) <= tasks:
        return out
    sizes = np.cumsum([len(c) for c, _ in out])
    group = np.minimum((sizes - 1) * tasks // sizes[-1], tasks - 1)
    grouped = []
    for g in np.unique(group):
        members = [out[i] for i in np.flatnonzero(group == g)]
        cams = np.sort(np.concatenate([c for c, _ in members]))
        parts = np.unique(np.concatenate([p for _, p in members]))
        grouped.append((cams, parts))
    return grouped


def visibility(
    x: np.ndarray,
    y: np.ndarray,
    heading_deg: np.ndarray,
    fov_deg: np.ndarray,
    range_m: np.ndarray,
    obstacles: Obstacles,
    *,
    active: np.ndarray | None = None,
    cell_m: float = CELL_M,
    min_cameras: int | None = None,
) -> np.ndarray:
    """Return what :func:`visibility_polygons` returns: on the Dask cluster when one is
    connected and there are at least ``min_cameras`` (:data:`MIN_CAMERAS`) cameras, else in
    this process."""
    n = len(x)
    if cluster.threads() == 0 or n < (MIN_CAMERAS if min_cameras is None else min_cameras):
        return visibility_polygons(x, y, heading_deg, fov_deg, range_m, obstacles, active=active)
    x, y = np.asarray(x, float), np.asarray(y, float)
    heading, fov = np.asarray(heading_deg, float), np.asarray(fov_deg, float)
    reach = np.asarray(range_m, float)
    on = np.ones(n, dtype=bool) if active is None else np.asarray(active, dtype=bool)
    tasks = cluster.TASKS_PER_THREAD * cluster.threads()
    cells = partitions(x, y, reach, obstacles, cell_m, tasks=tasks)
    jobs = [
        (x[c], y[c], heading[c], fov[c], reach[c], on[c], _footprints(obstacles, p))
        for c, p in cells
    ]
    parts = cluster.run(_cell_task, jobs, weights=[len(c) for c, _ in cells])
    out = np.full(n, shapely.Polygon(), dtype=object)
    for (cams, _), packed in zip(cells, parts, strict=True):
        out[cams] = wkb.unpack(*packed)
    log.info("visibility of %d cameras in %d cells on Dask", n, len(cells))
    return out
