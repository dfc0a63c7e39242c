"""``/healthz`` and ``/catalog``.

``/healthz`` is what a load balancer or an operator's probe asks every few seconds, so it must
answer while the server is busy: under issue 14's abuse load its p99 was 1.2 s (goal 100 ms),
spent waiting for a worker thread and then for a pooled connection behind the tile and
feature requests holding them. It now asks the store from the event loop — the same one-row
read of the change log's head that the tile fast path makes (``ChangeWatch.store_answers``) —
and only falls back to a thread (a pooled ``SELECT 1``) when that read cannot be made there or
failed, so that an unavailable store still answers 503 with ``Retry-After``. A store with read
replicas reports their lag, which is a query per replica: then the thread is always used.
A server that builds its search index and walking graph as it starts (``TWIN_PREBUILD``)
says whether that is done (``prebuilt``): a balancer can hold traffic back until it is."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from layers import MODULES
from tiles.changes import ChangeWatch
from twin.api.deps import RoleDep, StoreDep
from twin.core.access import visible_layers
from twin.store import Store
from twin.store.schema import SCHEMA_VERSION

router = APIRouter()


@router.get("/healthz")
async def healthz(request: Request, store: StoreDep) -> dict[str, Any]:
    """Return liveness and the store it serves (with each read replica's lag, if any)."""
    watch = request.app.state.tiles.watch
    if store.health_needs_io() or not await watch.store_answers():
        out = await run_in_threadpool(_health_in_thread, store, watch)
    else:
        out = _health(store, {})
    prebuilt = getattr(request.app.state, "prebuilt", None)
    if prebuilt is not None:  # TWIN_PREBUILD: whether the start-up builds are done
        out["prebuilt"] = prebuilt.is_set()
    return out


def _health_in_thread(store: Store, watch: ChangeWatch) -> dict[str, Any]:
    if watch.head() is None:  # also opens the connection the next probe reads in the loop
        with store.engine.connect() as conn:  # raises when the store is unavailable: 503
            conn.exec_driver_sql("SELECT 1")
    return _health(store, store.health())


def _health(store: Store, extra: dict[str, Any]) -> dict[str, Any]:
    return {"status": "ok", "store": store.kind, "schema_version": SCHEMA_VERSION, **extra}


@router.get("/catalog")
def catalog(store: StoreDep, role: RoleDep) -> dict[str, Any]:
    """Return the layers the caller may see, with titles, fields, style hints, counts and
    provenance (with the number of generated features stored), and
    the map panel's groups in order (every group, for every caller: the cameras group holds
    the planner's key form)."""
    out = []
    for layer in visible_layers(role):
        entry = layer.summary()
        entry["count"] = store.count(layer)
        if entry["provenance"] is not None:
            # measured, so that "75 real of 1 155" stays true after a reload
            entry["provenance"]["generated_count"] = store.generated_count(layer)
        out.append(entry)
    return {
        "role": role.value,
        "modules": [module.summary() for module in MODULES],
        "layers": out,
    }
