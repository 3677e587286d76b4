"""Modified Dietz daily returns and the NAV they compound into."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._num import FloatArray

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class DailyReturns:
    """r[d−1] is the return of day d (day 0 is the base). Undefined days hold 0 so that compounding
    skips them; statistics must use ``defined`` instead."""

    r: FloatArray
    undefined: BoolArray  # no capital at risk that day (base ≤ min_base): excluded from statistics
    wiped: BoolArray  # a return ≤ −100 %: the capital was lost (r is set to exactly −1)

    @property
    def defined(self) -> FloatArray:
        return self.r[~self.undefined]


def modified_dietz(
    values: FloatArray, flows: FloatArray, transfers: FloatArray | None = None, *, min_base: float = 0.0
) -> DailyReturns:
    """r_d = (V_d − V_{d−1} − F_d − T_d) / (V_{d−1} + F_d/2) for d ≥ 1.

    F_d (deposits − withdrawals) is weighted ½: flows arrive mid-day on average, so a deposit adds
    to the capital at risk, never to the gain. T_d is an account joining (+ its first equity) or
    leaving (− its last equity) the aggregate at the close of day d: weight 0, so the day an account
    joins adds no return of its own and its removal is not a flow of the next day.

    Where the capital at risk is ≤ ``min_base`` (an empty account, negative equity, a withdrawal larger
    than twice what was there) the return is undefined, never ±∞ or a fake gain. A return ≤ −100 %
    is a wipe-out: it is recorded as exactly −100 %, and the NAV stays at 0 from then on (geometric
    linking cannot come back from a total loss), instead of flipping sign on a negative base.
    """
    prev = values[:-1]
    flow = flows[1:]
    moved = flow if transfers is None else flow + transfers[1:]
    base = prev + 0.5 * flow
    undefined = ~(base > min_base)  # NaN-safe: a non-finite base is no capital either
    with np.errstate(all="ignore"):
        r = np.where(undefined, 0.0, (values[1:] - prev - moved) / np.where(undefined, 1.0, base))
    wiped = ~undefined & (r <= -1.0)
    r[wiped] = -1.0
    return DailyReturns(r, undefined, wiped)


def nav_from_returns(r: FloatArray) -> FloatArray:
    """NAV starting at 1 on day 0: [1, 1+r1, (1+r1)(1+r2), …]. It may reach +inf for absurd growth
    (published as null by the analytics boundary); ``log_nav_from_returns`` stays finite."""
    nav = np.empty(r.size + 1)
    nav[0] = 1.0
    with np.errstate(all="ignore"):
        np.cumprod(1.0 + r, out=nav[1:])
    nav[1:][np.cumsum(r <= -1.0) > 0] = 0.0  # after a wipe-out: 0, never 0 × inf = NaN
    return nav


def log_nav_from_returns(r: FloatArray) -> FloatArray:
    """ln NAV: finite however large the growth (−inf once wiped out)."""
    out = np.empty(r.size + 1)
    out[0] = 0.0
    with np.errstate(all="ignore"):
        np.cumsum(np.log1p(np.maximum(r, -1.0)), out=out[1:])
    out[1:][np.cumsum(r <= -1.0) > 0] = -np.inf
    return out
