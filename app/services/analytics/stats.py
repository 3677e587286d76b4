"""Return statistics on a 1-D array of daily returns (fractions). All return float | None.

None means "not defined for this input" (too few observations, zero dispersion, no losses …);
the signed payload is JSON and cannot carry NaN or ±inf. Conventions follow empyrical-reloaded
and pandas so the tests can compare against them; tests/analytics documents the mapping.
"""

from __future__ import annotations

import math

import numpy as np

from ._num import FloatArray, fnum, is_constant, ratio


def cagr(log_nav_end: float, calendar_days: int, periods_per_year: float) -> float | None:
    """Compound annual growth over *calendar* days (not observations, so a gap in the data does
    not shorten the period and inflate the rate), from ln NAV: NAV ** (N / days) on a float overflows
    past 1.8e308 (a dust account that receives money its venue does not report). −100 % after a
    wipe-out (ln NAV = −inf); +inf past float range, which the analytics boundary publishes as null
    with that reason."""
    if calendar_days <= 0 or math.isnan(log_nav_end):
        return None
    with np.errstate(all="ignore"):
        return float(np.expm1(np.float64(log_nav_end) * (periods_per_year / calendar_days)))


def sample_std(r: FloatArray) -> float | None:
    if r.size < 2:
        return None
    return 0.0 if is_constant(r) else float(r.std(ddof=1))


def volatility(r: FloatArray, periods_per_year: float) -> float | None:
    std = sample_std(r)
    return None if std is None else std * math.sqrt(periods_per_year)


def sharpe(r: FloatArray, periods_per_year: float, risk_free: float = 0.0) -> float | None:
    """mean(r − rf) / std(r − rf) × √N with rf per period; None for < 2 days or zero dispersion."""
    excess = r - risk_free
    std = sample_std(excess)
    if not std:
        return None
    return fnum(excess.mean() / std * math.sqrt(periods_per_year))


def downside_deviation(r: FloatArray, periods_per_year: float, target: float = 0.0) -> float | None:
    """√mean(min(r − target, 0)²) over *all* observations × √N (empyrical.downside_risk).

    Averaging over all days, not only the losing ones, is the standard (Sortino & Price) form; the
    TypeScript original used only negative days around their own mean and produced Sortino ≈ 1275.
    """
    if r.size < 1:
        return None
    below = np.minimum(r - target, 0.0)
    return float(math.sqrt(float(np.mean(below * below))) * math.sqrt(periods_per_year))


def sortino(r: FloatArray, periods_per_year: float, target: float = 0.0) -> float | None:
    if r.size < 2:
        return None
    dd = downside_deviation(r, periods_per_year, target)
    if not dd:
        return None
    return fnum(float(np.mean(r - target)) * periods_per_year / dd)


def trading_stats(r: FloatArray) -> dict[str, float | int | None]:
    """Win rate, profit factor and average win/loss over non-zero days (quantstats' conventions:
    avg_loss is negative, profit factor = Σ gains / |Σ losses|)."""
    wins, losses = r[r > 0], r[r < 0]
    decided = wins.size + losses.size
    gain, loss = float(wins.sum()), float(-losses.sum())
    return {
        "win_rate": wins.size / decided if decided else None,
        "profit_factor": ratio(gain, loss),
        "avg_win": float(wins.mean()) if wins.size else None,
        "avg_loss": float(losses.mean()) if losses.size else None,
        "winning_days": int(wins.size),
        "losing_days": int(losses.size),
        "flat_days": int(r.size - decided),
        "best_day": float(r.max()) if r.size else None,
        "worst_day": float(r.min()) if r.size else None,
    }


def value_at_risk(r: FloatArray, level: float) -> float | None:
    """Historical VaR as a positive loss: −(the (1 − level) percentile, linear interpolation).
    A negative value means even the bad tail was a gain."""
    if r.size < 1:
        return None
    return fnum(-np.percentile(r, 100.0 * (1.0 - level)))


def expected_shortfall(r: FloatArray, level: float) -> float | None:
    """Mean of the worst ⌊(n−1)(1−level)⌋+1 days, as a positive loss (empyrical's CVaR tail size)."""
    if r.size < 1:
        return None
    k = int((r.size - 1) * (1.0 - level))
    return fnum(-np.mean(np.partition(r, k)[: k + 1]))


def skewness(r: FloatArray) -> float | None:
    """Adjusted Fisher-Pearson G1, as pandas.Series.skew (needs 3 values and some dispersion)."""
    n = r.size
    if n < 3 or is_constant(r):
        return None
    d = r - r.mean()
    m2, m3 = float(np.mean(d * d)), float(np.mean(d * d * d))
    with np.errstate(all="ignore"):  # m2 ** 1.5 on a Python float raises OverflowError for huge returns
        return fnum(math.sqrt(n * (n - 1)) / (n - 2) * np.float64(m3) / np.float64(m2) ** 1.5)


def excess_kurtosis(r: FloatArray) -> float | None:
    """Bias-corrected excess kurtosis G2, as pandas.Series.kurt (needs 4 values and dispersion)."""
    n = r.size
    if n < 4 or is_constant(r):
        return None
    d = r - r.mean()
    d2 = d * d
    m2, m4 = float(np.mean(d2)), float(np.mean(d2 * d2))
    with np.errstate(all="ignore"):
        g2 = float(np.float64(m4) / (np.float64(m2) * m2) - 3.0)
    return fnum((n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * g2 + 6.0))
