"""deribit prices, flows, trades and key scope read from its v2 endpoints directly (docs.deribit.com).

Why not ccxt's unified calls here (4.5.64):
- fetch_tickers needs one currency per call (`get_book_summary_by_currency`) and refuses a call without
  one, so the unified `fetch_tickers()` every other venue uses failed: deribit could not be priced at
  all. Prices come from the spot pairs and the perpetual/futures books of each currency.
- fetch_deposits / fetch_withdrawals need one currency per call, ask deribit's default `count` (10 rows,
  newest first) and never page, so an 11th flow of a currency was lost. A deposit is typed by the
  absence of a `fee` field, and dated by `received_timestamp` (creation), not by when it completed.
  Transfers to and from other deribit accounts and subaccounts (`get_transfers`) move money across this
  account's boundary too, and ccxt never counts them as flows. Here each of the three is paged with
  `count` 1,000 (deribit's maximum) and `offset` until the rows are older than the scan, typed by
  endpoint, and a completed row is dated by `updated_timestamp` (when it reached its final state).
- fetch_my_trades sends its `code` option and our `until` to deribit as query parameters and asks 10
  rows; deribit's own `amount` is USD for inverse futures and coins for options and linear contracts,
  while zka's notional multiplies contracts by the contract size. Here trades are read with
  `start_timestamp`/`end_timestamp`, 1,000 a page while `has_more`, and `amount` is turned into contracts.
- key permissions: deribit reports them as the scope of a token (`public/auth`), see permissions.py.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any

from app.connectors.base import ConnectorError, DayWindow
from app.core.money import ZERO, to_decimal

log = logging.getLogger(__name__)
PAGE = 1000  # deribit: `count` at most 1,000 on deposits, withdrawals, transfers and user trades
MAX_PAGES = 20
# Currencies deribit keeps an account in (BTC, ETH, USDC, USDT and the EURR stablecoin); flows are read
# for these and for any other currency the account summaries show.
CURRENCIES = ("BTC", "ETH", "USDC", "USDT", "EURR")
FUTURE_BOOKS = ("BTC", "ETH")  # their perpetuals price the coin in USD (BTC-PERPETUAL: BTC/USD:BTC)
DEPOSIT_DONE = {"completed"}  # others: pending, rejected, replaced
WITHDRAWAL_DONE = {"completed"}  # others: unconfirmed, confirmed (not yet sent), cancelled, interrupted, rejected
TRANSFER_DONE = {"confirmed"}  # others: prepared, cancelled, waiting_for_admin, insufficient_funds, withdrawal_limit


async def deribit_tickers(exchange: Any) -> dict[str, Any]:
    """`get_book_summary_by_currency` takes one currency: the spot books of every currency a spot pair has
    (BTC/USDC, ETH/BTC, STETH/ETH, USDT/USDC, ...) and the futures books of BTC and ETH. Options add
    hundreds of rows and price nothing new. A currency deribit refuses to summarise prices nothing (its
    assets are then listed as unpriced, never dropped)."""
    spot = sorted({str(m[side]) for m in exchange.markets.values() if m.get("spot") for side in ("baseId", "quoteId")})
    calls = [{"currency": c, "kind": "spot"} for c in spot] + [{"currency": c, "kind": "future"} for c in FUTURE_BOOKS]
    rows: list[Mapping[str, Any]] = []
    for request in calls:
        try:
            body = await exchange.publicGetGetBookSummaryByCurrency(request)
        except Exception as exc:  # noqa: BLE001 - only deribit's refusal of this currency is skipped
            if type(exc).__name__ not in ("BadRequest", "BadSymbol"):
                raise
            log.warning("deribit: no book summary for a currency", extra={"currency": request["currency"]})
            continue
        result = body.get("result") if isinstance(body, Mapping) else None
        rows += [row for row in result or [] if isinstance(row, Mapping)]
    tickers: dict[str, Any] = exchange.parse_tickers(rows)
    return tickers


def flow_currencies(held: Iterable[str]) -> list[str]:
    return sorted(set(CURRENCIES) | {code for code in held if code != "USD"})


async def _history(exchange: Any, method: str, currency: str, since_ms: int) -> list[Mapping[str, Any]]:
    """Newest first, `count` 1,000 and `offset` on, until a short page or a page reaching before `since_ms`
    (a row's last update is never before its creation, so older pages hold nothing of the scan)."""
    rows: list[Mapping[str, Any]] = []
    for number in range(MAX_PAGES):
        body = await getattr(exchange, method)({"currency": currency, "count": PAGE, "offset": number * PAGE})
        result = body.get("result") if isinstance(body, Mapping) else None
        data = result.get("data") if isinstance(result, Mapping) else None
        page = [row for row in data or [] if isinstance(row, Mapping)]
        rows += page
        if len(page) < PAGE or min(_updated(row) for row in page) < since_ms:
            return rows
    raise ConnectorError(f"deribit: more than {MAX_PAGES * PAGE} rows of {method} for {currency}")


def _updated(row: Mapping[str, Any]) -> int:
    for key in ("updated_timestamp", "confirmed_timestamp", "received_timestamp", "created_timestamp"):
        if row.get(key) is not None:
            return int(row[key])
    return 0


def _flow(exchange: Any, row: Mapping[str, Any], kind: str, done: set[str], prefix: str) -> dict[str, Any]:
    code = exchange.safe_currency_code(row.get("currency"))
    fee = row.get("fee")
    return {"type": kind, "currency": code, "amount": abs(to_decimal(row.get("amount"))),
            "fee": {"cost": to_decimal(fee), "currency": code} if fee not in (None, "") else None,
            "status": "ok" if row.get("state") in done else str(row.get("state")),
            "timestamp": _updated(row), "id": f"{prefix}:{row.get('id') or row.get('transaction_id')}",
            "txid": row.get("transaction_id")}


async def deribit_flows(exchange: Any, window: DayWindow, held: Iterable[str]) -> list[dict[str, Any]]:
    """Deposits, withdrawals and transfers of every currency in ccxt's transaction shape (activity.add_flows
    keeps the completed ones dated in the scan)."""
    if window.start >= window.end:
        return []
    out: list[dict[str, Any]] = []
    for code in flow_currencies(held):
        currency = exchange.currency_id(code) if code in exchange.currencies else code
        for row in await _history(exchange, "privateGetGetDeposits", currency, window.start_ms):
            # a deposit row has no id; its transaction id (or address + time) identifies it
            key = row.get("transaction_id") or f"{row.get('address')}:{row.get('received_timestamp')}"
            out.append(_flow(exchange, {**row, "id": key}, "deposit", DEPOSIT_DONE, "deposit"))
        for row in await _history(exchange, "privateGetGetWithdrawals", currency, window.start_ms):
            out.append(_flow(exchange, row, "withdrawal", WITHDRAWAL_DONE, "withdrawal"))
        for row in await _history(exchange, "privateGetGetTransfers", currency, window.start_ms):
            kind = "deposit" if row.get("direction") == "income" else "withdrawal"
            out.append(_flow(exchange, row, kind, TRANSFER_DONE, "transfer"))
    return out


async def deribit_trades(exchange: Any, currency: str, window: DayWindow) -> list[dict[str, Any]]:
    """The user's trades of one currency in the window, oldest first, 1,000 a page while `has_more`; the next
    page starts at the last row's millisecond (rows seen are dropped by trade_id)."""
    if window.start >= window.end:
        return []
    rows: dict[str, Mapping[str, Any]] = {}
    start = window.start_ms
    for _ in range(MAX_PAGES):
        body = await exchange.privateGetGetUserTradesByCurrencyAndTime(
            {"currency": currency, "start_timestamp": start, "end_timestamp": window.end_ms - 1, "count": PAGE,
             "sorting": "asc"})
        result = body.get("result") if isinstance(body, Mapping) else None
        page = [row for row in (result or {}).get("trades") or [] if isinstance(row, Mapping)]
        new = [row for row in page if str(row.get("trade_id")) not in rows]
        rows.update((str(row.get("trade_id")), row) for row in new)
        if not (isinstance(result, Mapping) and result.get("has_more")) or not page:
            return [_in_contracts(exchange, trade) for trade in exchange.parse_trades(list(rows.values()))]
        if not new:
            raise ConnectorError(f"deribit: more than {PAGE} trades in one millisecond")
        start = int(page[-1]["timestamp"])
    raise ConnectorError(f"deribit: more than {MAX_PAGES * PAGE} trades of {currency} in one window")


def _in_contracts(exchange: Any, trade: dict[str, Any]) -> dict[str, Any]:
    """deribit's `amount` is USD for inverse futures and coins for linear contracts and options; zka's notional
    is contracts x contract size, so contracts = amount / contract size."""
    market = exchange.markets.get(trade.get("symbol")) or {}
    size = to_decimal(market.get("contractSize"))
    if market.get("contract") and size > ZERO:
        trade = {**trade, "amount": to_decimal(trade.get("amount")) / size}
    return trade


def client_signature(client_id: str, secret: str) -> dict[str, str]:
    """`public/auth` with grant_type client_signature: HMAC-SHA256(secret, timestamp \\n nonce \\n data), hex;
    the secret itself is never sent."""
    stamp, nonce = str(int(time.time() * 1000)), secrets.token_hex(8)
    signature = hmac.new(secret.encode(), f"{stamp}\n{nonce}\n".encode(), hashlib.sha256).hexdigest()
    return {"grant_type": "client_signature", "client_id": client_id, "timestamp": stamp, "nonce": nonce,
            "data": "", "signature": signature}
