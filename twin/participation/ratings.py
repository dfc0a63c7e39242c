"""Ratings (1–5 stars with an optional review) and likes/dislikes of ratable features, and
their aggregates.

One rating and one reaction per resident per feature are unique constraints in the store
(``ratings_one_per_resident``, ``reactions_one_per_resident``): 50 parallel likes by one
resident leave one row whatever interleaving happens. A write updates the resident's row and
inserts it only when there was none, each statement checking that the feature exists; an
insert that races the resident's own first insert becomes an update.

Aggregates live in ``rating_aggregates``, one row per feature that triggers keep in the
writer's own statement (:mod:`twin.store.triggers`), so each write statement is complete on
its own and the store may run it in autocommit (:meth:`Store.statements`): a rating is an
UPDATE (or INSERT … SELECT) and a primary-key read of the aggregate — on PostGIS 2 round trips
(and the pool's ping),
where it was BEGIN, a feature check, the write, a GROUP BY over the feature's rows and COMMIT
(py-spy had 44 % of the server's samples waiting on psycopg under 32
clients).

Residents' writes are committed in groups by :class:`~twin.participation.writer.GroupWriter`
(the ``*_on`` methods run in a group's transaction). On PostgreSQL a rating or a reaction is
one ``INSERT … ON CONFLICT DO UPDATE`` (a group's time there is round trips); SQLite keeps
UPDATE then INSERT, since an upsert's conflict clause would override the triggers' own.

A review hidden by moderation keeps its stars in the aggregates (the resident's judgement of
the work still counts); only its text is withheld, and editing it does not unhide it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from layers import Layer
from twin.core.errors import BadInput, Conflict, NotFound
from twin.participation.objects import require_feature
from twin.participation.text import clean_text
from twin.store import Store

REVIEW_MAX = 2000
REACTIONS = {"like": 1, "dislike": -1}


@dataclass
class Aggregate:
    """What residents think of one feature."""

    count: int = 0
    mean: float | None = None
    #: number of 1-, 2-, 3-, 4- and 5-star ratings
    distribution: list[int] = field(default_factory=lambda: [0, 0, 0, 0, 0])
    likes: int = 0
    dislikes: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "count": self.count,
            "mean": None if self.mean is None else round(self.mean, 2),
            "distribution": self.distribution,
            "likes": self.likes,
            "dislikes": self.dislikes,
        }

    def as_properties(self) -> dict[str, Any]:
        """Return the flat properties added to a feature (``rating_mean`` …)."""
        return {
            "rating_mean": None if self.mean is None else round(self.mean, 2),
            "rating_count": self.count,
            "likes": self.likes,
            "dislikes": self.dislikes,
        }


def _stars(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise BadInput(f"stars: a whole number from 1 to 5 (got {value!r})")
    return value


def _from_row(row: Any) -> Aggregate:
    """Return the aggregate of one ``rating_aggregates`` row."""
    distribution = [int(row.stars_1), int(row.stars_2), int(row.stars_3), int(row.stars_4),
                    int(row.stars_5)]  # fmt: skip
    count = int(row.ratings)
    return Aggregate(
        count=count,
        mean=int(row.stars_total) / count if count else None,
        distribution=distribution,
        likes=int(row.likes),
        dislikes=int(row.dislikes),
    )


@dataclass
class Ratings:
    """Ratings and reactions over ``store``."""

    store: Store
    now: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        tables = self.store.metadata.tables
        self.ratings = tables["ratings"]
        self.reactions = tables["reactions"]
        self.accounts = tables["accounts"]
        self.totals = tables["rating_aggregates"]
        g = self.totals
        #: the statements of the writes, built once (see :meth:`_write_sql`)
        self._sql: dict[tuple[Any, ...], tuple[sa.Update, Any, sa.Select[Any]]] = {}
        self._upserts: dict[tuple[Any, ...], Any] = {}  # see _upsert_sql
        #: writes are one upsert statement (PostgreSQL) rather than UPDATE then INSERT
        self._one_statement = self.store.engine.dialect.name == "postgresql"
        self._aggregate_sql = sa.select(g).where(
            g.c.layer == sa.bindparam("layer"), g.c.fid == sa.bindparam("fid")
        )

    # -- writes --------------------------------------------------------------------------
    @staticmethod
    def group_key(layer: Layer, fid: int, account_id: int, kind: str) -> tuple[Any, ...]:
        """Return a write's place in a group commit (:class:`~twin.participation.writer.
        GroupWriter` sorts by it): by feature, then resident, so that every group locks the
        aggregate rows in one order; ``kind`` "rating" or "reaction"."""
        return (layer.id, fid, account_id, kind)

    def prepare_group(self, conn: sa.Connection, keys: list[tuple[Any, ...]]) -> None:
        """Start a group commit's transaction: when a rating is among its writes, take the
        change log's lock first (a rating's trigger logs the feature for the tiles and takes
        it on PostGIS), before the group locks any aggregate row, so that two groups cannot
        each hold what the other waits for."""
        if any(k and k[-1] == "rating" for k in keys):
            self.store.lock_change_log(conn)

    def _insert(self, table: sa.Table) -> Any:
        """Return this store's ``INSERT … ON CONFLICT DO NOTHING`` of ``table``."""
        if self.store.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table)
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)

    def _write_sql(
        self, table: sa.Table, layer: Layer, changes: tuple[str, ...], inserts: tuple[str, ...]
    ) -> tuple[sa.Update, Any, sa.Select[Any]]:
        """Return the (update, insert, own row) statements of :meth:`_upsert`, built once
        per shape.

        Their values are bind parameters (``w_layer``, ``w_fid``, ``w_account``, and ``v_``
        + column), so a write binds values to statements compiled once: building the
        statements and their cache keys anew took a third of a write's CPU (py-spy)."""
        key = (table.name, layer.id, changes, inserts)
        built = self._sql.get(key)
        if built is None:
            fid = sa.bindparam("w_fid", type_=sa.Integer)
            feature = self.store.tables[layer.id]
            exists = sa.exists().where(feature.c.fid == fid)
            mine = (
                table.c.layer == sa.bindparam("w_layer", type_=table.c.layer.type),
                table.c.fid == fid,
                table.c.account_id == sa.bindparam("w_account", type_=sa.Integer),
            )
            change = (
                table.update()
                .where(*mine, exists)
                .values({k: sa.bindparam(f"v_{k}", type_=table.c[k].type) for k in changes})
            )
            row = {
                "layer": sa.bindparam("w_layer", type_=table.c.layer.type),
                "fid": fid,
                "account_id": sa.bindparam("w_account", type_=sa.Integer),
                **{k: sa.bindparam(f"v_{k}", type_=table.c[k].type) for k in inserts},
            }
            values = sa.select(*row.values()).where(exists)
            # ON CONFLICT DO NOTHING: a second row of the resident is no error that would
            # abort the transaction (a group commit's, :mod:`twin.participation.writer`),
            # just no row inserted. RETURNING: the driver's rowcount of an INSERT … SELECT is
            # -1 through SQLAlchemy.
            insert = (
                self._insert(table)
                .from_select(list(row), values)
                .on_conflict_do_nothing(index_elements=["layer", "fid", "account_id"])
                .returning(table.c.id)
            )
            own = sa.select(table.c.id).where(*mine)
            built = self._sql[key] = (change, insert, own)
        return built

    def _upsert_sql(
        self, table: sa.Table, layer: Layer, changes: tuple[str, ...], inserts: tuple[str, ...]
    ) -> Any:
        """Return PostgreSQL's one-statement upsert of :meth:`_upsert` (built once per
        shape): ``INSERT … SELECT … WHERE <the feature exists> ON CONFLICT DO UPDATE``,
        returning whether it inserted (``xmax = 0``)."""
        key = (table.name, layer.id, changes, inserts)
        built = self._upserts.get(key)
        if built is None:
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            fid = sa.bindparam("w_fid", type_=sa.Integer)
            feature = self.store.tables[layer.id]
            row = {
                "layer": sa.bindparam("w_layer", type_=table.c.layer.type),
                "fid": fid,
                "account_id": sa.bindparam("w_account", type_=sa.Integer),
                **{k: sa.bindparam(f"v_{k}", type_=table.c[k].type) for k in inserts},
            }
            values = sa.select(*row.values()).where(sa.exists().where(feature.c.fid == fid))
            up = pg_insert(table).from_select(list(row), values)
            insert = up.on_conflict_do_update(
                index_elements=["layer", "fid", "account_id"],
                set_={k: up.excluded[k] for k in changes},
            ).returning(table.c.id, sa.literal_column("(xmax = 0)").label("inserted"))
            built = self._upserts[key] = insert
        return built

    def _upsert(
        self,
        conn: sa.Connection,
        table: sa.Table,
        layer: Layer,
        fid: int,
        account_id: int,
        changes: dict[str, Any],
        new_row: dict[str, Any],
        *,
        update: bool = True,
        exists_message: str = "",
    ) -> bool:
        """Update the resident's row of ``table`` on the feature, else insert it; return
        whether it was inserted. Each statement stands alone (the store may run them in
        autocommit) and none fails on the unique constraint: the update and the insert both
        check the feature in the same statement, and an insert that races another of this
        resident's first inserts inserts nothing and becomes an update. :class:`NotFound`
        when there is no feature, :class:`Conflict` (``exists_message``) when ``update`` is
        false and the row exists."""
        keys = {"w_layer": layer.id, "w_fid": fid, "w_account": account_id}
        if update and self._one_statement:
            # PostgreSQL: one round trip, where UPDATE then INSERT took two for a new row
            # (SQLite does not take it: an upsert's conflict clause overrides the triggers')
            params = {**keys, **{f"v_{k}": v for k, v in new_row.items()}}
            upsert = self._upsert_sql(table, layer, tuple(changes), tuple(new_row))
            done = conn.execute(upsert, params).first()
            if done is None:
                raise NotFound(f"no feature {fid} in layer {layer.id!r}")
            return bool(done.inserted)
        change, insert, own = self._write_sql(table, layer, tuple(changes), tuple(new_row))
        change_params = {**keys, **{f"v_{k}": v for k, v in changes.items()}}
        if update and conn.execute(change, change_params).rowcount:
            return False
        insert_params = {**keys, **{f"v_{k}": v for k, v in new_row.items()}}
        if conn.execute(insert, insert_params).first() is not None:
            return True
        # nothing inserted: the resident's row exists (a race, or a second POST), or the
        # feature does not
        if update:
            if conn.execute(change, change_params).rowcount:
                return False
        elif conn.execute(own, keys).first() is not None:
            raise Conflict(exists_message)
        raise NotFound(f"no feature {fid} in layer {layer.id!r}")

    def rate(
        self,
        account_id: int,
        layer: Layer,
        fid: int,
        stars: object,
        review: object = None,
        *,
        create_only: bool = False,
    ) -> tuple[bool, Aggregate]:
        """Rate the feature (or change one's rating); return (created, the new aggregate).

        ``create_only`` refuses a second rating with :class:`Conflict` (change it instead).
        """
        value = _stars(stars)
        text = clean_text(review, "review", REVIEW_MAX, required=False)
        with self.store.statements(write=True) as conn:
            return self._rate_checked(conn, account_id, layer, fid, value, text, create_only)

    def rate_on(
        self,
        conn: sa.Connection,
        account_id: int,
        layer: Layer,
        fid: int,
        stars: object,
        review: object = None,
        create_only: bool = False,
    ) -> tuple[bool, Aggregate]:
        """Do what :meth:`rate` does on ``conn``, in the caller's transaction (a group
        commit's, :mod:`twin.participation.writer`).

        Like every ``*_on`` write here it raises :class:`BadInput`, :class:`NotFound` or
        :class:`Conflict` only having written nothing (checked before any statement, or
        after statements that changed no row), so a group commit need not roll back."""
        value = _stars(stars)
        text = clean_text(review, "review", REVIEW_MAX, required=False)
        return self._rate_checked(conn, account_id, layer, fid, value, text, create_only)

    def _rate_checked(
        self,
        conn: sa.Connection,
        account_id: int,
        layer: Layer,
        fid: int,
        value: int,
        text: str | None,
        create_only: bool,
    ) -> tuple[bool, Aggregate]:
        now = self.now()
        try:
            created = self._upsert(
                conn,
                self.ratings,
                layer,
                fid,
                account_id,
                {"stars": value, "review": text, "updated_at": now},
                {"stars": value, "review": text, "created_at": now, "updated_at": now,
                 "hidden": False},
                update=not create_only,
                exists_message="you have rated this already: change your rating (PUT) instead",
            )  # fmt: skip
        except sa.exc.IntegrityError as exc:
            raise Conflict("this rating conflicts with the stored ones") from exc
        return created, self._aggregate_on(conn, layer.id, fid)

    def withdraw_rating(self, account_id: int, layer: Layer, fid: int) -> Aggregate:
        """Withdraw one's rating; :class:`NotFound` if there is none."""
        with self.store.statements(write=True) as conn:
            return self.withdraw_rating_on(conn, account_id, layer, fid)

    def withdraw_rating_on(
        self, conn: sa.Connection, account_id: int, layer: Layer, fid: int
    ) -> Aggregate:
        """Do what :meth:`withdraw_rating` does on ``conn``, in the caller's transaction."""
        return self._withdraw_on(conn, self.ratings, account_id, layer, fid, "rated")

    def react(self, account_id: int, layer: Layer, fid: int, reaction: object) -> Aggregate:
        """Like or dislike the feature (replacing one's earlier reaction)."""
        with self.store.statements(write=True) as conn:
            return self.react_on(conn, account_id, layer, fid, reaction)

    def react_on(
        self, conn: sa.Connection, account_id: int, layer: Layer, fid: int, reaction: object
    ) -> Aggregate:
        """Do what :meth:`react` does on ``conn``, in the caller's transaction."""
        if reaction not in REACTIONS:
            raise BadInput(f"reaction: 'like' or 'dislike' (got {reaction!r})")
        value = REACTIONS[str(reaction)]
        self._upsert(
            conn,
            self.reactions,
            layer,
            fid,
            account_id,
            {"value": value},
            {"value": value, "created_at": self.now()},
        )
        return self._aggregate_on(conn, layer.id, fid)

    def withdraw_reaction(self, account_id: int, layer: Layer, fid: int) -> Aggregate:
        """Withdraw one's like or dislike; :class:`NotFound` if there is none."""
        with self.store.statements(write=True) as conn:
            return self.withdraw_reaction_on(conn, account_id, layer, fid)

    def withdraw_reaction_on(
        self, conn: sa.Connection, account_id: int, layer: Layer, fid: int
    ) -> Aggregate:
        """Do what :meth:`withdraw_reaction` does on ``conn``, in the caller's transaction."""
        return self._withdraw_on(conn, self.reactions, account_id, layer, fid, "liked or disliked")

    def _withdraw_on(
        self,
        conn: sa.Connection,
        table: sa.Table,
        account_id: int,
        layer: Layer,
        fid: int,
        what: str,
    ) -> Aggregate:
        """Delete the caller's row of ``table`` on the feature (:class:`NotFound`, saying they
        have not ``what`` it, when there is none) and return the feature's new aggregate."""
        t = table
        gone = conn.execute(
            t.delete().where(t.c.layer == layer.id, t.c.fid == fid, t.c.account_id == account_id)
        ).rowcount
        if not gone:
            raise NotFound(f"you have not {what} feature {fid} of {layer.id!r}")
        return self._aggregate_on(conn, layer.id, fid)

    # -- reads ---------------------------------------------------------------------------
    def check_feature(self, layer: Layer, fid: int) -> None:
        """Raise :class:`NotFound` unless feature ``fid`` of ``layer`` exists."""
        with self.store.engine.connect() as conn:
            require_feature(conn, self.store, layer, fid)

    def aggregate(self, layer_id: str, fid: int) -> Aggregate:
        """Return the aggregate of one feature."""
        return self.aggregates(layer_id, [fid]).get(fid, Aggregate())

    def aggregates(self, layer_id: str, fids: Iterable[int] | None = None) -> dict[int, Aggregate]:
        """Return the aggregates of the rated or reacted features among ``fids`` (all of the
        layer's with None); features nobody rated are absent."""
        with self.store.engine.connect() as conn:
            return self._aggregates_on(conn, layer_id, fids)

    def _aggregates_on(
        self, conn: sa.Connection, layer_id: str, fids: Iterable[int] | None
    ) -> dict[int, Aggregate]:
        """:meth:`aggregates` on ``conn``: rows of ``rating_aggregates``, which triggers keep
        (:mod:`twin.store.triggers`)."""
        g = self.totals
        ids = None if fids is None else sorted({int(f) for f in fids})
        if ids is not None and not ids:
            return {}
        q = sa.select(g).where(g.c.layer == layer_id)
        if ids is not None:
            q = q.where(g.c.fid.in_(ids))
        out: dict[int, Aggregate] = {}
        for row in conn.execute(q):
            agg = _from_row(row)
            if agg.count or agg.likes or agg.dislikes:
                out[int(row.fid)] = agg
        return out

    def _aggregate_on(self, conn: sa.Connection, layer_id: str, fid: int) -> Aggregate:
        row = conn.execute(self._aggregate_sql, {"layer": layer_id, "fid": fid}).first()
        return Aggregate() if row is None else _from_row(row)

    def mine(self, account_id: int, layer_id: str, fid: int) -> dict[str, Any]:
        """Return the resident's own rating and reaction on the feature."""
        r, x = self.ratings, self.reactions
        with self.store.engine.connect() as conn:
            rating = conn.execute(
                sa.select(r.c.id, r.c.stars, r.c.review, r.c.hidden).where(
                    r.c.layer == layer_id, r.c.fid == fid, r.c.account_id == account_id
                )
            ).first()
            value = conn.execute(
                sa.select(x.c.value).where(
                    x.c.layer == layer_id, x.c.fid == fid, x.c.account_id == account_id
                )
            ).scalar_one_or_none()
        return {
            "rating": None
            if rating is None
            else {
                "id": rating.id,
                "stars": rating.stars,
                "review": rating.review,
                "hidden": bool(rating.hidden),
            },
            "reaction": None if value is None else ("like" if value > 0 else "dislike"),
        }

    def reviews(
        self, layer_id: str, fid: int, limit: int = 20, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Return the feature's visible reviews, newest first, with their authors' display
        names (None for an account that is deleted or gave none)."""
        r, a = self.ratings, self.accounts
        q = (
            sa.select(
                r.c.id, r.c.stars, r.c.review, r.c.updated_at, a.c.display_name, a.c.deleted_at
            )
            .join(a, a.c.id == r.c.account_id)
            .where(
                r.c.layer == layer_id,
                r.c.fid == fid,
                r.c.review.is_not(None),
                r.c.hidden.is_(False),
            )
            .order_by(r.c.updated_at.desc(), r.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        with self.store.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [
            {
                "id": row.id,
                "stars": row.stars,
                "review": row.review,
                "at": row.updated_at,
                "author": None if row.deleted_at is not None else row.display_name,
            }
            for row in rows
        ]

    def properties_for(self, layer_id: str, fids: list[int]) -> dict[str, list[Any]]:
        """Return the aggregate properties (``rating_mean``, ``rating_count``, ``likes``,
        ``dislikes``) of ``fids`` as columns in ``fids`` order, for features' properties."""
        aggs = self.aggregates(layer_id, fids)
        rows = [aggs.get(f, Aggregate()).as_properties() for f in fids]
        names = ("rating_mean", "rating_count", "likes", "dislikes")
        return {name: [row[name] for row in rows] for name in names}

    def district_ranking(self, layer: Layer, district: str, n: int = 5) -> dict[str, Any]:
        """Return the ``n`` best- and worst-rated features of ``layer`` in ``district`` (rated
        ones only; by mean, then number of ratings, then fid) and, where the layer names a
        contractor, the mean rating of each contractor's works there."""
        table = self.store.tables[layer.id]
        names = set(layer.prop_names)
        cols = [table.c.fid] + [table.c[c] for c in ("title", "contractor") if c in names]
        with self.store.engine.connect() as conn:
            rows = {
                int(r.fid): r._mapping
                for r in conn.execute(sa.select(*cols).where(table.c.district == district))
            }
        aggs = [(f, a) for f, a in self.aggregates(layer.id, list(rows)).items() if a.count]

        def item(fid: int, agg: Aggregate) -> dict[str, Any]:
            row = rows[fid]
            return {
                "fid": fid,
                "title": row.get("title"),
                "contractor": row.get("contractor"),
                **agg.as_dict(),
            }

        best = sorted(aggs, key=lambda fa: (-(fa[1].mean or 0), -fa[1].count, fa[0]))
        worst = sorted(aggs, key=lambda fa: ((fa[1].mean or 0), -fa[1].count, fa[0]))
        by_contractor: dict[str, list[int]] = {}
        for fid, agg in aggs:
            name = rows[fid].get("contractor")
            if name:
                stars = by_contractor.setdefault(str(name), [0, 0])
                stars[0] += sum((i + 1) * k for i, k in enumerate(agg.distribution))
                stars[1] += agg.count
        ordered = sorted(
            by_contractor.items(), key=lambda ct: (-ct[1][0] / ct[1][1], -ct[1][1], ct[0])
        )
        contractors = [
            {"contractor": c, "mean": round(total / count, 2), "count": count}
            for c, (total, count) in ordered
        ]
        return {
            "layer": layer.id,
            "district": district,
            "rated": len(aggs),
            "best": [item(f, a) for f, a in best[:n]],
            "worst": [item(f, a) for f, a in worst[:n]],
            "by_contractor": contractors,
        }
