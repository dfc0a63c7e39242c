"""``/api/search``: find objects by name, address, street or title across visible layers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from twin.api.deps import RoleDep, StoreDep
from twin.core.access import visible_layers
from twin.search import MAX_LIMIT, MAX_QUERY, search

router = APIRouter(prefix="/api", tags=["search"])


@router.get("/search")
def search_features(
    store: StoreDep,
    role: RoleDep,
    q: Annotated[str, Query(max_length=MAX_QUERY, description="words to find")],
    lang: Annotated[Literal["ru", "kk", "en"], Query(description="label language")] = "ru",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
) -> dict[str, Any]:
    """Return the best matches (exact, then prefix, then anywhere) with a point and a box to
    fly to; planner-only layers are searched only for planners."""
    hits = search(store, q, visible_layers(role), lang=lang, limit=limit)
    return {"query": q, "results": [h.as_dict() for h in hits]}
