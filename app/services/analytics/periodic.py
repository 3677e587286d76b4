"""Monthly and yearly returns by compounding every daily return of the period.

Each daily return belongs to the month of the day it ends on; no day is dropped (the TypeScript
original divided month-end NAVs by the month's *first* NAV and so lost each first day's return).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ._num import DayArray, FloatArray


def compound_by(days: DayArray, r: FloatArray, unit: Literal["M", "Y"]) -> list[tuple[str, float, int]]:
    """[(label, compounded return, number of returns)] per calendar ``unit`` ('M' or 'Y')."""
    if r.size == 0:
        return []
    buckets = days.astype(f"datetime64[{unit}]")
    labels, starts, counts = np.unique(buckets, return_index=True, return_counts=True)
    growth = np.multiply.reduceat(1.0 + r, starts) - 1.0
    text: list[str] = np.datetime_as_string(labels, unit=unit).tolist()
    return list(zip(text, growth.tolist(), counts.tolist(), strict=True))


def monthly_returns(days: DayArray, r: FloatArray) -> list[dict[str, Any]]:
    return [{"month": m, "return": g, "days": n} for m, g, n in compound_by(days, r, "M")]


def yearly_returns(days: DayArray, r: FloatArray) -> list[dict[str, Any]]:
    return [{"year": y, "return": g, "days": n} for y, g, n in compound_by(days, r, "Y")]
