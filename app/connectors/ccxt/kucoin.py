"""KuCoin (classic account): what ccxt 4.5.64 reads wrongly or not at all, read or fixed here.

- High-frequency (HF) accounts keep their spot balance in `trade_hf` and their fills at /api/v1/hf/fills.
  ccxt learns the account type (GET /api/v1/hf/accounts/opened) only inside load_markets; a client given
  zka's cached markets never learns it and reads `trade` and /api/v1/fills: an HF account's spot balance
  and fills vanished from every snapshot after the first of the day. `adapt` makes each client ask once.
- Fills come newest first (spot HF: `limit` at most 100 and `lastId`; classic spot and futures:
  `currentPage`/`pageSize`); ccxt's time-forward paginator took the newest page and stopped (100 of 130
  fills). Paged here backwards.
- Unified trading accounts (UTA) keep everything in one unified account read through other endpoints;
  they are refused with a clear error rather than read as an empty classic account.
- Deposit / withdrawal history: `pageSize` at most 500 (default 50). ccxt's paginator asked more and was
  refused ("pageSize should not greater than 500"); without it, 50 rows and the rest silently lost. Read
  here page by page (`currentPage`) over each piece of the window. Completed = SUCCESS. A withdrawal's
  `fee` is charged on top of `amount` (the connector counts amount + fee); dated by createdAt.
- Wallets fetch_balance does not read (or reads at a retired path): cross margin (ccxt asks the v1
  /api/v1/margin/account; kucoin documents GET /api/v3/margin/accounts), isolated margin (ccxt nests it
  per pair, outside `total`), the futures account of every settle currency (ccxt reads one, USDT by
  default) and KuCoin Earn holdings.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any

from app.connectors.base import ConnectorError, DayWindow, MalformedResponse
from app.connectors.ccxt.holdings import Holding
from app.connectors.ccxt.profiles import MAX_SPAN
from app.core.money import ZERO, to_decimal

PAGE = 500  # deposits, withdrawals, earn holdings: `pageSize` at most 500
MAX_PAGES = 40  # 20,000 rows of one kind in one piece: refuse rather than lose any
_HISTORY = (("deposit", "privateGetDeposits"), ("withdrawal", "privateGetWithdrawals"))
_NEEDS_ACCOUNT_TYPE = ("fetch_balance", "fetch_my_trades", "fetch_positions")


def adapt(exchange: Any) -> None:
    """Before the first balance, fills or positions read of this client: refuse a unified (UTA) account
    and learn whether it is high-frequency (once per client, whoever loaded the markets)."""
    ready: asyncio.Future[None] | None = None

    async def account_type() -> None:
        nonlocal ready
        if ready is None:
            ready = asyncio.ensure_future(_learn_account_type(exchange))
        await ready

    page_spot_fills(exchange)
    for name in _NEEDS_ACCOUNT_TYPE:
        setattr(exchange, name, _after(account_type, getattr(exchange, name)))


FILLS_PAGE_HF = 100  # GET /api/v1/hf/fills: `limit` at most 100
FILLS_PAGE = 500  # GET /api/v1/fills (spot: `pageSize` at most 500; futures host: ccxt caps it at 1,000)


def page_spot_fills(exchange: Any) -> None:
    """fetch_my_trades with paginate: every page, newest to oldest. Spot on an HF account: `lastId` = the
    smallest fill id seen; classic spot and futures (one call for every contract): `currentPage` 1, 2, ...
    Other calls go to ccxt unchanged."""
    original = exchange.fetch_my_trades

    async def fetch_my_trades(symbol: Any = None, since: Any = None, limit: Any = None, params: Any = None) -> Any:
        params = dict(params or {})
        spot = symbol is not None and bool(exchange.market(symbol).get("spot"))
        futures = symbol is None and params.get("type") == "swap"
        if not (spot or futures) or not params.pop("paginate", False):
            return await original(symbol, since, limit, params)
        for name in ("paginationCalls", "maxEntriesPerRequest"):
            params.pop(name, None)
        hf = spot and bool(exchange.options.get("hf"))
        size = FILLS_PAGE_HF if hf else FILLS_PAGE
        trades: dict[str, Any] = {}
        cursor: int | None = None
        for number in range(1, MAX_PAGES + 1):
            if hf:
                last = {"lastId": cursor} if cursor is not None else {}
                page = await original(symbol, since, size, {**params, **last})
            elif futures:
                page = await original(None, since, size, {**params, "currentPage": number})
            else:
                page = await original(symbol, since, None, {**params, "currentPage": number, "pageSize": size})
            trades.update((f"{trade.get('symbol')}|{trade.get('id')}", trade) for trade in page)
            ids = [int(str((trade.get("info") or {}).get("id"))) for trade in page
                   if str((trade.get("info") or {}).get("id")).isdigit()]
            if len(page) < size or (hf and not ids):
                return list(trades.values())
            cursor = min(ids) if ids else None
        raise ConnectorError(f"kucoin: more than {MAX_PAGES} pages of fills of {symbol or 'futures'} in one range")

    exchange.fetch_my_trades = fetch_my_trades


def _after(first: Callable[[], Awaitable[None]], call: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def wrapped(*args: Any, **kwargs: Any) -> Any:
        await first()
        return await call(*args, **kwargs)

    return wrapped


async def _learn_account_type(exchange: Any) -> None:
    if await exchange.is_uta_enabled():
        raise ConnectorError("kucoin: unified trading accounts (UTA) are not read yet; connect a classic account")
    await exchange.load_migration_status()  # sets options['hf'] unless load_markets of this client did


def _data(body: Any, what: str) -> Any:
    if not isinstance(body, Mapping) or str(body.get("code")) != "200000" or "data" not in body:
        raise MalformedResponse(f"kucoin: {what} response without data")
    return body["data"]


def _items(data: Any, what: str) -> list[Mapping[str, Any]]:
    items = data.get("items") if isinstance(data, Mapping) else None
    if not isinstance(items, list):
        raise MalformedResponse(f"kucoin: {what} response without items")
    return [row for row in items if isinstance(row, Mapping)]


async def _pages(exchange: Any, method: str, request: dict[str, Any]) -> list[Mapping[str, Any]]:
    rows: list[Mapping[str, Any]] = []
    for page in range(1, MAX_PAGES + 1):
        data = _data(await getattr(exchange, method)({**request, "currentPage": page, "pageSize": PAGE}), method)
        batch = _items(data, method)
        rows += batch
        if len(batch) < PAGE:
            return rows
    raise ConnectorError(f"kucoin: more than {MAX_PAGES * PAGE} rows of {method} in one request range")


async def kucoin_flows(exchange: Any, window: DayWindow) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for piece in window.split(MAX_SPAN):
        for kind, method in _HISTORY:
            rows = await _pages(exchange, method, {"startAt": piece.start_ms, "endAt": piece.end_ms - 1})
            out += [_transaction(exchange, row, kind) for row in rows]
    return out


def _transaction(exchange: Any, row: Mapping[str, Any], kind: str) -> dict[str, Any]:
    code = exchange.safe_currency_code(row.get("currency"))
    created = row.get("createdAt")
    # deposits have no id field: the wallet tx id with its time and amount identifies one
    ident = row.get("id") or f"{row.get('walletTxId')}:{created}:{row.get('currency')}:{row.get('amount')}"
    return {"type": kind, "currency": code, "amount": to_decimal(row.get("amount")),
            "fee": {"currency": code, "cost": to_decimal(row.get("fee"))} if kind == "withdrawal" else None,
            "status": "ok" if row.get("status") == "SUCCESS" else str(row.get("status")),
            "timestamp": int(created) if isinstance(created, int | float) else None,
            "id": f"{kind}:{ident}", "txid": row.get("walletTxId")}


async def _cross(exchange: Any) -> Holding:
    """GET /api/v3/margin/accounts (docs-new "Get Account - Cross Margin"; ccxt still asks the old v1
    /api/v1/margin/account): accounts[].total - liability per currency."""
    data = _data(await exchange.privateGetMarginAccounts(), "cross margin")
    rows = data.get("accounts") if isinstance(data, Mapping) else None
    if not isinstance(rows, list):
        raise MalformedResponse("kucoin: cross margin response without accounts")
    amounts: dict[str, Decimal] = {}
    for row in rows:
        if isinstance(row, Mapping):
            net = to_decimal(row.get("total")) - to_decimal(row.get("liability"))
            _add(amounts, exchange, row.get("currency"), net)
    return Holding("cross-margin", "margin", amounts)


async def _isolated(exchange: Any) -> Holding:
    """GET /api/v3/isolated/accounts: per pair a base and a quote asset; net = total - liability per coin."""
    data = _data(await exchange.privateGetIsolatedAccounts(), "isolated margin")
    assets = data.get("assets") if isinstance(data, Mapping) else None
    if not isinstance(assets, list):
        raise MalformedResponse("kucoin: isolated margin response without assets")
    amounts: dict[str, Decimal] = {}
    for pair in assets:
        for side in ("baseAsset", "quoteAsset"):
            row = pair.get(side) if isinstance(pair, Mapping) else None
            if isinstance(row, Mapping):
                net = to_decimal(row.get("total")) - to_decimal(row.get("liability"))
                _add(amounts, exchange, row.get("currency"), net)
    return Holding("isolated-margin", "margin", amounts)


async def _futures(exchange: Any) -> Holding:
    """GET /api/v1/account-overview per settle currency of the listed contracts; accountEquity includes the
    unrealized PnL of open positions."""
    settles = sorted({str(m.get("settleId")) for m in exchange.markets.values() if m.get("contract")
                      and m.get("settleId")})
    amounts: dict[str, Decimal] = {}
    for currency in settles:
        data = _data(await exchange.futuresPrivateGetAccountOverview({"currency": currency}), "futures account")
        if not isinstance(data, Mapping):
            raise MalformedResponse("kucoin: futures account response without an account")
        _add(amounts, exchange, data.get("currency") or currency, to_decimal(data.get("accountEquity")))
    return Holding("futures", "swap", amounts)


async def _earn(exchange: Any) -> Holding:
    """GET /api/v1/earn/hold-assets: holdAmount per currency (staking, savings, ...), outside main/trade."""
    rows = await _pages(exchange, "earnGetEarnHoldAssets", {})
    amounts: dict[str, Decimal] = {}
    for row in rows:
        _add(amounts, exchange, row.get("currency"), to_decimal(row.get("holdAmount")))
    return Holding("earn", "earn", amounts)


# wallets read beside fetch_balance: (name, reader); each is skipped (and logged) if the key may not read it
EXTRA_WALLETS: tuple[tuple[str, Callable[[Any], Awaitable[Holding]]], ...] = (
    ("cross-margin", _cross), ("isolated-margin", _isolated), ("futures", _futures), ("earn", _earn))


def _add(amounts: dict[str, Decimal], exchange: Any, currency_id: Any, amount: Decimal) -> None:
    if amount != ZERO and currency_id:
        code = exchange.safe_currency_code(str(currency_id))
        amounts[code] = amounts.get(code, ZERO) + amount
