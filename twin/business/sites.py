"""Score a business's candidate sites: resolve addresses, check they are in the city, score.

Addresses are resolved with the twin's own search (:func:`twin.search.search`) over the
layers the caller may see. A row is resolved only by a hit that matches its words by name,
address or street (search ranks 0–3); a hit reached only through typos (rank 4), or none at
all, leaves the row **unresolved**, reported with the reason and the best guess, so nothing is
guessed silently. Points outside the city boundary are refused, naming the rows: the model
has no cells there to compare with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from layers import Layer
from twin.analyses.site.batch import score_points
from twin.analyses.site.categories import category
from twin.analyses.site.cells import RES_DEFAULT, check_res
from twin.analyses.site.service import model_of
from twin.business.candidates import Candidates
from twin.core.errors import BadInput
from twin.search import search
from twin.store import Store

#: The worst search rank that still resolves an address (3: matched by address, street or
#: district words; 4 would be typos only).
RESOLVE_RANK = 3
#: How far outside the city boundary a point may stand (metres, ~ a street's width).
BOUNDARY_SLACK_DEG = 0.0005


@dataclass(frozen=True)
class ScoredSites:
    """Scored sites (one row per resolved candidate, in the file's order) and the
    candidates that could not be resolved, each with its reason."""

    scored: pd.DataFrame
    unresolved: list[dict[str, Any]]


def resolve(
    store: Store, cands: Candidates, layers: Sequence[Layer], lang: str = "ru"
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Return the candidates with coordinates (given or resolved, with ``resolved_as``) and
    the unresolved ones."""
    frame = cands.frame.copy()
    lon, lat = frame["lon"].to_numpy(float).copy(), frame["lat"].to_numpy(float).copy()
    resolved_as: list[dict[str, Any] | None] = [None] * len(frame)
    unresolved: list[dict[str, Any]] = []
    keep = np.ones(len(frame), bool)
    for i, row in enumerate(frame.to_dict("records")):
        if not np.isnan(lon[i]):
            continue
        where = {"row": int(row["row"]), "label": row["label"], "address": row["address"]}
        hits = search(store, str(row["address"]), layers, lang=lang, limit=1)
        if not hits or hits[0].rank > RESOLVE_RANK:
            keep[i] = False
            if hits:
                where |= {"reason": "only a spelling-tolerant match",
                          "best_guess": hits[0].as_dict()}  # fmt: skip
            else:
                where["reason"] = "no match"
            unresolved.append(where)
            continue
        hit = hits[0]
        lon[i], lat[i] = hit.point
        resolved_as[i] = {"layer": hit.layer, "fid": hit.fid, "label": hit.label,
                          "detail": hit.detail}  # fmt: skip
    frame["lon"], frame["lat"] = lon, lat
    frame["resolved_as"] = pd.Series(resolved_as, index=frame.index, dtype=object)
    return frame[keep].reset_index(drop=True), unresolved


def score_candidates(
    store: Store,
    cands: Candidates,
    category_name: str,
    layers: Sequence[Layer],
    *,
    res: int = RES_DEFAULT,
    weights: str | dict[str, float] | None = None,
    lang: str = "ru",
) -> ScoredSites:
    """Resolve and score ``cands`` for ``category_name``; raise :class:`BadInput` for an
    unknown category or points outside the city (naming up to ten rows)."""
    cat = category(category_name)
    res = check_res(res)
    model = model_of(store)
    sites, unresolved = resolve(store, cands, layers, lang)
    if model.boundary is not None and len(sites):
        area = shapely.buffer(model.boundary, BOUNDARY_SLACK_DEG)
        ok = shapely.contains_xy(area, sites["lon"].to_numpy(), sites["lat"].to_numpy())
        if not ok.all():
            rows = sites.loc[~ok, "row"].astype(int).tolist()
            shown = ", ".join(map(str, rows[:10])) + (" …" if len(rows) > 10 else "")
            raise BadInput(f"{len(rows)} site(s) are outside the city: row {shown}")
    scores = score_points(
        model, cat, sites["lon"].to_numpy(), sites["lat"].to_numpy(), res=res, weights=weights
    )
    scored = pd.concat(
        [sites[["row", "label", "address", "resolved_as"]], scores.drop(columns=[])], axis=1
    )
    return ScoredSites(scored, unresolved)
