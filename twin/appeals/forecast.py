"""Forecasts of monthly appeals (per district, category or both) for the next months, with
prediction intervals, by the model that did best in a back-test.

Candidates (statsmodels): ETS with additive errors — level only, damped additive trend, and
each with an additive 12-month season when there are two years to fit — and SARIMA(1,0,0)
(0,1,1)₁₂. The back-test holds out the last 12 months, fits each candidate on the months before
them and forecasts the 12 (a fixed origin, as the issue asks), scoring the mean absolute error;
the seasonal-naive forecast (the same month a year before) is scored alike. MASE = the model's
MAE / the in-sample MAE of the seasonal-naive forecast on the fitting months (Hyndman &
Koehler 2006); below 1 beats the seasonal-naive forecast. The chosen model is refitted on all
months and forecasts ``horizon`` months with ``level`` prediction intervals.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.statespace.sarimax import SARIMAX

from twin.core.errors import BadInput

SEASON = 12
HOLDOUT = 12
MIN_MONTHS = 24 + HOLDOUT // 2


@dataclass(frozen=True)
class Forecast:
    """A forecast with its intervals and the back-test behind the choice of model."""

    model: str
    months: list[str]
    mean: list[float]
    lower: list[float]
    upper: list[float]
    level: float
    backtest: dict[str, dict[str, float]]
    seasonal_naive_mae: float
    mase: float


Fitter = Callable[[np.ndarray, int, float], tuple[np.ndarray, np.ndarray, np.ndarray]]


def _ets(trend: bool, seasonal: bool) -> Fitter:
    def fit(y: np.ndarray, h: int, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # statsmodels' ETS prediction needs a dated series (an array fails in get_prediction)
        dated = pd.Series(y, index=pd.date_range("2000-01-01", periods=len(y), freq="MS"))
        model = ETSModel(
            dated,
            error="add",
            trend="add" if trend else None,
            damped_trend=trend,
            seasonal="add" if seasonal else None,
            seasonal_periods=SEASON if seasonal else None,
        )
        res = model.fit(disp=False, maxiter=200)
        pred = res.get_prediction(start=len(y), end=len(y) + h - 1)
        frame = pred.summary_frame(alpha=1 - level)
        return (
            frame["mean"].to_numpy(),
            frame["pi_lower"].to_numpy(),
            frame["pi_upper"].to_numpy(),
        )

    return fit


def _sarima(y: np.ndarray, h: int, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    model = SARIMAX(
        y,
        order=(1, 0, 0),
        seasonal_order=(0, 1, 1, SEASON),
        trend="c",
        enforce_stationarity=False,
        enforce_invertibility=False,
    )
    res = model.fit(disp=False, maxiter=100)
    fc = res.get_forecast(h)
    ci = np.asarray(fc.conf_int(alpha=1 - level))
    return np.asarray(fc.predicted_mean), ci[:, 0], ci[:, 1]


def candidates(n_fit: int) -> dict[str, Fitter]:
    """Return the models that can be fitted on ``n_fit`` months."""
    out: dict[str, Fitter] = {"ETS(A,N,N)": _ets(False, False), "ETS(A,Ad,N)": _ets(True, False)}
    if n_fit >= 2 * SEASON:
        out["ETS(A,N,A)"] = _ets(False, True)
        out["ETS(A,Ad,A)"] = _ets(True, True)
        out["SARIMA(1,0,0)(0,1,1)12"] = _sarima
    return out


def seasonal_naive(y: np.ndarray, h: int) -> np.ndarray:
    """Return the forecast repeating the last season."""
    last = y[-SEASON:]
    return np.array([last[i % SEASON] for i in range(h)], dtype=float)


def forecast(series: pd.Series, *, horizon: int = 3, level: float = 0.8) -> Forecast:
    """Return the forecast of a monthly ``series`` (index: month starts, no gaps)."""
    if not 1 <= horizon <= 12:
        raise BadInput("horizon must be 1 to 12 months")
    if not 0.5 <= level < 1:
        raise BadInput("level must be from 0.5 to 0.99")
    y = series.to_numpy(dtype=float)
    if len(y) < MIN_MONTHS:
        raise BadInput(f"a forecast needs {MIN_MONTHS} months of history; there are {len(y)}")
    fit_y, test_y = y[:-HOLDOUT], y[-HOLDOUT:]
    scale = float(np.mean(np.abs(fit_y[SEASON:] - fit_y[:-SEASON])))
    scale = scale if scale > 0 else 1.0
    naive_mae = float(np.mean(np.abs(seasonal_naive(fit_y, HOLDOUT) - test_y)))
    scores: dict[str, dict[str, float]] = {
        "seasonal naive": {"mae": naive_mae, "mase": naive_mae / scale}
    }
    models = candidates(len(fit_y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, fit in models.items():
            try:
                mean, _, _ = fit(fit_y, HOLDOUT, level)
            except (ValueError, np.linalg.LinAlgError):
                continue
            if not np.all(np.isfinite(mean)):
                continue
            mae = float(np.mean(np.abs(mean - test_y)))
            scores[name] = {"mae": mae, "mase": mae / scale}
        fitted = [n for n in scores if n != "seasonal naive"]
        if not fitted:
            raise BadInput("no model could be fitted to this series")
        best = min(fitted, key=lambda n: scores[n]["mae"])
        mean, lower, upper = models[best](y, horizon, level)
    start = series.index[-1] + pd.offsets.MonthBegin(1)
    months = pd.date_range(start, periods=horizon, freq="MS").strftime("%Y-%m").tolist()
    clip = np.maximum
    return Forecast(
        model=best,
        months=months,
        mean=[round(float(v), 2) for v in clip(mean, 0)],
        lower=[round(float(v), 2) for v in clip(lower, 0)],
        upper=[round(float(v), 2) for v in clip(upper, 0)],
        level=level,
        backtest={k: {m: round(v, 4) for m, v in s.items()} for k, s in scores.items()},
        seasonal_naive_mae=round(naive_mae, 4),
        mase=round(scores[best]["mase"], 4),
    )


def monthly(frame: pd.DataFrame, *, end: pd.Timestamp) -> pd.Series:
    """Return appeals per calendar month from the first month in ``frame`` through the last
    full month before ``end`` (months with none count as 0)."""
    if frame.empty:
        raise BadInput("no appeals match")
    months = frame["created_on"].dt.to_period("M")
    last = (end.to_period("M") - 1) if end.day < end.days_in_month else end.to_period("M")
    idx = pd.period_range(months.min(), last, freq="M")
    counts = months.value_counts().reindex(idx, fill_value=0).sort_index()
    counts.index = counts.index.to_timestamp()
    return counts.astype(float)


def as_dict(f: Forecast) -> dict[str, Any]:
    """Return ``f`` as JSON-ready data."""
    return {
        "model": f.model,
        "level": f.level,
        "forecast": [
            {"month": m, "mean": a, "lower": lo, "upper": hi}
            for m, a, lo, hi in zip(f.months, f.mean, f.lower, f.upper, strict=True)
        ],
        "backtest": {
            "method": f"fixed origin: fit on all but the last {HOLDOUT} months, forecast them",
            "holdout_months": HOLDOUT,
            "scores": f.backtest,
            "mase": f.mase,
            "beats_seasonal_naive": f.mase < f.backtest["seasonal naive"]["mase"],
        },
    }
