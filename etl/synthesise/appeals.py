"""Residents' appeals in the Open Almaty categories, over the three years before today, with
the service that answered each, its lifecycle dates, deadline and the resident's rating."""

from __future__ import annotations

import datetime

import geopandas as gpd
import numpy as np

from etl.synthesise.city import City
from etl.synthesise.frames import (
    choose_rows,
    conform,
    day,
    ids,
    iso,
    month_of,
    stream,
)
from etl.synthesise.sampling import populated_points, snap_to_buildings
from layers.appeal_services import CATEGORIES
from layers.sensing import APPEAL_CATEGORIES

# Yearly share of each category (Open Almaty publishes roads, utilities and yards on top).
_BASE = {
    "landscaping": 0.12,
    "roads_transport": 0.16,
    "utilities": 0.14,
    "lighting": 0.07,
    "greening": 0.06,
    "water": 0.07,
    "snow_removal": 0.10,
    "education": 0.04,
    "healthcare": 0.04,
    "waste": 0.10,
    "noise": 0.04,
    "other": 0.06,
}
_WINTER = (11, 12, 1, 2, 3)
_GROWING = (4, 5, 6, 7, 8, 9, 10)
WINDOW_DAYS = 3 * 365

# How fast each service answers, as a factor on the base handling time (snow and water are
# urgent; construction-heavy departments are slow), and how residents rate it on top of
# timeliness (points on the 1-5 scale). Assumptions for demo data, not measured figures.
_PACE = {
    "district_akimat": 1.2,
    "energy_utilities": 1.0,
    "mobility": 1.6,
    "almaty_su": 0.35,
    "city_lighting": 0.8,
    "tazalyk": 0.3,
    "ecology": 1.4,
    "education": 0.9,
    "public_health": 1.1,
    "police": 0.6,
}
_MOOD = {
    "district_akimat": 0.0,
    "energy_utilities": -0.3,
    "mobility": -0.5,
    "almaty_su": 0.2,
    "city_lighting": 0.4,
    "tazalyk": 0.1,
    "ecology": -0.2,
    "education": 0.3,
    "public_health": -0.1,
    "police": 0.2,
}
#: share of answered appeals whose author rates the answer
RATED_SHARE = 0.6
_LEGACY_STATUSES = ("received", "in_progress", "resolved", "rejected")

# Status shares by the appeal's age in days: [upper bound of age, received, in_progress,
# resolved, rejected]. Fresh appeals wait; a month on almost all are answered.
_STATUS_BY_AGE = np.array(
    [
        [3, 0.75, 0.25, 0.00, 0.00],
        [14, 0.25, 0.45, 0.25, 0.05],
        [60, 0.03, 0.17, 0.70, 0.10],
        [np.inf, 0.00, 0.02, 0.87, 0.11],
    ]
)


def category_weights() -> np.ndarray:
    """Return the 12 x n_categories matrix of category weights by calendar month.

    Snow removal is only asked for from November to March (most in December-February);
    greening and landscaping peak from April to October; heating complaints (utilities)
    rise at the start of the heating season in October-November.
    """
    months = np.arange(1, 13)
    w = np.tile(np.array([_BASE[c] for c in APPEAL_CATEGORIES]), (12, 1))
    col = {c: i for i, c in enumerate(APPEAL_CATEGORIES)}
    winter = np.isin(months, _WINTER)
    growing = np.isin(months, _GROWING)
    w[:, col["snow_removal"]] *= np.where(
        np.isin(months, (12, 1, 2)), 2.0, np.where(winter, 1.0, 0.0)
    )
    w[:, col["greening"]] *= np.where(growing, 1.6, 0.15)
    w[:, col["landscaping"]] *= np.where(growing, 1.4, 0.4)
    w[:, col["utilities"]] *= np.where(np.isin(months, (10, 11)), 1.4, 1.0)
    w[:, col["water"]] *= np.where(np.isin(months, (6, 7, 8)), 1.3, 1.0)
    return w


def appeals(
    city: City,
    *,
    seed: int = 2026,
    today: datetime.date = datetime.date(2026, 11, 27),
    n: int = 30_000,
) -> gpd.GeoDataFrame:
    """Return ``n`` synthetic residents' appeals created in the three years up to ``today``.

    Assumptions: about 10,000 appeals a year reach Open Almaty for a city of 2.35 M; the
    daily volume grows by a third over the window as the platform spreads and is a quarter
    higher in winter. An appeal is filed from a home: a point uniform inside a population
    cell drawn by calibrated population, moved next to a building wall when one is within
    50 m. Categories follow :func:`category_weights`. Status depends on age (see
    ``_STATUS_BY_AGE``); ``resolved_on`` is set exactly for resolved and rejected appeals,
    1 day or more after ``created_on`` (about a week at the median, scaled by the service's
    pace, ``_PACE``) and never after ``today``.

    The lifecycle (drawn from a second stream, ``"appeals-handling"``, so the columns above
    stay as they were): the category's service (:data:`layers.appeal_services.CATEGORIES`);
    ``deadline_on`` = filing + the category's deadline; a waiting appeal older than a day is
    ``assigned`` with probability 0.6; ``assigned_on`` 0-2 days after filing for every appeal
    past ``received``, ``started_on`` between assignment and answer for those worked on (not
    for most rejections); ``satisfaction`` 1-5 for 60 % of answered appeals: 4.3 on time,
    1.5 lower when late, 2 for a rejection, plus the service's mood (``_MOOD``) and noise.

    Parameters
    ----------
    city : City
        The prepared real layers.
    seed : int
        Seed of the ``"appeals"`` random stream.
    today : datetime.date
        The last day of the window.
    n : int
        Number of appeals.

    Returns
    -------
    GeoDataFrame
        The ``appeals`` layer frame, EPSG:4326, ordered by ``created_on``, ``source_id``
        "appeal-000001"….

    Examples
    --------
    >>> from etl.synthesise.toy import toy_layers
    >>> a = appeals(City.from_layers(toy_layers()), n=100)
    >>> len(a), a["created_on"].min() >= "2023-11-28"
    (100, True)
    """
    rng = stream(seed, "appeals")
    end = day(today)
    first = end - np.timedelta64(WINDOW_DAYS - 1, "D")
    days = first + np.arange(WINDOW_DAYS).astype("timedelta64[D]")
    t = np.arange(WINDOW_DAYS) / WINDOW_DAYS
    doy = (days - days.astype("datetime64[Y]")).astype(int)
    volume = (1.0 + 0.33 * t) * (1.0 + 0.125 * np.cos(2 * np.pi * (doy - 15) / 365.0))
    created = np.sort(days[rng.choice(WINDOW_DAYS, size=n, p=volume / volume.sum())])

    category = choose_rows(
        rng.random(n), APPEAL_CATEGORIES, category_weights()[month_of(created) - 1]
    )

    age = (end - created).astype(int)
    band = np.searchsorted(_STATUS_BY_AGE[:, 0], age, side="right")
    band = np.minimum(band, len(_STATUS_BY_AGE) - 1)
    status = choose_rows(rng.random(n), _LEGACY_STATUSES, _STATUS_BY_AGE[band, 1:])
    # An appeal made today cannot be answered yet.
    status[(age < 1) & np.isin(status, ("resolved", "rejected"))] = "in_progress"
    answered = np.isin(status, ("resolved", "rejected"))
    by_code = {c.code: c for c in CATEGORIES}
    service = np.array([by_code[c].service for c in category], dtype=object)
    pace = np.array([_PACE[s] for s in service])
    took = 1 + np.floor(rng.gamma(1.5, 6.0, size=n) * pace).astype(int)
    took = np.clip(took, 1, np.maximum(age, 1))
    resolved = np.where(answered, created + took.astype("timedelta64[D]"), np.datetime64("NaT"))

    points = snap_to_buildings(populated_points(city, n, rng), city, rng, max_distance=50.0)

    more = stream(seed, "appeals-handling")
    deadline = created + np.array([by_code[c].deadline_days for c in category]).astype(
        "timedelta64[D]"
    )
    waiting = (status == "received") & (age >= 2)
    status[waiting & (more.random(n) < 0.6)] = "assigned"
    assign_lag = np.floor(more.random(n) * 3).astype(int)
    latest = np.where(answered, took, age)
    assign_lag = np.minimum(assign_lag, np.maximum(latest - 1, 0))
    has_assigned = status != "received"
    assigned = np.where(
        has_assigned, created + assign_lag.astype("timedelta64[D]"), np.datetime64("NaT")
    )
    rejected = status == "rejected"
    worked = (
        (status == "in_progress") | (status == "resolved") | (rejected & (more.random(n) < 0.3))
    )
    span = np.maximum(latest - assign_lag, 0)
    start_lag = assign_lag + np.floor(more.random(n) * np.minimum(span, 4) * 0.5).astype(int)
    started = np.where(worked, created + start_lag.astype("timedelta64[D]"), np.datetime64("NaT"))
    late = answered & (resolved > deadline)
    mood = np.array([_MOOD[s] for s in service])
    score = np.where(rejected, 2.0, np.where(late, 2.8, 4.3)) + mood + more.normal(0, 0.8, n)
    rated = answered & (more.random(n) < RATED_SHARE)
    satisfaction = np.where(rated, np.clip(np.rint(score), 1, 5), np.nan)

    data = {
        "source_id": ids("appeal", n),
        "synthetic": np.ones(n, dtype=bool),
        "category": category,
        "status": status,
        "created_on": iso(created),
        "resolved_on": iso(resolved),
        "district": city.district_of(points),
        "service": service,
        "assigned_on": iso(assigned),
        "started_on": iso(started),
        "deadline_on": iso(deadline),
        "satisfaction": satisfaction,
    }
    return conform(data, "appeals", geometry=points, crs="EPSG:32643")
