"""The pool of generated participatory-budget ("Бюджет народного участия") projects by district
and year, from which the demo budget cycles are built (:mod:`etl.synthesise.budget_cycles`).

The pool is no layer of its own: the projects residents see on the map, rate and count in the
district indicators are the cycles' (``budget_cycle_projects``, written from the budget's
tables). It only decides what the past years' applications were: titles, places, costs and how
far each one's works got.
"""

from __future__ import annotations

import datetime

import geopandas as gpd
import numpy as np
import pandas as pd

from etl.synthesise.city import City
from etl.synthesise.frames import WGS84, choose, day, ids, iso, stream
from etl.synthesise.sampling import populated_points, snap_to_buildings

FIRST_YEAR = 2021
RESIDENTS_PER_PROJECT = 15_000
MIN_PROJECTS, MAX_PROJECTS = 10, 25

# category -> (weight, title template with the street and, for yards, a house number).
CATEGORIES: dict[str, tuple[float, str]] = {
    "благоустройство дворов": (0.26, "Благоустройство двора по {street}, {house}"),
    "детские площадки": (0.18, "Детская игровая площадка во дворе по {street}, {house}"),
    "освещение": (0.12, "Освещение пешеходной зоны по {street}"),
    "спорт": (0.12, "Спортивная площадка во дворе по {street}, {house}"),
    "озеленение": (0.12, "Озеленение и автополив сквера по {street}"),
    "тротуары": (0.10, "Ремонт тротуаров по {street}"),
    "доступная среда": (0.06, "Пандусы и понижение бордюров по {street}"),
    "безопасность": (0.04, "Видеонаблюдение во дворе по {street}, {house}"),
}


def _stage_weights(year: int, today: datetime.date) -> dict[str, float]:
    """Return the stage shares of projects proposed in ``year``, seen on ``today``.

    The cycle: proposals in January-March of year Y, voting in April-May, approval in June,
    works in year Y+1. So the current year is still proposal/voting/approved, last year's
    projects are being built (or done), and older ones are done or were rejected.
    """
    if year == today.year:
        if today < datetime.date(year, 4, 1):
            return {"proposal": 1.0}
        if today < datetime.date(year, 6, 1):
            return {"proposal": 0.4, "voting": 0.6}
        return {"proposal": 0.15, "voting": 0.35, "approved": 0.5}
    if year == today.year - 1:
        if today < datetime.date(today.year, 5, 1):
            return {"approved": 0.75, "rejected": 0.25}
        return {"in_progress": 0.35, "done": 0.45, "rejected": 0.2}
    return {"done": 0.78, "rejected": 0.22}


def project_count(population: int, jitter: int = 0) -> int:
    """Return the number of projects a district proposes in a year.

    One per ``RESIDENTS_PER_PROJECT`` residents plus ``jitter``, within 10-25.

    Examples
    --------
    >>> project_count(362_200)
    24
    >>> project_count(100_000)
    10
    """
    return int(
        np.clip(round(population / RESIDENTS_PER_PROJECT) + jitter, MIN_PROJECTS, MAX_PROJECTS)
    )


def project_pool(
    city: City, *, seed: int = 2026, today: datetime.date = datetime.date(2026, 11, 27)
) -> gpd.GeoDataFrame:
    """Return synthetic participatory-budget projects, per district and year from 2021 to the
    year before ``today`` (the years whose cycles are over by then).

    Assumptions: each district collects :func:`project_count` proposals a year (one per
    15,000 residents, ±2, within 10-25). Stages (how far the works got) follow
    :func:`_stage_weights`; proposals
    are filed between 15 January and 31 March (never after ``today``); ``completed_on`` is
    set only for done projects, between May and November of the following year and never
    after ``today``. Budgets run 5-150 M KZT (median ~30 M). A project sits in its district
    next to a real building, and its title names the nearest real street (house numbers are
    invented).

    Parameters
    ----------
    city : City
        The prepared real layers.
    seed : int
        Seed of the ``"budget_projects"`` random stream.
    today : datetime.date
        The day the lifecycle is seen on.

    Returns
    -------
    GeoDataFrame
        ``source_id`` ("pb-000001"…), ``synthetic``, ``title``, ``category`` (Russian),
        ``district``, ``year``, ``stage``, ``budget_kzt``, ``proposed_on``, ``completed_on``
        and the point, EPSG:4326, ordered by year, district and proposal date.

    Examples
    --------
    >>> from etl.synthesise.toy import toy_layers
    >>> pb = project_pool(City.from_layers(toy_layers()))
    >>> len(pb)  # 2 districts x 5 years (2021-2025) x the floor of 10 projects
    100
    >>> set(pb.loc[pb["year"] == 2025, "stage"]) <= {"in_progress", "done", "rejected"}
    True
    """
    rng = stream(seed, "budget_projects")
    end = day(today)
    blocks = []
    for year in range(FIRST_YEAR, today.year):
        opens, closes = day(f"{year}-01-15"), min(day(f"{year}-03-31"), end)
        if closes < opens:
            continue
        weights = _stage_weights(year, today)
        for district, population in city.population.items():
            n = project_count(population, int(rng.integers(-2, 3)))
            span = (closes - opens).astype(int) + 1
            proposed = np.sort(opens + rng.integers(0, span, n).astype("timedelta64[D]"))
            stage = choose(rng, list(weights), list(weights.values()), n)
            done_from = max(day(f"{year + 1}-05-01"), proposed.max() + np.timedelta64(1, "D"))
            done_to = min(day(f"{year + 1}-11-30"), end)
            done_span = max((done_to - done_from).astype(int), 0) + 1
            completed = np.where(
                stage == "done",
                done_from + rng.integers(0, done_span, n).astype("timedelta64[D]"),
                np.datetime64("NaT"),
            )
            points = snap_to_buildings(
                populated_points(city, n, rng, district),
                city,
                rng,
                max_distance=400.0,
                offset=(3.0, 15.0),
            )
            blocks.append(
                pd.DataFrame(
                    {
                        "year": year,
                        "district": district,
                        "stage": stage,
                        "proposed": proposed,
                        "completed": completed,
                        "geometry": points,
                    }
                )
            )
    frame = pd.concat(blocks, ignore_index=True)
    n = len(frame)
    names = list(CATEGORIES)
    category = choose(rng, names, [CATEGORIES[c][0] for c in names], n)
    budget = np.clip(np.exp(rng.normal(np.log(30e6), 0.75, n)), 5e6, 150e6)
    points = frame["geometry"].to_numpy(dtype=object)
    street = city.nearest_street(points)
    house = rng.integers(1, 200, n)
    title = [
        CATEGORIES[c][1].format(street=s, house=h)
        for c, s, h in zip(category, street, house, strict=True)
    ]
    data = {
        "source_id": ids("pb", n),
        "synthetic": np.ones(n, dtype=bool),
        "title": title,
        "category": category,
        "district": frame["district"].to_numpy(dtype=object),
        "year": frame["year"].to_numpy(),
        "stage": frame["stage"].to_numpy(dtype=object),
        "budget_kzt": np.round(budget, -5),
        "proposed_on": iso(frame["proposed"].to_numpy(dtype="datetime64[D]")),
        "completed_on": iso(frame["completed"].to_numpy(dtype="datetime64[D]")),
    }
    return gpd.GeoDataFrame(data, geometry=list(points), crs="EPSG:32643").to_crs(WGS84)
