"""Portfolio versus a benchmark, aligned by date.

Alignment is an inner join of *levels* (portfolio NAV, benchmark close) on dates; returns are then
taken between consecutive common dates, so both sides always cover the same interval. Joining daily
returns instead would pair a Friday→Monday SPY return with a Sunday→Monday crypto return and drop
the portfolio's weekend moves (the Go rewrite went further wrong and paired by index).

Annualisation uses the observed number of common periods per year: a 24/7 crypto benchmark gives
365, SPY about 252. Using 365 for SPY-aligned returns would overstate tracking error by √(365/252).
Under GIPS nothing is annualised for a period shorter than a year: alpha, tracking error and the
information ratio are then None (beta and correlation are not annualised and stay).

The portfolio side compounds the daily returns between common dates rather than dividing NAV levels,
so it stays defined after a wipe-out (NAV 0) or past float overflow (NAV inf).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from ._num import DayArray, FloatArray, finite_rows, fnum, is_constant, iso_days, to_day_array, to_float_array
from .periodic import compound_by

DEFAULT_MIN_OBSERVATIONS = 20  # below this, beta and friends are noise; the count is still reported


def closes_to_arrays(closes: Mapping[date, float | Decimal]) -> tuple[DayArray, FloatArray]:
    """Sorted days and closes, keeping only positive finite prices."""
    items = sorted(closes.items())
    days = to_day_array([d for d, _ in items])
    px = to_float_array([c for _, c in items])
    ok = np.isfinite(px) & (px > 0)
    return days[ok], px[ok]


def align(
    days: DayArray, bench_days: DayArray, bench_px: FloatArray
) -> tuple[DayArray, npt.NDArray[np.intp], FloatArray]:
    """Common dates, their index in the portfolio's days, and the benchmark's closes on them."""
    common, i, j = np.intersect1d(days, bench_days, assume_unique=True, return_indices=True)
    return common, i, bench_px[j]


def compound_between(r: FloatArray, at: npt.NDArray[np.intp]) -> FloatArray:
    """Portfolio return from each common date to the next: r[k] is the return of portfolio day k+1,
    so the days after at[m−1] up to at[m] are r[at[m−1] : at[m]]."""
    with np.errstate(all="ignore"):
        return np.multiply.reduceat(1.0 + r[: at[-1]], at[:-1]) - 1.0


def _beta(p: FloatArray, b: FloatArray) -> float | None:
    """Population cov / population var (empyrical.beta_aligned; the ddof cancels)."""
    bc = b - b.mean()
    var = float(np.mean(bc * bc))
    if var < 1e-30 or is_constant(b):
        return None
    return float(np.mean(bc * p)) / var


def _correlation(p: FloatArray, b: FloatArray) -> float | None:
    if is_constant(p) or is_constant(b):
        return None
    return fnum(np.corrcoef(p, b)[0, 1])


def _annual_alpha(daily: float, ppy: float) -> float | None:
    """(1 + mean daily alpha) ** ppy − 1 on numpy floats: a Python float power raises OverflowError.
    +inf past float range (the analytics boundary publishes null with the reason)."""
    with np.errstate(all="ignore"):
        return float(np.float64(1.0 + daily) ** ppy - 1.0)


def relative_stats(
    p: FloatArray, b: FloatArray, ppy: float, risk_free: float, *, annualise: bool = True
) -> dict[str, float | None]:
    with np.errstate(all="ignore"):
        pe, be = p - risk_free, b - risk_free
        beta = _beta(pe, be)
        active = p - b
        te_daily = 0.0 if is_constant(active) else float(active.std(ddof=1))
        stats: dict[str, float | None] = {"beta": beta, "correlation": _correlation(p, b),
                                          "alpha": None, "tracking_error": None, "information_ratio": None}
        if annualise:
            stats.update(
                alpha=None if beta is None else _annual_alpha(float(np.mean(pe - beta * be)), ppy),
                tracking_error=fnum(te_daily * math.sqrt(ppy)),
                information_ratio=fnum(active.mean() / te_daily * math.sqrt(ppy)) if te_daily else None,
            )
    return stats


def benchmark_section(
    symbol: str,
    days: DayArray,
    r: FloatArray,
    nav: FloatArray,
    closes: Mapping[date, float | Decimal],
    *,
    annualisation: float,
    risk_free: float = 0.0,
    min_observations: int = DEFAULT_MIN_OBSERVATIONS,
    annualise: bool = True,
    reasons: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``r`` are the portfolio's daily returns (r[k] for day k+1), ``nav`` its NAV (for the chart);
    ``reasons`` collects why a chart point is null (see ``finite_rows``)."""
    reasons = {} if reasons is None else reasons
    jdays, at, b_lvl = align(days, *closes_to_arrays(closes))
    n = max(jdays.size - 1, 0)
    section: dict[str, Any] = {"symbol": symbol, "observations": n, "periods_per_year": None,
                               "alpha": None, "beta": None, "correlation": None,
                               "tracking_error": None, "information_ratio": None,
                               "benchmark_return": None, "portfolio_return": None,
                               "series": [], "monthly_returns": []}
    if n < 1:
        return section
    p = compound_between(r, at)
    b = b_lvl[1:] / b_lvl[:-1] - 1.0
    span = int((jdays[-1] - jdays[0]).astype(np.int64))
    ppy = annualisation * n / span
    with np.errstate(all="ignore"):
        scaled = b_lvl / b_lvl[0] * nav[at[0]]  # drawn on the same axis as the portfolio NAV
        portfolio_return = np.prod(1.0 + p) - 1.0
    section.update({
        "periods_per_year": ppy,
        "benchmark_return": float(b_lvl[-1] / b_lvl[0] - 1.0),
        "portfolio_return": fnum(portfolio_return),
        "series": finite_rows("benchmark.series", {"date": iso_days(jdays), "nav": scaled}, reasons),
        "monthly_returns": [{"month": m, "return": g} for m, g, _ in compound_by(jdays[1:], b, "M")],
    })
    if n >= max(min_observations, 2):
        section.update(relative_stats(p, b, ppy, risk_free, annualise=annualise))
    return section
