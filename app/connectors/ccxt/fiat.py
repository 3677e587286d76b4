"""Fiat flows ccxt's deposit/withdrawal history does not return, read from the venue's own endpoints.

A bank deposit that is never read shows up as profit, so every fiat flow a venue reports is a flow
(issue 19, item 3). Rows come back in ccxt's transaction shape (type, currency, amount, fee, status,
timestamp, id) so activity.add_flows values them like crypto flows: at the snapshot's price,
withdrawals with their fee.

binance (GET /sapi/v1/fiat/orders, GET /sapi/v1/fiat/payments):
- orders: bank/card deposits to and withdrawals from the fiat balance. `amount` is what reached (or
  left for) the bank, `totalFee` the venue's fee, `indicatedAmount` = amount + fee. A deposit counts
  `amount` (what the balance received); a withdrawal amount + fee (everything that left).
  Completed = "Successful" or "Finished" (ccxt maps "Finished" to nothing, so its filter dropped it).
- payments: crypto bought with (or sold to) a card or bank: the crypto leg enters (buy) or leaves
  (sell) the account. Paid from the account's own fiat balance ("Cash Balance") it is a conversion
  inside the account, not a flow. Completed = "Completed".
- A fiat order takes days; it is dated by its update time once final (when the balance shows it),
  and asked for over a look-back before the window so one created earlier is still found.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from app.connectors.base import ConnectorError, DayWindow

BINANCE_FIAT_ROWS = 500  # documented maximum of `rows` on both endpoints
MAX_PAGES = 40  # 20,000 fiat rows in one window: refuse rather than lose any
FIAT_LOOKBACK = timedelta(days=14)  # SEPA/card orders settle within days; created before, final in the window
_ORDER_DONE = {"Successful", "Finished"}
_PAYMENT_DONE = {"Completed"}
_INSIDE_ACCOUNT = {"Cash Balance"}  # paymentMethod: paid from the account's own fiat balance


async def binance_fiat_flows(exchange: Any, window: DayWindow) -> list[dict[str, Any]]:
    if window.start >= window.end:
        return []
    begin = int((window.start - FIAT_LOOKBACK).timestamp() * 1000)
    request = {"beginTime": begin, "endTime": window.end_ms - 1}
    out: list[dict[str, Any]] = []
    for kind, transaction_type in (("deposit", 0), ("withdrawal", 1)):
        rows = await _pages(exchange.sapiGetFiatOrders, {**request, "transactionType": transaction_type})
        out += [_order(exchange, row, kind) for row in rows]
        rows = await _pages(exchange.sapiGetFiatPayments, {**request, "transactionType": transaction_type})
        out += [_payment(exchange, row, kind) for row in rows
                if row.get("paymentMethod") not in _INSIDE_ACCOUNT]
    return out


async def _pages(call: Callable[[dict[str, Any]], Awaitable[Any]], request: dict[str, Any]) -> list[Any]:
    rows: list[Any] = []
    for page in range(1, MAX_PAGES + 1):
        body = await call({**request, "page": page, "rows": BINANCE_FIAT_ROWS})
        data = body.get("data") if isinstance(body, Mapping) else None
        batch = [row for row in data or [] if isinstance(row, Mapping)]
        rows += batch
        if len(batch) < BINANCE_FIAT_ROWS:
            return rows
    raise ConnectorError(f"binance: more than {MAX_PAGES * BINANCE_FIAT_ROWS} fiat rows in one window")


def _final_ms(row: Mapping[str, Any]) -> int | None:
    value = row.get("updateTime") or row.get("createTime")
    return int(value) if value is not None and str(value).isdigit() else None


def _order(exchange: Any, row: Mapping[str, Any], kind: str) -> dict[str, Any]:
    code = exchange.safe_currency_code(row.get("fiatCurrency"))
    return {"type": kind, "currency": code, "amount": row.get("amount"),
            "fee": {"currency": code, "cost": row.get("totalFee")},
            "status": "ok" if row.get("status") in _ORDER_DONE else "pending",
            "timestamp": _final_ms(row), "id": f"fiat-order:{row.get('orderNo')}", "txid": None}


def _payment(exchange: Any, row: Mapping[str, Any], kind: str) -> dict[str, Any]:
    # the card/bank paid the fee on the fiat side: the crypto leg is what the balance gained or lost
    return {"type": kind, "currency": exchange.safe_currency_code(row.get("cryptoCurrency")),
            "amount": row.get("obtainAmount"), "fee": None,
            "status": "ok" if row.get("status") in _PAYMENT_DONE else "pending",
            "timestamp": _final_ms(row), "id": f"fiat-payment:{row.get('orderNo')}", "txid": None}
