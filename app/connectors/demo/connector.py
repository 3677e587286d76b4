"""The demo venue behind the real connector protocol, so every layer below it runs for real.

It reaches no network: the account is app.connectors.demo.history. Any non-empty key and secret are
accepted (the demo has nothing to protect); the key can read only. It is a paper account, and the
venue is named `demo` wherever it appears, reports included. Production refuses it
(app.connectors.registry.check_allowed).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.connectors.base import (
    AccountState,
    AuthError,
    ConnectorOptions,
    Credentials,
    DayWindow,
    EquityPoint,
    MarketStats,
    Permission,
)
from app.connectors.demo import history
from app.core.money import ZERO

VENUE = "demo"


class DemoConnector:
    venue = VENUE
    is_paper = True
    backfill_days = history.HISTORY_DAYS

    def __init__(self, credentials: Credentials) -> None:
        if not credentials.api_key.strip() or not credentials.api_secret.strip():
            raise AuthError("the demo venue accepts any key and secret, but not empty ones")
        self._now: datetime | None = None  # the instant of the last window read: history ends before it

    async def check_credentials(self) -> None:
        return None

    async def permissions(self) -> set[Permission]:
        return {Permission.READ}

    async def fetch_account_state(self, window: DayWindow) -> AccountState:
        """The balance at the window's end is the close of the last day that ended by then; the flows and
        trades are those of the days whose close falls in the window (DayWindow.days)."""
        self._now = window.end
        state = AccountState(total_equity=history.close_of(_last_closed_day(window.end)))
        state.cash = state.total_equity
        spot = state.market("spot")
        spot.equity = state.total_equity
        first, last = window.days()
        for record in history.days_between(first, last):
            _add_day(state, spot, record)
        return state

    async def fetch_history(self, *, days: int) -> list[EquityPoint]:
        """The `days` daily closes before the last window's end (or now), oldest first."""
        last = _last_closed_day(self._now or datetime.now(UTC))
        return [_point(r) for r in history.days_between(last - timedelta(days=days - 1), last)]

    async def close(self) -> None:
        return None


def _last_closed_day(instant: datetime) -> date:
    """At D 00:00 (or later on D) the last close is D-1's."""
    return instant.astimezone(UTC).date() - timedelta(days=1)


def _add_day(state: AccountState, spot: MarketStats, record: history.DemoDay) -> None:
    state.deposits += record.deposits
    state.withdrawals += record.withdrawals
    spot.trades += record.trades
    spot.volume += record.volume
    spot.fees += record.fees


def _point(record: history.DemoDay) -> EquityPoint:
    spot = MarketStats(equity=record.close, trades=record.trades, volume=record.volume, fees=record.fees)
    # A paper cash account with no open positions: cash is the whole equity, nothing is unrealized.
    return EquityPoint(day=record.day, total_equity=record.close, deposits=record.deposits,
                       withdrawals=record.withdrawals, cash=record.close, unrealized_pnl=ZERO,
                       markets={"spot": spot} if record.trades else {})


def create(venue: str, credentials: Credentials, options: ConnectorOptions) -> DemoConnector:  # noqa: ARG001
    if venue != VENUE:
        raise ValueError(f"demo connector cannot serve {venue[:32]!r}")
    return DemoConnector(credentials)

