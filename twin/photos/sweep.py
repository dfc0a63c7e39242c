"""Photos uploaded and never attached are deleted: file and row, after :data:`UNATTACHED_HOURS`.

Why: ``POST /api/photos`` keeps a photo before the initiative that will name it exists (the
map uploads while the resident is still writing). A photo never named — the resident gave
up, or a script uploads and never proposes — would otherwise stay on disk for good, a free
file host bounded only by the write limits (20 photos an hour an account, 8 MB each: 3.8 GB a
day for one account). So each upload leaves a row in ``photo_uploads`` (name, account, time);
attaching the photo to an initiative deletes the row in the initiative's own transaction
(:func:`claim`), and :func:`sweep` deletes the rows older than the limit together with their
files — unless something names the photo (an initiative, or an appeal whose ``media_url`` is
our ``/api/photos/`` URL), when only the row goes.

The server sweeps every :data:`SWEEP_EVERY_S` in a worker thread (``twin.app``'s lifespan);
``twin photos sweep`` does the same once (a cron job of a deployment that runs no server for
a while, or to sweep at once).

Races: a photo being attached while it is swept. The sweep deletes the row, checks the
references and deletes the file in one transaction; :func:`claim` deletes the same row and
then checks that the file is still there, in the initiative's transaction. Whichever deletes
the row first wins (the other's delete waits for its commit on PostGIS, or the whole
transaction waits on GeoPackage's write lock): the initiative is refused (400, no uploaded
photo) or the sweep leaves the photo alone. Appeals are not claimed (they carry the photo in
their own upload); an appeal naming a stale upload by URL during its sweep's transaction
could lose the file on PostGIS — a resident would have to have uploaded it a day before.

Measured (GeoPackage, 1,000 stale uploads of small PNGs, one transaction each, load 11 on 2
cores): 3.2 s for the 1,000 (3 ms a photo); a sweep with nothing to do 0.6 ms (it reads only
rows older than the limit, on the indexed ``uploaded_at``), so an hourly sweep costs nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from twin.photos import PhotoStore
from twin.store import Store

log = logging.getLogger(__name__)

#: an upload not attached within this many hours is deleted
UNATTACHED_HOURS = 24.0
#: how often the server sweeps
SWEEP_EVERY_S = 3600.0
#: rows looked at per sweep (the next sweep takes the rest)
BATCH = 1000


@dataclass
class Swept:
    """What one sweep did."""

    #: photos deleted (file and row)
    deleted: list[str] = field(default_factory=list)
    #: rows dropped whose photo something names (the file stays)
    attached: int = 0


def record_upload(
    store: Store, name: str, account_id: int | None, now: float | None = None
) -> None:
    """Note an upload of ``name`` (again: its time is renewed, so a photo sent twice lives a
    full period from the second upload)."""
    uploads = store.metadata.tables["photo_uploads"]
    at = time.time() if now is None else now
    ins: Any
    if store.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        ins = pg_insert(uploads)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        ins = sqlite_insert(uploads)
    ins = ins.values(name=name, account_id=account_id, uploaded_at=at).on_conflict_do_update(
        index_elements=[uploads.c.name],
        set_={"uploaded_at": ins.excluded.uploaded_at, "account_id": ins.excluded.account_id},
    )
    with store.domain_transaction() as conn:
        conn.execute(ins)


def claim(
    conn: sa.Connection,
    store: Store,
    photos: PhotoStore,
    names: Sequence[str],
    field: str = "photos",
) -> None:
    """Attach ``names`` inside the caller's transaction: delete their upload rows, then check
    each file is still there (a sweep may have taken it); :class:`BadInput` naming ``field``
    when one is gone."""
    if not names:
        return
    uploads = store.metadata.tables["photo_uploads"]
    conn.execute(uploads.delete().where(uploads.c.name.in_(list(names))))
    photos.check(list(names), field)


def _named(conn: sa.Connection, store: Store, name: str) -> bool:
    """Whether an initiative or an appeal names the photo ``name``."""
    tables = store.metadata.tables
    pics = tables["initiative_photos"]
    if conn.execute(sa.select(pics.c.name).where(pics.c.name == name).limit(1)).first():
        return True
    appeals = tables.get("appeal_requests")  # an appeal's own row (twin.store.tables.appeals)
    if appeals is not None:
        url = appeals.c.media_url
        hit = conn.execute(sa.select(url).where(url.like(f"%/api/photos/{name}")).limit(1)).first()
        if hit:
            return True
    return False


def sweep(
    store: Store,
    photos: PhotoStore,
    *,
    hours: float = UNATTACHED_HOURS,
    now: float | None = None,
) -> Swept:
    """Delete the uploads older than ``hours`` that nothing names, file and row; drop the rows
    of those something names. Return what was done."""
    uploads = store.metadata.tables["photo_uploads"]
    cutoff = (time.time() if now is None else now) - hours * 3600
    with store.engine.connect() as conn:
        stale = (
            conn.execute(
                sa.select(uploads.c.name)
                .where(uploads.c.uploaded_at < cutoff)
                .order_by(uploads.c.uploaded_at)
                .limit(BATCH)
            )
            .scalars()
            .all()
        )
    out = Swept()
    for name in stale:
        with store.domain_transaction() as conn:
            gone = conn.execute(
                uploads.delete().where(uploads.c.name == name, uploads.c.uploaded_at < cutoff)
            ).rowcount
            if not gone:  # attached or uploaded again meanwhile
                continue
            if _named(conn, store, name):
                out.attached += 1
                continue
            # deleted before the row's delete commits: a claim waiting on that row then finds
            # no file and refuses, rather than attaching a photo about to vanish
            photos.remove(name)
            out.deleted.append(name)
    if out.deleted or out.attached:
        log.info(
            "photo sweep: %d unattached photos older than %g h deleted, %d attached kept",
            len(out.deleted),
            hours,
            out.attached,
        )
    return out
