"""Readers of the seismic sources of Amey et al. 2021: the Vs30 site model, the GEM residential
exposure and the scenario earthquakes' city totals.

Why here: the Vs30 grid reaches 100 km beyond the city (it is the OpenQuake input), so only the
points in the city's box are kept; the scenario totals are published as "mean pm sd" text, one
column per scenario and one unlabelled row per measure — the rows are fatalities, loss (USD) and
completely damaged buildings, checked against the damage-by-taxonomy table (its complete-damage
column sums to within 3 % of the third row for every scenario).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from twin.core.errors import SourceError

CITY_BOX = (76.73, 43.02, 77.18, 43.42)
#: NEHRP site classes: lower bound of Vs30 (m/s) for each class, stiffest first.
NEHRP = ((1500.0, "A"), (760.0, "B"), (360.0, "C"), (180.0, "D"), (0.0, "E"))
MEASURES = ("fatalities", "loss_usd", "collapsed_buildings")
SCENARIO_TITLES = {
    "verny_1887": ("Верненское 1887", "Верный 1887", "Verny 1887"),
    "chilik_1889": ("Чиликское 1889", "Шелек 1889", "Chilik 1889"),
    "chon_kemin_1911": ("Кеминское 1911", "Кемин 1911", "Chon-Kemin 1911"),
    "city_splay": ("Разлом под городом", "Қала астындағы жарық", "City splay fault"),
    "northern_splay": ("Северный разлом", "Солтүстік жарық", "Northern splay fault"),
    "talgar": ("Талгарский разлом", "Талғар жарығы", "Talgar fault"),
    "deep_EQ_kazakhplatform": (
        "Глубокое, Казахская платформа",
        "Терең, Қазақ платформасы",
        "Deep, Kazakh platform",
    ),
}


def site_class(vs30: np.ndarray) -> np.ndarray:
    """Return the NEHRP site class of each Vs30 (m/s).

    Examples
    --------
    >>> site_class(np.array([900.0, 760.0, 400.0, 200.0, 150.0])).tolist()
    ['B', 'B', 'C', 'D', 'E']
    """
    out = np.full(len(vs30), "E", dtype=object)
    for lower, name in reversed(NEHRP):
        out[vs30 >= lower] = name
    return out


def read_vs30(path: Path, box: tuple[float, float, float, float] = CITY_BOX) -> pd.DataFrame:
    """Return the Vs30 points in ``box``: lon, lat, vs30, z1pt0, site_class."""
    frame = pd.read_csv(path)
    missing = {"lon", "lat", "vs30", "z1pt0"} - set(frame.columns)
    if missing:
        raise SourceError(f"{path.name}: missing column(s) {', '.join(sorted(missing))}")
    w, s, e, n = box
    frame = frame[frame["lon"].between(w, e) & frame["lat"].between(s, n)].reset_index(drop=True)
    frame["site_class"] = site_class(frame["vs30"].to_numpy(dtype=float))
    return frame


@dataclass(frozen=True)
class Scenario:
    """A scenario earthquake's city totals: mean and standard deviation of each measure."""

    id: str
    mean: dict[str, float]
    sd: dict[str, float]


def read_scenarios(path: Path) -> list[Scenario]:
    """Return the scenarios of ``scenario_damage_loss_totals.csv``."""
    frame = pd.read_csv(path, dtype=str)
    if len(frame) != len(MEASURES):
        raise SourceError(f"{path.name}: expected {len(MEASURES)} rows, found {len(frame)}")
    out = []
    for column in frame.columns:
        mean: dict[str, float] = {}
        sd: dict[str, float] = {}
        for measure, cell in zip(MEASURES, frame[column], strict=True):
            try:
                m, d = (float(x) for x in str(cell).split(" pm "))
            except ValueError:
                raise SourceError(f"{path.name}: {column}: {cell!r} is not 'mean pm sd'") from None
            mean[measure], sd[measure] = m, d
        out.append(Scenario(column, mean, sd))
    return out


#: The study's column prefix of each scenario in its per-district results (checked: the districts
#: sum to the city totals of ``scenario_damage_loss_totals.csv`` for all three measures, e.g.
#: Verny 8,857 collapsed buildings, 2,262 fatalities, USD 3.04 bn). CK1, CKC and NRF are variants
#: the totals file does not list, so they are not read.
SCENARIO_PREFIXES = {
    "verny_1887": "V",
    "chilik_1889": "C",
    "chon_kemin_1911": "CK2",
    "city_splay": "SP",
    "northern_splay": "N45",
    "talgar": "T",
    "deep_EQ_kazakhplatform": "KP",
}
#: shapefile-truncated names of each measure's mean (the sum over the district's exposure points)
_MEASURE_COLUMNS = {
    "collapsed_buildings": ("SUM_{p}COMPL", "SUM_{p}COMP", "SUM_{p}COM"),
    "fatalities": ("SUM_{p}OCCUP", "SUM_{p}OCCU", "SUM_{p}OCC"),
    "loss_usd": ("SUM_{p}STRUC", "SUM_{p}STRU", "SUM_{p}STR"),
}


def read_district_results(directory: Path) -> pd.DataFrame:
    """Return the study's scenario results per district: one row per (OSM relation id,
    scenario) with ``collapsed_buildings``, ``fatalities`` and ``loss_usd`` (means).

    One file per district (Medeu in a north and a south file, summed here). The authors summed
    their OpenQuake results over the exposure points inside 2019 OSM district polygons.
    """
    files = sorted(directory.glob("*_district_openquakeresults.csv"))
    if not files:
        raise SourceError(f"{directory}: no *_district_openquakeresults.csv")
    rows = []
    for file in files:
        frame = pd.read_csv(file)
        if len(frame) != 1 or "id" not in frame.columns:
            raise SourceError(f"{file.name}: expected one district row with an id column")
        row = frame.iloc[0]
        for scenario, prefix in SCENARIO_PREFIXES.items():
            out: dict[str, object] = {"osm_id": int(row["id"]), "scenario": scenario}
            for measure, patterns in _MEASURE_COLUMNS.items():
                # the longest name that fits 10 characters is the one the file has
                column = next(
                    (c for c in (p.format(p=prefix) for p in patterns) if len(c) <= 10), None
                )
                if column is None or column not in frame.columns:
                    raise SourceError(f"{file.name}: no column for {measure} of {scenario}")
                value = float(row[column])
                if not np.isfinite(value) or value < 0:
                    raise SourceError(f"{file.name}: {column} = {row[column]!r} is not a count")
                out[measure] = value
            rows.append(out)
    frame = pd.DataFrame(rows)
    return frame.groupby(["osm_id", "scenario"], as_index=False, sort=True).sum()
