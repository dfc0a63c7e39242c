"""The bundled Almaty data set: which file feeds which layer, and how its columns map.

Each preparer reads one real file from ``data/almaty`` and renames its columns to the layer's
declared properties; typing, reprojection and validation then happen in :mod:`etl.transform`
exactly as for any user file.
"""

from __future__ import annotations

from pathlib import Path

from etl.bundled import city, osm
from etl.bundled.common import Prepared


def prepare_bundled(data_dir: Path) -> list[Prepared]:
    """Return every bundled source prepared for its layer, in a fixed order."""
    if not (data_dir / "almaty").is_dir():
        from twin.core.errors import SourceError

        raise SourceError(f"{data_dir / 'almaty'}: the bundled Almaty data is missing")
    out: list[Prepared] = []
    for prepare in (*city.PREPARERS, *osm.PREPARERS):
        out.extend(prepare(data_dir))
    return out


__all__ = ["Prepared", "prepare_bundled"]
