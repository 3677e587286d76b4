"""coinbase deposits and withdrawals: v2 transactions of each held currency's account, every page.

ccxt 4.5.64 reads one page of `/v2/accounts/:id/transactions` (coinbase's default 25 rows, newest
first, with no time filter on the server), so a busy day lost everything past the 25th transaction of
the account; and it types each row by the sign of its amount, so a trade fill credited to the account
was a "deposit". Here each account is read `limit` 100 a page, following `pagination.next_starting_after`
(the `starting_after` of `next_uri`) until a page reaches back before the range or coinbase sends no
next page; rows whose coinbase `type` never crosses the account's boundary are dropped before ccxt
parses the rest (amount, fee, status, time) as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from app.connectors.base import ConnectorError, DayWindow

PAGE = 100  # coinbase v2: `limit` 1..100 (default 25)
MAX_PAGES = 100  # 10,000 transactions of one account in one range: refuse rather than lose any
# coinbase v2 transaction types that stay inside the account: trades and conversions, moves between the
# user's own wallets (vaults, staking) and rewards or interest (income: part of the return, never a flow).
INSIDE_ACCOUNT = {"advanced_trade_fill", "trade", "transfer", "vault_withdrawal", "staking_transfer",
                  "unstaking_transfer", "staking_reward", "inflation_reward", "interest"}


async def coinbase_flows(exchange: Any, window: DayWindow, codes: Iterable[str]) -> list[dict[str, Any]]:
    if window.start >= window.end:
        return []
    out: list[dict[str, Any]] = []
    for code in codes:
        account_id = await exchange.find_account_id(code)
        if account_id is None:
            continue  # no account of that currency: nothing can have moved through it
        rows = await _transactions(exchange, str(account_id), window.start_ms)
        flows = [row for row in rows if row.get("type") not in INSIDE_ACCOUNT]
        out += [tx for tx in exchange.parse_transactions(flows) if tx.get("type") in ("deposit", "withdrawal")]
    return out


async def _transactions(exchange: Any, account_id: str, since_ms: int) -> list[Mapping[str, Any]]:
    rows: list[Mapping[str, Any]] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        request: dict[str, Any] = {"account_id": account_id, "limit": PAGE}
        if cursor:
            request["starting_after"] = cursor
        body = await exchange.v2PrivateGetAccountsAccountIdTransactions(request)
        data = body.get("data") if isinstance(body, Mapping) else None
        page = [row for row in data or [] if isinstance(row, Mapping)]
        rows += page
        cursor = _next_cursor(body)
        oldest = exchange.parse8601(page[-1].get("created_at")) if page else None
        if not page or cursor is None or (oldest is not None and oldest < since_ms):
            return rows
    raise ConnectorError(f"coinbase: more than {MAX_PAGES * PAGE} transactions of one account in one range")


def _next_cursor(body: Any) -> str | None:
    pagination = body.get("pagination") if isinstance(body, Mapping) else None
    if not isinstance(pagination, Mapping):
        return None
    cursor = pagination.get("next_starting_after")
    if not cursor and pagination.get("next_uri"):
        cursor = next(iter(parse_qs(urlsplit(str(pagination["next_uri"])).query).get("starting_after", [])), None)
    return str(cursor) if cursor else None
