"""The raw SQL floor of the tile benchmark: the tile query run straight through psycopg.

The floor is the very SQL our PostGIS tile encoder runs (``twin.store.postgis.mvt.layer_sql``,
with the parameters it binds), so that the distance between it and our server is what HTTP,
caching and Python add. The canonical query (the shape tipg and pg_tileserv run) is kept for
comparison.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

import layers
from bench.http_load import Pass, Sample, run_bounded
from bench.tile_list import Tile


def tile_prop_names(layer: layers.Layer) -> list[str]:
    """Return the properties our tiles carry for ``layer`` (all declared ones, unless the tile
    package narrows them), so that tipg and the canonical query carry the same."""
    try:
        from tiles.zoom import tile_props
    except ImportError:
        return list(layer.prop_names)
    return [p.name for p in tile_props(layer)]


def canonical_sql(layer: layers.Layer) -> str:
    """Return the plain tile query (the shape tipg and pg_tileserv run): every feature whose box
    meets the buffered tile, clipped and quantised by ``ST_AsMVTGeom``, declared properties.

    ``ST_AsMVT`` skips rows whose geometry clipped away to NULL; filtering them in SQL instead
    would make the planner evaluate ``ST_AsMVTGeom`` twice per row."""
    props = "".join(f', t."{p}"' for p in tile_prop_names(layer))
    return (
        "SELECT ST_AsMVT(q, %(layer)s, 4096, 'geom', 'fid') FROM ("
        f"SELECT t.fid{props}, ST_AsMVTGeom(ST_Transform(t.geom, 3857), "
        "ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4096, 64, true) AS geom "
        f'FROM "{layer.table}" t '
        "WHERE t.geom && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, "
        "margin => 64.0 / 4096), 4326)) q"
    )


@dataclass
class FloorQuery:
    """How the floor runs one tile: SQL text and its parameters, and the settings each pooled
    connection gets once (what our server sets per query, set here per session so that it
    costs the floor no round trip)."""

    label: str
    sql_params: Callable[[Tile], tuple[str, dict[str, object]]]
    session: tuple[str, ...] = ()


def canonical_floor(session: tuple[str, ...] = ()) -> FloorQuery:
    """Return the canonical query as a floor, with the session settings ``session``."""
    cache: dict[str, str] = {}

    def build(tile: Tile) -> tuple[str, dict[str, object]]:
        sql = cache.get(tile.layer) or cache.setdefault(
            tile.layer, canonical_sql(layers.get(tile.layer))
        )
        return sql, {"layer": tile.layer, "z": tile.z, "x": tile.x, "y": tile.y}

    return FloorQuery("canonical ST_AsMVT", build, session)


def floor_query() -> FloorQuery:
    """Return the floor: the very query our PostGIS tile encoder runs
    (``twin.store.postgis.mvt``), with the parameters it binds, when that module exists; else
    the canonical query."""
    try:
        from tiles.geometry import SIMPLIFY_MIN_COORDS
        from tiles.grid import BUFFER, EXTENT
        from tiles.grid import Tile as GridTile
        from tiles.sources import tile_params
        from tiles.zoom import tile_props, zoom_rules
        from twin.store.postgis.mvt import layer_sql
    except ImportError:
        return canonical_floor()
    try:
        from twin.store.postgis.mvt import SESSION_SQL
    except ImportError:
        session: tuple[str, ...] = ()
    else:
        session = (SESSION_SQL.replace("SET LOCAL ", "SET "),)
    cache: dict[str, str] = {}

    def build(tile: Tile) -> tuple[str, dict[str, object]]:
        layer = layers.get(tile.layer)
        sql = cache.get(tile.layer) or cache.setdefault(
            tile.layer,
            layer_sql(
                layer,
                tile_props(layer),
                extent=EXTENT,
                buffer=BUFFER,
                simplify_min_coords=SIMPLIFY_MIN_COORDS,
            ),
        )
        return sql, tile_params(GridTile(tile.z, tile.x, tile.y), zoom_rules(layer, tile.z))

    return FloorQuery("twin.store.postgis.mvt.layer_sql", build, session)


def sql_pass(
    pg_url: str,
    tiles: Sequence[Tile],
    floor: FloorQuery,
    concurrency: int,
    time_limit_s: float = 120.0,
) -> Pass:
    """Return one timed pass of the floor query over ``tiles`` with ``concurrency`` threads
    sharing a pool of as many connections (opened before the clock starts)."""

    def configure(conn: psycopg.Connection[Any]) -> None:
        for statement in floor.session:
            conn.execute(statement)

    with ConnectionPool(
        pg_url,
        min_size=concurrency,
        max_size=concurrency,
        kwargs={"autocommit": True},
        configure=configure,
    ) as pool:
        pool.wait(timeout=30)

        def make_worker() -> Callable[[Tile], Sample]:
            def work(tile: Tile) -> Sample:
                sql, params = floor.sql_params(tile)
                t0 = time.perf_counter()
                with pool.connection() as conn:
                    row = conn.execute(sql, params, prepare=True).fetchone()
                seconds = time.perf_counter() - t0
                body = bytes(row[0]) if row and row[0] is not None else b""
                return Sample(tile, seconds, 200 if body else 204, body, len(body))

            return work

        return run_bounded(tiles, make_worker, concurrency=concurrency, time_limit_s=time_limit_s)


def meeting_counts(pg_url: str, tiles: Sequence[Tile]) -> list[int]:
    """Return, for each tile, how many features of its layer meet it (their lon/lat geometry
    intersects the tile): what a server that draws everything puts in it, before
    ``ST_AsMVTGeom`` drops what collapses at the tile's resolution. Ours and tipg both select
    rows by this test; what each then leaves out is measured against it."""
    from tiles.grid import Tile as GridTile

    out = []
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for tile in tiles:
            table = layers.get(tile.layer).table  # identifiers from the registry only
            w, s, e, n = GridTile(tile.z, tile.x, tile.y).bounds_lonlat()
            row = conn.execute(
                f'SELECT count(*) FROM "{table}" t, '
                "(SELECT ST_MakeEnvelope(%s, %s, %s, %s, 4326) AS b) box "
                "WHERE t.geom && box.b AND ST_Intersects(t.geom, box.b)",
                (w, s, e, n),
                prepare=True,
            ).fetchone()
            out.append(int(row[0]) if row else 0)
    return out
