"""okx history and wallets read from the v5 endpoints directly, within okx's documented limits.

Why not ccxt here (4.5.64):
- history pages: ccxt's paginator asks `limit=1000` where okx serves at most 100 rows, and its
  funding history (`account/bills-archive`) sends neither `begin`/`end` nor a cursor, so a window with
  more than 100 funding bills lost the older ones (issue 19, item 12). Here every request asks at
  most 100 rows and walks back with okx's cursor until a short page.
- deposit state 1 ("credited": already in the balance, not yet withdrawable) is a completed deposit
  for the balance; ccxt maps it to pending, so a deposit credited at the snapshot and finished later
  was never counted (issue 19, item 13).
- Simple Earn (`finance/savings/balance`) and on-chain earn (`finance/staking-defi/orders-active`)
  are wallets ccxt's fetch_balance does not read (issue 19, item 11).
- fiat bank deposits and withdrawals (`fiat/deposit-order-history`, `fiat/withdrawal-order-history`)
  are not in the crypto history and ccxt 4.5.64 has no method for them: a SEPA deposit would be profit.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from app.connectors.base import ConnectorError, DayWindow
from app.connectors.ccxt.fiat import FIAT_LOOKBACK
from app.core.money import ZERO, to_decimal

PAGE = 100  # okx: `limit` at most 100 on deposit, withdrawal, bills and fills history
MAX_PAGES = 100  # 10,000 rows of one kind in one window: refuse rather than lose any
DEPOSIT_IN_BALANCE = {"1", "2"}  # 1 credited (in the balance, withdrawal locked), 2 success
WITHDRAWAL_DONE = {"2"}  # success; others are pending, cancelled or failed
FUNDING_FEE_BILLS = "8"


async def _pages(exchange: Any, method: str, request: dict[str, Any], id_field: str, *,
                 time_cursor: bool, after: str | None = None) -> list[Mapping[str, Any]]:
    """Newest first, `limit` 100, then `after` = the last row's cursor (strictly earlier) until a short page.

    Bills page by id (exact). Deposit/withdrawal history pages by time, where rows can share a
    millisecond: the next page asks `after` = last ts + 1 and rows already seen are dropped by id, so a
    row at a page edge is never lost."""
    rows: dict[str, Mapping[str, Any]] = {}
    for _ in range(MAX_PAGES):
        body = await getattr(exchange, method)({**request, "limit": str(PAGE), **({"after": after} if after else {})})
        data = body.get("data") if isinstance(body, Mapping) else None
        page = [row for row in data or [] if isinstance(row, Mapping)]
        new = [row for row in page if str(row.get(id_field)) not in rows]
        rows.update((str(row.get(id_field)), row) for row in new)
        if len(page) < PAGE:
            return list(rows.values())
        if not new:
            raise ConnectorError(f"okx: more than {PAGE} rows in one millisecond of {method}")
        last = page[-1]
        after = str(int(last["ts"]) + 1) if time_cursor else str(last[id_field])
    raise ConnectorError(f"okx: more than {MAX_PAGES * PAGE} rows in one window of {method}")


async def okx_flows(exchange: Any, window: DayWindow) -> list[dict[str, Any]]:
    """Deposits and withdrawals of the window in ccxt's transaction shape (for activity.add_flows)."""
    if window.start >= window.end:
        return []
    # `before`/`after` are exclusive time bounds on these two endpoints
    request = {"before": str(window.start_ms - 1)}
    deposits = await _pages(exchange, "privateGetAssetDepositHistory", request, "depId", time_cursor=True,
                            after=str(window.end_ms))
    withdrawals = await _pages(exchange, "privateGetAssetWithdrawalHistory", request, "wdId", time_cursor=True,
                               after=str(window.end_ms))
    fiat = await okx_fiat_flows(exchange, window)
    return [_deposit(exchange, row) for row in deposits] + [_withdrawal(exchange, row) for row in withdrawals] + fiat


FIAT_DONE = "completed"  # others: pending, inqueue, processing, failed, canceled
_FIAT_PATHS = (("deposit", "fiat/deposit-order-history"), ("withdrawal", "fiat/withdrawal-order-history"))


async def okx_fiat_flows(exchange: Any, window: DayWindow) -> list[dict[str, Any]]:
    """Fiat orders (SEPA, PIX, wires, ...) in ccxt's transaction shape, completed ones dated by `uTime`.

    okx documents `after`/`before` here as an inclusive begin/end time filter (not a cursor, unlike the
    crypto history), `limit` at most 100, newest first. An order takes days: it is asked for from
    FIAT_LOOKBACK before the window by creation time and counted when its completion falls in the window.
    Paging moves `before` to the oldest creation time of a full page (inclusive: rows seen are dropped by
    ordId). `amt` is the order's final amount, `fee` the venue's fee: a withdrawal counts amt + fee
    (everything that left, the crypto rule), a deposit amt."""
    if window.start >= window.end:
        return []
    begin = int((window.start - FIAT_LOOKBACK).timestamp() * 1000)
    out: list[dict[str, Any]] = []
    for kind, path in _FIAT_PATHS:
        for row in await _fiat_pages(exchange, path, begin, window.end_ms - 1):
            code = exchange.safe_currency_code(row.get("ccy"))
            out.append({"type": kind, "currency": code, "amount": row.get("amt"),
                        "fee": {"currency": code, "cost": row.get("fee")} if kind == "withdrawal" else None,
                        "status": "ok" if row.get("state") == FIAT_DONE else "pending",
                        "timestamp": _ms(row.get("uTime")) or _ms(row.get("cTime")),
                        "id": f"fiat-{kind}:{row.get('ordId')}", "txid": None})
    return out


async def _fiat_pages(exchange: Any, path: str, begin: int, end: int) -> list[Mapping[str, Any]]:
    rows: dict[str, Mapping[str, Any]] = {}
    for _ in range(MAX_PAGES):
        body = await exchange.request(path, "private", "GET",
                                      {"after": str(begin), "before": str(end), "limit": str(PAGE)})
        page = _data(body)
        new = [row for row in page if str(row.get("ordId")) not in rows]
        rows.update((str(row.get("ordId")), row) for row in new)
        if len(page) < PAGE:
            return list(rows.values())
        if not new:
            raise ConnectorError(f"okx: more than {PAGE} fiat orders in one millisecond")
        end = min(_ms(row.get("cTime")) or end for row in page)
    raise ConnectorError(f"okx: more than {MAX_PAGES * PAGE} fiat orders in one window")


def _ms(value: Any) -> int | None:
    return int(value) if value is not None and str(value).isdigit() else None


def _deposit(exchange: Any, row: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "deposit", "currency": exchange.safe_currency_code(row.get("ccy")), "amount": row.get("amt"),
            "fee": None, "status": "ok" if str(row.get("state")) in DEPOSIT_IN_BALANCE else "pending",
            "timestamp": int(row["ts"]), "id": f"dep:{row.get('depId')}", "txid": row.get("txId")}


def _withdrawal(exchange: Any, row: Mapping[str, Any]) -> dict[str, Any]:
    code = exchange.safe_currency_code(row.get("ccy"))
    fee_code = exchange.safe_currency_code(row.get("feeCcy")) if row.get("feeCcy") else code
    return {"type": "withdrawal", "currency": code, "amount": row.get("amt"),
            "fee": {"currency": fee_code, "cost": row.get("fee")},
            "status": "ok" if str(row.get("state")) in WITHDRAWAL_DONE else "pending",
            "timestamp": int(row["ts"]), "id": f"wd:{row.get('wdId')}", "txid": row.get("txId")}


async def okx_funding(exchange: Any, window: DayWindow) -> list[dict[str, Any]]:
    """Funding fee bills (type 8) of the window, `begin`/`end` inclusive, paged by billId."""
    if window.start >= window.end:
        return []
    request = {"type": FUNDING_FEE_BILLS, "begin": str(window.start_ms), "end": str(window.end_ms - 1)}
    bills = await _pages(exchange, "privateGetAccountBillsArchive", request, "billId", time_cursor=False)
    out = []
    for bill in bills:
        market = exchange.safe_market(bill.get("instId"))
        change = to_decimal(bill.get("balChg"))
        out.append({"symbol": market.get("symbol"), "code": exchange.safe_currency_code(bill.get("ccy")),
                    "amount": change if change != ZERO else to_decimal(bill.get("posBalChg")),
                    "timestamp": int(bill["ts"]), "id": bill.get("billId")})
    return out


async def okx_earn(exchange: Any) -> dict[str, Decimal]:
    """Simple Earn balances (`amt`) and active on-chain earn orders' principal (`investData[].amt`)."""
    amounts: dict[str, Decimal] = {}
    savings = await exchange.privateGetFinanceSavingsBalance()
    for row in _data(savings):
        _add(amounts, exchange.safe_currency_code(row.get("ccy")), row.get("amt"))
    orders = await exchange.privateGetFinanceStakingDefiOrdersActive()
    for order in _data(orders):
        for invest in order.get("investData") or []:
            if isinstance(invest, Mapping):
                _add(amounts, exchange.safe_currency_code(invest.get("ccy")), invest.get("amt"))
    return amounts


def _data(body: Any) -> list[Mapping[str, Any]]:
    data = body.get("data") if isinstance(body, Mapping) else None
    return [row for row in data or [] if isinstance(row, Mapping)]


def _add(amounts: dict[str, Decimal], code: str, value: Any) -> None:
    amount = to_decimal(value)
    if amount != ZERO:
        amounts[code] = amounts.get(code, ZERO) + amount
