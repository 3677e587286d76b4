"""Venue-specific wallets ccxt's fetch_balance doesn't cover."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from app.core.money import ZERO, to_decimal

if TYPE_CHECKING:
    from app.connectors.ccxt.holdings import Holding

EARN_PAGE = 100


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
