"""Run every generator over the real layers: :func:`generate_all`."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from etl.synthesise.accessibility import ACCESSIBLE_LAYERS, fill_accessibility
from etl.synthesise.appeals import appeals
from etl.synthesise.budget import project_pool
from etl.synthesise.budget_cycles import DemoCycle, past_cycles
from etl.synthesise.cameras import cameras
from etl.synthesise.city import City
from etl.synthesise.frames import METRIC_CRS, conform
from etl.synthesise.indicators import district_indicators
from etl.synthesise.schools import schools
from etl.synthesise.works import works

DEFAULT_SEED = 2026
DEFAULT_TODAY = datetime.date(2026, 11, 27)
WORK_COLUMNS = (
    "source_id",
    "synthetic",
    "status",
    "start_date",
    "end_date",
    "district",
    "geometry",
)
NEW_LAYERS = ("cameras", "appeals", "schools", "works", "district_indicators")


@dataclass(frozen=True)
class Generated:
    """What :func:`generate_all` produced, split by how it relates to the real data.

    Attributes
    ----------
    new : dict of str to GeoDataFrame
        Wholly generated features (``synthetic`` True), keyed by layer id: "cameras",
        "appeals", "schools" (the additions only), "works" (the generated works only) and
        "district_indicators".
    enriched : dict of str to GeoDataFrame
        Copies of real layers (``synthetic`` False) with generated values filled in:
        "pois", "health", "schools" (the real ones), "bus_stops", "parks" with accessibility
        (``accessibility_generated`` marks the rows). Only the layers present in the
        input appear.
    budget_cycles : list of DemoCycle
        The past participatory-budget cycles with their applications and ballots (no layer:
        written into the budget's tables, from which the map's layer is drawn).
    """

    new: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    enriched: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    budget_cycles: list[DemoCycle] = field(default_factory=list)

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Return one frame per layer id: the enriched real rows, then the new ones.

        Meant for an upsert by ``source_id``: loading it replaces the enriched real
        features and adds the generated ones (the real works, untouched, stay as loaded).
        """
        out: dict[str, gpd.GeoDataFrame] = {}
        for key in sorted(set(self.new) | set(self.enriched)):
            parts = [f for f in (self.enriched.get(key), self.new.get(key)) if f is not None]
            out[key] = (
                parts[0]
                if len(parts) == 1
                else gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
            )
        return out


def _fill_district(frame: gpd.GeoDataFrame, city: City) -> gpd.GeoDataFrame:
    """Return ``frame`` with null ``district`` values set from the feature's location.

    This is derived, not invented, so it does not make a real feature synthetic.
    """
    missing = frame["district"].isna().to_numpy()
    if missing.any():
        frame = frame.copy()
        points = shapely.point_on_surface(
            np.asarray(frame.to_crs(METRIC_CRS).geometry.values, dtype=object)[missing]
        )
        frame.loc[missing, "district"] = city.district_of(points)
    return frame


def enrich(
    city: City, *, seed: int = DEFAULT_SEED, today: datetime.date = DEFAULT_TODAY
) -> dict[str, gpd.GeoDataFrame]:
    """Return the real layers with generated accessibility filled in.

    Each frame is conformed to its catalog columns and keeps the canonical row order of
    :class:`City`; ``district`` is filled from the location where the catalog declares it
    and the data lacks it. The capacity and enrolment of the real schools are left null:
    the catalog has no flag to mark them as generated (the indicators impute them instead).
    """
    out: dict[str, gpd.GeoDataFrame] = {}
    for layer_id in ACCESSIBLE_LAYERS:
        if layer_id not in city.real:
            continue
        frame = conform(city.real[layer_id], layer_id)
        if "district" in frame:
            frame = _fill_district(frame, city)
        out[layer_id] = fill_accessibility(frame, layer_id, seed=seed)
    return out


def generate_all(
    real: Mapping[str, gpd.GeoDataFrame],
    *,
    seed: int = DEFAULT_SEED,
    today: datetime.date = DEFAULT_TODAY,
) -> Generated:
    """Return every generated layer and enriched real layer for the real Almaty layers.

    Same inputs (in any row order) and same ``seed`` give identical frames, geometry
    included. Each generator has its own random stream, so they can also be run alone
    (:func:`cameras`, :func:`appeals`, …) with the same results.

    Parameters
    ----------
    real : mapping of str to GeoDataFrame
        The real layers keyed by layer id, in EPSG:4326 with their catalog columns,
        ``source_id`` and ``synthetic``. "districts" and "population_grid" are required;
        the others improve the result where present.
    seed : int
        The generation seed (non-negative).
    today : datetime.date
        The reference day for dates and statuses.

    Returns
    -------
    Generated
        ``new`` and ``enriched`` frames, all in EPSG:4326 with exactly the catalog columns.

    Examples
    --------
    >>> from etl.synthesise.toy import toy_layers
    >>> out = generate_all(toy_layers(), seed=2026)
    >>> sorted(out.new)
    ['appeals', 'cameras', 'district_indicators', 'schools', 'works']
    >>> sorted(out.enriched)
    ['bus_stops', 'parks', 'schools']
    """
    city = City.from_layers(real)
    new: dict[str, gpd.GeoDataFrame] = {
        "cameras": cameras(city, seed=seed, today=today),
        "appeals": appeals(city, seed=seed, today=today),
        "schools": schools(city, seed=seed),
        "works": works(city, seed=seed, today=today),
    }
    enriched = enrich(city, seed=seed, today=today)
    cycles = past_cycles(project_pool(city, seed=seed, today=today), seed=seed, today=today)

    def combined(layer_id: str, real_part: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
        parts = [f for f in (real_part, new[layer_id]) if f is not None and len(f)]
        if not parts:
            return new[layer_id]
        return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)

    # The real works are only counted, so they are passed as loaded: conforming would turn
    # the akimat's point-only projects into empty MultiPolygons and lose their district.
    real_works = city.real.get("works")
    if real_works is not None:
        real_works = real_works.reindex(columns=list(WORK_COLUMNS)).assign(synthetic=False)
    new["district_indicators"] = district_indicators(
        city,
        cameras=new["cameras"],
        appeals=new["appeals"],
        budget_cycles=cycles,
        schools=combined("schools", enriched.get("schools")),
        works=combined("works", real_works),
        seed=seed,
        today=today,
    )
    return Generated(new={k: new[k] for k in NEW_LAYERS}, enriched=enriched, budget_cycles=cycles)
