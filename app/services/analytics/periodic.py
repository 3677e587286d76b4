"""Monthly and yearly returns by compounding every daily return of the period.

Each daily return belongs to the month of the day it ends on; no day is dropped (the TypeScript
original divided month-end NAVs by the month's *first* NAV and so lost each first day's return).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ._num import DayArray, FloatArray, iso_day


def compound_by(days: DayArray, r: FloatArray, unit: Literal["M", "Y"]) -> list[tuple[str, float, int]]:
    """[(label, compounded return, number of returns)] per calendar ``unit`` ('M' or 'Y')."""
    if r.size == 0:
        return []
    buckets = days.astype(f"datetime64[{unit}]")
    labels, starts, counts = np.unique(buckets, return_index=True, return_counts=True)
    with np.errstate(all="ignore"):  # inf past float range: published as null by the boundary
        growth = np.multiply.reduceat(1.0 + r, starts) - 1.0
    text: list[str] = np.datetime_as_string(labels, unit=unit).tolist()
    return list(zip(text, growth.tolist(), counts.tolist(), strict=True))


def monthly_returns(days: DayArray, r: FloatArray) -> list[dict[str, Any]]:
    return [{"month": m, "return": g, "days": n} for m, g, n in compound_by(days, r, "M")]


def yearly_returns(days: DayArray, r: FloatArray) -> list[dict[str, Any]]:
    """Calendar-year returns (GIPS). ``days`` are all portfolio days (day 0 is the base). Each year
    runs from the close before its first return (``from``) to its last close (``to``); a year is
    ``partial`` unless that is 31 December of the year before to 31 December of the year."""
    if r.size == 0:
        return []
    out = []
    first = 0
    for year, growth, n in compound_by(days[1:], r, "Y"):
        base, last = days[first], days[first + n]
        first += n
        full = base <= np.datetime64(f"{int(year) - 1}-12-31") and last >= np.datetime64(f"{year}-12-31")
        out.append({"year": year, "return": growth, "days": n, "from": iso_day(base), "to": iso_day(last),
                    "partial": not full})
    return out
