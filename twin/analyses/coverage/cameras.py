"""The camera model: a table of cameras in metres, validated, and what-if edits on it.

A camera is a position (metric x, y in EPSG:32643), a mount height, a heading (degrees
clockwise from north), a horizontal field of view, a range (at most 1 km), a kind (``fixed``
or ``ptz``; a PTZ dome turns, so it covers a full 360° disc whatever its ``fov_deg``) and a
status (``working``, ``broken`` — covers nothing — or ``planned``, which covers only when
the analysis is asked to include planned cameras).

The mount height is carried and validated but the line of sight is 2-D (footprints hide what
lies behind them at any height), so it does not change the result.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from twin.core.errors import BadInput

METRIC_CRS = "EPSG:32643"
KINDS = ("fixed", "ptz")
STATUSES = ("working", "broken", "planned")
MAX_RANGE_M = 1000.0
MAX_MOUNT_M = 100.0
# What a stored camera with a missing value is taken to have.
DEFAULTS: dict[str, Any] = {
    "kind": "fixed",
    "status": "working",
    "mount_height_m": 6.0,
    "heading_deg": 0.0,
    "fov_deg": 90.0,
    "range_m": 100.0,
}
COLUMNS = ("id", "x", "y", "kind", "status", "mount_height_m", "heading_deg", "fov_deg", "range_m")

_to_metric = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
_to_lonlat = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)


def to_metric(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return metric (x, y) arrays for lon/lat values."""
    x, y = _to_metric.transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x, float), np.asarray(y, float)


def to_lonlat(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return lon/lat arrays for metric (x, y) values."""
    lon, lat = _to_lonlat.transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon, float), np.asarray(lat, float)


def check_params(
    *,
    fov_deg: float | None = None,
    range_m: float | None = None,
    heading_deg: float | None = None,
    mount_height_m: float | None = None,
    kind: str | None = None,
    status: str | None = None,
    what: str = "camera",
) -> None:
    """Raise :class:`BadInput` naming ``what`` and the first parameter out of range."""
    if fov_deg is not None and not (math.isfinite(fov_deg) and 0.0 < fov_deg <= 360.0):
        raise BadInput(f"{what}: fov_deg must be > 0 and <= 360, got {fov_deg}")
    if range_m is not None and not (math.isfinite(range_m) and 0.0 < range_m <= MAX_RANGE_M):
        raise BadInput(f"{what}: range_m must be > 0 and <= {MAX_RANGE_M:.0f}, got {range_m}")
    if heading_deg is not None and not math.isfinite(heading_deg):
        raise BadInput(f"{what}: heading_deg must be a finite number of degrees")
    if mount_height_m is not None and not (
        math.isfinite(mount_height_m) and 0.0 <= mount_height_m <= MAX_MOUNT_M
    ):
        raise BadInput(
            f"{what}: mount_height_m must be between 0 and {MAX_MOUNT_M:.0f}, got {mount_height_m}"
        )
    if kind is not None and kind not in KINDS:
        raise BadInput(f"{what}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if status is not None and status not in STATUSES:
        raise BadInput(f"{what}: status must be one of {', '.join(STATUSES)}, got {status!r}")


def camera_table(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return the camera table (:data:`COLUMNS`, metric x/y) for a ``cameras`` layer frame.

    Missing values take :data:`DEFAULTS`; ``id`` is the ``source_id``. Stored values out of
    range raise :class:`BadInput` naming the camera.
    """
    n = len(frame)
    if n == 0:
        return empty_table()
    points = frame.geometry.to_crs(METRIC_CRS).values
    out = pd.DataFrame(
        {
            "id": frame["source_id"].astype(str).to_numpy(),
            "x": shapely.get_x(np.asarray(points)),
            "y": shapely.get_y(np.asarray(points)),
        }
    )
    for col, default in DEFAULTS.items():
        values = frame[col] if col in frame else pd.Series([None] * n, index=frame.index)
        filled = values.where(values.notna(), default).to_numpy()
        out[col] = filled.astype(float) if isinstance(default, float) else filled.astype(object)
    validate(out)
    return out


def empty_table() -> pd.DataFrame:
    """Return a camera table with no rows."""
    return pd.DataFrame(
        {
            c: pd.Series([], dtype=object if c in ("id", "kind", "status") else float)
            for c in COLUMNS
        }
    )


def validate(table: pd.DataFrame) -> None:
    """Raise :class:`BadInput` for the first camera with a value out of range."""
    fov, reach = table["fov_deg"].to_numpy(float), table["range_m"].to_numpy(float)
    head, mount = table["heading_deg"].to_numpy(float), table["mount_height_m"].to_numpy(float)
    bad = (
        ~np.isfinite(fov)
        | (fov <= 0)
        | (fov > 360)
        | ~np.isfinite(reach)
        | (reach <= 0)
        | (reach > MAX_RANGE_M)
        | ~np.isfinite(head)
        | ~np.isfinite(mount)
        | (mount < 0)
        | (mount > MAX_MOUNT_M)
        | ~table["kind"].isin(KINDS).to_numpy()
        | ~table["status"].isin(STATUSES).to_numpy()
        | ~np.isfinite(table["x"].to_numpy(float))
        | ~np.isfinite(table["y"].to_numpy(float))
    )
    if bad.any():
        row = table.iloc[int(np.flatnonzero(bad)[0])]
        what = f"camera {row['id']!r}"
        if not (np.isfinite(row["x"]) and np.isfinite(row["y"])):
            raise BadInput(f"{what}: position is not a valid point")
        check_params(
            fov_deg=float(row["fov_deg"]),
            range_m=float(row["range_m"]),
            heading_deg=float(row["heading_deg"]),
            mount_height_m=float(row["mount_height_m"]),
            kind=str(row["kind"]),
            status=str(row["status"]),
            what=what,
        )


def effective_fov(table: pd.DataFrame) -> np.ndarray:
    """Return the field of view each camera covers (360° for PTZ domes)."""
    return np.where(table["kind"].to_numpy() == "ptz", 360.0, table["fov_deg"].to_numpy(float))


def covering(table: pd.DataFrame, *, include_planned: bool = False) -> np.ndarray:
    """Return, per camera, whether it covers anything: working (and planned if asked)."""
    status = table["status"].to_numpy()
    return (status == "working") | (include_planned & (status == "planned"))


@dataclass
class CameraEdits:
    """What-if changes to the cameras of one request, never saved.

    ``add``: new cameras, each with ``lon``/``lat`` and any of the camera fields (an ``id`` is
    made up when missing). ``update``: ``id`` plus the fields to change (``lon``/``lat`` move
    the camera). ``remove``: ids to drop.
    """

    add: Sequence[Mapping[str, Any]] = field(default_factory=list)
    update: Sequence[Mapping[str, Any]] = field(default_factory=list)
    remove: Sequence[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.add or self.update or self.remove)


_FIELDS = ("kind", "status", "mount_height_m", "heading_deg", "fov_deg", "range_m")


def _fields(spec: Mapping[str, Any], base: Mapping[str, Any], what: str) -> dict[str, Any]:
    """Return a camera row: ``base`` overridden by ``spec`` (lon/lat become x/y), checked."""
    row = dict(base)
    for key in _FIELDS:
        if spec.get(key) is not None:
            row[key] = spec[key]
    if (spec.get("lon") is None) != (spec.get("lat") is None):
        raise BadInput(f"{what}: give both lon and lat to place it")
    if spec.get("lon") is not None:
        lon, lat = float(spec["lon"]), float(spec["lat"])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise BadInput(f"{what}: lon/lat ({lon}, {lat}) is not a WGS 84 position")
        x, y = to_metric(lon, lat)
        row["x"], row["y"] = float(x), float(y)
    for key in ("mount_height_m", "heading_deg", "fov_deg", "range_m"):
        row[key] = float(row[key])
    check_params(**{k: row[k] for k in _FIELDS}, what=what)
    return row


def edit_rows(table: pd.DataFrame, edits: CameraEdits) -> tuple[list[str], list[dict[str, Any]]]:
    """Return (ids to remove, rows to insert or replace) for ``edits`` on ``table``.

    Raises :class:`BadInput` for an unknown id, a duplicate, or a value out of range.
    """
    known = dict(zip(table["id"].tolist(), range(len(table)), strict=True))
    removed: list[str] = []
    for cid in edits.remove:
        if str(cid) not in known:
            raise BadInput(f"remove: no camera {cid!r} in the analysed area")
        removed.append(str(cid))
    rows: list[dict[str, Any]] = []
    touched = set(removed)
    for spec in edits.update:
        cid = str(spec.get("id", ""))
        if cid not in known:
            raise BadInput(f"update: no camera {cid!r} in the analysed area")
        if cid in touched:
            raise BadInput(f"update: camera {cid!r} is edited twice")
        touched.add(cid)
        record = table.iloc[[known[cid]]].to_dict("records")[0]
        base = {str(k): v for k, v in record.items()}
        rows.append(_fields(spec, base, f"update of camera {cid!r}"))
    for i, spec in enumerate(edits.add):
        cid = str(spec.get("id") or f"new-{i + 1}")
        if cid in known or cid in touched:
            raise BadInput(f"add: camera id {cid!r} already exists")
        if spec.get("lon") is None:
            raise BadInput(f"add: camera {cid!r} needs lon and lat")
        touched.add(cid)
        rows.append(_fields(spec, {"id": cid, **DEFAULTS}, f"added camera {cid!r}"))
    return removed, rows
