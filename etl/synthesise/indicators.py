"""District indicators: the latest year computed from the layers, earlier years back-projected."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from etl.synthesise.budget_cycles import DemoCycle
from etl.synthesise.city import City
from etl.synthesise.frames import METRIC_CRS, WGS84, conform, day, days_of, stream, year_of
from layers.common import DISTRICT_NAMES
from twin.core.privacy import MIN_PUBLIC_COUNT

FIRST_PERIOD = 2019
# Yearly population growth by district: the outskirts annexed and built up since 2014 grow
# fastest, the old centre slowest (gov.kz district reports, rounded).
GROWTH = {
    "Alatau": 0.030,
    "Nauryzbay": 0.029,
    "Turksib": 0.022,
    "Bostandyk": 0.020,
    "Medeu": 0.017,
    "Zhetysu": 0.016,
    "Auezov": 0.015,
    "Almaly": 0.015,
}
# Yearly growth of the facility stocks, for the back-projection.
STOCK_GROWTH = {
    "schools": 0.02,
    "places": 0.025,
    "clinics": 0.01,
    "bus_stops": 0.015,
    "green": 0.015,
}
APPEAL_ADOPTION = 0.85  # appeals per resident a year earlier, before the data window
WORKS_TREND = 0.9  # completed works a year earlier, before the data window


def _district(frame: gpd.GeoDataFrame | None, city: City) -> np.ndarray:
    """Return the district of every row: its ``district`` value when all are canonical
    names, else the district containing a point on its surface."""
    if frame is None or len(frame) == 0:
        return np.empty(0, dtype=object)
    if "district" in frame and frame["district"].isin(DISTRICT_NAMES).all():
        return frame["district"].to_numpy(dtype=object)
    geoms = np.asarray(frame.to_crs(METRIC_CRS).geometry.values, dtype=object)
    return city.district_of(shapely.point_on_surface(geoms))


def _count(names: np.ndarray, mask: np.ndarray | None, districts: list[str]) -> np.ndarray:
    """Return how many of the (masked) rows fall in each district."""
    if mask is not None:
        names = names[mask]
    counts = pd.Series(names, dtype=object).value_counts()
    return counts.reindex(districts, fill_value=0).to_numpy(dtype=float)


def _green_area(city: City) -> np.ndarray:
    """Return the park area (m²) inside each district, overlaps between parks counted once."""
    if len(city.parks) == 0:
        return np.zeros(len(city.districts))
    return shapely.area(
        shapely.intersection(
            np.asarray(city.districts.geometry.values, dtype=object), city.park_union
        )
    )


def district_indicators(
    city: City,
    *,
    cameras: gpd.GeoDataFrame,
    appeals: gpd.GeoDataFrame,
    budget_cycles: Sequence[DemoCycle],
    schools: gpd.GeoDataFrame,
    works: gpd.GeoDataFrame,
    seed: int = 2026,
    today: datetime.date = datetime.date(2026, 11, 27),
) -> gpd.GeoDataFrame:
    """Return one indicator row per district and year from 2019 to ``today.year``.

    The latest year is computed from the layers: gov.kz population, metric area, density,
    buildings, schools (kind "school", real and generated) per 10,000, school places per
    1,000 (a real school's unknown capacity counts as the median generated capacity of its
    district), health facilities, bus stops and cameras (installed, not planned) per
    10,000, park area per resident, appeals of the last 12 months per 10,000, works done in
    the year (real and generated) and the participatory budget's projects of the year (the
    applications of the year's cycle in the district: what the map's ``budget_cycle_projects``
    layer shows).

    Earlier years mix data and back-projection. Population grows by ``GROWTH`` a year
    (±0.3 pp noise); buildings by that rate plus 1 pp; facility stocks by ``STOCK_GROWTH``.
    Cameras come from ``installed_on``, budget projects from the cycles' years (none in a
    year without a cycle),
    works done from ``end_date`` from 2023 on and appeals from ``created_on`` for calendar
    years the appeals cover fully; before those windows, works and appeals fall back by
    ``WORKS_TREND`` and ``APPEAL_ADOPTION`` a year. Every row is ``synthetic`` (it rests on
    demo data).

    Parameters
    ----------
    city : City
        The prepared real layers.
    cameras, appeals : GeoDataFrame
        The generated layers.
    budget_cycles : sequence of DemoCycle
        The generated participatory-budget cycles.
    schools, works : GeoDataFrame
        All schools and all works, real and generated.
    seed : int
        Seed of the ``"district_indicators"`` random stream.
    today : datetime.date
        The reference day; its year is the latest period.

    Returns
    -------
    GeoDataFrame
        The ``district_indicators`` layer frame: the district polygons (EPSG:4326, as
        given), ``source_id`` "ind-Almaly-2026"….

    Examples
    --------
    >>> from etl.synthesise import generate_all, toy_layers
    >>> ind = generate_all(toy_layers()).new["district_indicators"]
    >>> ind.loc[ind["period"] == 2026, ["district", "population", "area_km2"]].values.tolist()
    [['Almaly', 75000, 4.0], ['Medeu', 30000, 4.0]]
    """
    rng = stream(seed, "district_indicators")
    names = city.district_names
    latest = today.year
    periods = np.arange(FIRST_PERIOD, latest + 1)
    pop_latest = np.array([city.population[d] for d in names], dtype=float)
    area_km2 = shapely.area(np.asarray(city.districts.geometry.values, dtype=object)) / 1e6

    growth = np.array([GROWTH.get(d, 0.02) for d in names])
    back = latest - periods  # years before the latest
    # rates[:, i] is the growth into period i; a year's population is the latest one
    # divided by the growth of every later year.
    rates = np.log1p(growth[:, None] + rng.normal(0.0, 0.003, (len(names), len(periods))))
    later = np.cumsum(rates[:, ::-1], axis=1)[:, ::-1] - rates
    population = pop_latest[:, None] * np.exp(-later)

    def stock(latest_value: np.ndarray, rate: float | np.ndarray) -> np.ndarray:
        """Return a stock back-projected at a constant yearly growth ``rate``."""
        r = np.broadcast_to(np.asarray(rate, dtype=float), latest_value.shape)
        return latest_value[:, None] / (1.0 + r[:, None]) ** back[None, :]

    buildings_latest = _count(city.building_district, None, names)
    school_d = _district(schools, city)
    is_school = (
        (schools["kind"].astype(object) == "school").to_numpy()
        if len(schools)
        else np.zeros(0, dtype=bool)
    )
    capacity = pd.to_numeric(schools["capacity"], errors="coerce").astype(float)
    median = capacity.groupby(school_d).median().reindex(names).fillna(capacity.median())
    capacity = capacity.fillna(pd.Series(school_d).map(median)).fillna(0.0).to_numpy()
    places_latest = (
        pd.Series(capacity[is_school])
        .groupby(school_d[is_school])
        .sum()
        .reindex(names, fill_value=0.0)
        .to_numpy()
    )
    health = city.real.get("health")
    bus = city.real.get("bus_stops")

    table = {
        "buildings": np.round(stock(buildings_latest, growth + 0.01)),
        "schools": np.round(stock(_count(school_d, is_school, names), STOCK_GROWTH["schools"])),
        "places": stock(places_latest, STOCK_GROWTH["places"]),
        "clinics": np.round(
            stock(_count(_district(health, city), None, names), STOCK_GROWTH["clinics"])
        ),
        "bus_stops": np.round(
            stock(_count(_district(bus, city), None, names), STOCK_GROWTH["bus_stops"])
        ),
        "green": stock(_green_area(city), STOCK_GROWTH["green"]),
    }

    cam_d = _district(cameras, city)
    installed = days_of(cameras["installed_on"])
    cams = np.stack(
        [_count(cam_d, ~np.isnat(installed) & (year_of(installed) <= y), names) for y in periods],
        axis=1,
    )

    applied = pd.Series(
        {(c.cycle["district"], int(c.cycle["year"])): len(c.applications) for c in budget_cycles},
        dtype=float,
    )
    projects = np.array(
        [[applied.get((d, int(y)), 0.0) for y in periods] for d in names], dtype=float
    )

    work_d = _district(works, city)
    ended = days_of(works["end_date"])
    done = (
        (works["status"].astype(object) == "done").to_numpy()
        if len(works)
        else np.zeros(0, dtype=bool)
    )
    works_done = np.stack(
        [_count(work_d, done & ~np.isnat(ended) & (year_of(ended) == y), names) for y in periods],
        axis=1,
    )
    synthetic = works["synthetic"].fillna(False).to_numpy(dtype=bool)
    generated_from = (
        int(year_of(days_of(works.loc[synthetic, "start_date"])).min())
        if synthetic.any()
        else latest
    )
    for i in np.flatnonzero(periods < generated_from)[::-1]:
        # Before the generated works begin only the real ones are known: add the trend.
        works_done[:, i] += np.round(
            works_done[:, i + 1] * WORKS_TREND * rng.uniform(0.85, 1.0, len(names))
        )

    appeal_d = _district(appeals, city)
    created = days_of(appeals["created_on"])
    now = day(today)
    per_10k = np.full((len(names), len(periods)), np.nan)
    appeals_n = np.full((len(names), len(periods)), np.nan)
    appeals_n[:, -1] = _count(appeal_d, created > now - np.timedelta64(365, "D"), names)
    covered_from = created.min() if len(created) else now
    for i, y in enumerate(periods[:-1]):
        if covered_from <= day(f"{y}-01-01"):
            appeals_n[:, i] = _count(appeal_d, year_of(created) == y, names)
    counted = ~np.isnan(appeals_n[0])
    per_10k[:, counted] = appeals_n[:, counted] / population[:, counted] * 1e4
    # A public rate of fewer than k appeals is withheld (twin.core.privacy); the years
    # projected back from it stay withheld too (NaN carries through).
    per_10k[(appeals_n > 0) & (appeals_n < MIN_PUBLIC_COUNT)] = np.nan
    for i in np.flatnonzero(~counted)[::-1]:
        per_10k[:, i] = per_10k[:, i + 1] * APPEAL_ADOPTION * rng.uniform(0.9, 1.05, len(names))

    rows = []
    geometry_of = dict(
        zip(
            city.real["districts"]["name"],
            city.real["districts"].to_crs(WGS84).geometry,
            strict=False,
        )
    )
    for j, name in enumerate(names):
        for i, y in enumerate(periods):
            pop = population[j, i]
            rows.append(
                {
                    "source_id": f"ind-{name}-{y}",
                    "synthetic": True,
                    "district": name,
                    "period": int(y),
                    "population": round(pop),
                    "area_km2": round(area_km2[j], 2),
                    "density": round(pop / area_km2[j], 1),
                    "buildings": int(table["buildings"][j, i]),
                    "schools_per_10k": round(table["schools"][j, i] / pop * 1e4, 2),
                    "school_places_per_1k": round(table["places"][j, i] / pop * 1e3, 1),
                    "clinics_per_10k": round(table["clinics"][j, i] / pop * 1e4, 2),
                    "bus_stops_per_10k": round(table["bus_stops"][j, i] / pop * 1e4, 2),
                    "green_m2_per_capita": round(table["green"][j, i] / pop, 2),
                    "appeals_per_10k": round(per_10k[j, i], 1),
                    "works_done": int(works_done[j, i]),
                    "budget_projects": int(projects[j, i]),
                    "cameras_per_10k": round(cams[j, i] / pop * 1e4, 2),
                    "geometry": geometry_of[name],
                }
            )
    return conform(pd.DataFrame(rows), "district_indicators", crs=WGS84)
