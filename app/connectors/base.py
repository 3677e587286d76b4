"""The connector protocol: one object per sync, closed after it.

A connector turns a venue's account into daily aggregates (AccountState). It never returns
individual trades, orders or positions to its caller: only counts and sums.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from app.core.money import ZERO

# Breakdown key set (only) when the venue could not report the window's external flows; see AccountState.
FLOWS_UNAVAILABLE = "flows_unavailable"
# Breakdown key set (only) on a day the venue does not value (a stock broker's weekend or market holiday):
# the row carries the last valued day's figures forward, without return, and is not a coverage gap.
MARKET_CLOSED = "market_closed"
# Breakdown key: how many flows were still pending at this fetch with a date the next fetch's look-back
# (FLOW_LOOKBACK or the venue's longer one) no longer reaches: if one completes later it is never seen,
# and shows as a return.
LATE_FLOWS = "pending_flows_past_lookback"

MARKETS = (
    "spot", "swap", "futures", "options", "margin", "earn",
    "stocks", "forex", "cfd", "commodities",
)


class Permission(StrEnum):
    READ = "read"
    TRADE = "trade"
    WITHDRAW = "withdraw"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class DayWindow:
    """[start, end) in UTC, chained on fetch instants: an on-time run for day D-1 is about
    [D-1 00:00, D 00:00); after missed or late runs it spans from the previous fetch to this one."""

    start: datetime
    end: datetime

    def days(self) -> tuple[date, date]:
        """For sources dated by day only (IBKR, Alpaca cash activities): the days whose close (the next
        midnight) falls in (start, end]. Chained windows then give every day to exactly one window;
        an empty range (last < first) means none, e.g. the initial window [t, t)."""
        return self.start.date(), self.end.date() - timedelta(days=1)

    def split(self, max_span: timedelta) -> list[DayWindow]:
        """Consecutive pieces of at most `max_span` covering [start, end), for venues that cap the range
        one request may ask for (binance futures trades: 7 days); a window after a gap spans weeks.
        An empty (or inverted) window has no pieces: nothing happened in it, so nothing is asked
        (binance refuses an endTime before startTime, -1102)."""
        pieces, start = [], self.start
        while start < self.end:
            end = min(start + max_span, self.end)
            pieces.append(DayWindow(start, end))
            start = end
        return pieces

    @property
    def start_ms(self) -> int:
        return int(self.start.timestamp() * 1000)

    @property
    def end_ms(self) -> int:
        return int(self.end.timestamp() * 1000)


@dataclass
class MarketStats:
    equity: Decimal = ZERO
    trades: int = 0
    volume: Decimal = ZERO  # notional USD, contract size applied
    fees: Decimal = ZERO  # trading fees paid, USD (positive = cost)
    funding: Decimal = ZERO  # funding paid(-)/received(+), USD

    def to_json(self) -> dict[str, str | int]:
        return {
            "equity": str(self.equity), "trades": self.trades, "volume": str(self.volume),
            "fees": str(self.fees), "funding": str(self.funding),
        }


@dataclass
class AccountState:
    total_equity: Decimal
    cash: Decimal = ZERO
    unrealized_pnl: Decimal = ZERO
    deposits: Decimal = ZERO  # USD value of external deposits in the window
    withdrawals: Decimal = ZERO  # USD value of external withdrawals in the window (positive)
    markets: dict[str, MarketStats] = field(default_factory=dict)
    unpriced_assets: dict[str, str] = field(default_factory=dict)  # asset -> amount, could not be valued
    # False when the venue has no deposit/withdrawal history (TradeStation v3): deposits/withdrawals above
    # are then 0 by ignorance, not by fact, and a transfer would show up as a return. Reports say so.
    flows_known: bool = True
    # Keyed hashes of the completed flows seen by this fetch that the connection's memory lacks: stored with
    # the snapshot so the next fetches never count them again. Never in the breakdown.
    counted_flows: set[str] = field(default_factory=set)
    # True when the venue did not value the window's last day (market closed): the figures are the last
    # valued day's, carried forward.
    market_closed: bool = False
    # False when the venue's answer lacks the figure (e.g. a Flex query without cash or Open Positions):
    # the snapshot then stores null (unknown), never the 0 above.
    cash_known: bool = True
    unrealized_known: bool = True
    # Pending flows this fetch saw that the next fetch's look-back no longer reaches (LATE_FLOWS).
    pending_past_lookback: int = 0

    def check_flows(self) -> None:
        """A flow is a non-negative amount with a direction: a negative deposit would silently act as a
        withdrawal (and the reverse), so the connector's result is refused instead."""
        check_flow_amounts(self.deposits, self.withdrawals)

    def market(self, name: str) -> MarketStats:
        return market_of(self.markets, name)

    def breakdown(self) -> dict[str, object]:
        return breakdown_json(self.markets, flows_known=self.flows_known, market_closed=self.market_closed,
                              unpriced_assets=self.unpriced_assets, pending_past_lookback=self.pending_past_lookback)


def market_of(markets: dict[str, MarketStats], name: str) -> MarketStats:
    """The named market's stats (created on first use); an unknown market name is a programming error."""
    if name not in MARKETS:
        raise ValueError(f"unknown market {name!r}")
    return markets.setdefault(name, MarketStats())


def breakdown_json(markets: dict[str, MarketStats], *, flows_known: bool, market_closed: bool,
                   unpriced_assets: Mapping[str, object] | None = None,
                   pending_past_lookback: int = 0) -> dict[str, object]:
    """A snapshot's breakdown JSON: per-market stats plus flags (absent means known / valued: no schema
    change when a flag is added)."""
    out: dict[str, object] = {name: stats.to_json() for name, stats in sorted(markets.items())}
    if unpriced_assets:
        out["unpriced_assets"] = dict(sorted(unpriced_assets.items()))
    if not flows_known:
        out[FLOWS_UNAVAILABLE] = True
    if market_closed:
        out[MARKET_CLOSED] = True
    if pending_past_lookback:
        out[LATE_FLOWS] = pending_past_lookback
    return out


@dataclass(frozen=True)
class Credentials:
    """Decrypted credentials; live only in memory for one sync. repr never shows values."""

    api_key: str
    api_secret: str
    passphrase: str | None = None
    extra: dict[str, str] = field(default_factory=dict)  # e.g. TradeStation account ids, IBKR query id

    def __repr__(self) -> str:
        return "Credentials(<redacted>)"

    __str__ = __repr__


@dataclass
class EquityPoint:
    """One historical day, for backfill (IBKR Flex): what the venue's history has for that day.

    cash and unrealized_pnl are None when the history does not have them (unknown, never 0)."""

    day: date
    total_equity: Decimal
    deposits: Decimal = ZERO
    withdrawals: Decimal = ZERO
    cash: Decimal | None = None
    unrealized_pnl: Decimal | None = None
    markets: dict[str, MarketStats] = field(default_factory=dict)
    market_closed: bool = False  # the venue did not value this day: the previous day's figures, carried
    flows_known: bool = True  # False: a flow of this day could not be valued (see AccountState)

    def market(self, name: str) -> MarketStats:
        return market_of(self.markets, name)

    def breakdown(self) -> dict[str, object]:
        return breakdown_json(self.markets, flows_known=self.flows_known, market_closed=self.market_closed)

    def check_flows(self) -> None:
        check_flow_amounts(self.deposits, self.withdrawals)


class ConnectorError(Exception):
    """Base of connector failures. Messages never include credentials."""

    kind = "connector"


class AuthError(ConnectorError):
    kind = "auth"


class PermissionRefused(ConnectorError):
    kind = "permission"


class RateLimited(ConnectorError):
    kind = "rate_limited"


class VenueUnavailable(ConnectorError):
    kind = "venue_unavailable"


class MalformedResponse(ConnectorError):
    kind = "malformed_response"


def check_flow_amounts(deposits: Decimal, withdrawals: Decimal) -> None:
    """Refuse a negative deposit or withdrawal amount (never echoing the amount: it is account data)."""
    for name, amount in (("deposits", deposits), ("withdrawals", withdrawals)):
        if not amount >= 0:  # also refuses NaN
            raise MalformedResponse(f"the venue's {name} amount is negative or not a number: a flow is a "
                                    "non-negative amount with a direction")


class Connector(Protocol):
    venue: str

    async def check_credentials(self) -> None: ...

    async def permissions(self) -> set[Permission]: ...

    async def fetch_account_state(self, window: DayWindow) -> AccountState: ...

    async def close(self) -> None: ...




# How far back each sync re-reads deposit/withdrawal history: a flow that completes up to this long after
# its own timestamp is still counted, once, in the window in which the balance shows it. 6 days + a daily
# window = 7 days, one request on venues capping a history query at 7 days. The default: venues whose
# history is cheap to read further back re-scan longer (profiles.LONG_FLOW_LOOKBACK).
FLOW_LOOKBACK = timedelta(days=6)
_BASELINE = "baseline"


@dataclass(frozen=True)
class FlowMemory:
    """Which completed flows a connection has already had counted, by keyed hash of the venue's flow id
    (never the flow itself). Empty at connect: the first fetch then only records what the opening
    balance already holds (`established` False), and every later fetch counts each flow once."""

    key: bytes
    counted: frozenset[str] = frozenset()

    @property
    def established(self) -> bool:
        return self.hash(_BASELINE) in self.counted

    def hash(self, flow_id: str) -> str:
        return hmac.new(self.key, flow_id.encode(), hashlib.sha256).hexdigest()

    def baseline(self) -> str:
        return self.hash(_BASELINE)


@dataclass
class ConnectorOptions:
    """How a connector reaches its venue. base_url comes from ZKA_VENUE_URLS (tests point it at replicas)."""

    base_url: str | None = None
    timeout_s: float = 20.0
    is_paper: bool = False
    # Process-wide cache owned by the app lifespan (e.g. ccxt markets per venue per UTC day).
    cache: dict[str, object] = field(default_factory=dict)
    # Flows already counted for this connection (None: count the window's completed flows only, no memory)
    flow_memory: FlowMemory | None = None


class SupportsBackfill(Protocol):
    """A venue with daily history. `backfill_days` (optional) is how far back a first sync reaches;
    without it, app.services.sync.BACKFILL_DAYS."""

    async def fetch_history(self, *, days: int) -> list[EquityPoint]: ...


class RotatesCredentials(Protocol):
    """Set after a sync when the venue rotated a token (TradeStation); the caller re-encrypts it."""

    rotated_credentials: Credentials | None
