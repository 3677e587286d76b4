"""Modified Dietz daily returns and the NAV they compound into."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ._num import FloatArray


def modified_dietz(
    values: FloatArray, flows: FloatArray, *, min_base: float = 0.0
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """r_d = (V_d − V_{d−1} − F_d) / (V_{d−1} + F_d/2) for d ≥ 1 (day 0 is the base, not a return).

    Half-weighting F_d assumes flows arrive mid-period on average; a deposit therefore adds to
    the capital at risk, never to the gain. Where the capital at risk is ≤ ``min_base`` (an empty
    account, or a withdrawal larger than twice what was there) the return is undefined: it is set
    to 0 and flagged, so an empty day never becomes ±∞ or a fake gain.
    """
    prev = values[:-1]
    flow = flows[1:]
    base = prev + 0.5 * flow
    undefined = base <= min_base
    gain = values[1:] - prev - flow
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(undefined, 0.0, gain / np.where(undefined, 1.0, base))
    return r, undefined


def nav_from_returns(r: FloatArray) -> FloatArray:
    """NAV starting at 1 on day 0: [1, 1+r1, (1+r1)(1+r2), …]."""
    nav = np.empty(r.size + 1)
    nav[0] = 1.0
    np.cumprod(1.0 + r, out=nav[1:])
    return nav
