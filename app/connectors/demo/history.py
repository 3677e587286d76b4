"""The demo account's daily history: deterministic, realistic, and a function of the calendar only.

Every day from EPOCH on has one record, seeded by its date alone, so the same day always has the same
close whenever it is asked for (a backfill today and a scheduled snapshot next month agree), and two
runs of `make demo` on the same day produce the same report. The account:

- opens on EPOCH with an OPENING_DEPOSIT;
- earns a noisy daily return with a small positive drift, except in a yearly bear phase (days
  BEAR_START..BEAR_END of each 365-day cycle since EPOCH) that falls about 20 %: a real drawdown;
- trades every day (a few spot trades, volume a fraction of equity) and pays taker fees on that volume;
- receives a deposit on the 1st of January, April, July and October and makes a withdrawal on the
  15th of June and December, each 3-12 % of its equity.

A flow arrives in the middle of its day and earns half the day's market return, so each day's true
time-weighted return is `(1 + market) - fees / (opening + flow / 2) - 1`, exactly what a Modified Dietz
reading of the closes finds. Money is kept in cents at every step.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from statistics import NormalDist

EPOCH = date(2020, 1, 1)
OPENING_DEPOSIT = Decimal("100000.00")
HISTORY_DAYS = 730  # two years of backfill
BEAR_START, BEAR_END = 150, 215  # days of each 365-day cycle since EPOCH
FEE_RATE = Decimal("0.0004")  # taker fee on notional volume
DEPOSIT_MONTHS = (1, 4, 7, 10)  # on the 1st
WITHDRAWAL_MONTHS = (6, 12)  # on the 15th
CENT = Decimal("0.01")


@dataclass(frozen=True)
class DemoDay:
    day: date
    close: Decimal  # equity at the end of the day, USD
    deposits: Decimal
    withdrawals: Decimal
    trades: int
    volume: Decimal
    fees: Decimal
    true_return: float  # the day's time-weighted return by construction (for checks, never stored)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


class _DayDraws:
    """Uniform draws in [0, 1) from the day's own hash: the same date gives the same numbers on every
    machine and Python version, and no day depends on another's draws."""

    def __init__(self, day: date) -> None:
        self._digest = hashlib.blake2b(f"zka-demo/{day.isoformat()}".encode(), digest_size=48).digest()
        self._next = 0

    def uniform(self) -> float:
        chunk = self._digest[self._next:self._next + 6]
        self._next += 6
        return (int.from_bytes(chunk, "big") + 0.5) / 2**48

    def normal(self, mean: float, std: float) -> float:
        return _STANDARD_NORMAL.inv_cdf(self.uniform()) * std + mean


_STANDARD_NORMAL = NormalDist()


def _market_return(draws: _DayDraws, day: date) -> float:
    phase = (day - EPOCH).days % 365
    if BEAR_START <= phase < BEAR_END:
        return draws.normal(-0.0035, 0.013)
    return draws.normal(0.0016, 0.007)


def _flows(draws: _DayDraws, day: date, previous: Decimal) -> tuple[Decimal, Decimal]:
    """3-12 % of the equity, in round hundreds: large enough to matter, as a trader's transfers do."""
    amount = (previous * Decimal(int(300 + draws.uniform() * 900)) / 1_000_000).quantize(Decimal(1)) * 100
    if day.day == 1 and day.month in DEPOSIT_MONTHS:
        return amount, Decimal(0)
    if day.day == 15 and day.month in WITHDRAWAL_MONTHS:
        return Decimal(0), amount
    return Decimal(0), Decimal(0)


def _next(previous: Decimal, day: date) -> DemoDay:
    draws = _DayDraws(day)
    market = _market_return(draws, day)
    trades = 2 + int(draws.uniform() * 13)
    volume = _cents(previous * Decimal(int(500 + draws.uniform() * 2000)) / 10_000)  # 5-25 % of equity
    fees = _cents(volume * FEE_RATE)
    deposits, withdrawals = _flows(draws, day, previous)
    withdrawals = min(withdrawals, previous)
    flow = deposits - withdrawals
    base = previous + flow / 2  # the capital at work during the day
    close = _cents(previous + base * Decimal(repr(market)) - fees + flow)
    true_return = market - float(fees / base) if base > 0 else 0.0
    return DemoDay(day, close, deposits, withdrawals, trades, volume, fees, true_return)


@lru_cache(maxsize=4)
def _days_until(last: date) -> tuple[DemoDay, ...]:
    """EPOCH .. last, computed once per last day (a few thousand steps, a few milliseconds)."""
    opening = DemoDay(EPOCH, OPENING_DEPOSIT, OPENING_DEPOSIT, Decimal(0), 0, Decimal(0), Decimal(0), 0.0)
    out = [opening]
    day = EPOCH + timedelta(days=1)
    while day <= last:
        out.append(_next(out[-1].close, day))
        day += timedelta(days=1)
    return tuple(out)


def days_between(first: date, last: date) -> list[DemoDay]:
    """The records of first..last inclusive (none before EPOCH)."""
    if last < EPOCH or last < first:
        return []
    return [d for d in _days_until(last) if d.day >= first]


def close_of(day: date) -> Decimal:
    """The equity at the end of `day`; zero before the account opened."""
    days = _days_until(day) if day >= EPOCH else ()
    return days[-1].close if days else Decimal(0)
