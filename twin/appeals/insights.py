"""The analyses of appeals over a store, as the HTTP edge and the command line ask for them:
the staff summary, hot spots and emerging hot spots, forecasts, and the public hexagon counts.

One :class:`Insights` is kept per app: it holds the appeals frame (re-read when the change log
moves), the H3 grids of the city, and the last forecasts (a back-test fits six models).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import h3
import numpy as np
import pandas as pd
import shapely

import layers
from twin.appeals import analytics, forecast, hotspots
from twin.appeals.catalog import category as category_of
from twin.core.errors import BadInput
from twin.core.privacy import (
    MIN_PUBLIC_COUNT,
    NOISE,
    NOISE_P,
    cell_key,
    nest,
    noisy,
    public_k,
    record_keys,
    safe_against,
    shown_cells,
    whole_months,
)
from twin.store import Store

#: The fewest appeals a public hexagon may show by default (cells with fewer are withheld); the
#: app passes the project-wide k for public aggregates, ``TWIN_LIMITS_MIN_COUNT`` (at least 5).
PUBLIC_K = MIN_PUBLIC_COUNT
PUBLIC_RESOLUTIONS = (6, 7, 8, 9)
MAX_PERMUTATIONS = 999


@dataclass(frozen=True)
class Scope:
    """Which appeals: a category (or all) filed from ``start`` to ``end``."""

    category: str | None = None
    district: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        keep = np.ones(len(frame), dtype=bool)
        if self.category is not None:
            category_of(self.category)
            keep &= (frame["category"] == self.category).to_numpy()
        if self.district is not None:
            keep &= (frame["district"] == self.district).to_numpy()
        if self.start is not None:
            keep &= (frame["created_on"] >= pd.Timestamp(self.start)).to_numpy()
        if self.end is not None:
            keep &= (frame["created_on"] <= pd.Timestamp(self.end)).to_numpy()
        return frame[keep]


class Insights:
    """The appeals analyses of one app."""

    def __init__(self) -> None:
        self.frames = analytics.AppealFrames()
        self._lock = threading.Lock()
        self._grids: dict[tuple[int, int], hotspots.Grid] = {}
        self._forecasts: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._unfiltered: dict[tuple[int, int], tuple[pd.DataFrame, Counter[str]]] = {}

    def frame(self, store: Store) -> pd.DataFrame:
        return self.frames.get(store)

    def grid(self, store: Store, res: int) -> hotspots.Grid:
        """Return the H3 grid of the city at ``res`` (cells whose centre is in the city)."""
        if res not in hotspots.RESOLUTIONS:
            raise BadInput(f"res must be one of {', '.join(map(str, hotspots.RESOLUTIONS))}")
        key = (id(store), res)
        with self._lock:
            hit = self._grids.get(key)
        if hit is not None:
            return hit
        boundary = store.read_frame(layers.get("city_boundary"))
        if boundary.empty:
            boundary = store.read_frame(layers.get("districts"))
        if boundary.empty:
            raise BadInput("the store has no city boundary or districts to lay the grid on")
        area = shapely.union_all(np.asarray(boundary.geometry.values))
        grid = hotspots.Grid.of_area(area, res)
        with self._lock:
            self._grids[key] = grid
        return grid

    def summary(
        self, store: Store, w: analytics.Window, lang: str, min_count: int | None = None
    ) -> dict[str, Any]:
        return analytics.summary(self.frame(store), w, lang, min_count)

    def _all_cells(self, store: Store, frame: pd.DataFrame, res: int) -> Counter[str]:
        """Return the unfiltered counts per cell at ``res`` (kept while ``frame`` is the
        store's current appeals frame)."""
        key = (id(store), res)
        with self._lock:
            hit = self._unfiltered.get(key)
        if hit is not None and hit[0] is frame:
            return hit[1]
        cells = _cells(frame, res)
        with self._lock:
            self._unfiltered[key] = (frame, cells)
        return cells

    def hot_spots(
        self, store: Store, scope: Scope, res: int, permutations: int, seed: int = 12345
    ) -> tuple[hotspots.Grid, hotspots.HotSpots]:
        if not 0 <= permutations <= MAX_PERMUTATIONS:
            raise BadInput(f"permutations must be 0 to {MAX_PERMUTATIONS}")
        grid = self.grid(store, res)
        rows = scope.apply(self.frame(store))
        y = grid.counts(rows["lon"].to_numpy(), rows["lat"].to_numpy())
        return grid, hotspots.gi_star(grid, y, permutations=permutations, seed=seed)

    def emerging(
        self, store: Store, scope: Scope, res: int, months: int, today: dt.date
    ) -> tuple[hotspots.Grid, pd.DataFrame, list[str]]:
        if not 6 <= months <= 36:
            raise BadInput("months must be 6 to 36")
        grid = self.grid(store, res)
        rows = Scope(scope.category, scope.district).apply(self.frame(store))
        last = pd.Timestamp(today).to_period("M") - 1
        periods = pd.period_range(last - months + 1, last, freq="M")
        month_of = rows["created_on"].dt.to_period("M")
        counts = np.zeros((months, len(grid.cells)))
        for m, period in enumerate(periods):
            inside = rows[(month_of == period).to_numpy()]
            counts[m] = grid.counts(inside["lon"].to_numpy(), inside["lat"].to_numpy())
        table = hotspots.emerging(grid, counts)
        return grid, table, [str(p) for p in periods]

    def forecast(
        self,
        store: Store,
        scope: Scope,
        *,
        horizon: int,
        level: float,
        today: dt.date,
    ) -> dict[str, Any]:
        head = store.last_change_id()
        key = (id(store), head, scope, horizon, level, today)
        with self._lock:
            hit = self._forecasts.get(key)
        if hit is not None:
            return hit
        rows = Scope(scope.category, scope.district).apply(self.frame(store))
        series = forecast.monthly(rows, end=pd.Timestamp(today))
        result = forecast.as_dict(forecast.forecast(series, horizon=horizon, level=level))
        result["history"] = [
            {"month": m, "appeals": int(v)}
            for m, v in zip(
                pd.DatetimeIndex(series.index).strftime("%Y-%m"), series.to_numpy(), strict=True
            )
        ]
        result["synthetic_share"] = round(float(rows["synthetic"].mean()), 3) if len(rows) else 0.0
        with self._lock:
            if len(self._forecasts) > 256:
                self._forecasts.clear()
            self._forecasts[key] = result
        return result

    def public_hexagons(
        self, store: Store, scope: Scope, res: int, k: int = PUBLIC_K
    ) -> dict[str, Any]:
        """Return H3 counts of appeals for anyone: only cells with at least ``k`` (never less
        than 5) appeals are shown; how many cells were withheld is said, not what they hold.

        Against differencing (:mod:`twin.core.privacy`): dates are taken in whole calendar
        months, and a filtered answer (a category or dates) shows a cell only where the same
        cell unfiltered — also public — holds the same count or at least ``k`` more. Counts
        are summed up from resolution 9 (:func:`~twin.core.privacy.nest`), and no cell is
        shown whose parent, answered at a coarser resolution, would subtract to 1..k-1
        (:func:`~twin.core.privacy.shown_cells`). The counts shown carry the cell key
        method's noise of -2..+2 (:func:`~twin.core.privacy.noisy`): the same appeals always
        get the same count, and two filtered answers no longer subtract to an exact few.
        """
        k = public_k(k)
        if res not in PUBLIC_RESOLUTIONS:
            raise BadInput(f"res must be one of {', '.join(map(str, PUBLIC_RESOLUTIONS))}")
        start, end = whole_months(scope.start, scope.end)
        scope = replace(scope, start=start, end=end)
        frame = self.frame(store)
        rows = scope.apply(frame)
        fine = _row_cells(rows, max(PUBLIC_RESOLUTIONS))
        cells = nest(Counter(fine), res)
        keys = _cell_keys(store.secret("appeal_cell_keys"), fine, rows["fid"], res)
        coarsest = min(PUBLIC_RESOLUTIONS)
        if scope == Scope():
            shown = shown_cells(cells, res, k, coarsest)
        else:
            # a filtered cell only where the unfiltered answer shows it, and with the same
            # count or k more there: then subtracting any unfiltered answer (this or a
            # coarser resolution) leaves sums of 0-or-k parts
            whole = nest(self._all_cells(store, frame, max(PUBLIC_RESOLUTIONS)), res)
            public = shown_cells(whole, res, k, coarsest)
            shown = shown_cells(
                cells,
                res,
                k,
                coarsest,
                keep=lambda c, n: c in public and safe_against(n, whole[c], k),
            )
        # the cell key method's noise (twin.core.privacy), on every cell shown; a count the
        # noise takes below k is withheld too
        published = {c: noisy(n, keys[c], k) for c, n in shown.items()}
        features = [
            {
                "type": "Feature",
                "id": c,
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[lng, lat] for lat, lng in _closed(h3.cell_to_boundary(c))]],
                },
                "properties": {"cell": c, "count": n},
            }
            for c, n in sorted(published.items())
            if n is not None
        ]
        return {
            "type": "FeatureCollection",
            "features": features,
            "k": k,
            "res": res,
            "start": None if start is None else start.isoformat(),
            "end": None if end is None else end.isoformat(),
            "withheld_cells": len(cells) - len(features),
            "noise": {
                "method": "cell key (ABS TableBuilder, UK 2021 census)",
                "values": list(NOISE),
                "probabilities": list(NOISE_P),
            },
            "synthetic": bool(rows["synthetic"].all()) if len(rows) else False,
        }


def _row_cells(rows: pd.DataFrame, res: int) -> list[str]:
    """Return each row's H3 cell at ``res``."""
    return [
        h3.latlng_to_cell(la, lo, res)
        for lo, la in zip(rows["lon"].tolist(), rows["lat"].tolist(), strict=True)
    ]


def _cells(rows: pd.DataFrame, res: int) -> Counter[str]:
    return Counter(_row_cells(rows, res))


def _cell_keys(secret: bytes, fine: list[str], fids: Any, res: int) -> Counter[str]:
    """Return each cell's key at ``res``: the record keys of its appeals (ids ``fids``, in
    cells ``fine`` at resolution 9) summed, then nested up as the counts are
    (:func:`twin.core.privacy.nest`)."""
    sums: Counter[str] = Counter()
    for cell, key in zip(fine, record_keys(secret, fids), strict=True):
        sums[cell] += key
    return Counter({c: cell_key([v]) for c, v in nest(sums, res).items()})


def _closed(ring: Any) -> list[tuple[float, float]]:
    pts = list(ring)
    return pts + pts[:1]


def cell_feature(cell: str, properties: dict[str, Any]) -> dict[str, Any]:
    """Return an H3 cell as a GeoJSON feature."""
    ring = _closed(h3.cell_to_boundary(cell))
    return {
        "type": "Feature",
        "id": cell,
        "geometry": {"type": "Polygon", "coordinates": [[[lng, lat] for lat, lng in ring]]},
        "properties": {"cell": cell, **properties},
    }
