"""The pgRouting engine: the same searches inside PostGIS.

The edge table ``twin_access_edges`` is derived in SQL from ``roads`` with the rules of
:func:`twin.analyses.access.graph.build_graph` (vertices merged on coordinates rounded to
1e-7°, bridge and tunnel interiors kept apart, lengths with ``ST_Length`` in UTM 43N), so node
and edge ids are the same as the Python graph's. It is rebuilt when the roads change.

A search copies the profile's edges inside a bounding box into a temporary table, adds one
virtual "super source" joined to the entry nodes of every seed at the cost of getting there,
and runs a single-source ``pgr_drivingDistance`` from it: that is an exact multi-source
Dijkstra. (The multi-start form with ``equicost`` is not: pgRouting 3.4 assigns some nodes to
a farther start.) Which seed a node belongs to is read off the shortest-path tree the
function returns. The box is the seeds' envelope grown by the farthest distance the time
limit allows, so nothing reachable within the limit is cut off.

An engine is kept per roads version (``service.make_engine``), so a search on the primary
first reads the edge table's roads version in its own connection; if the table, its state or
pgRouting itself is gone (a crash that lost the last asynchronous commits, a restore, a
failover to a lagging replica, ``DROP EXTENSION``) it is made again once before the search.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import numpy as np
import sqlalchemy as sa
from psycopg import errors as pgerrors
from psycopg import sql as psql

from twin.analyses.access.graph import MIN_COST, ModeGraph, to_lonlat
from twin.analyses.access.profiles import DRIVE_DEFAULT_KMH
from twin.analyses.access.search import Snapped, entries
from twin.core.errors import StoreError
from twin.store import Store

EDGES = "twin_access_edges"
STATE = "twin_access_state"

_BUILD = f"""
CREATE TABLE {EDGES} AS
WITH pts AS (
    SELECT t.fid, t.highway, t.oneway, t.maxspeed,
           (COALESCE(t.bridge, false) OR COALESCE(t.tunnel, false)) AS raised,
           (d).path[1] AS part, (d).path[2] AS vx, (d).geom AS pt
    FROM roads t CROSS JOIN LATERAL ST_DumpPoints(t.geom) AS d
    WHERE t.geom IS NOT NULL AND NOT ST_IsEmpty(t.geom)
), keyed AS (
    SELECT p.*, round(ST_X(pt) * 1e7)::bigint AS kx, round(ST_Y(pt) * 1e7)::bigint AS ky,
           count(*) OVER (PARTITION BY fid, part) AS nv
    FROM pts p
), noded AS (
    SELECT k.*, dense_rank() OVER (
        ORDER BY kx, ky, CASE WHEN raised AND vx > 1 AND vx < nv THEN fid ELSE 0 END
    ) - 1 AS node
    FROM keyed k
), seg AS (
    SELECT fid, highway, oneway, maxspeed, part, vx, node AS source, pt AS a,
           lead(node) OVER w AS target, lead(pt) OVER w AS b
    FROM noded WINDOW w AS (PARTITION BY fid, part ORDER BY vx)
)
SELECT (row_number() OVER (ORDER BY fid, part, vx) - 1)::bigint AS id,
       source::bigint, target::bigint, fid AS road_fid,
       COALESCE(highway, 'road') AS highway, COALESCE(oneway, false) AS oneway, maxspeed,
       ST_Length(ST_Transform(ST_MakeLine(a, b), 32643)) AS length_m,
       ST_MakeLine(a, b) AS geom
FROM seg WHERE target IS NOT NULL AND source <> target
"""

# The edges a search reads, costs in minutes computed in SQL from the lengths SQL measured,
# plus one virtual edge from the "super source" to each seed's entry node. pgRouting runs this
# text itself, so every value is written in as a literal (psycopg's quoting): no temporary
# table, so the search runs on a read-only hot standby as well as on the primary.
_EDGES = """
SELECT e.id, e.source, e.target, c.cost,
       CASE WHEN {oneway} AND e.oneway THEN -1 ELSE c.cost END AS reverse_cost
FROM twin_access_edges e
LEFT JOIN unnest(CAST({highways} AS text[]), CAST({kmh} AS float8[])) AS s(highway, kmh)
       ON s.highway = e.highway
CROSS JOIN LATERAL (SELECT GREATEST(e.length_m / (
    CASE WHEN {walk_mpm} > 0 THEN {walk_mpm}
         ELSE COALESCE(NULLIF(e.maxspeed, 0), s.kmh, {default_kmh}) * 1000.0 / 60.0 END
), {min_cost}) AS cost) c
WHERE e.geom && ST_MakeEnvelope({minx}, {miny}, {maxx}, {maxy}, 4326)
  AND e.highway <> ALL(CAST({excluded} AS text[]))
  AND e.id <> ALL(CAST({closed} AS bigint[]))
UNION ALL
SELECT {first_id} + g.i - 1, {source}, g.t, g.c, -1
FROM unnest(CAST({t} AS bigint[]), CAST({c} AS float8[])) WITH ORDINALITY AS g(t, c, i)
"""

_SEARCH = """
SELECT * FROM pgr_drivingDistance(
    CAST(:edges AS text), CAST(:start AS bigint), :limit, directed := true)
"""

_STATE_NOW = f"SELECT roads_version FROM {STATE}"

#: what a search meets when the edge table or pgRouting itself is gone (see ``_restore``)
_MISSING = (pgerrors.UndefinedTable, pgerrors.UndefinedFunction)


def _roads_version(conn: sa.Connection) -> str:
    count = conn.execute(sa.text("SELECT count(*) FROM roads")).scalar_one()
    change = conn.execute(
        sa.text("SELECT max(id) FROM twin_changes WHERE layer = 'roads'")
    ).scalar_one()
    return f"{count}:{change}"


def ensure_edges(store: Store) -> tuple[int, int, str]:
    """Create or refresh the edge table from ``roads``; return (nodes, edges) in it and the
    roads' version it was built from."""
    if store.routing != "pgrouting":
        raise StoreError("the pgRouting engine needs a PostGIS store with pgRouting")
    with store.engine.begin() as conn:
        # One builder at a time; the others wait and then find the extension and the table
        # made. The lock comes first: CREATE EXTENSION IF NOT EXISTS is not safe against a
        # concurrent one (the second fails on pg_extension's unique index — the 503s of the
        # first isochrones of two server processes after a primary restart, issue 20).
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock(hashtext('{EDGES}'))")
        try:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pgrouting")
        except sa.exc.DBAPIError as exc:
            raise StoreError(f"pgRouting is not available in this database: {exc.orig}") from None
        conn.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {STATE} (roads_version text)")
        version = _roads_version(conn)
        stored = conn.execute(sa.text(f"SELECT roads_version FROM {STATE}")).scalar()
        exists = conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": EDGES}).scalar()
        if stored != version or exists is None:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {EDGES}")
            conn.exec_driver_sql(_BUILD)
            conn.exec_driver_sql(f"ALTER TABLE {EDGES} ADD PRIMARY KEY (id)")
            conn.exec_driver_sql(f"CREATE INDEX ON {EDGES} USING gist (geom)")
            conn.exec_driver_sql(f"ANALYZE {EDGES}")
            conn.exec_driver_sql(f"DELETE FROM {STATE}")
            conn.execute(sa.text(f"INSERT INTO {STATE} VALUES (:v)"), {"v": version})
        row = conn.execute(
            sa.text(f"SELECT greatest(max(source), max(target)) + 1, count(*) FROM {EDGES}")
        ).one()
    return int(row[0] or 0), int(row[1]), version


def search_bbox(mg: ModeGraph, xy: np.ndarray, limit: float) -> tuple[float, ...]:
    """Return the lon/lat box that holds every path of at most ``limit`` minutes from ``xy``."""
    p = mg.profile
    fastest = (
        p.metres_per_minute
        if p.speed_kmh is not None
        else max([*p.drive_kmh.values(), float(np.nanmax(mg.graph.maxspeed, initial=0.0))])
        * 1000.0
        / 60.0
    )
    reach = min(limit * max(fastest, p.access_m_per_min), 1e6)
    (x0, y0), (x1, y1) = xy.min(axis=0) - reach, xy.max(axis=0) + reach
    lon, lat = to_lonlat().transform([x0, x0, x1, x1], [y0, y1, y0, y1])
    return min(lon), min(lat), max(lon), max(lat)


class PgRoutingEngine:
    """Multi-source searches with ``pgr_drivingDistance`` over ``twin_access_edges``."""

    name = "pgrouting"

    def __init__(self, store: Store) -> None:
        self.store = store
        self.nodes, self.edges, self.version = ensure_edges(store)
        #: searches run on a replica or on the primary (for tests)
        self.served: Counter[str] = Counter()
        #: times the edge table was found missing or changed and made again (for tests)
        self.rebuilt = 0

    def check(self, mg: ModeGraph) -> None:
        """Raise :class:`StoreError` if the SQL edge table is not the Python graph."""
        g = mg.graph
        if (self.nodes, self.edges) != (g.n_nodes, g.n_edges):
            raise StoreError(
                f"pgRouting edge table ({self.nodes} nodes, {self.edges} edges) differs from "
                f"the street graph ({g.n_nodes} nodes, {g.n_edges} edges)"
            )

    def node_costs(
        self, mg: ModeGraph, seeds: Snapped, limit: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return node costs and seed labels (see :class:`~.search.Engine`)."""
        self.check(mg)
        n = mg.n_nodes
        cost = np.full(n, np.inf)
        label = np.full(n, -1, np.int64)
        if len(seeds) == 0:
            return cost, label
        seed, node, entry = entries(mg, seeds)
        p = mg.profile
        minx, miny, maxx, maxy = search_bbox(mg, seeds.xy, limit)
        values: dict[str, Any] = {
            "oneway": p.oneway,
            "walk_mpm": float(p.metres_per_minute if p.speed_kmh is not None else 0.0),
            "default_kmh": float(DRIVE_DEFAULT_KMH),
            "min_cost": float(MIN_COST),
            "minx": float(minx),
            "miny": float(miny),
            "maxx": float(maxx),
            "maxy": float(maxy),
            "highways": list(p.drive_kmh),
            "kmh": [float(k) for k in p.drive_kmh.values()],
            "excluded": sorted(p.excluded),
            # road closures: the Python graph's edge ids are the table's (same numbering)
            "closed": ([] if mg.graph.closed is None else np.flatnonzero(mg.graph.closed).tolist()),
            "first_id": self.edges,
            "source": n,
            "t": node.tolist(),
            "c": [float(c) for c in entry],
        }
        edges = psql.SQL(_EDGES).format(**{k: psql.Literal(v) for k, v in values.items()})
        params = {"edges": edges.as_string(None), "start": n, "limit": float(min(limit, 1e9))}
        keys, rows = self._search(params)
        reached = rows[:, keys.index("node")].astype(np.int64)
        via = rows[:, keys.index("edge")].astype(np.int64)
        keep = reached < n
        reached, via = reached[keep], via[keep]
        cost[reached] = rows[keep, keys.index("agg_cost")]
        label[reached] = _tree_labels(mg, reached, via, seed, self.edges, n)
        return cost, label

    def _search(self, params: dict[str, Any]) -> tuple[list[str], np.ndarray]:
        """Run the search on a read replica whose edge table is the one this engine was built
        on (the store's reads are routed as fresh as the primary's change log; the edge table
        is checked by its roads version, which the log does not cover), else on the primary.

        The edge table is built in its own transaction that writes nothing to the change log,
        so a replica the router finds caught up may not have replayed it yet: the search waits
        for it as long as the router waits for the log (``router.wait``), then goes to the
        primary. Without that wait the first search after a build went to the primary whenever
        replay took longer than the log check (CI, stop 27)."""
        router = getattr(self.store, "router", None)
        deadline = time.monotonic() + (router.wait if router is not None else 0.0)
        while True:
            standby = False
            try:
                with self.store.reading() as conn:
                    standby = self._standby(conn)
                    if conn.exec_driver_sql(_STATE_NOW).scalar() == self.version:
                        result = self._run(conn, params)
                        self.served["replica" if standby else "primary"] += 1
                        return result
            except sa.exc.DBAPIError:  # not replayed there yet, or the replica went away
                pass
            if not standby or time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        for attempt in range(2):
            try:
                with self.store.engine.connect() as conn:
                    if conn.exec_driver_sql(_STATE_NOW).scalar() == self.version:
                        result = self._run(conn, params)
                        self.served["primary"] += 1
                        return result
            except sa.exc.ProgrammingError as exc:
                if attempt or not isinstance(exc.orig, _MISSING):
                    raise
            self._restore()
        raise StoreError(
            f"the street graph's edge table is no longer at roads version {self.version} "
            "(the roads changed meanwhile); ask again"
        )

    def _restore(self) -> None:
        """Make the edge table (and pgRouting) again where they are missing or not at this
        engine's roads version. The engine is kept per roads version (``make_engine``), but
        what it stands for can vanish under it: a primary that crashes loses the last commits
        made with ``synchronous_commit = off`` — the test clusters' setting — and the first
        isochrone's CREATE EXTENSION and edge table commit just before the crash in
        tests/api/test_store_restart.py (after the restart ``pgr_drivingDistance`` did not
        exist); a restore from a backup or a failover to a lagging replica does the same."""
        nodes, edges, version = ensure_edges(self.store)
        self.rebuilt += 1
        if (nodes, edges, version) != (self.nodes, self.edges, self.version):
            raise StoreError(
                f"the roads changed while a search ran (edge table now at roads version "
                f"{version}, the search's graph at {self.version}); ask again"
            )

    @staticmethod
    def _run(conn: sa.Connection, params: dict[str, Any]) -> tuple[list[str], np.ndarray]:
        result = conn.execute(sa.text(_SEARCH), params)
        keys = list(result.keys())
        return keys, np.array(result.fetchall(), dtype=float).reshape(-1, len(keys))

    @staticmethod
    def _standby(conn: sa.Connection) -> bool:
        return bool(conn.exec_driver_sql("SELECT pg_is_in_recovery()").scalar())


def _tree_labels(
    mg: ModeGraph, nodes: np.ndarray, via: np.ndarray, seed: np.ndarray, first_virtual: int, n: int
) -> np.ndarray:
    """Return, for each reached node, the seed at the root of its branch of the shortest-path
    tree (``via`` is the edge a node was reached by; virtual edge ``first_virtual + i`` comes
    from entry ``i`` of seed ``seed[i]``)."""
    g = mg.graph
    parent = np.arange(n + 1)
    own = np.full(n + 1, -1, np.int64)
    virtual = via >= first_virtual
    own[nodes[virtual]] = seed[via[virtual] - first_virtual]
    real = ~virtual
    e, x = via[real], nodes[real]
    parent[x] = np.where(g.u[e] == x, g.v[e], g.u[e])
    for _ in range(64):  # pointer jumping: depth halves each round
        nxt = parent[parent]
        if np.array_equal(nxt, parent):
            break
        parent = nxt
    return own[parent[nodes]]
