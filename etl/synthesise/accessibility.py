"""Generated accessibility (wheelchair, ramp, accessible entrance) where the data is silent."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from etl.synthesise.frames import keyed_uniform

ACCESSIBLE_LAYERS = ("pois", "health", "schools", "bus_stops", "parks")
_COLUMNS = ("wheelchair", "ramp", "accessible_entrance", "accessibility_generated")

# (yes, limited, no) shares. Public services and new large buildings were built to the
# 2015+ accessibility norms; small shops and cafés mostly have a step at the door.
_PUBLIC = (0.45, 0.30, 0.25)
_SHOP = (0.25, 0.25, 0.50)
_POI_SHARES = {
    **dict.fromkeys(
        (
            "townhall",
            "police",
            "post_office",
            "bank",
            "courthouse",
            "library",
            "hospital",
            "clinic",
            "doctors",
            "dentist",
            "pharmacy",
            "theatre",
            "cinema",
            "university",
            "college",
            "bus_station",
            "public_building",
            "community_centre",
            "arts_centre",
            "museum",
            "embassy",
        ),
        _PUBLIC,
    ),
    **dict.fromkeys(("supermarket", "mall", "department_store", "hotel"), (0.55, 0.25, 0.20)),
    **dict.fromkeys(("fuel", "car_wash", "parking"), (0.30, 0.30, 0.40)),
    **dict.fromkeys(("cafe", "restaurant", "fast_food", "bar", "pub", "nightclub"), _SHOP),
}
_LAYER_SHARES = {
    "bus_stops": (0.35, 0.25, 0.40),
    "parks": (0.55, 0.35, 0.10),
}
_KIND_SHARES = {
    ("health", "hospital"): (0.70, 0.20, 0.10),
    ("health", "clinic"): (0.60, 0.25, 0.15),
    ("health", "other"): (0.45, 0.30, 0.25),
    ("schools", "school"): (0.50, 0.30, 0.20),
    ("schools", "kindergarten"): (0.45, 0.30, 0.25),
}
# P(ramp), P(accessible entrance) given the wheelchair value.
_RAMP = {"yes": 0.90, "limited": 0.60, "no": 0.05, "unknown": 0.30}
_ENTRANCE = {"yes": 0.97, "limited": 0.50, "no": 0.03, "unknown": 0.30}


def wheelchair_shares(frame: pd.DataFrame, layer_id: str) -> np.ndarray:
    """Return the (yes, limited, no) probabilities for every row of ``frame``.

    Hospitals ~70 % yes, schools ~50 %, shops and cafés ~25 %, bus stops ~35 %, parks
    ~55 %; large facilities (a school of 1,500+ places, a hospital of 300+ beds) are
    more often fully accessible, being mostly recent.
    """
    n = len(frame)
    shares = np.tile(np.array(_LAYER_SHARES.get(layer_id, _SHOP)), (n, 1))
    if layer_id == "pois" and "category" in frame:
        category = frame["category"].astype(object).where(frame["category"].notna(), None)
        table = category.map(lambda c: _POI_SHARES.get(c, _SHOP) if c else _SHOP)
        shares = np.array(table.tolist(), dtype=float).reshape(n, 3)
    if layer_id in ("health", "schools") and "kind" in frame:
        default = (0.45, 0.30, 0.25) if layer_id == "health" else (0.50, 0.30, 0.20)
        kinds = frame["kind"].astype(object).to_numpy()
        shares = np.array(
            [_KIND_SHARES.get((layer_id, k), default) for k in kinds], dtype=float
        ).reshape(n, 3)
    big = np.zeros(n, dtype=bool)
    if layer_id == "schools" and "capacity" in frame:
        big = pd.to_numeric(frame["capacity"], errors="coerce").fillna(0).to_numpy() >= 1500
    if layer_id == "health" and "beds" in frame:
        big = pd.to_numeric(frame["beds"], errors="coerce").fillna(0).to_numpy() >= 300
    shift = np.where(big, 0.15, 0.0)
    shares[:, 0] += shift
    shares[:, 2] = np.maximum(shares[:, 2] - shift, 0.0)
    return shares / shares.sum(axis=1, keepdims=True)


def fill_accessibility(
    frame: gpd.GeoDataFrame, layer_id: str, *, seed: int = 2026
) -> gpd.GeoDataFrame:
    """Return a copy of ``frame`` with wheelchair, ramp and accessible_entrance filled.

    Only rows whose ``wheelchair`` is null are filled, and only their null values; their
    ``accessibility_generated`` becomes True, every other row's False. A real (mapped)
    ``wheelchair`` value is never touched, and the missing ramp or entrance of such a row is
    left null: the single flag could not say which of the three values was invented. Rows
    already flagged as generated are generated again, identically, so enriching an enriched
    layer changes nothing. Each draw is keyed by ``(seed, layer, source_id)``, so a
    feature keeps its values when other features are added or the rows are reordered.

    Parameters
    ----------
    frame : GeoDataFrame
        A layer frame with ``source_id`` and the accessibility columns (missing ones are
        added as nulls).
    layer_id : str
        Its catalog id; selects the shares (:func:`wheelchair_shares`).
    seed : int
        The generation seed.

    Returns
    -------
    GeoDataFrame
        The filled copy, same rows in the same order.

    Examples
    --------
    >>> from etl.synthesise.toy import toy_layers
    >>> out = fill_accessibility(toy_layers()["bus_stops"], "bus_stops")
    >>> out.loc[0, "wheelchair"], bool(out.loc[0, "accessibility_generated"])  # mapped: kept
    ('no', False)
    >>> bool(out["accessibility_generated"].iloc[1:].all())
    True
    """
    out = frame.copy()
    for column in _COLUMNS:
        if column not in out:
            out[column] = None
    earlier = out["accessibility_generated"].astype("boolean").fillna(False).to_numpy(bool)
    wheelchair = out["wheelchair"].astype(object).where(out["wheelchair"].notna(), None)
    ramp = out["ramp"].astype("boolean")
    entrance = out["accessible_entrance"].astype("boolean")
    wheelchair[earlier] = None
    ramp[earlier] = pd.NA
    entrance[earlier] = pd.NA
    fill = wheelchair.isna().to_numpy()
    keys = out["source_id"].astype(str).to_numpy(dtype=object)
    if fill.any():
        shares = wheelchair_shares(out, layer_id)[fill]
        u = keyed_uniform(keys[fill], seed, f"{layer_id}:wheelchair")
        cum = np.cumsum(shares, axis=1)
        drawn = np.array(["yes", "limited", "no"], dtype=object)[
            np.minimum((u[:, None] >= cum).sum(axis=1), 2)
        ]
        wheelchair[fill] = drawn
        value = wheelchair.to_numpy(dtype=object)
        for column, table, series in (
            ("ramp", _RAMP, ramp),
            ("accessible_entrance", _ENTRANCE, entrance),
        ):
            p = np.array([table[v] for v in value[fill]])
            draw = keyed_uniform(keys[fill], seed, f"{layer_id}:{column}") < p
            missing = fill & series.isna().to_numpy()
            series[missing] = draw[missing[fill]]
    out["wheelchair"] = wheelchair.astype("str")
    out["ramp"] = ramp
    out["accessible_entrance"] = entrance
    out["accessibility_generated"] = pd.array(fill, dtype="boolean")
    return out
