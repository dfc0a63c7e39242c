"""What every bundled-source preparer shares: the prepared-source record and small helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from layers.common import DISTRICT_NAMES
from twin.store import Rejection


@dataclass
class Prepared:
    """A bundled file's rows for one layer, with columns already named as the layer declares.

    ``source`` is the upsert key's first half: the file's path under ``data/`` plus, when one
    file feeds several layers, a ``#part`` suffix.
    """

    layer: str
    source: str
    path: Path
    frame: gpd.GeoDataFrame
    id_column: str | None = None
    #: rows the preparer itself refused (a reader that aggregates, such as the air readings')
    rejected: list[Rejection] = field(default_factory=list)
    #: the source (file path under ``data/``) this file replaced; see ``Batch.renamed_from``
    renamed_from: str | None = None


_HSTORE = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')


def hstore(values: pd.Series) -> pd.DataFrame:
    """Return GDAL's ``other_tags`` (hstore text) as a frame with a column per key."""
    records = [dict(_HSTORE.findall(v)) if isinstance(v, str) else {} for v in values]
    return pd.DataFrame.from_records(records, index=values.index)


# District names as the sources spell them -> the canonical English name.
_DISTRICT_ALIASES = {
    "алатауский": "Alatau",
    "алатау": "Alatau",
    "alatau": "Alatau",
    "алмалинский": "Almaly",
    "алмалы": "Almaly",
    "almaly": "Almaly",
    "ауэзовский": "Auezov",
    "әуезов": "Auezov",
    "auezov": "Auezov",
    "бостандыкский": "Bostandyk",
    "бостандық": "Bostandyk",
    "bostandyk": "Bostandyk",
    "bostandyq": "Bostandyk",
    "медеуский": "Medeu",
    "медеу": "Medeu",
    "medeu": "Medeu",
    "наурызбайский": "Nauryzbay",
    "наурызбай": "Nauryzbay",
    "nauryzbay": "Nauryzbay",
    "турксибский": "Turksib",
    "түрксіб": "Turksib",
    "turksib": "Turksib",
    "жетысуский": "Zhetysu",
    "жетісу": "Zhetysu",
    "zhetysu": "Zhetysu",
    "jetysu": "Zhetysu",
}
assert set(_DISTRICT_ALIASES.values()) == set(DISTRICT_NAMES)


def district_name(value: object) -> str | None:
    """Return the canonical district name for a Russian, Kazakh or English spelling."""
    if not isinstance(value, str) or not value.strip():
        return None
    first = value.strip().lower().split()[0]
    return _DISTRICT_ALIASES.get(first)


def join_address(street: pd.Series, number: pd.Series) -> pd.Series:
    """Return "street, number" (or just the street) where a street is known."""
    street = street.astype(object).where(street.notna(), None)
    number = number.astype(object).where(number.notna(), None)
    return pd.Series(
        [
            None if s is None else (f"{s}, {n}" if n is not None else str(s))
            for s, n in zip(street, number, strict=True)
        ],
        index=street.index,
        dtype=object,
    )


def first_of(frame: pd.DataFrame, *columns: str) -> pd.Series:
    """Return, per row, the first non-null value among ``columns`` that exist."""
    out = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    for col in reversed(columns):
        if col in frame:
            out = frame[col].astype(object).where(frame[col].notna(), out)
    return out
