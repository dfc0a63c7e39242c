"""Schools and kindergartens that complete the sparse OSM ones to a plausible count."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from etl.synthesise.accessibility import fill_accessibility
from etl.synthesise.city import City
from etl.synthesise.frames import METRIC_CRS, choose, conform, stream
from etl.synthesise.sampling import onto_buildings, outside_parks, populated_points

RESIDENTS_PER_SCHOOL = 7_500
RESIDENTS_PER_KINDERGARTEN = 2_500
# Districts built up since 2014 where the akimat reports a shortage of places.
CROWDED = ("Alatau", "Nauryzbay", "Turksib")

# kind -> (name pattern, capacity median/min/max/rounding, minimum spacing in metres)
_KINDS = {
    "school": ("Школа № {}", (1100.0, 600, 2400, 50), 300.0),
    "kindergarten": ("Детский сад № {}", (180.0, 90, 320, 10), 150.0),
}


def school_targets(
    population: int, real_schools: int = 0, real_kindergartens: int = 0
) -> tuple[int, int]:
    """Return how many schools and kindergartens to add to a district.

    One school per 7,500 residents and one kindergarten per 2,500, rounded, minus the
    real ones already there (never negative).

    Examples
    --------
    >>> school_targets(75_000, real_schools=2)
    (8, 30)
    """
    schools = round(population / RESIDENTS_PER_SCHOOL)
    kindergartens = round(population / RESIDENTS_PER_KINDERGARTEN)
    return max(schools - real_schools, 0), max(kindergartens - real_kindergartens, 0)


def real_counts(city: City) -> pd.DataFrame:
    """Return the real schools and kindergartens per district (columns ``school``,
    ``kindergarten``), counted by location; a missing ``kind`` counts as a school."""
    real = city.real.get("schools")
    counts = pd.DataFrame(0, index=city.district_names, columns=list(_KINDS))
    if real is None or len(real) == 0:
        return counts
    points = shapely.point_on_surface(
        np.asarray(real.to_crs(METRIC_CRS).geometry.values, dtype=object)
    )
    kind = (
        real["kind"].where(real["kind"].isin(list(_KINDS)), "school")
        if "kind" in real
        else pd.Series("school", index=real.index)
    )
    table = pd.crosstab(city.district_of(points), kind.to_numpy(dtype=object))
    return counts.add(
        table.reindex(index=counts.index, columns=counts.columns, fill_value=0), fill_value=0
    ).astype(int)


def _used_numbers(city: City) -> set[int]:
    """Return the numbers already in real school names ("Средняя школа №165 (казахская)")."""
    real = city.real.get("schools")
    if real is None or "name" not in real:
        return set()
    found = real["name"].dropna().astype(str).str.findall(r"№\s*(\d+)")
    return {int(x) for xs in found for x in xs}


def _place(
    city: City, district: str, k: int, spacing: float, taken: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Return ``k`` metric points for new facilities in ``district``.

    Candidates are population-weighted points outside parks, moved onto a building within
    150 m where there is one, and kept in the district. They are accepted greedily at least
    ``spacing`` metres from each other and from ``taken`` (existing facilities of the same
    kind); if that leaves too few, the closest-packed remainder fills up the count.
    """
    if k == 0:
        return np.empty(0, dtype=object)
    candidates = populated_points(city, 6 * k, rng, district)
    candidates = candidates[outside_parks(candidates, city)]
    candidates, _ = onto_buildings(candidates, city, max_distance=150.0)
    candidates = candidates[city.district_of(candidates) == district]
    xy = shapely.get_coordinates(candidates)
    chosen_xy = list(taken)
    chosen: list[int] = []
    for i, p in enumerate(xy):
        if len(chosen) == k:
            break
        if chosen_xy and np.min(np.hypot(*(np.asarray(chosen_xy) - p).T)) < spacing:
            continue
        chosen.append(i)
        chosen_xy.append(p)
    picked = set(chosen)
    rest = [i for i in range(len(xy)) if i not in picked]
    chosen += rest[: k - len(chosen)]
    points = candidates[chosen]
    if len(points) < k:  # only for a district with almost no populated space
        points = np.concatenate([points, populated_points(city, k - len(points), rng, district)])
    return points


def schools(city: City, *, seed: int = 2026) -> gpd.GeoDataFrame:
    """Return the generated schools and kindergartens (the real ones are not repeated).

    Assumptions: Almaty needs about one school per 7,500 residents and one kindergarten per
    2,500 (:func:`school_targets`, some 310 schools and 940 kindergartens for 2.35 M); each
    district gets its target minus the real OSM ones inside it. New facilities stand on or
    near buildings in populated cells, not in parks, spaced out (300 m for schools, 150 m
    for kindergartens). Capacity: schools 600-2,400 places (median 1,100), kindergartens
    90-320 (median 180). Load (enrolled / capacity) is 60-140 %, around 100 % and higher
    in the fast-grown districts (``CROWDED``), so a share of them is overloaded. Language of
    instruction: kazakh 55 %, mixed 30 %, russian 15 %. Names carry unique numbers that no
    real school name uses. Accessibility is generated (``accessibility_generated`` True);
    ``address`` is left null rather than invented.

    Parameters
    ----------
    city : City
        The prepared real layers.
    seed : int
        Seed of the ``"schools"`` random stream.

    Returns
    -------
    GeoDataFrame
        The ``schools`` layer frame of the additions only, EPSG:4326, ``source_id``
        "syn-school-00001"….

    Examples
    --------
    >>> from etl.synthesise.toy import toy_layers
    >>> new = schools(City.from_layers(toy_layers()))  # Almaly has 2 real schools
    >>> new.groupby(["district", "kind"]).size().tolist()  # kindergartens, then schools
    [30, 8, 12, 4]
    """
    rng = stream(seed, "schools")
    counts = real_counts(city)
    real = city.real.get("schools")
    real_xy = {kind: np.empty((0, 2)) for kind in _KINDS}
    if real is not None and len(real):
        pts = shapely.point_on_surface(
            np.asarray(real.to_crs(METRIC_CRS).geometry.values, dtype=object)
        )
        kind_of = real["kind"].to_numpy(dtype=object) if "kind" in real else None
        for kind_name in _KINDS:
            mask = kind_of == kind_name if kind_of is not None else np.ones(len(pts), dtype=bool)
            real_xy[kind_name] = shapely.get_coordinates(pts[mask])

    blocks = []
    # real_counts is indexed by city.district_names, the order city.population iterates in.
    for (district, population), (n_school, n_kg) in zip(
        city.population.items(), counts.to_numpy(dtype=np.int64), strict=True
    ):
        need = school_targets(population, int(n_school), int(n_kg))
        for kind_name, k in zip(_KINDS, need, strict=True):
            points = _place(city, district, k, _KINDS[kind_name][2], real_xy[kind_name], rng)
            blocks.append(
                pd.DataFrame({"district": district, "kind": kind_name, "geometry": points})
            )
    frame = pd.concat(blocks, ignore_index=True)
    n = len(frame)
    kinds = frame["kind"].to_numpy(dtype=object)
    capacity = np.zeros(n)
    names = np.empty(n, dtype=object)
    used = _used_numbers(city)
    for kind_name, (pattern, (median, low, high, step), _) in _KINDS.items():
        mask = np.asarray(kinds == kind_name, dtype=bool)
        m = int(mask.sum())
        raw = np.exp(rng.normal(np.log(median), 0.35, m))
        capacity[mask] = np.round(np.clip(raw, low, high) / step) * step
        # The lowest free numbers, shuffled: real numbering is dense, not scattered to 2,000.
        free = np.array([i for i in range(1, m + len(used) + 1) if i not in used][:m])
        names[mask] = [pattern.format(i) for i in rng.permutation(free)]
    crowded = frame["district"].isin(CROWDED).to_numpy()
    load = np.clip(rng.normal(np.where(crowded, 1.12, 0.97), 0.16), 0.6, 1.4)
    data = pd.DataFrame(
        {
            "source_id": [f"syn-school-{i:05d}" for i in range(1, n + 1)],
            "synthetic": np.ones(n, dtype=bool),
            "name": names,
            "kind": kinds,
            "capacity": capacity.astype(np.int64),
            "enrolled": np.round(capacity * load).astype(np.int64),
            "language": choose(rng, ("kazakh", "mixed", "russian"), (0.55, 0.30, 0.15), n),
            "address": None,
            "district": frame["district"].to_numpy(dtype=object),
        }
    )
    out = conform(
        data, "schools", geometry=frame["geometry"].to_numpy(dtype=object), crs=METRIC_CRS
    )
    return fill_accessibility(out, "schools", seed=seed)
