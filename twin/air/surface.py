"""The air surface of a day: interpolate the stations' daily means over the city.

Two interpolators are offered and the data chooses between them: inverse distance weighting
(power 2, every station) and ordinary kriging (PyKrige, linear variogram fitted to the day's
stations — with ten to twenty stations a three-parameter spherical or exponential fit is not
stable). Each is cross-validated leave-one-out on the day's stations (each station predicted
from all the others); the method with the lower root-mean-square error draws the surface, and
both errors are reported beside it so a reader can judge how far to trust it.

Everything here is pure (arrays in, arrays out) and works in metres (UTM 43N); the caller
projects.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pykrige.ok import OrdinaryKriging

from twin.core.errors import BadInput

METHODS = ("idw", "kriging")
IDW_POWER = 2.0
MIN_STATIONS = 4


def idw(
    xy: np.ndarray, z: np.ndarray, query: np.ndarray, *, power: float = IDW_POWER
) -> np.ndarray:
    """Return inverse-distance-weighted values at ``query`` (n×2) from stations ``xy`` (m×2).

    A query point on a station takes the station's value.

    Examples
    --------
    >>> xy = np.array([[0.0, 0.0], [2.0, 0.0]])
    >>> idw(xy, np.array([0.0, 2.0]), np.array([[1.0, 0.0], [2.0, 0.0]])).tolist()
    [1.0, 2.0]
    """
    out = np.empty(len(query))
    for lo in range(0, len(query), 65536):  # bounded memory: 64k points x stations at a time
        q = query[lo : lo + 65536]
        d = np.hypot(q[:, None, 0] - xy[None, :, 0], q[:, None, 1] - xy[None, :, 1])
        exact = d == 0
        with np.errstate(divide="ignore"):
            w = 1.0 / d**power
        w[exact] = 0.0
        values = (w @ z) / w.sum(axis=1)
        hit = exact.any(axis=1)
        if hit.any():
            values[hit] = z[exact[hit].argmax(axis=1)]
        out[lo : lo + 65536] = values
    return out


def kriging(xy: np.ndarray, z: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Return ordinary-kriging estimates at ``query`` (linear variogram fitted to ``z``)."""
    if np.ptp(z) == 0:  # no variance, no variogram to fit: the field is that constant
        return np.full(len(query), float(z[0]))
    scale = 1000.0  # kilometres keep the variogram fit well conditioned
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = OrdinaryKriging(
            xy[:, 0] / scale,
            xy[:, 1] / scale,
            z,
            variogram_model="linear",
            exact_values=True,
        )
        values, _ = model.execute(
            "points", query[:, 0] / scale, query[:, 1] / scale, backend="vectorized"
        )
    return np.asarray(values, dtype=np.float64)


def predict(method: str, xy: np.ndarray, z: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Return ``method``'s estimates at ``query``."""
    if method == "idw":
        return idw(xy, z, query)
    if method == "kriging":
        return kriging(xy, z, query)
    raise BadInput(f"unknown interpolation method {method!r}; one of {', '.join(METHODS)}")


def loo_residuals(method: str, xy: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Return, per station, the estimate from all the other stations minus its value.

    Examples
    --------
    >>> xy = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    >>> loo_residuals("idw", xy, np.array([0.0, 1.0, 2.0])).round(3).tolist()
    [1.2, 0.0, -1.2]
    """
    out = np.empty(len(z))
    keep = np.ones(len(z), dtype=bool)
    for i in range(len(z)):
        keep[i] = False
        out[i] = predict(method, xy[keep], z[keep], xy[i : i + 1])[0] - z[i]
        keep[i] = True
    return out


@dataclass(frozen=True)
class CrossValidation:
    """Leave-one-out errors of each method on one day, and the method chosen."""

    chosen: str
    n: int
    errors: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return the summary an answer carries."""
        return {"chosen": self.chosen, "stations": self.n, "errors": self.errors}


def cross_validate(xy: np.ndarray, z: np.ndarray) -> CrossValidation:
    """Return both methods' leave-one-out RMSE and MAE, choosing the lower RMSE (IDW on a tie).

    Raises :class:`BadInput` with fewer than :data:`MIN_STATIONS` stations.
    """
    if len(z) < MIN_STATIONS:
        raise BadInput(
            f"{len(z)} station(s) with readings that day; a surface needs at least {MIN_STATIONS}"
        )
    errors: dict[str, dict[str, float]] = {}
    for method in METHODS:
        r = loo_residuals(method, xy, z)
        errors[method] = {
            "rmse": round(float(np.sqrt(np.mean(r**2))), 3),
            "mae": round(float(np.mean(np.abs(r))), 3),
            "bias": round(float(np.mean(r)), 3),
        }
    chosen = min(METHODS, key=lambda m: (errors[m]["rmse"], METHODS.index(m)))
    return CrossValidation(chosen, len(z), errors)


@dataclass(frozen=True)
class Grid:
    """A north-up grid of cell centres in metres: ``values[row, col]``, row 0 the northmost."""

    x0: float  # west edge
    y1: float  # north edge
    cell: float
    values: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        """Return (rows, columns)."""
        rows, cols = self.values.shape
        return int(rows), int(cols)

    def bounds(self) -> tuple[float, float, float, float]:
        """Return (west, south, east, north) in metres."""
        rows, cols = self.shape
        return (self.x0, self.y1 - rows * self.cell, self.x0 + cols * self.cell, self.y1)


def grid_over(
    method: str,
    xy: np.ndarray,
    z: np.ndarray,
    bounds: tuple[float, float, float, float],
    cell: float,
    *,
    max_cells: int = 1_000_000,
) -> Grid:
    """Return ``method``'s surface on a grid of ``cell`` metres covering ``bounds``."""
    west, south, east, north = bounds
    cols = max(1, int(np.ceil((east - west) / cell)))
    rows = max(1, int(np.ceil((north - south) / cell)))
    if rows * cols > max_cells:
        raise BadInput(f"a {cell:g} m grid has {rows * cols:,} cells; the limit is {max_cells:,}")
    xs = west + (np.arange(cols) + 0.5) * cell
    ys = north - (np.arange(rows) + 0.5) * cell
    gx, gy = np.meshgrid(xs, ys)
    values = predict(method, xy, z, np.column_stack([gx.ravel(), gy.ravel()]))
    return Grid(west, north, cell, np.maximum(values, 0.0).reshape(rows, cols))
