"""Seeded portfolio series shared by the analytics tests.

Each case is a (days, values, flows) portfolio, built so the daily returns are known and flows are
real (deposits and withdrawals on some days), then fed through our code and through the libraries.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from app.services.analytics import DailyPoint, Portfolio

START = date(2020, 1, 1)


def series_from_returns(
    returns: np.ndarray, *, days: list[date] | None = None, flow_every: int = 0, seed: int = 0
) -> Portfolio:
    """Values that realise ``returns`` exactly under Modified Dietz, with optional flows."""
    rng = np.random.default_rng(seed)
    days = days or [START + timedelta(days=i) for i in range(returns.size + 1)]
    values, flows = [10_000.0], [10_000.0]
    for i, r in enumerate(returns, start=1):
        f = float(rng.choice([2_000.0, -1_500.0])) if flow_every and i % flow_every == 0 else 0.0
        prev = values[-1]
        values.append(prev + f + r * (prev + f / 2))  # r = (V − V₋₁ − F)/(V₋₁ + F/2)
        flows.append(f)
    return Portfolio.from_points([DailyPoint(d, v, f) for d, v, f in zip(days, values, flows, strict=True)])


def _gapped_days(n: int, seed: int) -> list[date]:
    rng = np.random.default_rng(seed)
    steps = rng.choice([1, 1, 1, 1, 2, 3, 5], size=n)
    out, d = [], START
    for s in steps:
        out.append(d)
        d += timedelta(days=int(s))
    return out


def _cases() -> dict[str, Portfolio]:
    rng = np.random.default_rng(42)
    long_r = rng.normal(0.0005, 0.02, 5 * 365)
    fat_r = rng.standard_t(3, 3 * 365) * 0.01
    gap_days = _gapped_days(400, 3)
    return {
        "long_5y_with_flows": series_from_returns(long_r, flow_every=37, seed=1),
        "fat_tails_3y": series_from_returns(fat_r),
        "short_10d": series_from_returns(rng.normal(0.001, 0.01, 10), flow_every=4, seed=2),
        "gaps_in_dates": series_from_returns(rng.normal(0.0, 0.015, 399), days=gap_days, flow_every=50),
        "losing_streak": series_from_returns(-np.abs(rng.normal(0.002, 0.004, 90))),
        "constant_gain": series_from_returns(np.full(30, 0.001)),
        "all_zero": series_from_returns(np.zeros(30)),
        "two_days": series_from_returns(np.array([0.013])),
        "one_day": series_from_returns(np.array([])),
    }


CASES = _cases()


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> tuple[str, Portfolio]:
    return request.param, CASES[request.param]
