"""TradeStation v3 brokerage API over httpx, OAuth 2.0 refresh-token flow.

Credentials: `api_key` = OAuth client_id, `api_secret` = client_secret, refresh token = `passphrase`
(or `extra["refresh_token"]`; the passphrase wins when both are set). Optional `extra["account_ids"]`
(comma-separated) restricts the sync to those accounts; by default every active account is aggregated.

Each sync: POST {auth}/oauth/token (grant_type=refresh_token) -> access token (kept in memory for this
connector only). When TradeStation rotates the refresh token (the token response carries a different
refresh_token), the connector switches to it and exposes `rotated_credentials`; the caller must re-encrypt
and persist it **even if the sync later fails**, because the old refresh token may already be void.

Fetched across all accounts: /v3/brokerage/accounts, /accounts/{ids}/balances (equity, cash, unrealized),
/positions (per-market equity), /historicalorders?since=D and /orders (today's orders, which
historicalorders leaves out; a window ending at 00:00 UTC is still "today" in New York). Numbers arrive
as strings. A trade = an order with executed quantity, closed inside the window (a partially filled order
is counted when it closes); notional = sum over legs of executed qty x execution price (x100 for option
legs); fees = CommissionFee + UnbundledRouteFee, once per order.

Not available from the v3 API: cash deposits/withdrawals history (so deposits/withdrawals stay 0 and the
state says `flows_known=False`, which reports surface) and futures point values (futures notional is
qty x price, no point value).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

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
from app.connectors.tls import shared_tls_context
from app.core.money import ZERO, to_decimal

AUTH_BASE_URL = "https://signin.tradestation.com"
LIVE_API_URL = "https://api.tradestation.com"
SIM_API_URL = "https://sim-api.tradestation.com"
ACCOUNTS_PER_REQUEST = 25  # TradeStation's limit for comma-separated account ids
ORDERS_PAGE_SIZE = 600  # historicalorders maximum
MAX_PAGES = 50
TOKEN_MARGIN_S = 60.0  # refresh a minute before the access token expires

ASSET_MARKETS = {
    "STOCK": "stocks", "STOCKOPTION": "options", "INDEXOPTION": "options", "FUTURE": "futures",
    "FUTUREOPTION": "options", "FOREX": "forex", "CRYPTO": "spot",
}
OPTION_TYPES = {"STOCKOPTION", "INDEXOPTION"}
OPTION_MULTIPLIER = Decimal(100)




def _dec(value: object) -> Decimal:
    try:
        return to_decimal(value)
    except ValueError:
        raise MalformedResponse("TradeStation sent a malformed number") from None


class TradeStationConnector:
    venue = "tradestation"

    def __init__(
        self,
        credentials: Credentials,
        options: ConnectorOptions,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._credentials = credentials
        self._refresh_from_passphrase = bool(credentials.passphrase)
        self._refresh_token = (credentials.passphrase or credentials.extra.get("refresh_token") or "").strip()
        if not (credentials.api_key.strip() and credentials.api_secret.strip() and self._refresh_token):
            raise AuthError("TradeStation needs client_id (api_key), client_secret (api_secret) and a "
                            "refresh token (passphrase)")
        override = options.base_url.rstrip("/") if options.base_url else None
        self._auth_base = override or AUTH_BASE_URL
        self._api_base = override or (SIM_API_URL if options.is_paper else LIVE_API_URL)
        wanted = credentials.extra.get("account_ids", "")
        self._wanted_ids = {a.strip() for a in wanted.split(",") if a.strip()}
        self._client = httpx.AsyncClient(timeout=options.timeout_s, follow_redirects=False,
                                         verify=shared_tls_context(), transport=transport)
        self._clock = clock
        self._access_token: str | None = None
        self._expires_at = 0.0
        self._scopes: set[str] | None = None
        self._currencies: dict[str, str] = {}
        self._ids: set[str] | None = None  # listed once per connector: connect checks, then fetches
        self.rotated_credentials: Credentials | None = None

    # -- protocol

    async def check_credentials(self) -> None:
        await self._account_ids()

    async def permissions(self) -> set[Permission]:
        """From the token's scopes: ReadAccount -> read, Trade -> trade. The API cannot withdraw."""
        await self._token()
        if self._scopes is None:
            return {Permission.READ, Permission.UNKNOWN}
        granted = {Permission.READ} if "ReadAccount" in self._scopes else set()
        if "Trade" in self._scopes:
            granted.add(Permission.TRADE)
        return granted or {Permission.UNKNOWN}

    async def fetch_account_state(self, window: DayWindow) -> AccountState:
        ids = await self._account_ids()
        if not ids:
            raise ConnectorError("TradeStation lists no active account for these credentials")
        # No cash-transfer history in v3: the 0 deposits/withdrawals below are unknown, not known zeros.
        state = AccountState(total_equity=ZERO, flows_known=False)
        for chunk in _chunks(sorted(ids)):
            joined = ",".join(chunk)
            balances = await self._get(f"/v3/brokerage/accounts/{joined}/balances")
            self._add_balances(state, balances, set(chunk), self._currencies)
            self._add_positions(state, await self._get(f"/v3/brokerage/accounts/{joined}/positions"))
            if window.start >= window.end:
                continue  # an empty window (the initial snapshot) has no orders to ask for
            orders = await self._orders(joined, window)
            for order in orders.values():
                _add_order(state, order, window)
        return state

    async def close(self) -> None:
        await self._client.aclose()

    # -- OAuth

    async def _token(self) -> str:
        if self._access_token and self._clock() < self._expires_at - TOKEN_MARGIN_S:
            return self._access_token
        form = {
            "grant_type": "refresh_token", "client_id": self._credentials.api_key.strip(),
            "client_secret": self._credentials.api_secret.strip(), "refresh_token": self._refresh_token,
        }
        try:
            response = await self._client.post(self._auth_base + "/oauth/token", data=form)
        except httpx.TimeoutException:
            raise VenueUnavailable("TradeStation sign-in timed out") from None
        except httpx.HTTPError as exc:
            raise VenueUnavailable(f"TradeStation sign-in unreachable ({exc.__class__.__name__})") from None
        if response.status_code in (400, 401, 403):
            raise AuthError(f"TradeStation refused the refresh token ({_oauth_error(response)}); reconnect "
                            "the account")
        body = self._json(response, "sign-in")
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise MalformedResponse("TradeStation sign-in returned no access token")
        self._access_token = token
        self._expires_at = self._clock() + float(_dec(body.get("expires_in") or 1200))
        scope = body.get("scope")
        self._scopes = set(scope.split()) if isinstance(scope, str) and scope else None
        self._maybe_rotate(body.get("refresh_token"))
        return token

    def _maybe_rotate(self, new_token: object) -> None:
        if not isinstance(new_token, str) or not new_token or new_token == self._refresh_token:
            return
        self._refresh_token = new_token
        old = self._credentials
        if self._refresh_from_passphrase:
            self.rotated_credentials = Credentials(old.api_key, old.api_secret, new_token, dict(old.extra))
        else:
            self.rotated_credentials = Credentials(old.api_key, old.api_secret, old.passphrase,
                                                   {**old.extra, "refresh_token": new_token})

    # -- REST

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        token = await self._token()
        try:
            response = await self._client.get(self._api_base + path, params=params,
                                              headers={"Authorization": f"Bearer {token}"})
        except httpx.TimeoutException:
            raise VenueUnavailable("TradeStation timed out") from None
        except httpx.HTTPError as exc:
            raise VenueUnavailable(f"TradeStation unreachable ({exc.__class__.__name__})") from None
        body = self._json(response, "API")
        if not isinstance(body, dict):
            raise MalformedResponse("TradeStation returned a non-object response")
        return body

    @staticmethod
    def _json(response: httpx.Response, what: str) -> Any:
        status = response.status_code
        if status == 401:
            raise AuthError(f"TradeStation {what} rejected the access token (HTTP 401)")
        if status == 403:
            raise AuthError(f"TradeStation {what} refused access (HTTP 403); the key needs ReadAccount scope")
        if status == 429:
            raise RateLimited(f"TradeStation {what} rate limit (HTTP 429)")
        if status >= 500:
            raise VenueUnavailable(f"TradeStation {what} unavailable (HTTP {status})")
        if status >= 400:
            raise ConnectorError(f"TradeStation {what} request failed (HTTP {status})")
        try:
            return response.json()
        except ValueError:
            raise MalformedResponse(f"TradeStation {what} returned invalid JSON") from None

    async def _account_ids(self) -> set[str]:
        if self._ids is None:
            self._ids = await self._list_accounts()
        return self._ids

    async def _list_accounts(self) -> set[str]:
        body = await self._get("/v3/brokerage/accounts")
        ids = set()
        for account in _list(body, "Accounts"):
            account_id = str(account.get("AccountID") or "")
            if not account_id or (account.get("Status") or "Active") != "Active":
                continue
            if not self._wanted_ids or account_id in self._wanted_ids:
                ids.add(account_id)
                self._currencies[account_id] = str(account.get("Currency") or "USD").upper()
        if self._wanted_ids - ids:
            missing = len(self._wanted_ids - ids)
            raise ConnectorError(f"TradeStation did not list {missing} configured account(s)")
        return ids

    async def _orders(self, joined: str, window: DayWindow) -> dict[str, dict[str, Any]]:
        """Historical orders since the window's first day plus today's orders, de-duplicated by OrderID."""
        orders: dict[str, dict[str, Any]] = {}
        history = {"since": window.start.date().isoformat(), "pageSize": ORDERS_PAGE_SIZE}
        for path, params in ((f"/v3/brokerage/accounts/{joined}/historicalorders", history),
                             (f"/v3/brokerage/accounts/{joined}/orders", {"pageSize": ORDERS_PAGE_SIZE})):
            async for order in self._paged_orders(path, params):
                orders.setdefault(str(order.get("OrderID") or id(order)), order)
        return orders

    async def _paged_orders(self, path: str, params: dict[str, Any]) -> Any:
        token: str | None = None
        for _ in range(MAX_PAGES):
            body = await self._get(path, {**params, **({"nextToken": token} if token else {})})
            page = _list(body, "Orders")
            for order in page:
                yield order
            next_token = body.get("NextToken")
            if not page or not isinstance(next_token, str) or not next_token or next_token == token:
                return
            token = next_token

    # -- mapping

    @staticmethod
    def _add_balances(
        state: AccountState, body: dict[str, Any], ids: set[str], currencies: dict[str, str],
    ) -> None:
        failed = [e for e in _list(body, "Errors") if str(e.get("AccountID") or "") in ids]
        if failed:
            # Equity without one of the accounts would be silently wrong: fail the sync instead.
            raise ConnectorError(f"TradeStation returned no balances for {len(failed)} account(s) "
                                 f"({str(failed[0].get('Error') or 'error')[:40]})")
        rows = [b for b in _list(body, "Balances") if str(b.get("AccountID") or "") in ids]
        missing = ids - {str(b.get("AccountID")) for b in rows}
        if missing:
            raise MalformedResponse(f"TradeStation returned no balances for {len(missing)} account(s)")
        for balance in rows:
            account_id = str(balance.get("AccountID"))
            currency = currencies.get(account_id, "USD")
            if currency != "USD":  # no FX source here: list it rather than add apples to oranges
                previous = to_decimal(state.unpriced_assets.get(currency))
                state.unpriced_assets[currency] = str(previous + _dec(balance.get("Equity")))
                continue
            state.total_equity += _dec(balance.get("Equity"))
            state.cash += _dec(balance.get("CashBalance"))
            state.unrealized_pnl += _unrealized(balance)

    @staticmethod
    def _add_positions(state: AccountState, body: dict[str, Any]) -> None:
        for position in _list(body, "Positions"):
            asset_type = str(position.get("AssetType") or "STOCK").upper()
            market = ASSET_MARKETS.get(asset_type, "stocks")
            rate = _dec(position.get("ConversionRate")) or Decimal(1)
            # Futures are margined: their notional is not owned value, their open P&L is.
            field = "UnrealizedProfitLoss" if market == "futures" else "MarketValue"
            state.market(market).equity += _dec(position.get(field)) * rate


def _unrealized(balance: dict[str, Any]) -> Decimal:
    detail = balance.get("BalanceDetail")
    if isinstance(detail, dict) and detail.get("UnrealizedProfitLoss") not in (None, ""):
        return _dec(detail.get("UnrealizedProfitLoss"))
    total = ZERO
    for currency in balance.get("CurrencyDetails") or []:
        if isinstance(currency, dict):
            rate = _dec(currency.get("AccountConversionRate")) or Decimal(1)
            value = currency.get("UnrealizedProfitLoss") or currency.get("RealTimeUnrealizedGains")
            total += _dec(value) * rate
    return total


def _add_order(state: AccountState, order: dict[str, Any], window: DayWindow) -> None:
    closed = _parse_time(order.get("ClosedDateTime"))
    if closed is None or not window.start <= closed < window.end:
        return
    legs = [leg for leg in order.get("Legs") or []
            if isinstance(leg, dict) and _dec(leg.get("ExecQuantity")) > 0]
    if not legs:
        return
    first_market = ASSET_MARKETS.get(str(legs[0].get("AssetType") or "STOCK").upper(), "stocks")
    for leg in legs:
        asset_type = str(leg.get("AssetType") or "STOCK").upper()
        price = _dec(leg.get("ExecutionPrice") or order.get("FilledPrice"))
        notional = abs(_dec(leg.get("ExecQuantity")) * price)
        if asset_type in OPTION_TYPES:
            notional *= OPTION_MULTIPLIER
        state.market(ASSET_MARKETS.get(asset_type, "stocks")).volume += notional
    stats = state.market(first_market)
    stats.trades += 1
    stats.fees += _dec(order.get("CommissionFee")) + _dec(order.get("UnbundledRouteFee"))


def _list(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = body.get(key) or []
    if not isinstance(value, list):
        raise MalformedResponse(f"TradeStation field {key} is not a list")
    return [item for item in value if isinstance(item, dict)]


def _chunks(ids: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), ACCOUNTS_PER_REQUEST):
        yield ids[start:start + ACCOUNTS_PER_REQUEST]


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _oauth_error(response: httpx.Response) -> str:
    """Only the OAuth error code (e.g. invalid_grant): descriptions are free text we do not echo."""
    try:
        code = response.json().get("error", "")
    except (ValueError, AttributeError):
        code = ""
    code = code if isinstance(code, str) and re.fullmatch(r"[a-z_]{1,40}", code) else ""
    return code or f"HTTP {response.status_code}"


def create(venue: str, credentials: Credentials, options: ConnectorOptions) -> TradeStationConnector:
    if venue != "tradestation":
        raise ValueError(f"tradestation connector cannot serve {venue[:32]!r}")
    return TradeStationConnector(credentials, options)
