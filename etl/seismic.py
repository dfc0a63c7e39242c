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
