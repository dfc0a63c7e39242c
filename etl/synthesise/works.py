"""Road repairs, courtyard landscaping and construction works by district."""

from __future__ import annotations

import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.ops import substring

from etl.synthesise.city import City
from etl.synthesise.frames import METRIC_CRS, choose, conform, day, ids, iso, stream
from etl.synthesise.sampling import populated_points
from layers.city import CARRIAGEWAYS, MAIN_ROADS

FIRST_YEAR = 2023
RESIDENTS_PER_WORK_YEAR = 5_000
KIND_SHARES = {"repair": 0.55, "landscaping": 0.35, "construction": 0.10}
CANCELLED_SHARE = 0.03
# Invented contractor names; any likeness to a registered company is accidental.
CONTRACTORS = (
    "ТОО «Жол Курылыс Алатау»",
    "ТОО «Асфальт-Сервис Плюс»",
    "ТОО «Тау Самал Строй»",
    "ТОО «Бастау Инжиниринг»",
    "ТОО «Жасыл Аула»",
    "ТОО «Кок Жайлау Девелопмент»",
    "ТОО «Мега Жол Сервис»",
    "ТОО «Дорстрой-Жетысу»",
    "ТОО «Нур Курылыс Групп»",
    "ТОО «Алматы Ландшафт»",
    "ТОО «Арман Строй Инвест»",
    "ТОО «Тенгри Билд»",
)
_BUILD = (
    "Строительство школы на {cap} мест",
    "Строительство детского сада на {kg} мест",
    "Строительство поликлиники",
    "Строительство физкультурно-оздоровительного комплекса",
    "Реконструкция здания",
)
# Duration in days of each kind: (min, max).
_DURATION = {"repair": (20, 120), "landscaping": (45, 200), "construction": (240, 900)}


def _district_roads(city: City, district: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the district's carriageway pieces (LineStrings ≥ 100 m), their weights and
    their street labels (None where unnamed). Main roads weigh 3, service roads 0.3."""
    roads = city.roads[city.roads["highway"].isin(CARRIAGEWAYS)]
    polygon = city.districts.geometry.values[city.district_names.index(district)]
    geoms = np.asarray(roads.geometry.values, dtype=object)
    hit = shapely.STRtree(geoms).query(polygon, predicate="intersects")
    hit.sort()
    if len(hit) == 0:
        return np.empty(0, dtype=object), np.empty(0), np.empty(0, dtype=object)
    parts, owner = shapely.get_parts(shapely.intersection(geoms[hit], polygon), return_index=True)
    keep = (shapely.get_type_id(parts) == 1) & (shapely.length(parts) >= 100.0)
    parts, source = parts[keep], hit[owner[keep]]
    highway = roads["highway"].to_numpy(dtype=object)[source]
    factor = np.where(np.isin(highway, MAIN_ROADS), 3.0, np.where(highway == "service", 0.3, 1.0))
    label_of = dict(zip(city.streets["name"], city.streets["label"], strict=False))
    labels = np.array(
        [label_of.get(n) for n in roads["name"].to_numpy(dtype=object)[source]], dtype=object
    )
    return parts, shapely.length(parts) * factor, labels


def _repairs(
    city: City, district: str, k: int, rng: np.random.Generator
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Return ``k`` repair polygons (a 100-600 m stretch buffered 6-12 m), their titles and
    areas; fewer if the district has no roads long enough."""
    parts, weight, labels = _district_roads(city, district)
    if len(parts) == 0 or k == 0:
        return np.empty(0, dtype=object), [], np.empty(0)
    pick = rng.choice(len(parts), size=k, p=weight / weight.sum())
    length = shapely.length(parts[pick])
    stretch = np.minimum(rng.uniform(100.0, 600.0, k), length)
    start = rng.uniform(0.0, 1.0, k) * (length - stretch)
    # substring has no vectorised form; a few hundred calls per run are cheap.
    lines = np.array(
        [substring(parts[i], s, s + d) for i, s, d in zip(pick, start, stretch, strict=True)],
        dtype=object,
    )
    polygons = shapely.buffer(lines, rng.uniform(6.0, 12.0, k), cap_style="flat")
    near = city.nearest_street(shapely.line_interpolate_point(lines, 0.5, normalized=True))
    kind = choose(
        rng,
        ("Средний ремонт", "Капитальный ремонт", "Ремонт дорожного покрытия"),
        (0.5, 0.2, 0.3),
        k,
    )
    titles = [
        f"{t} {own}" if own else f"Ремонт внутриквартального проезда у {street}"
        for t, own, street in zip(kind, labels[pick], near, strict=True)
    ]
    return polygons, titles, shapely.area(polygons)


def _clusters(
    city: City, district: str, k: int, reach: float, margin: float, rng: np.random.Generator
) -> np.ndarray:
    """Return ``k`` polygons around clusters of the district's buildings: the convex hull
    of the buildings within ``reach`` metres of a drawn building, grown by ``margin``.
    Without buildings, a populated spot grown to a yard-sized octagon stands in."""
    mine = np.flatnonzero(city.building_district == district)
    if len(mine) == 0:
        spots = populated_points(city, k, rng, district)
        return shapely.buffer(spots, rng.uniform(30.0, 70.0, k), quad_segs=2)
    seeds = mine[rng.choice(len(mine), size=k)]
    buildings = np.asarray(city.buildings.geometry.values, dtype=object)
    src, hit = city.building_tree.query(buildings[seeds], predicate="dwithin", distance=reach)
    order = np.lexsort((hit, src))
    hulls = shapely.convex_hull(
        shapely.geometrycollections(buildings[hit[order]], indices=src[order])
    )
    return shapely.buffer(hulls, margin, quad_segs=4)


def _status(
    start: np.ndarray, end: np.ndarray, today: datetime.date, rng: np.random.Generator
) -> np.ndarray:
    """Return the status implied by the dates, with ``CANCELLED_SHARE`` cancelled."""
    now = day(today)
    status = np.where(start > now, "planned", np.where(end < now, "done", "in_progress"))
    status = status.astype(object)
    status[rng.random(len(start)) < CANCELLED_SHARE] = "cancelled"
    return status


def works(
    city: City, *, seed: int = 2026, today: datetime.date = datetime.date(2026, 11, 27)
) -> gpd.GeoDataFrame:
    """Return synthetic repair, landscaping and construction works, 2023 to a year ahead.

    Assumptions: a district runs about one work per 5,000 residents a year (some 470 a
    year city-wide), started between 1 January 2023 and ``today`` + 1 year; road repairs
    and landscaping start in the April-September season. Repairs (55 %) cover a 100-600 m
    stretch of a real road in the district buffered by 6-12 m each side and cost
    12-30 thousand KZT/m²; landscaping (35 %) outlines a courtyard around a cluster of real
    buildings (15-150 M KZT); construction (10 %) surrounds a building site (1.5-9 bn KZT).
    Durations: repair 20-120 days, landscaping 45-200, construction 240-900. Status follows
    the dates seen on ``today`` (planned if not started, done if ended, else in progress),
    except 3 % cancelled. Titles name the real street (the road itself for repairs).

    Parameters
    ----------
    city : City
        The prepared real layers.
    seed : int
        Seed of the ``"works"`` random stream.
    today : datetime.date
        The day statuses are seen on.

    Returns
    -------
    GeoDataFrame
        The ``works`` layer frame of the generated works only, EPSG:4326, MultiPolygons,
        ``source_id`` "syn-work-000001"….

    Examples
    --------
    >>> from etl.synthesise.toy import toy_layers
    >>> w = works(City.from_layers(toy_layers()))
    >>> set(w.loc[w["start_date"] > "2026-11-27", "status"]) <= {"planned", "cancelled"}
    True
    """
    rng = stream(seed, "works")
    first, last = day(f"{FIRST_YEAR}-01-01"), day(today) + np.timedelta64(365, "D")
    years = (last - first).astype(int) / 365.25
    blocks = []
    for district, population in city.population.items():
        n = int(rng.poisson(population / RESIDENTS_PER_WORK_YEAR * years))
        counts = rng.multinomial(n, list(KIND_SHARES.values()))
        repair, titles, area = _repairs(city, district, int(counts[0]), rng)
        # A district without usable roads gets courtyards instead of road repairs.
        n_yard = int(counts[1]) + int(counts[0]) - len(repair)
        yard = _clusters(city, district, n_yard, 40.0, 8.0, rng)
        build = _clusters(city, district, int(counts[2]), 10.0, 25.0, rng)
        near = city.nearest_street(shapely.point_on_surface(np.concatenate([yard, build])))
        house = rng.integers(1, 200, len(near))
        yard_titles = [
            f"Благоустройство двора по {s}, {h}"
            for s, h in zip(near[: len(yard)], house[: len(yard)], strict=True)
        ]
        cap = rng.choice([600, 900, 1200, 1500, 2000], size=len(build))
        kg = rng.choice([140, 200, 280, 320], size=len(build))
        what = rng.choice(len(_BUILD), size=len(build))
        build_titles = [
            f"{_BUILD[w].format(cap=c, kg=g)} по {s}"
            for w, c, g, s in zip(what, cap, kg, near[len(yard) :], strict=True)
        ]
        kinds = (
            ["repair"] * len(repair) + ["landscaping"] * len(yard) + ["construction"] * len(build)
        )
        budget = np.concatenate(
            [
                area * rng.uniform(12e3, 30e3, len(repair)),
                rng.uniform(15e6, 150e6, len(yard)),
                rng.uniform(1.5e9, 9e9, len(build)),
            ]
        )
        blocks.append(
            pd.DataFrame(
                {
                    "district": district,
                    "kind": kinds,
                    "title": titles + yard_titles + build_titles,
                    "budget": budget,
                    "geometry": np.concatenate([repair, yard, build]),
                }
            )
        )
    frame = pd.concat(blocks, ignore_index=True)
    n = len(frame)
    kind = frame["kind"].to_numpy(dtype=object)
    span = (last - first).astype(int)
    start = first + rng.integers(0, span + 1, n).astype("timedelta64[D]")
    seasonal = (kind != "construction") & (rng.random(n) < 0.9)
    season_start = start.astype("datetime64[Y]").astype("datetime64[D]") + np.timedelta64(90, "D")
    in_season = season_start + rng.integers(0, 183, n).astype("timedelta64[D]")
    start = np.where(seasonal & (in_season <= last), in_season, start)
    low = np.array([_DURATION[k][0] for k in kind])
    high = np.array([_DURATION[k][1] for k in kind])
    end = start + rng.integers(low, high + 1).astype("timedelta64[D]")
    data = {
        "source_id": ids("syn-work", n),
        "synthetic": np.ones(n, dtype=bool),
        "title": frame["title"].to_numpy(dtype=object),
        "kind": kind,
        "status": _status(start, end, today, rng),
        "start_date": iso(start),
        "end_date": iso(end),
        "district": frame["district"].to_numpy(dtype=object),
        "budget_kzt": np.round(frame["budget"].to_numpy(dtype=float), -3),
        "contractor": choose(rng, CONTRACTORS, np.ones(len(CONTRACTORS)), n),
    }
    return conform(data, "works", geometry=frame["geometry"].to_numpy(dtype=object), crs=METRIC_CRS)
