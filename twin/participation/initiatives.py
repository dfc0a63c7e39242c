"""Residents' initiatives: a point or a drawn area, a category, a title and a text; supported
by others (one support each, not by the author); a status set by staff, with its history.

Status flow (staff only): proposed → under_review → accepted | rejected (with a reason);
accepted → done. A new proposal gets a duplicate hint, as FixMyStreet does: the initiatives of
the same category within 50 m proposed in the last 90 days (it does not block the proposal).
The geometry is checked (valid, inside the Almaty area, at most 1,000 vertices) and stored as
GeoJSON with its envelope; the list is filtered by envelope.
"""

from __future__ import annotations

import builtins
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
import sqlalchemy as sa
from pyproj import Transformer
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import transform

from twin.core.errors import BadInput, Conflict, NotFound
from twin.participation.text import clean_text
from twin.photos import PhotoStore
from twin.photos.sweep import claim
from twin.store import Store

CATEGORIES = (
    "improvement",
    "greenery",
    "roads",
    "transport",
    "lighting",
    "safety",
    "accessibility",
    "sport",
    "other",
)
STATUSES = ("proposed", "under_review", "accepted", "rejected", "done")
#: the statuses staff may move an initiative to, from each status
NEXT_STATUS = {
    "proposed": ("under_review", "accepted", "rejected"),
    "under_review": ("accepted", "rejected"),
    "accepted": ("done", "rejected"),
    "rejected": ("under_review",),
    "done": (),
}
TITLE_MAX, BODY_MAX, REASON_MAX = 200, 5000, 1000
MAX_VERTICES = 1000
#: the Almaty area (lon, lat) an initiative must lie in
AREA = (76.5, 42.9, 77.5, 43.6)
DUPLICATE_METRES, DUPLICATE_DAYS = 50.0, 90
_TO_METRES = Transformer.from_crs(4326, 32643, always_xy=True).transform


def read_geometry(value: object) -> BaseGeometry:
    """Return a GeoJSON Point or Polygon as a shapely geometry, or raise :class:`BadInput`."""
    if not isinstance(value, dict) or value.get("type") not in ("Point", "Polygon"):
        raise BadInput("geometry: a GeoJSON Point or Polygon")
    try:
        geom = shape(value)
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        raise BadInput(f"geometry: not valid GeoJSON ({exc})") from exc
    if geom.is_empty:
        raise BadInput("geometry: empty")
    if shapely.get_num_coordinates(geom) > MAX_VERTICES:
        raise BadInput(f"geometry: at most {MAX_VERTICES} vertices")
    if not shapely.is_valid(geom):
        raise BadInput(f"geometry: invalid ({shapely.is_valid_reason(geom)})")
    minx, miny, maxx, maxy = geom.bounds
    if minx < AREA[0] or miny < AREA[1] or maxx > AREA[2] or maxy > AREA[3]:
        raise BadInput("geometry: outside Almaty (lon/lat order, EPSG:4326)")
    return geom


@dataclass
class Initiatives:
    """Initiatives over ``store``."""

    store: Store
    now: Callable[[], float] = time.time
    #: where the photos named in a proposal must have been uploaded (None: no photos)
    photo_store: PhotoStore | None = None

    def __post_init__(self) -> None:
        tables = self.store.metadata.tables
        self.table = tables["initiatives"]
        self.supports = tables["initiative_supports"]
        self.history = tables["initiative_history"]
        self.accounts = tables["accounts"]
        self.photos = tables["initiative_photos"]

    def propose(
        self,
        account_id: int,
        category: object,
        title: object,
        body: object,
        geometry: object,
        photos: object = None,
    ) -> tuple[dict[str, Any], list[int]]:
        """Create an initiative; return it and the ids of likely duplicates. ``photos`` are
        names of photos uploaded before (``POST /api/photos``)."""
        if category not in CATEGORIES:
            raise BadInput(f"category: one of {', '.join(CATEGORIES)}")
        title_text = clean_text(title, "title", TITLE_MAX, required=True)
        body_text = clean_text(body, "text", BODY_MAX, required=True)
        geom = read_geometry(geometry)
        if photos and self.photo_store is None:
            raise BadInput("photos: this server keeps no photos")
        names = self.photo_store.check(photos) if self.photo_store else []
        similar = self.similar(str(category), geom)
        now = self.now()
        t = self.table
        minx, miny, maxx, maxy = geom.bounds
        with self.store.domain_transaction() as conn:
            new_id = conn.execute(
                t.insert()
                .values(
                    account_id=account_id,
                    category=category,
                    title=title_text,
                    body=body_text,
                    geometry=json.dumps(mapping(geom)),
                    minx=minx,
                    miny=miny,
                    maxx=maxx,
                    maxy=maxy,
                    status="proposed",
                    supports=0,
                    created_at=now,
                    updated_at=now,
                    hidden=False,
                )
                .returning(t.c.id)
            ).scalar_one()
            conn.execute(
                self.history.insert().values(
                    initiative_id=new_id, status="proposed", reason=None, by="resident", at=now
                )
            )
            if names:
                assert self.photo_store is not None
                # attached now: no longer an upload the sweep may delete (twin.photos.sweep)
                claim(conn, self.store, self.photo_store, names)
                conn.execute(
                    self.photos.insert(),
                    [
                        {"initiative_id": new_id, "position": i, "name": n}
                        for i, n in enumerate(names)
                    ],
                )
        return self.get(int(new_id), staff=False), similar

    def similar(self, category: str, geom: BaseGeometry) -> list[int]:
        """Return the ids of visible initiatives of ``category`` within 50 m of ``geom``
        proposed in the last 90 days."""
        t = self.table
        pad = 0.001  # ~80 m of latitude, ~110 m of longitude: a safe envelope pre-filter
        minx, miny, maxx, maxy = geom.bounds
        q = sa.select(t.c.id, t.c.geometry).where(
            t.c.category == category,
            t.c.hidden.is_(False),
            t.c.created_at >= self.now() - DUPLICATE_DAYS * 86400,
            t.c.maxx >= minx - pad,
            t.c.minx <= maxx + pad,
            t.c.maxy >= miny - pad,
            t.c.miny <= maxy + pad,
        )
        with self.store.engine.connect() as conn:
            rows = conn.execute(q.order_by(t.c.id)).all()
        here = transform(_TO_METRES, geom)
        return [
            int(row.id)
            for row in rows
            if transform(_TO_METRES, shape(json.loads(row.geometry))).distance(here)
            <= DUPLICATE_METRES
        ]

    def get(self, initiative_id: int, *, staff: bool) -> dict[str, Any]:
        """Return one initiative as a GeoJSON feature with its history; a hidden one is
        :class:`NotFound` unless ``staff``."""
        t = self.table
        with self.store.engine.connect() as conn:
            row = conn.execute(sa.select(t).where(t.c.id == initiative_id)).first()
            if row is None or (row.hidden and not staff):
                raise NotFound(f"no initiative {initiative_id}")
            h = self.history
            history = conn.execute(
                sa.select(h.c.status, h.c.reason, h.c.at)
                .where(h.c.initiative_id == initiative_id)
                .order_by(h.c.id)
            ).all()
            photos = self._photos(conn, [initiative_id])
        feature = self._feature(row, photos.get(initiative_id, []))
        feature["properties"]["history"] = [
            {"status": s, "reason": r, "at": at} for s, r, at in history
        ]
        return feature

    def author_of(self, initiative_id: int) -> int:
        """Return the account that proposed the initiative."""
        t = self.table
        with self.store.engine.connect() as conn:
            author = conn.execute(
                sa.select(t.c.account_id).where(t.c.id == initiative_id)
            ).scalar_one_or_none()
        if author is None:
            raise NotFound(f"no initiative {initiative_id}")
        return int(author)

    def list(
        self,
        *,
        bbox: tuple[float, float, float, float] | None = None,
        category: str | None = None,
        status: str | None = None,
        limit: int = 500,
        staff: bool = False,
    ) -> dict[str, Any]:
        """Return the initiatives (newest first) as a GeoJSON feature collection."""
        t = self.table
        q = sa.select(t).order_by(t.c.created_at.desc(), t.c.id.desc()).limit(limit)
        if not staff:
            q = q.where(t.c.hidden.is_(False))
        if category is not None:
            if category not in CATEGORIES:
                raise BadInput(f"category: one of {', '.join(CATEGORIES)}")
            q = q.where(t.c.category == category)
        if status is not None:
            if status not in STATUSES:
                raise BadInput(f"status: one of {', '.join(STATUSES)}")
            q = q.where(t.c.status == status)
        if bbox is not None:
            minx, miny, maxx, maxy = bbox
            q = q.where(t.c.maxx >= minx, t.c.minx <= maxx, t.c.maxy >= miny, t.c.miny <= maxy)
        with self.store.engine.connect() as conn:
            rows = conn.execute(q).all()
            photos = self._photos(conn, [r.id for r in rows])
        return {
            "type": "FeatureCollection",
            "features": [self._feature(r, photos.get(r.id, [])) for r in rows],
        }

    def _photos(self, conn: sa.Connection, ids: Sequence[int]) -> dict[int, builtins.list[str]]:
        """Return the photo URLs of initiatives ``ids``, in order, by initiative."""
        p = self.photos
        out: dict[int, builtins.list[str]] = {}
        for start in range(0, len(ids), 500):
            rows = conn.execute(
                sa.select(p.c.initiative_id, p.c.name)
                .where(p.c.initiative_id.in_(ids[start : start + 500]))
                .order_by(p.c.initiative_id, p.c.position)
            ).all()
            for iid, name in rows:
                out.setdefault(int(iid), []).append(f"/api/photos/{name}")
        return out

    def support(self, account_id: int, initiative_id: int) -> int:
        """Support an initiative (once; not one's own); return its number of supports."""
        t, s = self.table, self.supports
        try:
            with self.store.domain_transaction() as conn:
                row = conn.execute(
                    sa.select(t.c.account_id, t.c.hidden).where(t.c.id == initiative_id)
                ).first()
                if row is None or row.hidden:
                    raise NotFound(f"no initiative {initiative_id}")
                if row.account_id == account_id:
                    raise Conflict("you cannot support your own initiative")
                conn.execute(
                    s.insert().values(
                        initiative_id=initiative_id, account_id=account_id, created_at=self.now()
                    )
                )
                conn.execute(
                    t.update().where(t.c.id == initiative_id).values(supports=t.c.supports + 1)
                )
        except sa.exc.IntegrityError as exc:
            raise Conflict("you support this initiative already") from exc
        return self._supports(initiative_id)

    def withdraw_support(self, account_id: int, initiative_id: int) -> int:
        """Withdraw one's support; return the number of supports left."""
        t, s = self.table, self.supports
        with self.store.domain_transaction() as conn:
            gone = conn.execute(
                s.delete().where(s.c.initiative_id == initiative_id, s.c.account_id == account_id)
            ).rowcount
            if gone:
                conn.execute(
                    t.update().where(t.c.id == initiative_id).values(supports=t.c.supports - 1)
                )
        if not gone:
            raise NotFound(f"you do not support initiative {initiative_id}")
        return self._supports(initiative_id)

    def set_status(self, initiative_id: int, status: object, reason: object, by: str) -> None:
        """Move an initiative to ``status`` (staff); a rejection needs a reason."""
        if status not in STATUSES:
            raise BadInput(f"status: one of {', '.join(STATUSES)}")
        why = clean_text(reason, "reason", REASON_MAX, required=status == "rejected")
        t = self.table
        now = self.now()
        with self.store.domain_transaction() as conn:
            current = conn.execute(
                sa.select(t.c.status).where(t.c.id == initiative_id)
            ).scalar_one_or_none()
            if current is None:
                raise NotFound(f"no initiative {initiative_id}")
            if status not in NEXT_STATUS[current]:
                allowed = ", ".join(NEXT_STATUS[current]) or "none"
                raise Conflict(
                    f"an initiative {current} cannot become {status} (allowed: {allowed})"
                )
            conn.execute(
                t.update()
                .where(t.c.id == initiative_id)
                .values(status=status, status_reason=why, updated_at=now)
            )
            conn.execute(
                self.history.insert().values(
                    initiative_id=initiative_id, status=status, reason=why, by=by, at=now
                )
            )

    def _supports(self, initiative_id: int) -> int:
        t = self.table
        with self.store.engine.connect() as conn:
            return int(
                conn.execute(sa.select(t.c.supports).where(t.c.id == initiative_id)).scalar_one()
            )

    @staticmethod
    def _feature(row: Any, photos: Sequence[str]) -> dict[str, Any]:
        return {
            "type": "Feature",
            "id": row.id,
            "geometry": json.loads(row.geometry),
            "properties": {
                "id": row.id,
                "category": row.category,
                "title": row.title,
                "text": row.body,
                "status": row.status,
                "status_reason": row.status_reason,
                "supports": row.supports,
                "created_at": row.created_at,
                "updated_at": row.updated_at,
                "hidden": bool(row.hidden),
                "photos": builtins.list(photos),
            },
        }
