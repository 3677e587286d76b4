"""Venue-specific wallets ccxt's fetch_balance doesn't cover."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from app.connectors.base import ConnectorError, DayWindow
from app.connectors.ccxt.profiles import MAX_SPAN
from app.core.money import ZERO, to_decimal

if TYPE_CHECKING:
    from app.connectors.ccxt.holdings import Holding

EARN_PAGE = 100
INCOME_PAGE = 1000  # binance futures income history: `limit` at most 1000
INCOME_MAX_PAGES = 20


async def binance_earn(exchange: Any) -> dict[str, Decimal]:
    """Simple Earn flexible (totalAmount) + locked (amount) positions, per asset.

    ccxt's fetch_balance(type='savings') calls the retired lending endpoint, so we call Simple Earn.
    """
    amounts: dict[str, Decimal] = {}
    for call, field in (("sapiGetSimpleEarnFlexiblePosition", "totalAmount"),
                        ("sapiGetSimpleEarnLockedPosition", "amount")):
        body = await getattr(exchange, call)({"size": EARN_PAGE})
        for row in body.get("rows") or [] if isinstance(body, dict) else []:
            code = exchange.safe_currency_code(row.get("asset"))
            amount = to_decimal(row.get(field))
            if amount != ZERO:
                amounts[code] = amounts.get(code, ZERO) + amount
    return amounts


def drop_binance_earn_receipts(holdings: Iterable[Holding], earn: dict[str, Decimal]) -> None:
    """binance lists a Simple Earn flexible position in the spot balance too, as "LD" + asset (LDUSDT).
    The position is counted once, from Simple Earn; its spot receipt is dropped (only for assets Simple
    Earn reports, so a coin whose name starts with LD, like LDO, stays)."""
    for holding in holdings:
        for code in [code for code in holding.amounts if code.startswith("LD") and code[2:] in earn]:
            del holding.amounts[code]


async def binance_futures_transfers(exchange: Any, window: DayWindow) -> list[dict[str, Any]]:
    """A futures-only connection (binanceusdm / binancecoinm) sees one wallet of the account: money moved
    into or out of it (from spot, funding, ...) crosses its boundary, so it is a flow, or a transfer in
    would count as profit. Income history `incomeType=TRANSFER` lists them (income > 0: in), completed
    when listed; asked in 7-day pieces, paged by time within each piece, deduplicated by tranId."""
    call = exchange.dapiPrivateGetIncome if exchange.id == "binancecoinm" else exchange.fapiPrivateGetIncome
    rows: dict[str, Any] = {}
    for piece in window.split(MAX_SPAN):
        start = piece.start_ms
        for _ in range(INCOME_MAX_PAGES):
            page = await call({"incomeType": "TRANSFER", "startTime": start, "endTime": piece.end_ms - 1,
                               "limit": INCOME_PAGE})
            page = [row for row in page if isinstance(row, dict)] if isinstance(page, list) else []
            rows.update((str(row.get("tranId")), row) for row in page)
            if len(page) < INCOME_PAGE:
                break
            start = max(int(row.get("time") or 0) for row in page)  # same ms again: tranId deduplicates
        else:
            raise ConnectorError(f"{exchange.id}: more than {INCOME_MAX_PAGES * INCOME_PAGE} transfers in 7 days")
    out = []
    for row in rows.values():
        income = to_decimal(row.get("income"))
        if income == ZERO:
            continue
        out.append({"type": "deposit" if income > ZERO else "withdrawal",
                    "currency": exchange.safe_currency_code(row.get("asset")), "amount": abs(income), "fee": None,
                    "status": "ok", "timestamp": int(row.get("time") or 0), "id": f"transfer:{row.get('tranId')}",
                    "txid": None})
    return out


async def bybit_earn(exchange: Any) -> dict[str, Decimal]:
    """bybit Earn (GET /v5/earn/position, category FlexibleSaving and OnChain): `amount` per coin is the
    staked principal, outside the unified and funding wallets. Needs the key's "Earn" permission; the
    caller skips it (and says so in the log) for a key without it."""
    amounts: dict[str, Decimal] = {}
    for category in ("FlexibleSaving", "OnChain"):
        body = await exchange.privateGetV5EarnPosition({"category": category})
        result = body.get("result") if isinstance(body, dict) else None
        for row in (result or {}).get("list") or [] if isinstance(result, dict) else []:
            if not isinstance(row, dict):
                continue
            amount = to_decimal(row.get("amount"))
            if amount != ZERO:
                code = exchange.safe_currency_code(row.get("coin"))
                amounts[code] = amounts.get(code, ZERO) + amount
    return amounts
