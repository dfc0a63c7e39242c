"""A business's candidate sites from a CSV or GeoJSON file.

The file comes from outside, so it is read as hostile: at most :data:`MAX_BYTES` and
:data:`MAX_SITES` rows (a plan may allow fewer), every row either a point (``lon``/``lat``
columns, or a GeoJSON Point) or an address to resolve, and every row that is neither named in
one error rather than skipped. Coordinates are WGS 84 degrees.

>>> c = read_candidates(b"name,lon,lat\\nShop A,76.95,43.25\\nShop B,,\\n", "sites.csv")
Traceback (most recent call last):
...
twin.core.errors.BadInput: row 2: no coordinates and no address
>>> c = read_candidates(b"name,address\\nA,Abay 10\\n", "sites.csv")
>>> c.frame[["row", "label", "address"]].values.tolist()
[[1, 'A', 'Abay 10']]
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass

import pandas as pd

from twin.core.errors import BadInput, TooLarge

#: The largest file read (bytes) and the most rows any plan may send.
MAX_BYTES = 2_000_000
MAX_SITES = 1000
MAX_TEXT = 200

LON = ("lon", "lng", "long", "longitude", "x")
LAT = ("lat", "latitude", "y")
LABEL = ("name", "label", "title", "id")
ADDRESS = ("address", "адрес", "мекенжай")


class TooManySites(TooLarge):
    """More candidate rows than allowed (answered 413)."""


@dataclass(frozen=True)
class Candidates:
    """Rows with ``row`` (1-based, as a person counts data rows), ``label``, ``lon``, ``lat``
    (NaN where only an address is given) and ``address``."""

    frame: pd.DataFrame

    def __len__(self) -> int:
        return len(self.frame)


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    return text[:MAX_TEXT]


def _number(value: object, what: str, row: int) -> float | None:
    text = _text(value)
    if text is None:
        return None
    try:
        x = float(text.replace(",", ".")) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadInput(f"row {row}: {what} {text!r} is not a number") from None
    if not math.isfinite(x):
        raise BadInput(f"row {row}: {what} {text!r} is not a finite number")
    return x


def _pick(names: list[str], wanted: tuple[str, ...]) -> str | None:
    low = {n.strip().casefold(): n for n in names}
    return next((low[w] for w in wanted if w in low), None)


def _rows_of_csv(data: bytes) -> list[dict[str, object]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput("the CSV file is not UTF-8 text") from None
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise BadInput("the CSV file is empty") from None
    except csv.Error as exc:
        raise BadInput(f"the CSV file cannot be read: {exc}") from None
    lon, lat = _pick(header, LON), _pick(header, LAT)
    label, address = _pick(header, LABEL), _pick(header, ADDRESS)
    if address is None and (lon is None or lat is None):
        raise BadInput(
            "the CSV file needs lon and lat columns or an address column; its header is "
            + ", ".join(repr(h) for h in header[:20])
        )
    rows: list[dict[str, object]] = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= MAX_SITES:
                raise TooManySites(f"the file has more than {MAX_SITES} rows")
            cells = dict(zip(header, values, strict=False))
            rows.append(
                {
                    "label": cells.get(label) if label else None,
                    "lon": cells.get(lon) if lon else None,
                    "lat": cells.get(lat) if lat else None,
                    "address": cells.get(address) if address else None,
                }
            )
    except csv.Error as exc:
        raise BadInput(f"the CSV file cannot be read: {exc}") from None
    return rows


def _rows_of_geojson(data: bytes) -> list[dict[str, object]]:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInput(f"the GeoJSON file is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise BadInput("the GeoJSON file must be a FeatureCollection")
    features = doc.get("features")
    if not isinstance(features, list):
        raise BadInput("the FeatureCollection has no features list")
    if len(features) > MAX_SITES:
        raise TooManySites(f"the file has {len(features)} features, more than {MAX_SITES}")
    rows: list[dict[str, object]] = []
    for i, feat in enumerate(features, start=1):
        if not isinstance(feat, dict):
            raise BadInput(f"feature {i} is not an object")
        props = feat.get("properties") or {}
        if not isinstance(props, dict):
            raise BadInput(f"feature {i}: properties must be an object")
        geom = feat.get("geometry")
        lon = lat = None
        if geom is not None:
            if not isinstance(geom, dict) or geom.get("type") != "Point":
                raise BadInput(f"feature {i}: only Point geometries are candidate sites")
            coords = geom.get("coordinates")
            if not isinstance(coords, list) or len(coords) < 2:
                raise BadInput(f"feature {i}: a Point needs [lon, lat]")
            lon, lat = coords[0], coords[1]
        names = list(props)
        label, address = _pick(names, LABEL), _pick(names, ADDRESS)
        rows.append(
            {
                "label": props.get(label) if label else None,
                "lon": lon,
                "lat": lat,
                "address": props.get(address) if address else None,
            }
        )
    return rows


def read_candidates(data: bytes, filename: str = "", media_type: str = "") -> Candidates:
    """Return the candidate sites of a CSV or GeoJSON file (by ``media_type`` or the name's
    ending; JSON if the text starts with ``{``). Raise :class:`BadInput` naming the first bad
    row, :class:`TooManySites` past :data:`MAX_SITES` rows."""
    if len(data) > MAX_BYTES:
        raise TooManySites(f"the file is larger than {MAX_BYTES:,} bytes")
    name, media = filename.lower(), media_type.lower()
    is_json = (
        "json" in media
        or name.endswith((".geojson", ".json"))
        or (not name.endswith(".csv") and "csv" not in media and data.lstrip()[:1] == b"{")
    )
    raw = _rows_of_geojson(data) if is_json else _rows_of_csv(data)
    if not raw:
        raise BadInput("the file has no candidate sites")
    out = []
    for row, r in enumerate(raw, start=1):
        lon = _number(r["lon"], "lon", row)
        lat = _number(r["lat"], "lat", row)
        address = _text(r["address"])
        if (lon is None) != (lat is None):
            raise BadInput(f"row {row}: give both lon and lat, or neither")
        if lon is None and address is None:
            raise BadInput(f"row {row}: no coordinates and no address")
        if lon is not None and lat is not None and not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise BadInput(f"row {row}: ({lon}, {lat}) are not longitude and latitude degrees")
        label = _text(r["label"]) or f"#{row}"
        out.append(
            {
                "row": row,
                "label": label,
                "lon": math.nan if lon is None else lon,
                "lat": math.nan if lat is None else lat,
                "address": address,
            }
        )
    return Candidates(pd.DataFrame(out))
