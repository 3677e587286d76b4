"""Alpaca (stocks, options, crypto) through the official alpaca-py SDK.

alpaca-py is synchronous (requests), so every call runs in a worker thread. It is imported lazily: it is
heavy and most processes never sync an Alpaca account.

- Paper vs live: a paper key id starts with `PK` (live keys with `AK`); options.is_paper also selects paper.
  The key decides when they disagree in the paper direction (a PK key only works on the paper host).
- Equity/cash from GET /v2/account; per-market equity = market value of open positions by asset class
  (us_equity -> stocks, us_option -> options, crypto -> spot); unrealized P&L = sum of positions'.
- Flows: money moved into or out of this account from outside it, direction from the sign of
  `net_amount`: CSD/CSW (bank deposits and withdrawals, returned ones included), JNLC (cash journaled
  from or to another account) and ACATC (ACATS cash transfer in or out). Securities moved the same way
  (JNLS journals, ACATS transfers) are flows at their `net_amount`, or qty x the position's current
  price when the activity carries no amount (neither: the row says its flows are unknown). Canceled
  activities count nothing. Non-trade activities carry a date only (00:00 New York), so the query asks
  for whole dates around the window (one day either side) and zka's own day rule (DayWindow.days)
  decides which dated activities the window counts; an empty window (the initial snapshot) asks for
  nothing.
- Trades: FILL activities with transaction_time inside the window (every fill, partial or final,
  counts once; notional = qty x price, x100 for option contracts). Fees: FEE / PTC activities
  (regulatory and pass-through fees).
- Permissions: an Alpaca trading key can always trade and can never withdraw (money movement is not
  available to trading keys), so {READ, TRADE}.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from app.connectors.base import (
    AccountState,
    AuthError,
    ConnectorError,
    ConnectorOptions,
    Credentials,
    DayWindow,
    MalformedResponse,
    Permission,
    RateLimited,
    VenueUnavailable,
)
from app.core.money import to_decimal

if TYPE_CHECKING:
    from alpaca.trading.client import TradingClient

T = TypeVar("T")

# crypto_perp: Alpaca's crypto perpetual futures (alpaca-py AssetClass.CRYPTO_PERP), not stocks
ASSET_CLASS_MARKETS = {"us_equity": "stocks", "us_option": "options", "crypto": "spot", "crypto_perp": "swap"}
CASH_FLOW_TYPES = ("CSD", "CSW", "JNLC", "ACATC")  # external cash in (+) / out (-) by net_amount's sign
SECURITY_FLOW_TYPES = ("JNLS", "ACATS")  # securities journaled or transferred in (+) / out (-)
FEE_TYPES = ("FEE", "PTC")
ACTIVITY_TYPES = ",".join(("FILL", *CASH_FLOW_TYPES, *SECURITY_FLOW_TYPES, *FEE_TYPES))
CANCELED = "canceled"

PAGE_SIZE = 100  # Alpaca's maximum
MAX_PAGES = 200  # 20,000 activities in one day is far beyond any retail account: stop rather than loop
OPTION_SYMBOL = re.compile(r"^[A-Z.]{1,6}\d{6}[CP]\d{8}$")  # OCC: AAPL240119C00150000
OPTION_MULTIPLIER = Decimal(100)


def is_paper_key(api_key: str) -> bool:
    return api_key.strip().upper().startswith("PK")


def _market_for_symbol(symbol: str) -> str:
    if "/" in symbol:
        return "spot"  # crypto pairs are written BTC/USD
    if OPTION_SYMBOL.match(symbol):
        return "options"
    return "stocks"


def _classify(exc: Exception) -> ConnectorError:
    """alpaca-py raises APIError (HTTP status) or requests errors; messages keep no response text."""
    import requests
    from alpaca.common.exceptions import APIError

    if isinstance(exc, APIError):
        status = exc.status_code or 0
        if status in (401, 403):
            return AuthError(f"Alpaca rejected the API key (HTTP {status})")
        if status == 429:
            return RateLimited("Alpaca rate limit (HTTP 429)")
        if status >= 500 or status == 0:
            return VenueUnavailable(f"Alpaca unavailable (HTTP {status})")
        return ConnectorError(f"Alpaca request failed (HTTP {status})")
    if isinstance(exc, requests.RequestException):
        return VenueUnavailable(f"Alpaca unreachable ({exc.__class__.__name__})")
    if isinstance(exc, (ValueError, KeyError, TypeError)):
        return MalformedResponse(f"Alpaca returned an unexpected response ({exc.__class__.__name__})")
    return ConnectorError(f"Alpaca request failed ({exc.__class__.__name__})")


def _build_client(credentials: Credentials, options: ConnectorOptions, paper: bool) -> TradingClient:
    import requests
    from alpaca.trading.client import TradingClient

    client = TradingClient(credentials.api_key.strip(), credentials.api_secret.strip(), paper=paper,
                           url_override=options.base_url.rstrip("/") if options.base_url else None)
    # alpaca-py's requests.Session has no timeout (a hung venue would pin a worker thread forever) and it
    # sleeps 3 s per 429 retry inside the thread; our scheduler owns retries and backoff instead.
    timeout = options.timeout_s

    class _TimeoutSession(requests.Session):
        def request(self, *args: Any, **kwargs: Any) -> requests.Response:
            kwargs.setdefault("timeout", timeout)
            return super().request(*args, **kwargs)

    client._session = _TimeoutSession()
    client._retry = 0
    return client


class AlpacaConnector:
    venue = "alpaca"

    def __init__(self, credentials: Credentials, options: ConnectorOptions) -> None:
        if not credentials.api_key.strip() or not credentials.api_secret.strip():
            raise AuthError("Alpaca needs an API key id and secret")
        self.is_paper = options.is_paper or is_paper_key(credentials.api_key)
        self._credentials = credentials
        self._options = options
        self._client: TradingClient | None = None
        self._checked_account: Any = None  # the account read by check_credentials, used once by the fetch

    async def _call(self, fn: Callable[[TradingClient], T]) -> T:
        def run() -> T:
            if self._client is None:
                self._client = _build_client(self._credentials, self._options, self.is_paper)
            return fn(self._client)

        try:
            return await asyncio.to_thread(run)
        except ConnectorError:
            raise
        except Exception as exc:
            raise _classify(exc) from None

    # -- protocol

    async def check_credentials(self) -> None:
        # The account itself proves the key; connecting fetches the state right after, so keep it.
        self._checked_account = await self._call(lambda c: c.get_account())

    async def permissions(self) -> set[Permission]:
        return {Permission.READ, Permission.TRADE}

    async def fetch_account_state(self, window: DayWindow) -> AccountState:
        account, self._checked_account = self._checked_account, None
        if account is None:
            account = await self._call(lambda c: c.get_account())
        positions = await self._call(lambda c: c.get_all_positions())
        activities = await self._activities(window)
        state = AccountState(total_equity=to_decimal(getattr(account, "equity", None)),
                             cash=to_decimal(getattr(account, "cash", None)))
        self._add_positions(state, positions)
        prices = {str(getattr(p, "symbol", "")): to_decimal(getattr(p, "current_price", None))
                  for p in positions or []}
        self._add_activities(state, activities, window, prices)
        return state

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await asyncio.to_thread(client._session.close)

    # -- mapping

    @staticmethod
    def _add_positions(state: AccountState, positions: Any) -> None:
        for position in positions or []:
            asset_class = str(getattr(position.asset_class, "value", position.asset_class) or "us_equity")
            market = ASSET_CLASS_MARKETS.get(asset_class, "stocks")
            state.market(market).equity += to_decimal(position.market_value)
            state.unrealized_pnl += to_decimal(position.unrealized_pl)

    async def _activities(self, window: DayWindow) -> list[dict[str, Any]]:
        """GET /v2/account/activities for the window, paging with page_token (the last id seen).

        Whole dates, one either side: a non-trade activity is dated 00:00 New York, which an exact
        `after` instant later that day (a connect, the window after a late run) would exclude. What the
        window counts is decided here, not by the venue's range. An empty window asks for nothing."""
        if window.start >= window.end:
            return []
        first_day, _ = window.days()
        params: dict[str, Any] = {
            "activity_types": ACTIVITY_TYPES, "after": (first_day - timedelta(days=1)).isoformat(),
            "until": (window.end.date() + timedelta(days=1)).isoformat(), "direction": "asc",
            "page_size": PAGE_SIZE,
        }
        out: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            query = dict(params)
            page: Any = await self._call(lambda c: c.get("/account/activities", query))  # noqa: B023
            if not isinstance(page, list):
                raise MalformedResponse("Alpaca activities response is not a list")
            out.extend(item for item in page if isinstance(item, dict))
            if len(page) < PAGE_SIZE or not page[-1].get("id"):
                return out
            params["page_token"] = page[-1]["id"]
        raise MalformedResponse(f"Alpaca returned more than {MAX_PAGES} pages of activities for one window")

    @staticmethod
    def _add_activities(state: AccountState, activities: list[dict[str, Any]], window: DayWindow,
                        prices: dict[str, Decimal]) -> None:
        # Non-trade activities carry only a date (the US trading day); trades a precise transaction_time.
        first_day, last_day = window.days()
        seen: set[str] = set()
        for item in activities:
            key = str(item.get("id") or "")
            if key and key in seen:
                continue
            seen.add(key)
            if str(item.get("status") or "").lower() == CANCELED:
                continue
            kind = str(item.get("activity_type") or "")
            if kind == "FILL":
                _add_fill(state, item, window)
                continue
            day = _parse_day(item.get("date"))
            if day is None or not first_day <= day <= last_day:
                continue
            if kind in CASH_FLOW_TYPES:
                _add_flow(state, to_decimal(item.get("net_amount")))
            elif kind in SECURITY_FLOW_TYPES:
                value = _security_value(item, prices)
                if value is None:  # a transfer we cannot value: say the window's flows are not known
                    state.flows_known = False
                else:
                    _add_flow(state, value)
            elif kind in FEE_TYPES:
                state.market(_market_for_symbol(str(item.get("symbol") or ""))).fees -= to_decimal(
                    item.get("net_amount"))


def _add_flow(state: AccountState, amount: Decimal) -> None:
    if amount > 0:
        state.deposits += amount
    else:
        state.withdrawals -= amount


def _security_value(item: dict[str, Any], prices: dict[str, Decimal]) -> Decimal | None:
    """A securities journal/transfer: its net_amount when it states one, else qty x the position's current
    price (the snapshot's price, as crypto flows are valued). Neither: None (unknown, never 0)."""
    amount = to_decimal(item.get("net_amount"))
    if amount:
        return amount
    qty, symbol = to_decimal(item.get("qty")), str(item.get("symbol") or "")
    price = prices.get(symbol)
    if qty and price:
        return qty * price * (OPTION_MULTIPLIER if _market_for_symbol(symbol) == "options" else 1)
    return None


def _add_fill(state: AccountState, item: dict[str, Any], window: DayWindow) -> None:
    when = _parse_time(item.get("transaction_time"))
    if when is None or not window.start <= when < window.end:
        return
    symbol = str(item.get("symbol") or "")
    market = _market_for_symbol(symbol)
    notional = abs(to_decimal(item.get("qty")) * to_decimal(item.get("price")))
    if market == "options":
        notional *= OPTION_MULTIPLIER
    stats = state.market(market)
    stats.trades += 1
    stats.volume += notional


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _parse_day(value: object) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def create(venue: str, credentials: Credentials, options: ConnectorOptions) -> AlpacaConnector:
    if venue != "alpaca":
        raise ValueError(f"alpaca connector cannot serve {venue[:32]!r}")
    return AlpacaConnector(credentials, options)
