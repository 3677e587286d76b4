"""Wallet balances -> per-asset amounts -> USD equity per market (every asset, none dropped)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.connectors.base import AccountState, ConnectorError, PermissionRefused
from app.connectors.ccxt.balance_shape import check_balance_shape
from app.connectors.ccxt.errors import to_connector_error
from app.connectors.ccxt.pricing import PriceBook, plain
from app.connectors.ccxt.profiles import Wallet
from app.core.money import ZERO, to_decimal

log = logging.getLogger(__name__)
_NOT_ASSETS = {"info", "free", "used", "total", "debt", "timestamp", "datetime"}
_CODE_FIELDS = ("coin", "ccy", "asset", "currency")
CASH_LIKE = {"USD", "USDT", "USDC", "FDUSD", "DAI", "TUSD", "USDE", "PYUSD", "USDP", "BUSD", "EUR"}


@dataclass
class Holding:
    wallet: str
    market: str
    amounts: dict[str, Decimal] = field(default_factory=dict)
    unrealized: dict[str, Decimal] = field(default_factory=dict)  # open PnL inside `amounts` (Wallet.upl_field)


def amounts_from_balance(exchange: Any, balance: Mapping[str, Any], wallet: Wallet) -> dict[str, Decimal]:
    """Net amount per asset: ccxt `total` minus `debt` (margin loans), the raw equity field, or the
    venue's own reading of the raw response (`Wallet.amounts`)."""
    if wallet.amounts is not None:
        return wallet.amounts(exchange, balance.get("info"))
    if wallet.equity_field:
        return _raw_equity(exchange, balance.get("info"), wallet.equity_field)
    if wallet.sum_fields:
        return _raw_sum(exchange, balance.get("info"), wallet.sum_fields)
    totals = balance.get("total") or {}
    debts = balance.get("debt") or {}
    out: dict[str, Decimal] = {}
    for code, total in totals.items():
        if code in _NOT_ASSETS:
            continue
        net = to_decimal(total) - to_decimal(debts.get(code))
        if net != ZERO:
            out[code] = out.get(code, ZERO) + net
    return out


def _raw_equity(exchange: Any, info: Any, equity_field: str) -> dict[str, Decimal]:
    """Walk the raw response for coin rows carrying `equity_field` (e.g. bybit coin[].equity)."""
    out: dict[str, Decimal] = {}
    for row in _rows(info):
        code_id = next((row[key] for key in _CODE_FIELDS if isinstance(row.get(key), str)), None)
        if code_id is None or row.get(equity_field) in (None, ""):
            continue
        amount = to_decimal(row[equity_field])
        if amount != ZERO:
            code = exchange.safe_currency_code(code_id)
            out[code] = out.get(code, ZERO) + amount
    return out


def _raw_sum(exchange: Any, info: Any, fields: tuple[str, ...]) -> dict[str, Decimal]:
    """Per coin row of the raw response: the sum of `fields` ("-name" subtracted), rows without any skipped."""
    out: dict[str, Decimal] = {}
    for row in _rows(info):
        code_id = next((row[key] for key in _CODE_FIELDS if isinstance(row.get(key), str)), None)
        if code_id is None or not any(field.lstrip("-") in row for field in fields):
            continue
        amount = sum((-to_decimal(row.get(field[1:])) if field.startswith("-") else to_decimal(row.get(field))
                      for field in fields), ZERO)
        if amount != ZERO:
            code = exchange.safe_currency_code(code_id)
            out[code] = out.get(code, ZERO) + amount
    return out


def _rows(node: Any) -> Iterable[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _rows(value)
    elif isinstance(node, list):
        for value in node:
            yield from _rows(value)


async def fetch_wallet(exchange: Any, wallet: Wallet, venue: str, secrets: list[str]) -> Holding | None:
    """One fetch_balance; an optional wallet the account doesn't have is skipped (and logged)."""
    error: ConnectorError | None = None
    try:
        balance = await exchange.fetch_balance(dict(wallet.params))
        check_balance_shape(venue, wallet, balance.get("info"))
        upl = _raw_equity(exchange, balance.get("info"), wallet.upl_field) if wallet.upl_field else {}
        return Holding(wallet.name, wallet.market, amounts_from_balance(exchange, balance, wallet), upl)
    except Exception as exc:  # noqa: BLE001 - mapped below, never re-raised with ccxt's text
        error = to_connector_error(exc, venue, f"fetch_balance[{wallet.name}]", secrets)
    skippable = type(error) in (ConnectorError, PermissionRefused) and "Suspended" not in str(error)
    if wallet.optional and skippable:
        log.warning("wallet skipped", extra={"venue": venue, "wallet": wallet.name, "error": error.kind})
        return None
    raise error


def value_holdings(state: AccountState, holdings: Iterable[Holding], book: PriceBook) -> Decimal:
    """Add each holding's USD value to its market's equity; unpriced amounts are listed. Returns cash."""
    cash = ZERO
    for holding in holdings:
        stats = state.market(holding.market)
        for asset, amount in holding.amounts.items():
            usd = book.value(asset, amount)
            if usd is None:
                previous = to_decimal(state.unpriced_assets.get(asset))
                state.unpriced_assets[asset] = plain(previous + amount)
                continue
            stats.equity += usd
            state.total_equity += usd
            if asset in CASH_LIKE:
                cash += usd
    return cash
