"""The site-selection model of one city: its inputs read once, what every category shares
cached per resolution, and each category's factors cached per resolution.

:class:`SiteModel` is pure (frames in, frames out); :mod:`twin.analyses.site.service` builds
one from a store and keeps it while the store does not change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin.analyses.access.graph import ModeGraph, StreetGraph
from twin.analyses.access.profiles import WALK
from twin.analyses.site.categories import (
    CUSTOM_PREFIX,
    SiteCategory,
    footfall_excluded,
    outlets,
)
from twin.analyses.site.cells import RES_DEFAULT, CellGrid, build_cells, check_res, points_lonlat
from twin.analyses.site.places import Places
from twin.analyses.site.reach import Pairs, local_times
from twin.analyses.site.scoring import (
    ACCESS_MINUTES,
    Outlets,
    make_outlets,
    parse_weights,
    score,
    site_factors,
    with_self,
)

#: The layers the analysis reads (all public); outlet layers come from the categories.
INPUT_LAYERS = ("roads", "pois", "health", "bus_stops", "buildings", "population_grid",
                "districts", "city_boundary")  # fmt: skip
T = TypeVar("T")


@dataclass
class SiteModel:
    """A city's street graph, boundary and input frames (``pois``, ``health``,
    ``bus_stops``, ``buildings``, ``population_grid``, ``districts``, ``roads``), with
    caches."""

    graph: StreetGraph
    boundary: shapely.Geometry | None
    frames: dict[str, gpd.GeoDataFrame]
    _memo: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def _remember(self, key: tuple[Any, ...], make: Callable[[], T]) -> T:
        with self._lock:
            if key not in self._memo:
                self._memo[key] = make()
            value: T = self._memo[key]
            return value

    @property
    def walk(self) -> ModeGraph:
        """Return the walking graph."""
        return self.graph.for_profile(WALK)

    @property
    def places(self) -> Places:
        """Return the (cached) index of addresses and named streets (cells' nearest place)."""
        empty = gpd.GeoDataFrame(geometry=[], crs=4326)
        return self._remember(
            ("places",),
            lambda: Places.build(
                self.frames.get("buildings", empty), self.frames.get("roads", empty)
            ),
        )

    def with_places(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return ``frame`` (with ``lon``, ``lat``) with its rows' nearest ``place``,
        ``place_kind`` and ``place_m`` (see :mod:`twin.analyses.site.places`)."""
        found = self.places.nearest(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float))
        out = frame.copy()
        for column in found.columns:
            out[column] = found[column].to_numpy()
        return out

    def cells(self, res: int = RES_DEFAULT) -> CellGrid:
        """Return the (cached) cell grid at ``res``."""
        res = check_res(res)
        return self._remember(
            ("cells", res), lambda: build_cells(self.graph, self.boundary, self.frames, res)
        )

    def reach(self, res: int, minutes: float) -> Pairs:
        """Return (cached) cell → cell walking times within ``minutes`` (at least
        :data:`ACCESS_MINUTES`), every cell reaching itself."""
        limit = max(float(minutes), ACCESS_MINUTES)
        with self._lock:
            wider = sorted(k[2] for k in self._memo if k[:2] == ("reach", res) and k[2] >= limit)
            if wider:
                pairs: Pairs = self._memo[("reach", res, wider[0])]
                return pairs if wider[0] == limit else pairs.within(limit)
        grid = self.cells(res)

        def make() -> Pairs:
            walk = local_times(self.walk, grid.snapped, grid.snapped, limit)
            return with_self(walk, len(grid))

        return self._remember(("reach", res, limit), make)

    def outlets(self, cat: SiteCategory, res: int = RES_DEFAULT) -> Outlets:
        """Return the existing outlets of ``cat``."""
        frame = self.frames.get(cat.layer)
        if frame is None:
            raise KeyError(f"the site model was built without the {cat.layer!r} layer")
        return make_outlets(outlets(frame, cat), self.cells(res))

    def footfall_points(self, cat: SiteCategory, hidden: np.ndarray | None = None) -> Any:
        """Return lon, lat of the points of interest that count towards footfall for
        ``cat``: not its own outlets, not street furniture, not the fids ``hidden``."""
        pois = self.frames["pois"]
        keep = ~pois["category"].isin(sorted(footfall_excluded()))
        if cat.layer == "pois":
            keep &= ~pois[cat.field].isin(cat.values)
        if hidden is not None and cat.layer == "pois":
            keep &= ~pois["fid"].isin(hidden)
        return points_lonlat(pois[keep])

    def factors(
        self, cat: SiteCategory, res: int = RES_DEFAULT, *, hidden: np.ndarray | None = None
    ) -> pd.DataFrame:
        """Return the factors of every cell for ``cat`` (cached unless outlets are
        ``hidden``: fids treated as unknown, as the validation does)."""
        res = check_res(res)

        def make() -> pd.DataFrame:
            grid = self.cells(res)
            found = self.outlets(cat, res)
            if hidden is not None:
                keep = ~np.isin(found.fid, hidden)
                found = Outlets(*(getattr(found, f)[keep] for f in Outlets.__dataclass_fields__))
            return site_factors(
                self.walk, grid, self.reach(res, cat.minutes), cat, found,
                self.footfall_points(cat, hidden),
            )  # fmt: skip

        if hidden is not None or cat.name.startswith(CUSTOM_PREFIX):
            # a business's own category is computed each time: callers choose its values,
            # so keeping each would grow the cache without bound
            return make()
        return self._remember(("factors", res, cat.name), make)

    def ranked(
        self,
        cat: SiteCategory,
        res: int = RES_DEFAULT,
        weights: str | Mapping[str, float] | None = None,
    ) -> pd.DataFrame:
        """Return every candidate cell ranked by its score for ``cat`` (see
        :func:`~twin.analyses.site.scoring.score`)."""
        return score(self.factors(cat, res), parse_weights(weights))
