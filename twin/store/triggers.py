"""Triggers that keep residents' rating aggregates and the tile change log in step with the
ratings and reactions, in the writer's own statement.

Why triggers: a rating used to be written and then its feature's aggregate recomputed with a
GROUP BY over the feature's rows, read back on the same connection (4 statements and, on
PostGIS, 6 round trips with BEGIN and COMMIT). Here the database adds the write's delta to
one ``rating_aggregates`` row inside the write itself, so the service's write is one
statement (atomic with its triggers, so it may run in autocommit) and the aggregate one
primary-key read. Whoever writes a rating — the service, an account's deletion, a repair by
hand — the aggregate follows, and concurrent writers cannot lose an update: each adds to the
row under its lock instead of overwriting it with what it counted.

A change of a rating's stars also logs the feature's envelope in ``twin_changes``, like any
edit of a layer: the tiles of ratable layers carry ``rating_mean`` and ``rating_count``
(:mod:`tiles.zoom`), and every server process drops exactly the cached tiles of that feature
(and, on GeoPackage, the kept ones, by the change log's own trigger). On PostGIS the trigger
takes the change log's advisory lock first (:data:`~twin.store.schema.CHANGE_LOG_LOCK`), so
change ids still become visible in order; in autocommit the lock is held from the end of the
statement to its commit, no round trip. Likes and dislikes are not in tiles and log nothing.

Installed (or replaced, when this module's SQL changes: the names carry a version) by
``ensure_schema``; installing them rebuilds the aggregates from the rows, so a store written
before they existed gets its aggregates on its first open by this program.
"""

from __future__ import annotations

import sqlalchemy as sa

from layers import LAYERS, Layer
from twin.store.dialect import SpatialSQL
from twin.store.schema import CHANGE_LOG_LOCK

#: bumped whenever the SQL below changes, so that stores get the new triggers
VERSION = 1
PREFIX = "twin_agg_"
_NOW_SQLITE = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
_NOW_PG = """to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""


def ratable_layers() -> tuple[Layer, ...]:
    """Return the catalog's ratable layers."""
    return tuple(layer for layer in LAYERS if layer.ratable)


def _counts(sign: str, row: str) -> str:
    """Return the SET list adding (``sign`` "+") or removing ("-") ``row``'s stars."""
    parts = [f"stars_{k} = stars_{k} {sign} ({row}.stars = {k})" for k in range(1, 6)]
    parts += [f"ratings = ratings {sign} 1", f"stars_total = stars_total {sign} {row}.stars"]
    return ", ".join(parts)


def _reaction_counts(sign: str, row: str) -> str:
    return f"likes = likes {sign} ({row}.value > 0), dislikes = dislikes {sign} ({row}.value < 0)"


def _sqlite(store_sql: SpatialSQL) -> list[tuple[str, str]]:
    """Return (name, CREATE TRIGGER) pairs for SQLite (GeoPackage)."""
    agg = "rating_aggregates"
    key = "WHERE layer = {r}.layer AND fid = {r}.fid"
    ensure = f"INSERT OR IGNORE INTO {agg} (layer, fid) VALUES ({{r}}.layer, {{r}}.fid);"
    out: list[tuple[str, str]] = []
    for table, add, remove, columns in (
        ("ratings", _counts("+", "NEW"), _counts("-", "OLD"), "stars, layer, fid"),
        (
            "reactions",
            _reaction_counts("+", "NEW"),
            _reaction_counts("-", "OLD"),
            "value, layer, fid",
        ),
    ):
        plus = f"{ensure.format(r='NEW')} UPDATE {agg} SET {add} {key.format(r='NEW')};"
        minus = f"UPDATE {agg} SET {remove} {key.format(r='OLD')};"
        out += [
            (f"{table}_insert", f"AFTER INSERT ON {table} BEGIN {plus} END"),
            (f"{table}_update", f"AFTER UPDATE OF {columns} ON {table} BEGIN {minus} {plus} END"),
            (f"{table}_delete", f"AFTER DELETE ON {table} BEGIN {minus} END"),
        ]
    for layer in ratable_layers():
        join, (x0, y0, x1, y1) = store_sql.bounds(layer)
        log = (
            "INSERT INTO twin_changes (layer, minx, miny, maxx, maxy, changed_at) "
            f"SELECT '{layer.id}', {x0}, {y0}, {x1}, {y1}, {_NOW_SQLITE} "
            f'FROM "{layer.table}" t {join} WHERE t.fid = {{r}}.fid;'
        )
        when = f"{{r}}.layer = '{layer.id}'"
        new, old = log.format(r="NEW"), log.format(r="OLD")
        out += [
            (
                f"tiles_{layer.id}_insert",
                f"AFTER INSERT ON ratings WHEN {when.format(r='NEW')} BEGIN {new} END",
            ),
            (
                f"tiles_{layer.id}_update",
                f"AFTER UPDATE OF stars ON ratings WHEN {when.format(r='NEW')} "
                f"AND OLD.stars <> NEW.stars BEGIN {new} END",
            ),
            (
                f"tiles_{layer.id}_delete",
                f"AFTER DELETE ON ratings WHEN {when.format(r='OLD')} BEGIN {old} END",
            ),
        ]
    return [(f"{PREFIX}{VERSION}_{name}", f"CREATE TRIGGER {PREFIX}{VERSION}_{name} {body}")
            for name, body in out]  # fmt: skip


def _postgres() -> list[tuple[str, str]]:
    """Return (name, DDL) pairs for PostgreSQL: functions, then triggers."""
    agg = "rating_aggregates"
    v = f"{PREFIX}{VERSION}"
    stars_new = ", ".join(f"(NEW.stars = {k})::int" for k in range(1, 6))
    stars_set = ", ".join(f"stars_{k} = a.stars_{k} + EXCLUDED.stars_{k}" for k in range(1, 6))
    minus = ", ".join(
        [f"stars_{k} = stars_{k} - (OLD.stars = {k})::int" for k in range(1, 6)]
        + ["ratings = ratings - 1", "stars_total = stars_total - OLD.stars"]
    )
    ratings_fn = f"""CREATE OR REPLACE FUNCTION {v}_ratings() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    UPDATE {agg} SET {minus} WHERE layer = OLD.layer AND fid = OLD.fid;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO {agg} AS a (layer, fid, stars_1, stars_2, stars_3, stars_4, stars_5,
                            ratings, stars_total)
    VALUES (NEW.layer, NEW.fid, {stars_new}, 1, NEW.stars)
    ON CONFLICT (layer, fid) DO UPDATE SET {stars_set}, ratings = a.ratings + 1,
      stars_total = a.stars_total + EXCLUDED.stars_total;
  END IF;
  RETURN NULL;
END $$"""
    reactions_fn = f"""CREATE OR REPLACE FUNCTION {v}_reactions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    UPDATE {agg} SET likes = likes - (OLD.value > 0)::int,
      dislikes = dislikes - (OLD.value < 0)::int
    WHERE layer = OLD.layer AND fid = OLD.fid;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO {agg} AS a (layer, fid, likes, dislikes)
    VALUES (NEW.layer, NEW.fid, (NEW.value > 0)::int, (NEW.value < 0)::int)
    ON CONFLICT (layer, fid) DO UPDATE SET likes = a.likes + EXCLUDED.likes,
      dislikes = a.dislikes + EXCLUDED.dislikes;
  END IF;
  RETURN NULL;
END $$"""
    branches = []
    for i, layer in enumerate(ratable_layers()):
        branches.append(
            f"{'IF' if i == 0 else 'ELSIF'} l = '{layer.id}' THEN\n"
            "    INSERT INTO twin_changes (layer, minx, miny, maxx, maxy, changed_at)\n"
            f"    SELECT '{layer.id}', ST_XMin(t.geom), ST_YMin(t.geom), ST_XMax(t.geom), "
            f'ST_YMax(t.geom), {_NOW_PG} FROM "{layer.table}" t WHERE t.fid = f;'
        )
    tiles_fn = f"""CREATE OR REPLACE FUNCTION {v}_tiles() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE l text; f integer;
BEGIN
  IF TG_OP = 'DELETE' THEN l := OLD.layer; f := OLD.fid; ELSE l := NEW.layer; f := NEW.fid; END IF;
  PERFORM pg_advisory_xact_lock({CHANGE_LOG_LOCK});
  {chr(10).join(branches)}
  END IF;
  RETURN NULL;
END $$"""
    return [
        (f"{v}_ratings()", ratings_fn),
        (f"{v}_reactions()", reactions_fn),
        (f"{v}_tiles()", tiles_fn),
        (f"{v}_ratings", f"CREATE TRIGGER {v}_ratings AFTER INSERT OR DELETE OR UPDATE OF "
         f"stars, layer, fid ON ratings FOR EACH ROW EXECUTE FUNCTION {v}_ratings()"),
        (f"{v}_reactions", f"CREATE TRIGGER {v}_reactions AFTER INSERT OR DELETE OR UPDATE OF "
         f"value, layer, fid ON reactions FOR EACH ROW EXECUTE FUNCTION {v}_reactions()"),
        (f"{v}_tiles_new", f"CREATE TRIGGER {v}_tiles_new AFTER INSERT ON ratings "
         f"FOR EACH ROW EXECUTE FUNCTION {v}_tiles()"),
        (f"{v}_tiles_changed", f"CREATE TRIGGER {v}_tiles_changed AFTER UPDATE OF stars "
         "ON ratings FOR EACH ROW WHEN (OLD.stars IS DISTINCT FROM NEW.stars) "
         f"EXECUTE FUNCTION {v}_tiles()"),
        (f"{v}_tiles_gone", f"CREATE TRIGGER {v}_tiles_gone AFTER DELETE ON ratings "
         f"FOR EACH ROW EXECUTE FUNCTION {v}_tiles()"),
    ]  # fmt: skip


def _rebuild(conn: sa.Connection) -> None:
    """Recount every aggregate from the ratings and reactions."""
    conn.exec_driver_sql("DELETE FROM rating_aggregates")
    parts = ", ".join(f"CASE WHEN stars = {k} THEN 1 ELSE 0 END AS s{k}" for k in range(1, 6))
    zeros = ", ".join(f"0 AS s{k}" for k in range(1, 6))
    sums = ", ".join(f"sum(s{k})" for k in range(1, 6))
    conn.exec_driver_sql(
        "INSERT INTO rating_aggregates (layer, fid, stars_1, stars_2, stars_3, stars_4, "
        "stars_5, ratings, stars_total, likes, dislikes) "
        f"SELECT layer, fid, {sums}, sum(n), sum(total), sum(likes), sum(dislikes) FROM ("
        f"SELECT layer, fid, {parts}, 1 AS n, stars AS total, 0 AS likes, 0 AS dislikes "
        "FROM ratings UNION ALL "
        f"SELECT layer, fid, {zeros}, 0, 0, CASE WHEN value > 0 THEN 1 ELSE 0 END, "
        "CASE WHEN value < 0 THEN 1 ELSE 0 END FROM reactions) x GROUP BY layer, fid"
    )


def installed(conn: sa.Connection) -> set[str]:
    """Return the names of this module's triggers in the store (of any version)."""
    if conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE %(p)s",
            {"p": PREFIX + "%"},
        )
    else:
        rows = conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE ?",
            (PREFIX + "%",),
        )
    return {r[0] for r in rows}


def install(conn: sa.Connection, store_sql: SpatialSQL) -> list[str]:
    """Create the triggers (replacing older versions) and rebuild the aggregates when any was
    missing; return a line per change made."""
    ddl = _postgres() if conn.dialect.name == "postgresql" else _sqlite(store_sql)
    triggers = {name for name, _ in ddl if not name.endswith("()")}
    have = installed(conn)
    if have == triggers:
        return []
    for name in have:
        if conn.dialect.name == "postgresql":
            table = "reactions" if "reactions" in name else "ratings"
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        else:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    for _, sql in ddl:
        conn.exec_driver_sql(sql)
    _rebuild(conn)
    return [f"installed the rating triggers (version {VERSION}) and rebuilt the aggregates"]


def rating_columns(layer: Layer, dialect: str) -> tuple[str, dict[str, str]]:
    """Return the LEFT JOIN and the select expressions (by property name) that add a ratable
    layer's ``rating_mean`` and ``rating_count`` (``layers.model.RATING_PROPS``) to a query
    over its table aliased ``t``; both NULL where nobody rated the feature. Nothing for a
    layer that is not ratable."""
    if not layer.ratable:
        return "", {}
    ratio = (
        "ra.stars_total::numeric / ra.ratings"
        if dialect == "postgresql"
        else "CAST(ra.stars_total AS REAL) / ra.ratings"
    )
    mean = f"round({ratio}, 2)" + ("::float8" if dialect == "postgresql" else "")
    join = f"LEFT JOIN rating_aggregates ra ON ra.layer = '{layer.id}' AND ra.fid = t.fid"
    return join, {
        "rating_mean": f"CASE WHEN ra.ratings > 0 THEN {mean} END",
        "rating_count": "NULLIF(ra.ratings, 0)",
    }
