"""Appeals over the store: file one, read and list them, move one through its lifecycle, rate
an answer, join an open appeal instead of filing a duplicate.

Each write is one transaction: the appeal's row in the ``appeals`` layer goes through
``Store.load`` (validated like any feature, logged in the change log so cached tiles and
hexagon counts are redrawn) and its domain rows (text, author, history) are written in the
same transaction (``then``). A generated appeal has no domain rows: its history is read from
its lifecycle dates, by "system".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely
import sqlalchemy as sa

import layers
from etl.transform import conform
from twin.appeals.catalog import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    SENSITIVE_CODES,
    category,
    check_transition,
    service,
)
from twin.core.access import Caller, Role, require_account, require_planner
from twin.core.errors import BadInput, Forbidden, NotFound
from twin.features.query import plain_value
from twin.live import publish
from twin.photos import PhotoStore
from twin.photos.sweep import claim
from twin.store import Batch, Store

LAYER = layers.get("appeals")
#: the source of appeals filed through the API (generated ones keep the generator's)
SOURCE = "open311"
#: how near an open appeal of the same category must be to be offered as a duplicate
DUPLICATE_RADIUS_M = 50.0
MAX_DESCRIPTION = 4000
MAX_ADDRESS = 300
MAX_URL = 500
MAX_PAGE_SIZE = 200
_TO_UTM = pyproj.Transformer.from_crs(4326, 32643, always_xy=True)
_URL = re.compile(r"^https?://[^\s]+$")
#: a ``media_url`` naming a photo uploaded to us first (``POST /api/photos``): the appeal
#: claims the upload, as an initiative does, so that the sweep never takes it
_OWN_PHOTO = re.compile(r"/api/photos/([0-9a-f]{64}\.(?:jpg|png|webp))$")


def utc_now() -> dt.datetime:
    """Return the current time in UTC (seconds)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def iso(t: dt.datetime) -> str:
    """Return ``t`` as ISO 8601 UTC text with a ``Z``."""
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


#: Largest appeal id: ``fid`` is a 32-bit integer in PostGIS, and a larger one in a query
#: is an error there ("integer out of range"), not a miss.
_MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Appeal:
    """One appeal: its layer row (properties JSON-ready) and, when filed through the API, the
    details kept in the domain tables."""

    id: int
    synthetic: bool
    props: dict[str, Any]
    lon: float
    lat: float
    details: dict[str, Any] | None = None
    followers: int = 0

    @property
    def category(self) -> str:
        return str(self.props["category"])

    @property
    def status(self) -> str:
        return str(self.props["status"])

    @property
    def author(self) -> int | None:
        return None if self.details is None else int(self.details["author_account_id"])


@dataclass(frozen=True)
class Filters:
    """What a list of appeals is narrowed by (Open311 ``GET requests``)."""

    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    start: dt.date | None = None
    end: dt.date | None = None
    bbox: tuple[float, float, float, float] | None = None
    ids: tuple[int, ...] = ()
    page: int = 1
    page_size: int = 50
    #: only appeals whose point is public (not of a sensitive category)
    located_only: bool = False


@dataclass
class Page:
    """One page of appeals and how many match in all."""

    appeals: list[Appeal]
    total: int
    page: int
    page_size: int
    duplicates: list[int] = field(default_factory=list)


@lru_cache(maxsize=8)
def _districts(store_id: int, store: Store) -> gpd.GeoDataFrame:
    frame = store.read_frame(layers.get("districts"))
    return frame[["name", "geometry"]]


def district_at(store: Store, lon: float, lat: float) -> str:
    """Return the district containing (lon, lat); raise :class:`BadInput` outside the city."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise BadInput(f"({lon}, {lat}) is not a longitude/latitude")
    frame = _districts(id(store), store)
    point = shapely.Point(lon, lat)
    hit = frame[frame.geometry.covers(point)]
    if hit.empty:
        raise BadInput(f"({lon:.6f}, {lat:.6f}) is outside the city of Almaty")
    return str(hit.iloc[0]["name"])


def _text(value: str | None, name: str, limit: int, *, required: bool = False) -> str | None:
    if value is None or not value.strip():
        if required:
            raise BadInput(f"{name} is empty; describe the problem")
        return None
    value = value.strip()
    if len(value) > limit:
        raise BadInput(f"{name} is {len(value)} characters; at most {limit}")
    return value


class Appeals:
    """The appeals of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.t = store.tables[LAYER.id]
        self.requests = store.metadata.tables["appeal_requests"]
        self.history_t = store.metadata.tables["appeal_history"]
        self.followers = store.metadata.tables["appeal_followers"]

    # -- reading ---------------------------------------------------------------------------
    def _select(self) -> sa.Select[Any]:
        raw = sa.types.NullType()
        t = self.t
        cols: list[Any] = [t.c.fid, sa.type_coerce(t.c.synthetic, raw)]
        cols += [sa.type_coerce(t.c[n], raw).label(n) for n in LAYER.prop_names]
        cols.append(
            sa.literal_column(self.store.sql.geom_wkb(f'"{LAYER.table}".geom')).label("geom")
        )
        return sa.select(*cols).select_from(t)

    def _build(self, conn: sa.Connection, rows: Sequence[Any]) -> list[Appeal]:
        if not rows:
            return []
        geoms = self.store.sql.decode_geoms([r[-1] for r in rows])
        fids = [int(r[0]) for r in rows]
        r_t, f_t = self.requests, self.followers
        details = {
            int(d["appeal_id"]): dict(d)
            for d in conn.execute(sa.select(r_t).where(r_t.c.appeal_id.in_(fids))).mappings()
        }
        counts: dict[int, int] = dict(
            conn.execute(
                sa.select(f_t.c.appeal_id, sa.func.count())
                .where(f_t.c.appeal_id.in_(fids))
                .group_by(f_t.c.appeal_id)
            ).all()
        )
        out = []
        for r, g in zip(rows, geoms, strict=True):
            props = {
                name: plain_value(LAYER.prop(name).type, r[j])
                for j, name in enumerate(LAYER.prop_names, start=2)
            }
            fid = int(r[0])
            out.append(
                Appeal(
                    id=fid,
                    synthetic=bool(r[1]),
                    props=props,
                    lon=float(g.x),
                    lat=float(g.y),
                    details=details.get(fid),
                    followers=int(counts.get(fid, 0)),
                )
            )
        return out

    def get(self, appeal_id: int) -> Appeal:
        """Return appeal ``appeal_id`` or raise :class:`NotFound`."""
        if not 0 < appeal_id <= _MAX_ID:
            raise NotFound(f"no appeal {appeal_id}")
        with self.store.engine.connect() as conn:
            rows = conn.execute(self._select().where(self.t.c.fid == appeal_id)).fetchall()
            found = self._build(conn, rows)
        if not found:
            raise NotFound(f"no appeal {appeal_id}")
        return found[0]

    def search(self, f: Filters) -> Page:
        """Return the page of appeals matching ``f``, newest first."""
        if not 1 <= f.page_size <= MAX_PAGE_SIZE:
            raise BadInput(f"page_size must be 1 to {MAX_PAGE_SIZE} (got {f.page_size})")
        if f.page < 1:
            raise BadInput(f"page must be 1 or more (got {f.page})")
        t = self.t
        conds: list[Any] = []
        if f.categories:
            for c in f.categories:
                category(c)
            conds.append(t.c.category.in_(f.categories))
        if f.statuses:
            conds.append(t.c.status.in_(f.statuses))
        if f.start is not None:
            conds.append(t.c.created_on >= f.start)
        if f.end is not None:
            conds.append(t.c.created_on <= f.end)
        if f.located_only:
            conds.append(t.c.category.not_in(SENSITIVE_CODES))
        if f.ids:
            conds.append(t.c.fid.in_([i for i in f.ids if 0 < i <= _MAX_ID]))
        if f.bbox is not None:
            minx, miny, maxx, maxy = f.bbox
            if not (minx < maxx and miny < maxy):
                raise BadInput("bbox must be min_lon,min_lat,max_lon,max_lat with min < max")
            conds.append(self.store.sql.intersects_box(t, LAYER, f.bbox))
        stmt = (
            self._select()
            .where(*conds)
            .order_by(t.c.created_on.desc(), t.c.fid.desc())
            .limit(f.page_size)
            .offset((f.page - 1) * f.page_size)
        )
        with self.store.engine.connect() as conn:
            rows = conn.execute(stmt).fetchall()
            total = int(
                conn.execute(sa.select(sa.func.count()).select_from(t).where(*conds)).scalar_one()
            )
            found = self._build(conn, rows)
        return Page(found, total, f.page, f.page_size)

    def nearby_open(self, code: str, lon: float, lat: float) -> list[Appeal]:
        """Return the open appeals of category ``code`` within :data:`DUPLICATE_RADIUS_M` of
        (lon, lat), nearest first."""
        category(code)
        pad_lat = DUPLICATE_RADIUS_M / 111_000 * 1.5
        pad_lon = pad_lat / max(np.cos(np.radians(lat)), 0.1)
        box = (lon - pad_lon, lat - pad_lat, lon + pad_lon, lat + pad_lat)
        t = self.t
        stmt = self._select().where(
            t.c.category == code,
            t.c.status.in_(OPEN_STATUSES),
            self.store.sql.intersects_box(t, LAYER, box),
        )
        with self.store.engine.connect() as conn:
            found = self._build(conn, conn.execute(stmt).fetchall())
        if not found:
            return []
        x0, y0 = _TO_UTM.transform(lon, lat)
        xs, ys = _TO_UTM.transform([a.lon for a in found], [a.lat for a in found])
        dist = np.hypot(np.asarray(xs) - x0, np.asarray(ys) - y0)
        order = np.argsort(dist, kind="stable")
        return [found[i] for i in order if dist[i] <= DUPLICATE_RADIUS_M]

    def history(self, appeal: Appeal) -> list[dict[str, Any]]:
        """Return the appeal's status changes, oldest first: ``status``, ``at``, ``by_role``
        (and ``reason``, ``service``). Staff key ids and account ids are left to the caller to
        show or not."""
        if appeal.details is None:
            return _derived_history(appeal)
        h = self.history_t
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                sa.select(h).where(h.c.appeal_id == appeal.id).order_by(h.c.id)
            ).mappings()
            return [dict(r) for r in rows]

    def mine(self, account_id: int) -> list[Appeal]:
        """Return the appeals ``account_id`` filed or joined, newest first."""
        r_t, f_t = self.requests, self.followers
        with self.store.engine.connect() as conn:
            ids = {
                int(v)
                for v in conn.execute(
                    sa.select(r_t.c.appeal_id).where(r_t.c.author_account_id == account_id)
                ).scalars()
            }
            ids |= {
                int(v)
                for v in conn.execute(
                    sa.select(f_t.c.appeal_id).where(f_t.c.account_id == account_id)
                ).scalars()
            }
            if not ids:
                return []
            stmt = self._select().where(self.t.c.fid.in_(sorted(ids))).order_by(self.t.c.fid.desc())
            return self._build(conn, conn.execute(stmt).fetchall())

    # -- writing ---------------------------------------------------------------------------
    def _write_row(
        self,
        key: tuple[str, str],
        props: dict[str, Any],
        point: shapely.Point,
        synthetic: bool,
        then: Any,
    ) -> None:
        source, source_id = key
        data: dict[str, list[Any]] = {"source_id": [source_id]}
        for name in LAYER.prop_names:
            data[name] = [props.get(name)]
        raw = gpd.GeoDataFrame(data, geometry=[point], crs=4326)
        result = conform(raw, LAYER, origin=source, id_column="source_id", synthetic=synthetic)
        if result.rejected:
            raise BadInput(f"appeal refused: {result.rejected[0].reason}")
        digest = hashlib.sha256(
            json.dumps([key, props, point.wkt], sort_keys=True, default=str).encode()
        ).hexdigest()
        batch = Batch(
            layer=LAYER,
            source=source,
            frame=result.frame,
            file=f"{SOURCE}:{LAYER.id}",
            sha256=digest,
            licence="residents' appeals through Open311 (personal data withheld)",
            replace=False,
        )
        self.store.load([batch], then=then)

    def file(
        self,
        caller: Caller,
        *,
        service_code: str,
        lon: float,
        lat: float,
        description: str | None,
        address: str | None = None,
        media_url: str | None = None,
        photos: PhotoStore | None = None,
        now: dt.datetime | None = None,
    ) -> tuple[Appeal, list[Appeal]]:
        """File a resident's appeal; return it and the open appeals it may duplicate (none
        for a sensitive category: see :func:`twin.appeals.catalog.is_sensitive`).

        A ``media_url`` naming one of our uploads claims it in the appeal's transaction (with
        ``photos``, the server's photo store): :class:`BadInput` when the photo is gone."""
        account = require_account(caller, "file an appeal")
        cat = category(service_code)
        text = _text(description, "description", MAX_DESCRIPTION, required=True)
        addr = _text(address, "address", MAX_ADDRESS)
        url = _text(media_url, "media_url", MAX_URL)
        if url is not None and not _URL.match(url):
            raise BadInput("media_url must be an http(s) URL")
        own = _OWN_PHOTO.search(url) if url is not None and photos is not None else None
        if not (np.isfinite(lon) and np.isfinite(lat)):
            raise BadInput("lat and long must be numbers")
        district = district_at(self.store, lon, lat)
        # no hint for a sensitive category unless staff file it: the answer's ids, filed
        # point by point, would locate appeals whose points are not public
        duplicates = (
            [] if cat.sensitive and not staff(caller) else self.nearby_open(cat.code, lon, lat)
        )
        now = now or utc_now()
        today = now.date()
        props = {
            "category": cat.code,
            "status": "received",
            "created_on": today.isoformat(),
            "district": district,
            "service": cat.service,
            "deadline_on": (today + dt.timedelta(days=cat.deadline_days)).isoformat(),
        }
        key = (SOURCE, uuid.uuid4().hex)
        t, stamp = self.t, iso(now)

        def then(conn: sa.Connection) -> None:
            fid = conn.execute(
                sa.select(t.c.fid).where(t.c.source == key[0], t.c.source_id == key[1])
            ).scalar_one()
            conn.execute(
                sa.insert(self.requests).values(
                    appeal_id=fid,
                    author_account_id=account,
                    description=text,
                    address=addr,
                    media_url=url,
                    requested_at=stamp,
                    updated_at=stamp,
                )
            )
            self._log(conn, fid, "received", caller, stamp, service=cat.service)
            if own is not None and photos is not None:
                claim(conn, self.store, photos, [own.group(1)], field="media_url")

        self._write_row(key, props, shapely.Point(lon, lat), False, then)
        with self.store.engine.connect() as conn:
            fid = conn.execute(
                sa.select(t.c.fid).where(t.c.source == key[0], t.c.source_id == key[1])
            ).scalar_one()
        appeal = self.get(int(fid))
        _announce("filed", appeal)
        return appeal, duplicates

    def _log(
        self,
        conn: sa.Connection,
        fid: int,
        status: str,
        caller: Caller,
        stamp: str,
        *,
        service: str | None = None,
        reason: str | None = None,
    ) -> None:
        conn.execute(
            sa.insert(self.history_t).values(
                appeal_id=fid,
                status=status,
                service=service,
                reason=reason,
                at=stamp,
                by_role=caller.role.value,
                by_account_id=caller.account_id,
                by_key_id=caller.key_id,
            )
        )

    def _rewrite(self, appeal: Appeal, props: dict[str, Any], then: Any) -> None:
        with self.store.engine.connect() as conn:
            row = conn.execute(
                sa.select(self.t.c.source, self.t.c.source_id).where(self.t.c.fid == appeal.id)
            ).one()
        key = (str(row[0]), str(row[1]))
        self._write_row(key, props, shapely.Point(appeal.lon, appeal.lat), appeal.synthetic, then)

    def change_status(
        self,
        appeal_id: int,
        status: str,
        caller: Caller,
        *,
        reason: str | None = None,
        service_code: str | None = None,
        now: dt.datetime | None = None,
    ) -> Appeal:
        """Move an appeal one step through its lifecycle (staff only); an assignment may name
        another service than the category's."""
        require_planner(caller.role, "change an appeal's status")
        appeal = self.get(appeal_id)
        reason = _text(reason, "reason", MAX_DESCRIPTION)
        check_transition(appeal.status, status, reason)
        props = dict(appeal.props)
        now = now or utc_now()
        today = now.date().isoformat()
        props["status"] = status
        if service_code is not None:
            props["service"] = service(service_code).code
        if status == "assigned":
            props["assigned_on"] = today
        elif status == "in_progress":
            props["started_on"] = today
        elif status in CLOSED_STATUSES:
            props["resolved_on"] = today
        stamp = iso(now)

        def then(conn: sa.Connection) -> None:
            self._log(
                conn, appeal.id, status, caller, stamp, service=props["service"], reason=reason
            )
            conn.execute(
                sa.update(self.requests)
                .where(self.requests.c.appeal_id == appeal.id)
                .values(updated_at=stamp)
            )

        self._rewrite(appeal, props, then)
        changed = self.get(appeal_id)
        _announce("status", changed)
        return changed

    def rate(
        self, appeal_id: int, caller: Caller, score: int, *, now: dt.datetime | None = None
    ) -> Appeal:
        """Record the author's rating (1-5) of the answer to a closed appeal."""
        account = require_account(caller, "rate an answer")
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise BadInput("the rating must be a whole number from 1 to 5")
        appeal = self.get(appeal_id)
        if appeal.author != account:
            raise Forbidden("only the resident who filed an appeal may rate its answer")
        if appeal.status not in CLOSED_STATUSES:
            raise BadInput(f"the appeal is {appeal.status!r}: it can be rated once answered")
        props = dict(appeal.props)
        props["satisfaction"] = score
        stamp = iso(now or utc_now())

        def then(conn: sa.Connection) -> None:
            conn.execute(
                sa.update(self.requests)
                .where(self.requests.c.appeal_id == appeal.id)
                .values(rated_at=stamp)
            )

        self._rewrite(appeal, props, then)
        return self.get(appeal_id)

    def join(self, appeal_id: int, caller: Caller, *, now: dt.datetime | None = None) -> Appeal:
        """Add the caller to the residents following an open appeal (instead of filing a
        duplicate); joining twice changes nothing."""
        account = require_account(caller, "join an appeal")
        appeal = self.get(appeal_id)
        if appeal.status not in OPEN_STATUSES:
            raise BadInput(f"the appeal is {appeal.status!r}: only open appeals can be joined")
        if appeal.author == account:
            return appeal
        f_t = self.followers
        with self.store.write_transaction() as conn:
            exists = conn.execute(
                sa.select(f_t.c.appeal_id).where(
                    f_t.c.appeal_id == appeal_id, f_t.c.account_id == account
                )
            ).first()
            if exists is None:
                conn.execute(
                    sa.insert(f_t).values(
                        appeal_id=appeal_id, account_id=account, joined_at=iso(now or utc_now())
                    )
                )
        return self.get(appeal_id)


def _announce(action: str, appeal: Appeal) -> None:
    """Tell open maps (``/api/events``, topic ``appeals``) that an appeal was filed or moved:
    its id, category, status, service and district only — no point, text or author, so the
    event is public (the author's map matches the id against its own appeals)."""
    publish(
        "appeals",
        {
            "action": action,
            "id": appeal.id,
            "category": appeal.category,
            "status": appeal.status,
            "service": appeal.props.get("service"),
            "district": appeal.props.get("district"),
        },
    )


def _derived_history(appeal: Appeal) -> list[dict[str, Any]]:
    """The history of a generated appeal, from its lifecycle dates."""
    p = appeal.props
    steps = [("received", p.get("created_on"))]
    steps.append(("assigned", p.get("assigned_on")))
    steps.append(("in_progress", p.get("started_on")))
    if appeal.status in CLOSED_STATUSES:
        steps.append((appeal.status, p.get("resolved_on")))
    return [
        {
            "status": status,
            "at": f"{day}T00:00:00Z",
            "by_role": "system",
            "service": p.get("service") if status != "received" else None,
            "reason": None,
        }
        for status, day in steps
        if day
    ]


def staff(caller: Caller) -> bool:
    """Return whether ``caller`` is staff who see exact points and histories' authors."""
    return caller.role in (Role.PLANNER, Role.ADMIN)
