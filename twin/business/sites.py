"""Score a business's candidate sites: resolve addresses inside the city, then score.

Addresses are resolved with the twin's own search (:func:`twin.search.search`) over the
layers the caller may see, **inside the city** (its boundary, a street's width of slack):
the bundled set's box reaches past the city, and "Абая 10" is also a house in a village to
the north, which search alone ranked first. A row is resolved by a hit that matches all its
words by name, address or street (search ranks 0–3). A house number the data does not have
is placed on its street from the street's numbered houses (:mod:`twin.business.addresses`),
and the answer says so (``precision``: ``feature``, ``street`` or ``interpolated``).

Every row that cannot be placed — no match, only a spelling-tolerant guess, a house on a
street with too few numbered houses, a match or coordinates outside the city — is listed in
``unresolved`` with its reason (and the best guess, if any), and the other rows are scored;
nothing is guessed silently. Only a batch with no row left to score is refused (400, naming
each row's reason).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from layers import GeomType, Layer
from layers import get as layer_of
from twin.analyses.site.batch import score_points
from twin.analyses.site.categories import category
from twin.analyses.site.cells import RES_DEFAULT, check_res
from twin.analyses.site.service import model_of
from twin.business.addresses import interpolate
from twin.business.candidates import Candidates
from twin.core import geometry
from twin.core.errors import BadInput
from twin.search import SearchHit, search, split_house
from twin.store import Store
from twin.store.dialect import fold_text as fold

#: The worst search rank that still resolves an address (3: matched by address, street or
#: district words; 4 would be typos only).
RESOLVE_RANK = 3
#: How far outside the city boundary a point may stand (degrees, ~ a street's width).
BOUNDARY_SLACK_DEG = 0.0005

#: reasons a row is unresolved, as the answer says them
NO_MATCH = "no match"
OUTSIDE = "outside the city"
TYPO_ONLY = "only a spelling-tolerant match"
NO_HOUSE = "house number not found on the street"


@dataclass(frozen=True)
class ScoredSites:
    """Scored sites (one row per resolved candidate, in the file's order) and the
    candidates that could not be resolved, each with its reason."""

    scored: pd.DataFrame
    unresolved: list[dict[str, Any]]


def city_area(store: Store) -> shapely.Geometry | None:
    """Return the city's boundary with a street's width of slack (None if none is loaded)."""
    boundary = model_of(store).boundary
    if boundary is None or shapely.is_empty(boundary):
        return None
    return shapely.buffer(boundary, BOUNDARY_SLACK_DEG)


def _is_line(hit: SearchHit) -> bool:
    try:
        return layer_of(hit.layer).geometry is GeomType.LINE
    except KeyError:
        return False


def _place(
    store: Store,
    address: str,
    layers: Sequence[Layer],
    lang: str,
    area: shapely.Geometry | None,
) -> tuple[tuple[float, float], dict[str, Any]] | dict[str, Any]:
    """Return ``(point, resolved_as)`` for an address, or ``{reason, best_guess?}``."""
    hits = search(store, address, layers, lang=lang, limit=1, within=area)
    if hits and hits[0].rank <= RESOLVE_RANK:
        hit = hits[0]
        precision = "street" if _is_line(hit) else "feature"
        return hit.point, {"layer": hit.layer, "fid": hit.fid, "label": hit.label,
                           "detail": hit.detail, "precision": precision}  # fmt: skip
    street_text, house = split_house(address)
    if house is not None:
        streets = [
            h
            for h in search(store, street_text, layers, lang=lang, limit=5, within=area)
            if h.rank <= RESOLVE_RANK and _is_line(h)
        ]
        for street in streets[:1]:
            placed = interpolate(store, street, house, area)
            if placed is None:
                return {"reason": NO_HOUSE, "best_guess": street.as_dict()}
            # no detail: the street's district is its middle's, not the house's. Other
            # streets the words match as well (улица and проспект Абая when no type was
            # written) are listed: the customer knows which one was meant, we do not
            others = sorted(
                {
                    s.label
                    for s in streets[1:]
                    if s.rank == street.rank and fold(s.label) != fold(street.label)
                }
            )
            return placed.point, {"layer": street.layer, "fid": street.fid,
                                  "label": street.label, "detail": None,
                                  "precision": "interpolated", "house": house,
                                  "from_houses": placed.from_houses,
                                  "same_side": placed.same_side,
                                  "other_streets": others}  # fmt: skip
    if area is not None:
        elsewhere = search(store, address, layers, lang=lang, limit=1)
        if elsewhere and elsewhere[0].rank <= RESOLVE_RANK:
            return {"reason": OUTSIDE, "best_guess": elsewhere[0].as_dict()}
    if hits:
        return {"reason": TYPO_ONLY, "best_guess": hits[0].as_dict()}
    return {"reason": NO_MATCH}


def resolve(
    store: Store,
    cands: Candidates,
    layers: Sequence[Layer],
    lang: str = "ru",
    area: shapely.Geometry | None = None,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Return the candidates placed inside ``area`` (given coordinates, or addresses
    resolved, with ``resolved_as``) and the others, each with its ``reason``."""
    frame = cands.frame.copy()
    lon, lat = frame["lon"].to_numpy(float).copy(), frame["lat"].to_numpy(float).copy()
    resolved_as: list[dict[str, Any] | None] = [None] * len(frame)
    unresolved: list[dict[str, Any]] = []
    keep = np.ones(len(frame), bool)
    given = ~np.isnan(lon)
    outside = np.zeros(len(frame), bool)
    if area is not None and given.any():
        outside[given] = ~geometry.contains_xy(area, lon[given], lat[given])
    for i, row in enumerate(frame.to_dict("records")):
        # pandas gives a missing address back as NaN, which is no JSON: None
        address = row["address"] if isinstance(row["address"], str) else None
        where = {"row": int(row["row"]), "label": str(row["label"]), "address": address}
        if given[i]:
            if outside[i]:
                keep[i] = False
                unresolved.append(
                    where | {"reason": OUTSIDE, "lon": float(lon[i]), "lat": float(lat[i])}
                )
            continue
        placed = _place(store, str(address), layers, lang, area)
        if isinstance(placed, dict):
            keep[i] = False
            unresolved.append(where | placed)
            continue
        (lon[i], lat[i]), resolved_as[i] = placed
    frame["lon"], frame["lat"] = lon, lat
    frame["resolved_as"] = pd.Series(resolved_as, index=frame.index, dtype=object)
    return frame[keep].reset_index(drop=True), unresolved


def nothing_to_score(unresolved: list[dict[str, Any]]) -> str:
    """Return why no row of a batch can be scored, by reason, naming up to ten rows each.

    >>> nothing_to_score([{"row": 1, "reason": "outside the city"}])
    'no site can be scored: outside the city: row 1'
    """
    rows: dict[str, list[int]] = {}
    for u in unresolved:
        rows.setdefault(str(u["reason"]), []).append(int(u["row"]))
    parts = []
    for reason, _n in Counter(str(u["reason"]) for u in unresolved).most_common():
        shown = rows[reason]
        text = ", ".join(map(str, shown[:10])) + (" …" if len(shown) > 10 else "")
        parts.append(f"{reason}: row {text}")
    return "no site can be scored: " + "; ".join(parts)


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
    unknown category, or when no row can be placed in the city (naming the rows' reasons)."""
    cat = category(category_name)
    res = check_res(res)
    model = model_of(store)
    sites, unresolved = resolve(store, cands, layers, lang, city_area(store))
    if not len(sites):
        raise BadInput(nothing_to_score(unresolved))
    scores = score_points(
        model, cat, sites["lon"].to_numpy(), sites["lat"].to_numpy(), res=res, weights=weights
    )
    scored = pd.concat([sites[["row", "label", "address", "resolved_as"]], scores], axis=1)
    return ScoredSites(scored, unresolved)
