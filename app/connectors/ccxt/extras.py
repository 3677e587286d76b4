"""Venue-specific wallets ccxt's fetch_balance doesn't cover."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.core.money import ZERO, to_decimal

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
