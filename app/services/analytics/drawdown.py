"""Drawdowns from the flow-neutral NAV (so a withdrawal is never a drawdown, a deposit never hides one).

Drawdowns are fractions ≤ 0 (−0.12 = 12 % below the previous peak), as in empyrical and quantstats.
A period runs from the peak (last day at the high-water mark) through the trough to the recovery
(first day back at or above the peak); durations are calendar days.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._num import DayArray, FloatArray, iso_day


def drawdown_series(nav: FloatArray, log_nav: FloatArray) -> FloatArray:
    """NAV / running peak − 1, in [−1, 0]. From the NAV itself while it is finite (exactly the
    libraries' arithmetic); in log space once growth overflows a float, where inf / inf would be NaN."""
    if bool(np.isfinite(nav).all()):
        return nav / np.maximum.accumulate(nav) - 1.0
    with np.errstate(all="ignore"):
        return np.expm1(log_nav - np.maximum.accumulate(log_nav))


def _day_span(days: DayArray, a: int, b: int) -> int:
    return int((days[b] - days[a]).astype(np.int64))


def drawdown_periods(days: DayArray, dd: FloatArray) -> list[dict[str, Any]]:
    """Every underwater run, oldest first. dd[0] is 0 (NAV starts at its own peak), so each run
    has a peak day before it."""
    under = np.concatenate(([False], dd < 0, [False])).astype(np.int8)
    edges = np.diff(under)
    starts = np.nonzero(edges == 1)[0]
    ends = np.nonzero(edges == -1)[0]  # exclusive: the recovery index, or len(dd) if none
    last = dd.size - 1
    periods = []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        peak, trough = s - 1, s + int(np.argmin(dd[s:e]))
        recovered = e <= last
        stop = e if recovered else last
        periods.append({
            "start": iso_day(days[peak]),
            "trough": iso_day(days[trough]),
            "end": iso_day(days[e]) if recovered else None,
            "depth": float(dd[trough]),
            "length_days": _day_span(days, peak, stop),
            "decline_days": _day_span(days, peak, trough),
            "recovery_days": _day_span(days, trough, e) if recovered else None,
            "recovered": recovered,
        })
    return periods


def drawdown_summary(dd: FloatArray, periods: list[dict[str, Any]]) -> dict[str, Any]:
    max_dd = float(dd.min())
    worst = min(periods, key=lambda p: p["depth"]) if periods else None
    ongoing = periods[-1] if periods and not periods[-1]["recovered"] else None
    return {
        "max_drawdown": max_dd,
        "max_drawdown_start": worst["start"] if worst else None,
        "max_drawdown_trough": worst["trough"] if worst else None,
        "max_drawdown_end": worst["end"] if worst else None,
        "max_drawdown_duration_days": worst["length_days"] if worst else 0,
        "longest_drawdown_days": max((p["length_days"] for p in periods), default=0),
        "current_drawdown": float(dd[-1]),
        "current_drawdown_days": ongoing["length_days"] if ongoing else 0,
        "periods": periods,
    }
