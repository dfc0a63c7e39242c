"""``/healthz`` and ``/catalog``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from layers import MODULES
from twin.api.deps import RoleDep, StoreDep
from twin.core.access import visible_layers
from twin.store.schema import SCHEMA_VERSION

router = APIRouter()


@router.get("/healthz")
def healthz(store: StoreDep) -> dict[str, Any]:
    """Return liveness and the store it serves (with each read replica's lag, if any)."""
    with store.engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    return {
        "status": "ok",
        "store": store.kind,
        "schema_version": SCHEMA_VERSION,
        **store.health(),
    }


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
