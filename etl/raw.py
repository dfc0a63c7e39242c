"""A file's table as read, before any validation, and what every reader shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np

from twin.core.errors import SourceError

EXPECTED = "expected GeoJSON, GeoPackage, Shapefile, FlatGeobuf, CSV or OSM PBF"


@dataclass
class RawTable:
    """One sub-layer of a file as read, before any validation.

    ``frame`` holds every column of the file plus ``_row`` (1-based feature number in the file);
    its geometry is ``None`` where it could not be parsed, and its CRS is ``None`` when the file
    declares none. ``row_errors`` maps such rows (by ``_row``) to a reason starting "row N: ".
    """

    path: Path
    name: str
    frame: gpd.GeoDataFrame
    row_errors: dict[int, str] = field(default_factory=dict)
    #: The geometries' WKB as GDAL wrote them (per row; None where there is none) when the
    #: reader has them in the form the stores write (little-endian, 2D types): the geometries
    #: that conform leaves as they are need not be encoded again.
    wkb: np.ndarray | None = None


def decode_utf8(p: Path, data: bytes, *, csv: bool = False) -> str:
    """Return ``data`` strictly decoded as UTF-8 (a BOM is allowed); raise SourceError if not.

    The message gives the byte offset and line (and for a CSV the data row, the header being
    line 1), so the user can find the bad byte; nothing is silently replaced.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        where = f"line {line}, row {line - 1}" if csv else f"line {line}"
        raise SourceError(
            f"{p}: not UTF-8 text: byte 0x{data[e.start]:02x} at offset {e.start} ({where}) "
            "cannot be decoded as UTF-8; re-save the file as UTF-8 "
            "(it may be in a legacy encoding such as Windows-1251)"
        ) from None
