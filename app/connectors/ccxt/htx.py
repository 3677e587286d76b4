"""htx (formerly Huobi): what ccxt 4.5.64 reads wrong or not at all, read from the venue's own rows.

Balances (spot `GET /v1/account/accounts/{id}/balance`, cross margin `GET /v1/cross-margin/accounts/balance`,
isolated margin `GET /v1/margin/accounts/balance`): one row per currency and balance *type*. ccxt keeps
only `trade` (free) and `frozen` (used), so a margin loan and its interest (negative rows) were never
subtracted and a `lock`ed or `bank` balance never counted; isolated margin comes back nested per symbol,
which gave no totals at all. `net_amounts` sums the documented balance types per currency instead.

Inverse futures / swaps (`POST /api/v1/contract_account_info`, `/swap-api/v1/swap_account_info`): ccxt's
total is `margin_available + margin_frozen`, which leaves out the margin held by open positions;
`margin_balance` (static margin + unrealized PnL) is the wallet's equity.

Deposits and withdrawals (`GET /v1/query/deposit-withdraw`): no time filter; `type` deposit|withdraw,
`size` 1..500, `direct=next` newest first from the record id `from`. ccxt asks one page of 100 and
filters by time afterwards, so a window with more than 100 newer records lost the rest. Read here in
pages of 500, back to a week before the scan; a completed record is dated by its `updated-at` (the
final state), not by its creation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from app.connectors.base import ConnectorError, DayWindow
from app.core.money import ZERO, to_decimal

# balance types that are the account's own money: free, in orders, locked, in the bank product, and
# borrowed amounts with their interest (negative); `loan-available` / `transfer-out-available` are limits
_OWN_TYPES = {"trade", "frozen", "lock", "bank", "loan", "interest"}
FLOW_PAGE = 500  # documented maximum of `size`
MAX_FLOW_PAGES = 40
# records are listed by id (creation order) and dated by completion: look this far before the scan for
# records created earlier and completed inside it (withdrawal reviews take days, deposits hours)
CREATED_LOOKBACK = timedelta(days=7)
_DONE = {"deposit": {"confirmed", "safe"}, "withdraw": {"confirmed"}}
_FAILED = {"unknown", "orphan", "canceled", "reject", "wallet-reject", "confirm-error", "repealed"}


def net_amounts(exchange: Any, info: Any) -> dict[str, Decimal]:
    """Per currency: the sum of the own-money balance types of every `{currency, type, balance}` row."""
    out: dict[str, Decimal] = {}
    for row in _rows(info):
        if row.get("type") not in _OWN_TYPES or not isinstance(row.get("currency"), str):
            continue
        amount = to_decimal(row.get("balance"))
        if amount != ZERO:
            code = exchange.safe_currency_code(row["currency"])
            out[code] = out.get(code, ZERO) + amount
    return {code: amount for code, amount in out.items() if amount != ZERO}


def margin_balances(exchange: Any, info: Any) -> dict[str, Decimal]:
    """Inverse contract accounts: `margin_balance` per margin coin (`symbol`)."""
    out: dict[str, Decimal] = {}
    data = info.get("data") if isinstance(info, Mapping) else None
    for row in data if isinstance(data, list) else []:
        if not isinstance(row, Mapping) or not isinstance(row.get("symbol"), str):
            continue
        amount = to_decimal(row.get("margin_balance"))
        if amount != ZERO:
            code = exchange.safe_currency_code(row["symbol"])
            out[code] = out.get(code, ZERO) + amount
    return out


def _rows(node: Any) -> Iterable[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        if "currency" in node and "balance" in node:
            yield node
        for value in node.values():
            yield from _rows(value)
    elif isinstance(node, list):
        for value in node:
            yield from _rows(value)


async def htx_flows(exchange: Any, scan: DayWindow) -> list[dict[str, Any]]:
    """Deposits and withdrawals whose final state (or creation, while not final) falls in `scan`."""
    if scan.start >= scan.end:
        return []
    oldest = int((scan.start - CREATED_LOOKBACK).timestamp() * 1000)
    out: list[dict[str, Any]] = []
    for kind in ("deposit", "withdraw"):
        rows = await _records(exchange, kind, oldest)
        out += [_flow(exchange, row, kind) for row in rows]
    return [flow for flow in out if flow["timestamp"] is not None
            and scan.start_ms <= flow["timestamp"] < scan.end_ms]


async def _records(exchange: Any, kind: str, oldest_ms: int) -> list[Mapping[str, Any]]:
    rows: dict[str, Mapping[str, Any]] = {}
    cursor: int | None = None
    for _ in range(MAX_FLOW_PAGES):
        request: dict[str, Any] = {"type": kind, "size": FLOW_PAGE, "direct": "next"}
        if cursor is not None:
            request["from"] = cursor
        body = await exchange.spotPrivateGetV1QueryDepositWithdraw(request)
        data = body.get("data") if isinstance(body, Mapping) else None
        if not isinstance(data, list):
            raise ConnectorError(f"htx: {kind} history without a data list")
        page = [row for row in data if isinstance(row, Mapping) and str(row.get("id", "")).isdigit()]
        fresh = [row for row in page if str(row["id"]) not in rows]
        rows.update((str(row["id"]), row) for row in fresh)
        if len(page) < FLOW_PAGE or not fresh:
            return list(rows.values())
        if min(_ms(row.get("created-at")) or 0 for row in page) < oldest_ms:
            return list(rows.values())
        cursor = min(int(row["id"]) for row in page)  # `from` may include itself: deduplicated by id
    raise ConnectorError(f"htx: more than {MAX_FLOW_PAGES * FLOW_PAGE} {kind} records to read")


def _flow(exchange: Any, row: Mapping[str, Any], kind: str) -> dict[str, Any]:
    code = exchange.safe_currency_code(row.get("currency"))
    state = str(row.get("state"))
    done = state in _DONE[kind]
    status = "ok" if done else "failed" if state in _FAILED else "pending"
    stamp = _ms(row.get("updated-at")) if done else None
    return {"type": "deposit" if kind == "deposit" else "withdrawal", "currency": code,
            "amount": abs(to_decimal(row.get("amount"))),
            "fee": {"currency": code, "cost": abs(to_decimal(row.get("fee")))},
            "status": status, "timestamp": stamp or _ms(row.get("created-at")),
            "id": str(row.get("id")), "txid": row.get("tx-hash") or None}


def _ms(value: Any) -> int | None:
    text = str(value) if value is not None else ""
    return int(text) if text.isdigit() else None
