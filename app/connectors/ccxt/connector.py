"""CcxtConnector: one ccxt client per call, always closed; only aggregates leave.

fetch_account_state(window):
1. markets (cached per venue per UTC day) and one fetch_tickers() -> PriceBook (pricing.py rules);
2. every wallet of the venue profile (profiles.py) -> every asset valued in USD; unpriced ones listed;
3. positions -> unrealized PnL (added to equity only where balances exclude it: kraken margin);
4. deposits/withdrawals of the window, status ok, internal transfers excluded, valued at today's price;
5. funding of the window; trades of the window per market: count, notional (contract size applied), fees.
History read through ccxt's own paginator is checked for its silent call cap (complete()).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

from app.connectors.base import (
    AccountState,
    AuthError,
    ConnectorError,
    ConnectorOptions,
    Credentials,
    DayWindow,
    Permission,
    PermissionRefused,
)
from app.connectors.ccxt import (
    activity,
    bingx,
    bitget,
    bybit,
    coinbase,
    deribit,
    discovery,
    extras,
    fiat,
    gate,
    htx,
    hyperliquid,
    kraken,
    kucoin,
    mexc,
    okx,
)
from app.connectors.ccxt.balance_shape import check_balance_shape
from app.connectors.ccxt.client import counted, load_markets_cached, new_exchange
from app.connectors.ccxt.errors import to_connector_error
from app.connectors.ccxt.holdings import Holding, fetch_wallet, value_holdings
from app.connectors.ccxt.permissions import fetch_permissions
from app.connectors.ccxt.pricing import PriceBook
from app.connectors.ccxt.profiles import PROFILES, TradeScope, VenueProfile
from app.core.money import ZERO

log = logging.getLogger(__name__)
# venue modules: fixes applied to each new client, and wallets read beside fetch_balance
_ADAPT: dict[str, Callable[[Any], None]] = {"bitget": bitget.adapt, "kucoin": kucoin.adapt}
_EXTRA_WALLETS = {"bitget": bitget.EXTRA_WALLETS, "kucoin": kucoin.EXTRA_WALLETS}
T = TypeVar("T")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class CcxtConnector:
    def __init__(self, venue: str, credentials: Credentials, options: ConnectorOptions) -> None:
        self.venue = venue
        self._profile: VenueProfile = PROFILES[venue]
        self._credentials = credentials
        self._options = options

    # -- protocol ---------------------------------------------------------------------------------

    async def check_credentials(self) -> None:
        if self._profile.wallet_address and not _ADDRESS.match(self._credentials.api_key):
            raise AuthError(f"{self.venue}: api_key must be a 0x wallet address (40 hex digits)")
        await self._run("check_credentials", self._probe)

    async def permissions(self) -> set[Permission]:
        return await self._run("permissions", lambda ex: fetch_permissions(ex, self._profile.permissions))

    async def fetch_account_state(self, window: DayWindow) -> AccountState:
        return await self._run("fetch_account_state", lambda ex: self._state(ex, window))

    async def close(self) -> None:
        """Nothing to release: each call opens and closes its own ccxt client."""

    # -- plumbing ---------------------------------------------------------------------------------

    def _secrets(self) -> list[str]:
        c = self._credentials
        return [value for value in (c.api_key, c.api_secret, c.passphrase, *c.extra.values()) if value]

    async def _run(self, action: str, work: Callable[[Any], Awaitable[T]]) -> T:
        """Create a client, run, always close; map errors outside the except (no chained ccxt text)."""
        exchange = None
        error: ConnectorError | None = None
        try:
            exchange = new_exchange(self._profile, self._credentials, self._options)
            if self._profile.ccxt_id in _ADAPT:
                _ADAPT[self._profile.ccxt_id](exchange)
            return await work(exchange)
        except Exception as exc:  # noqa: BLE001 - every failure is mapped to a ConnectorError
            error = to_connector_error(exc, self.venue, action, self._secrets())
        finally:
            if exchange is not None:
                await _close(exchange)
        log.warning("connector call failed",
                    extra={"venue": self.venue, "action": action, "error": error.kind})
        raise error

    async def _probe(self, exchange: Any) -> None:
        await load_markets_cached(exchange, self._profile, self._options)
        wallet = self._profile.wallets[0]
        balance = await exchange.fetch_balance(dict(wallet.params))
        check_balance_shape(self.venue, wallet, balance.get("info"))

    # -- the state --------------------------------------------------------------------------------

    async def _state(self, exchange: Any, window: DayWindow) -> AccountState:
        profile = self._profile
        await load_markets_cached(exchange, profile, self._options)
        holdings, tickers = await gather_all(
            self._holdings(exchange), self._tickers(exchange)
        )
        book = PriceBook(tickers)
        state = AccountState(total_equity=ZERO)
        state.cash = value_holdings(state, holdings, book)
        markets = exchange.markets
        held = sorted({asset for holding in holdings for asset in holding.amounts})
        positions, txs, funding, commission = await gather_all(
            self._positions(exchange, holdings),
            self._flows(exchange, activity.flow_scan(window, self._options.flow_memory, profile.flow_lookback), held),
            self._funding(exchange, window),
            self._commission_symbols(exchange, window),
        )
        self._add_positions(state, positions, markets, book)
        state.unrealized_pnl += _wallet_upl(holdings, book)
        activity.add_flows(state, txs, book, window, self._options.flow_memory, profile.flow_lookback)
        activity.add_funding(state, funding, markets, book, window, profile.funding_sign)
        hints = [p.get("symbol") for p in positions] + [f.get("symbol") for f in funding] + commission
        assets = {a for h in holdings if h.market != "swap" for a in h.amounts}
        assets |= {str(t.get("currency")) for t in txs}
        margin_assets = {a for h in holdings if h.market == "margin" for a in h.amounts}
        unvalued = 0
        for scope in profile.trades:
            symbols = self._scope_symbols(scope, markets, assets, margin_assets, hints)
            trades = await self._trades(exchange, scope, symbols, window)
            unvalued += activity.add_trades(state, trades, scope, markets, book, window)
        if unvalued:
            log.warning("trades with unpriced volume or fee", extra={"venue": self.venue, "count": unvalued})
        return state

    async def _tickers(self, exchange: Any) -> dict[str, Any]:
        if self._profile.flows == "deribit":
            return await deribit.deribit_tickers(exchange)  # one currency per call
        tickers: dict[str, Any] = await exchange.fetch_tickers(None, dict(self._profile.tickers_params))
        return tickers

    async def _holdings(self, exchange: Any) -> list[Holding]:
        secrets = self._secrets()
        tasks = [fetch_wallet(exchange, wallet, self.venue, secrets) for wallet in self._profile.wallets]
        results = await gather_all(*tasks)
        holdings = [holding for holding in results if holding is not None]
        if self._profile.earn == "binance":
            earn = await extras.binance_earn(exchange)
            extras.drop_binance_earn_receipts(holdings, earn)
            holdings.append(Holding("earn", "earn", earn))
        elif self._profile.earn == "okx":
            holdings.append(Holding("earn", "earn", await okx.okx_earn(exchange)))
        elif self._profile.flows == "hyperliquid":
            holdings += await hyperliquid.hyperliquid_holdings(exchange, self._credentials.api_key)
        elif self._profile.earn in ("bybit", "gate"):  # the key may lack the venue's earn permission
            read = extras.bybit_earn(exchange) if self._profile.earn == "bybit" else gate.gate_earn(exchange)
            staked = await self._optional_wallet("earn", read)
            if staked is not None:
                holdings.append(Holding("earn", "earn", staked))
        elif self._profile.earn in _EXTRA_WALLETS:
            for name, reader in _EXTRA_WALLETS[self._profile.earn]:
                extra = await self._optional_wallet(name, reader(exchange))
                if extra is not None:
                    holdings.append(extra)
        return holdings

    async def _optional_wallet(self, name: str, read: Awaitable[T]) -> T | None:
        """A wallet the key may not be allowed to read (bybit Earn needs its own permission): skipped, logged."""
        error: ConnectorError | None = None
        try:
            return await read
        except Exception as exc:  # noqa: BLE001 - mapped; only a refused permission is skipped
            error = to_connector_error(exc, self.venue, f"wallet[{name}]", self._secrets())
        if isinstance(error, PermissionRefused | AuthError):
            log.warning("wallet skipped", extra={"venue": self.venue, "wallet": name, "error": error.kind})
            return None
        raise error

    async def _positions(self, exchange: Any, holdings: list[Holding]) -> list[dict[str, Any]]:
        if self._profile.ccxt_id == "bitget":
            return await bitget.bitget_positions(exchange, holdings)
        out: list[dict[str, Any]] = []
        for params in self._profile.positions:
            out.extend(await exchange.fetch_positions(None, dict(params)))
        return out

    def _add_positions(self, state: AccountState, positions: list[dict[str, Any]], markets: Any,
                       book: PriceBook) -> None:
        upl = activity.positions_upl(positions, markets, book)
        state.unrealized_pnl = upl
        if self._profile.positions_add_upl and upl != ZERO:
            state.total_equity += upl
            state.market("margin").equity += upl

    async def _flows(self, exchange: Any, window: DayWindow, held: list[str]) -> list[dict[str, Any]]:
        profile = self._profile
        if profile.flows == "none":
            return []
        if profile.flows == "okx":
            return await okx.okx_flows(exchange, window)
        if profile.flows == "deribit":
            return await deribit.deribit_flows(exchange, window, held)
        if profile.flows == "hyperliquid":
            return await hyperliquid.hyperliquid_flows(exchange, window, self._credentials.api_key)
        if profile.flows == "gate":
            return await gate.gate_flows(exchange, window)
        if profile.flows == "mexc":
            return await mexc.mexc_flows(exchange, window)
        if profile.flows == "coinbase":
            # Known gap: a currency deposited and fully converted within the day is not held any more.
            return await coinbase.coinbase_flows(exchange, window, held)
        if profile.flows == "kraken":
            return await kraken.kraken_flows(exchange, window)
        if profile.flows == "futures_transfers":
            return await extras.binance_futures_transfers(exchange, window)
        if profile.flows == "htx":
            return await htx.htx_flows(exchange, window)
        if profile.flows == "bingx":
            return await bingx.bingx_flows(exchange, window)
        if profile.flows == "bitget":
            return await bitget.bitget_flows(exchange, window)
        if profile.flows == "kucoin":
            return await kucoin.kucoin_flows(exchange, window)
        calls = []
        for piece in window.split(profile.flow_max_span):
            params = activity.window_params(piece, profile.flow_paginate)
            if profile.flows == "per_code":
                # Known gap: a currency deposited and fully converted within the day is not held any more.
                calls += [exchange.fetch_deposits_withdrawals(code, piece.start_ms, None, dict(params))
                          for code in held if code != "USD"]
            elif profile.flow_offset_page:
                calls += [_offset_pages(exchange.fetch_deposits, piece.start_ms, params, profile.flow_offset_page),
                          _offset_pages(exchange.fetch_withdrawals, piece.start_ms, params, profile.flow_offset_page)]
            else:
                calls += [complete(_history(fetch, None, {}, profile.flow_paginate), piece, profile.flow_paginate)
                          for fetch in (exchange.fetch_deposits, exchange.fetch_withdrawals)]
        if profile.fiat == "binance":
            calls.append(fiat.binance_fiat_flows(exchange, window))
        if profile.ccxt_id == "bybit":  # off-chain deposits from other bybit users: not in ccxt's history
            calls.append(bybit.bybit_internal_deposits(exchange, window))
        pages = await gather_all(*calls)
        return [tx for page in pages for tx in page]

    async def _funding(self, exchange: Any, window: DayWindow) -> list[dict[str, Any]]:
        if self._profile.flows == "okx":
            return await okx.okx_funding(exchange, window)
        if self._profile.flows == "hyperliquid":
            return await hyperliquid.hyperliquid_funding(exchange, window, self._credentials.api_key)
        if self._profile.flows == "gate":
            return await gate.gate_funding(exchange, window)
        if self._profile.flows == "mexc":
            return await mexc.mexc_funding(exchange, window)
        if self._profile.flows == "bitget":
            return await bitget.bitget_funding(exchange, window)
        out: list[dict[str, Any]] = []
        paginate = self._profile.funding_paginate
        for params in self._profile.funding:
            fetch = _history(exchange.fetch_funding_history, None, params, paginate)
            for piece in window.split(self._profile.funding_max_span):
                out.extend(await complete(fetch, piece, paginate))
        return out

    async def _commission_symbols(self, exchange: Any, window: DayWindow) -> list[str]:
        if self._profile.ccxt_id not in ("binance", "binanceusdm", "binancecoinm"):
            return []
        return await discovery.binance_commission_symbols(exchange, window)

    @staticmethod
    def _scope_symbols(scope: TradeScope, markets: Any, assets: set[str], margin_assets: set[str],
                       hints: Iterable[object]) -> list[str | None]:
        if scope.per_symbol is None:
            return [None]
        if scope.per_symbol == "spot":
            return list(discovery.spot_symbols(markets, assets, margin=False))
        if scope.per_symbol == "margin":
            return list(discovery.spot_symbols(markets, margin_assets, margin=True)) if margin_assets else []
        return list(discovery.contract_symbols(markets, scope.per_symbol, [str(h) for h in hints if h]))

    async def _trades(self, exchange: Any, scope: TradeScope, symbols: list[str | None],
                      window: DayWindow) -> list[dict[str, Any]]:
        if self._profile.flows == "deribit":
            return await deribit.deribit_trades(exchange, str(scope.params["code"]), window)
        if self._profile.flows == "hyperliquid":
            return await hyperliquid.hyperliquid_trades(exchange, window, self._credentials.api_key)
        pieces = [(symbol, piece) for symbol in symbols for piece in window.split(scope.max_span)]
        if scope.offset_page and scope.page_cursor == "until":
            calls = [_until_pages(exchange.fetch_my_trades, symbol, piece, scope.params, scope.offset_page)
                     for symbol, piece in pieces]
        elif scope.offset_page:
            calls = [_offset_pages(functools.partial(_for_symbol, exchange.fetch_my_trades, symbol), piece.start_ms,
                                   {**scope.params, **activity.window_params(piece, False)}, scope.offset_page,
                                   scope.page_cursor) for symbol, piece in pieces]
        else:
            size = self._profile.page_size
            calls = [complete(_history(exchange.fetch_my_trades, symbol, scope.params, scope.paginate, size),
                              piece, scope.paginate)
                     for symbol, piece in pieces]
        pages = await gather_all(*calls)
        return [trade for page in pages for trade in page]


def _wallet_upl(holdings: Iterable[Holding], book: PriceBook) -> Decimal:
    """Open PnL the wallets report themselves (Wallet.upl_field), where positions do not (mexc)."""
    return total(book.value(code, pnl) or ZERO for holding in holdings for code, pnl in holding.unrealized.items())


MIN_PAGINATED_SPAN = timedelta(minutes=1)


def _history(fetch: Callable[..., Awaitable[list[dict[str, Any]]]], symbol: str | None, params: dict[str, object],
             paginate: bool, page_size: int | None = None) -> Callable[[DayWindow], Awaitable[list[dict[str, Any]]]]:
    """One ccxt history method (trades, deposits, withdrawals, funding) asked for one window."""

    async def read(window: DayWindow) -> list[dict[str, Any]]:
        return await fetch(symbol, window.start_ms, None,
                           {**params, **activity.window_params(window, paginate, page_size)})

    return read


async def complete(fetch: Callable[[DayWindow], Awaitable[list[dict[str, Any]]]], window: DayWindow,
                   paginate: bool) -> list[dict[str, Any]]:
    """Every row of `window`, even where ccxt's paginator stops at its call cap without a word (it returns
    what it has after PAGINATION_CALLS requests, issue 19): a walk that used every call may have been cut,
    so the window is read again in two halves, down to MIN_PAGINATED_SPAN; a minute still too long to read
    fails the sync (recorded) rather than count part of it."""
    if not paginate:
        return await fetch(window)
    rows, requests = await counted(fetch(window))
    if requests < activity.PAGINATION_CALLS:
        return rows
    if window.end - window.start <= MIN_PAGINATED_SPAN:
        raise ConnectorError(f"more than {activity.PAGINATION_CALLS} pages of history in {MIN_PAGINATED_SPAN}")
    middle = window.start + (window.end - window.start) / 2
    log.info("paginated history split", extra={"span_s": (window.end - window.start).total_seconds()})
    first = await complete(fetch, DayWindow(window.start, middle), paginate)
    return first + await complete(fetch, DayWindow(middle, window.end), paginate)


MAX_OFFSET_PAGES = 50


async def _offset_pages(fetch: Callable[..., Awaitable[list[dict[str, Any]]]], since: int, params: dict[str, object],
                        page: int, cursor: str = "offset") -> list[dict[str, Any]]:
    """`limit` = the venue's maximum and `offset` (or a 1-based `page`) on, until a short page (binance
    deposit and withdrawal history: 1,000 rows a request; without paging a busier range lost the rest
    without a word)."""
    rows: list[dict[str, Any]] = []
    for number in range(MAX_OFFSET_PAGES):
        position = number * page if cursor == "offset" else number + 1
        batch = await fetch(None, since, page, {**params, cursor: position})
        rows += batch
        if len(batch) < page:
            return rows
    raise ConnectorError(f"more than {MAX_OFFSET_PAGES * page} history rows in one request range")


async def _until_pages(fetch: Callable[..., Awaitable[list[dict[str, Any]]]], symbol: str | None,
                       window: DayWindow, params: dict[str, object], page: int) -> list[dict[str, Any]]:
    """A venue that pages fills by time only: the newest `page` rows up to `until`, then `until` = the
    oldest row's time (inclusive: rows sharing that millisecond are re-read and dropped by id), until a
    short page."""
    rows: dict[str, dict[str, Any]] = {}
    until = window.end_ms - 1
    for _ in range(MAX_OFFSET_PAGES):
        batch = await fetch(symbol, window.start_ms, page, {**params, "until": until})
        new = [row for row in batch if str(row.get("id")) not in rows]
        rows.update((str(row.get("id")), row) for row in new)
        if len(batch) < page:
            return list(rows.values())
        if not new:
            raise ConnectorError(f"more than {page} fills in one millisecond")
        until = min(int(row.get("timestamp") or 0) for row in batch)
    raise ConnectorError(f"more than {MAX_OFFSET_PAGES * page} fills of one market in one request range")


async def _for_symbol(fetch: Callable[..., Awaitable[list[dict[str, Any]]]], symbol: str | None, _code: None,
                      since: int, limit: int, params: dict[str, object]) -> list[dict[str, Any]]:
    """fetch_my_trades(symbol, ...) in the (code, since, limit, params) form _offset_pages calls."""
    return await fetch(symbol, since, limit, params)


async def gather_all(*aws: Awaitable[Any]) -> list[Any]:
    """Like gather, but a failure cancels the siblings (they must not outlive the closed client) and
    the first real exception is raised, not an ExceptionGroup."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_as_coro(aw)) for aw in aws]
    except BaseExceptionGroup as grouped:
        raise _first_leaf(grouped) from None
    return [task.result() for task in tasks]


async def _as_coro(aw: Awaitable[Any]) -> Any:
    return await aw


def _first_leaf(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


async def _close(exchange: Any) -> None:
    try:
        await exchange.close()
    except Exception:  # noqa: BLE001 - closing must never mask the real outcome
        log.warning("ccxt client close failed")


def total(values: Iterable[Decimal]) -> Decimal:
    return sum(values, ZERO)
