"""The forecast's back-test and intervals on series whose shape is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twin.appeals.forecast import forecast, monthly, seasonal_naive
from twin.core.errors import BadInput


def _seasonal(n: int = 36, noise: float = 4.0, seed: int = 3) -> pd.Series:
    idx = pd.date_range("2023-12-01", periods=n, freq="MS")
    t = np.arange(n)
    y = 100 + 1.0 * t + 30 * np.cos(2 * np.pi * (idx.month.to_numpy() - 1) / 12)
    return pd.Series(y + np.random.default_rng(seed).normal(0, noise, n), idx)


def test_a_trending_seasonal_series_is_forecast_better_than_seasonal_naive() -> None:
    f = forecast(_seasonal(), horizon=3, level=0.8)
    assert f.months == ["2026-12", "2027-01", "2027-02"]
    assert f.mase < 1 and f.mase < f.backtest["seasonal naive"]["mase"]
    assert f.model in f.backtest and f.backtest[f.model]["mase"] == f.mase
    assert all(lo <= m <= hi for lo, m, hi in zip(f.lower, f.mean, f.upper, strict=True))
    # the truth without noise for the next three months lies inside the 80 % intervals
    idx = pd.date_range("2026-12-01", periods=3, freq="MS")
    truth = 100 + np.arange(36, 39) + 30 * np.cos(2 * np.pi * (idx.month.to_numpy() - 1) / 12)
    assert all(lo <= v <= hi for lo, v, hi in zip(f.lower, truth, f.upper, strict=True))


def test_seasonal_naive_repeats_the_last_year() -> None:
    y = np.arange(24, dtype=float)
    assert seasonal_naive(y, 3).tolist() == [12.0, 13.0, 14.0]


def test_monthly_counts_fill_empty_months_and_stop_before_a_partial_one() -> None:
    frame = pd.DataFrame(
        {"created_on": pd.to_datetime(["2026-01-05", "2026-01-20", "2026-03-02", "2026-04-10"])}
    )
    s = monthly(frame, end=pd.Timestamp("2026-04-15"))
    assert s.index.strftime("%Y-%m").tolist() == ["2026-01", "2026-02", "2026-03"]
    assert s.tolist() == [2.0, 0.0, 1.0]


def test_short_series_and_bad_parameters_are_refused() -> None:
    with pytest.raises(BadInput, match="months of history"):
        forecast(_seasonal(20))
    with pytest.raises(BadInput, match="horizon"):
        forecast(_seasonal(), horizon=13)
