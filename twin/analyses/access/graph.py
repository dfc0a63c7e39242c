"""The street graph: roads cut into straight segments between consecutive vertices.

Nodes are the roads' vertices, merged where two roads share one (coordinates rounded to
1e-7°, about 1 cm, the precision of OSM). Inside a bridge or a tunnel a vertex belongs to that
road alone, so a bridge meets the streets below it only at its ends. Edge lengths are in
metres in UTM 43N (EPSG:32643).

Node and edge numbering is a pure function of the roads table (nodes ordered by rounded
coordinates, edges by road fid, part and vertex), so the SQL that builds the pgRouting edge
table (:mod:`twin.analyses.access.pgrouting`) numbers them identically.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache, cached_property

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from twin.analyses.access.profiles import Profile

METRIC_CRS = 32643
#: Rounding of vertex coordinates into node keys: 1e-7° (OSM's precision).
KEY_SCALE = 1e7
#: Smallest edge cost (minutes): sparse graphs drop explicit zeros.
MIN_COST = 1e-9


@cache
def to_metric() -> pyproj.Transformer:
    """Return the lon/lat → UTM 43N transformer."""
    return pyproj.Transformer.from_crs(4326, METRIC_CRS, always_xy=True)


@cache
def to_lonlat() -> pyproj.Transformer:
    """Return the UTM 43N → lon/lat transformer."""
    return pyproj.Transformer.from_crs(METRIC_CRS, 4326, always_xy=True)


def metric_xy(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Return (n, 2) UTM 43N coordinates of lon/lat arrays."""
    x, y = to_metric().transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.column_stack([x, y])


def _flag(frame: gpd.GeoDataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.zeros(len(frame), dtype=bool)
    return frame[name].astype("boolean").fillna(False).to_numpy(dtype=bool)


@dataclass
class StreetGraph:
    """Every road segment of the city, whatever mode may use it.

    Edge ``i`` runs from node ``u[i]`` to node ``v[i]`` (the digitised direction, which is
    the allowed one on a one-way street); ``a``/``b`` are its end coordinates in UTM 43N.
    """

    node_xy: np.ndarray
    u: np.ndarray
    v: np.ndarray
    a: np.ndarray
    b: np.ndarray
    length: np.ndarray
    highway: np.ndarray
    oneway: np.ndarray
    maxspeed: np.ndarray
    road_fid: np.ndarray
    #: edges no mode may use now (road closures, :mod:`.closures`); None: none closed
    closed: np.ndarray | None = None
    _modes: dict[str, ModeGraph] = field(default_factory=dict, repr=False)

    @property
    def n_nodes(self) -> int:
        """Return the number of nodes."""
        return len(self.node_xy)

    @property
    def n_edges(self) -> int:
        """Return the number of edges."""
        return len(self.u)

    def closing(self, closed: np.ndarray) -> StreetGraph:
        """Return the same graph (same nodes and edge numbers, arrays shared) with the edges
        of the mask ``closed`` unusable by every mode."""
        return replace(self, closed=np.asarray(closed, dtype=bool), _modes={})

    def for_profile(self, profile: Profile) -> ModeGraph:
        """Return (and cache) the part of the graph that ``profile`` may use."""
        key = profile.mode.value
        if key not in self._modes:
            self._modes[key] = ModeGraph(self, profile)
        return self._modes[key]


def build_graph(roads: gpd.GeoDataFrame) -> StreetGraph:
    """Return the street graph of a ``roads`` frame (EPSG:4326, ordered by ``fid``).

    Examples
    --------
    >>> import shapely, geopandas as gpd
    >>> roads = gpd.GeoDataFrame({"fid": [1, 2], "highway": ["residential", "footway"]},
    ...     geometry=[shapely.LineString([(76.90, 43.25), (76.91, 43.25)]),
    ...               shapely.LineString([(76.91, 43.25), (76.91, 43.26)])], crs=4326)
    >>> g = build_graph(roads)
    >>> g.n_nodes, g.n_edges, round(float(g.length.sum()))
    (3, 2, 1923)
    """
    roads = roads[roads.geometry.notna() & ~roads.geometry.is_empty]
    fids = roads["fid"].to_numpy(np.int64) if "fid" in roads else np.arange(len(roads)) + 1
    raised = _flag(roads, "bridge") | _flag(roads, "tunnel")
    parts, road_of_part = shapely.get_parts(roads.geometry.values, return_index=True)
    coords, part_of_vertex = shapely.get_coordinates(parts, return_index=True)
    if len(coords) == 0:
        empty = np.empty(0, np.int64)
        return StreetGraph(
            np.empty((0, 2)), empty, empty, np.empty((0, 2)), np.empty((0, 2)),
            np.empty(0), np.empty(0, object), np.empty(0, bool), np.empty(0), empty,
        )  # fmt: skip
    road_of_vertex = road_of_part[part_of_vertex]
    first = np.r_[True, part_of_vertex[1:] != part_of_vertex[:-1]]
    last = np.r_[part_of_vertex[1:] != part_of_vertex[:-1], True]

    kx = np.rint(coords[:, 0] * KEY_SCALE).astype(np.int64)
    ky = np.rint(coords[:, 1] * KEY_SCALE).astype(np.int64)
    interior_raised = raised[road_of_vertex] & ~first & ~last
    level = np.where(interior_raised, fids[road_of_vertex], 0)
    keys = np.column_stack([kx, ky, level])
    _, first_seen, node_of_vertex = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    node_of_vertex = node_of_vertex.ravel()
    xy = metric_xy(coords[:, 0], coords[:, 1])

    start = np.flatnonzero(~last)
    end = start + 1
    keep = node_of_vertex[start] != node_of_vertex[end]
    start, end = start[keep], end[keep]
    road = road_of_vertex[start]
    a, b = xy[start], xy[end]

    def column(name: str, default: object) -> np.ndarray:
        if name not in roads:
            return np.full(len(roads), default, dtype=object)
        return roads[name].astype(object).where(roads[name].notna(), default).to_numpy()

    maxspeed = (
        roads["maxspeed"].astype("Float64").fillna(np.nan).to_numpy(float)
        if "maxspeed" in roads
        else np.full(len(roads), np.nan)
    )
    return StreetGraph(
        node_xy=xy[first_seen],
        u=node_of_vertex[start].astype(np.int64),
        v=node_of_vertex[end].astype(np.int64),
        a=a,
        b=b,
        length=np.hypot(*(b - a).T),
        highway=column("highway", "road")[road],
        oneway=_flag(roads, "oneway")[road],
        maxspeed=maxspeed[road],
        road_fid=fids[road],
    )


class ModeGraph:
    """The edges one profile may use, their costs in minutes and its main component.

    ``edge`` indexes the street graph's edges; every other array is aligned with it.
    ``forward``/``backward``: whether the edge may be travelled u→v / v→u.
    """

    def __init__(self, graph: StreetGraph, profile: Profile) -> None:
        self.graph = graph
        self.profile = profile
        usable = ~np.isin(graph.highway, list(profile.excluded))
        if graph.closed is not None:
            usable &= ~graph.closed
        self.edge = np.flatnonzero(usable)
        self.u = graph.u[self.edge]
        self.v = graph.v[self.edge]
        self.length = graph.length[self.edge]
        self.cost = np.maximum(self.length / self.metres_per_minute(), MIN_COST)
        self.forward = np.ones(len(self.edge), dtype=bool)
        self.backward = (
            ~graph.oneway[self.edge] if profile.oneway else np.ones(len(self.edge), dtype=bool)
        )

    def metres_per_minute(self) -> np.ndarray:
        """Return each edge's speed in m/min."""
        p = self.profile
        if p.speed_kmh is not None:
            return np.full(len(self.edge), p.metres_per_minute)
        hw = self.graph.highway[self.edge]
        kmh = np.array([p.drive_kmh.get(str(h), 25.0) for h in hw], dtype=float)
        mapped = self.graph.maxspeed[self.edge]
        kmh = np.where(np.isfinite(mapped) & (mapped > 0), mapped, kmh)
        return kmh * 1000.0 / 60.0

    @property
    def n_nodes(self) -> int:
        """Return the number of nodes of the street graph (all modes share the numbering)."""
        return self.graph.n_nodes

    def arcs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return directed arcs (tail, head, cost), the cheaper of any parallel pair only."""
        tail = np.r_[self.u[self.forward], self.v[self.backward]]
        head = np.r_[self.v[self.forward], self.u[self.backward]]
        cost = np.r_[self.cost[self.forward], self.cost[self.backward]]
        order = np.lexsort((cost, head, tail))
        tail, head, cost = tail[order], head[order], cost[order]
        first = np.r_[True, (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])]
        return tail[first], head[first], cost[first]

    @cached_property
    def matrix(self) -> sparse.csr_matrix:
        """Return the arcs as an n×n CSR matrix (for scipy.sparse.csgraph)."""
        tail, head, cost = self.arcs()
        n = self.n_nodes
        return sparse.csr_matrix((cost, (tail, head)), shape=(n, n))

    @cached_property
    def main(self) -> np.ndarray:
        """Return a mask of the edges in the largest (strongly, for one-way modes) connected
        component: points are snapped to these, so every point can reach every other."""
        if len(self.edge) == 0:
            return np.zeros(0, dtype=bool)
        n, labels = csgraph.connected_components(
            self.matrix, directed=True, connection="strong" if self.profile.oneway else "weak"
        )
        used = np.r_[self.u, self.v]
        sizes = np.bincount(labels[used], minlength=n)
        biggest = int(np.argmax(sizes))
        return (labels[self.u] == biggest) & (labels[self.v] == biggest)

    @cached_property
    def tree(self) -> tuple[shapely.STRtree, np.ndarray]:
        """Return an STRtree over the main component's segments, and their edge positions."""
        pos = np.flatnonzero(self.main)
        g = self.graph
        lines = shapely.linestrings(np.stack([g.a[self.edge[pos]], g.b[self.edge[pos]]], axis=1))
        return shapely.STRtree(np.asarray(lines)), pos
