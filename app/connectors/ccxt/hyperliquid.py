"""hyperliquid wallets, flows, funding and fills read from `POST /info` directly (hyperliquid.gitbook.io,
"Info endpoint"). The account is a public wallet address: every read is public, nothing is signed.

Why not ccxt's unified calls here (4.5.64):
- flows: fetch_deposits / fetch_withdrawals return every row with `type` None, `currency` None and
  `status` None (the ledger has none of them), so zka's filter dropped all of them: no hyperliquid
  deposit or withdrawal was ever counted. They also keep only `deposit` and `withdraw` rows, while money
  enters and leaves the address through transfers from/to other users (`internalTransfer`,
  `spotTransfer`, `send`) and subaccounts (`subAccountTransfer`). Here each ledger row is typed by its
  kind and, for transfers, by which side this address is; moves between this address's own wallets
  (spot <-> perp `accountClassTransfer`, vaults, staking, `send` between its own dexes) are not flows,
  because those wallets are all read.
- paging: ranged info reads answer at most 500 rows (fills: 2,000); ccxt asks once. Here each read is
  repeated from the last row's time until a short page (rows seen are dropped by their key).
- wallets: ccxt reads the perp account as spot when the address uses the unified account, so reading
  both wallets counted the spot balances twice. Here the account's abstraction is read
  (`userAbstraction`): separate wallets -> spot balances + perp `marginSummary.accountValue` (incl.
  unrealized PnL); unified / portfolio margin -> every balance is in the spot state and the perp state
  holds no collateral, so only the perp positions' unrealized PnL is added. Vault equity
  (`userVaultEquities`, USDC) and staked HYPE (`delegatorSummary`: delegated + undelegated + pending
  withdrawal) are wallets ccxt never reads.
- one sync asks each identical read once (markets and tickers share `metaAndAssetCtxs`; the perp wallet
  and the positions share `clearinghouseState`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from app.connectors.base import ConnectorError, DayWindow
from app.core.money import ZERO, to_decimal

if TYPE_CHECKING:
    from app.connectors.ccxt.holdings import Holding

LEDGER_PAGE = 500  # ranged info reads: at most 500 rows
FILLS_PAGE = 2000  # userFillsByTime: at most 2,000 fills
MAX_PAGES = 50
UNIFIED = {"unifiedAccount", "portfolioMargin"}
SHARED_READS = {"metaAndAssetCtxs", "spotMetaAndAssetCtxs", "clearinghouseState", "spotClearinghouseState"}
# ledger kinds that move money between other addresses and this one (direction by user/destination)
TRANSFERS = {"internalTransfer", "subAccountTransfer", "spotTransfer", "send"}


def share_identical_reads(exchange: Any) -> None:
    """One client serves one sync (one instant): an identical read is asked once and its answer reused."""
    send = exchange.publicPostInfo
    answers: dict[str, Any] = {}

    async def info(params: Any = None, *args: Any, **kwargs: Any) -> Any:
        request = params or {}
        if request.get("type") not in SHARED_READS:
            return await send(request, *args, **kwargs)
        key = json.dumps(request, sort_keys=True, default=str)
        if key not in answers:
            answers[key] = await send(request, *args, **kwargs)
        return answers[key]

    exchange.publicPostInfo = info


def _code(exchange: Any, token: object) -> str:
    """Spot token names are mapped the way ccxt maps spot balances (UBTC -> BTC, USDT0 -> USDT)."""
    mapping = exchange.options.get("spotCurrencyMapping") or {}
    name = str(token)
    return str(exchange.safe_currency_code(mapping.get(name, name)))


async def _info(exchange: Any, request: dict[str, Any]) -> Any:
    return await exchange.publicPostInfo(request)


async def hyperliquid_holdings(exchange: Any, address: str) -> list[Holding]:
    """The perp account (or, on a unified account, its positions' PnL), vault equity and staked HYPE."""
    from app.connectors.ccxt.holdings import Holding  # noqa: PLC0415 - holdings imports profiles, not us

    mode = await _info(exchange, {"type": "userAbstraction", "user": address})
    perp = await _info(exchange, {"type": "clearinghouseState", "user": address})
    if not isinstance(perp, Mapping) or not isinstance(perp.get("marginSummary"), Mapping):
        from app.connectors.base import MalformedResponse  # noqa: PLC0415

        raise MalformedResponse("hyperliquid: the perp account response has no marginSummary")
    if str(mode).strip("\"") in UNIFIED:  # a bare JSON string; ccxt may hand it over still quoted
        perp_usdc = sum((to_decimal((row.get("position") or {}).get("unrealizedPnl"))
                         for row in perp.get("assetPositions") or [] if isinstance(row, Mapping)), ZERO)
    else:
        perp_usdc = to_decimal(perp["marginSummary"].get("accountValue"))
    vaults = await _info(exchange, {"type": "userVaultEquities", "user": address})
    vault_usdc = sum((to_decimal(row.get("equity")) for row in vaults or [] if isinstance(row, Mapping)), ZERO)
    staking = await _info(exchange, {"type": "delegatorSummary", "user": address})
    staked = ZERO
    if isinstance(staking, Mapping):
        staked = sum((to_decimal(staking.get(key)) for key in ("delegated", "undelegated", "totalPendingWithdrawal")),
                     ZERO)
    return [Holding("perp", "swap", _nonzero({"USDC": perp_usdc})),
            Holding("vaults", "earn", _nonzero({"USDC": vault_usdc})),
            Holding("staking", "earn", _nonzero({"HYPE": staked}))]


def _nonzero(amounts: dict[str, Decimal]) -> dict[str, Decimal]:
    return {code: amount for code, amount in amounts.items() if amount != ZERO}


async def _ranged(exchange: Any, request: dict[str, Any], window: DayWindow, page_size: int,
                  key: Callable[[Mapping[str, Any]], str]) -> list[Mapping[str, Any]]:
    """Oldest first from startTime; the next page starts at the last row's time (rows seen dropped by key)."""
    rows: dict[str, Mapping[str, Any]] = {}
    start = window.start_ms
    for _ in range(MAX_PAGES):
        body = await _info(exchange, {**request, "startTime": start, "endTime": window.end_ms - 1})
        page = [row for row in body or [] if isinstance(row, Mapping)] if isinstance(body, list) else []
        new = [row for row in page if key(row) not in rows]
        rows.update((key(row), row) for row in new)
        if len(page) < page_size:
            return list(rows.values())
        if not new:
            raise ConnectorError(f"hyperliquid: more than {page_size} {request['type']} rows in one millisecond")
        start = max(int(row.get("time") or 0) for row in page)
    raise ConnectorError(f"hyperliquid: more than {MAX_PAGES * page_size} {request['type']} rows in one window")


def _ledger_key(row: Mapping[str, Any]) -> str:
    return f"{row.get('hash')}|{row.get('time')}|{json.dumps(row.get('delta'), sort_keys=True)}"


async def hyperliquid_flows(exchange: Any, window: DayWindow, address: str) -> list[dict[str, Any]]:
    """Deposits, withdrawals and transfers with other addresses, in ccxt's transaction shape. Ledger rows are
    final when listed (the L1 has no pending state), so each is completed at its `time`."""
    if window.start >= window.end:
        return []
    request = {"type": "userNonFundingLedgerUpdates", "user": address}
    rows = await _ranged(exchange, request, window, LEDGER_PAGE, _ledger_key)
    return [flow for row in rows for flow in _flows(exchange, row, address.lower())]


def _flows(exchange: Any, row: Mapping[str, Any], me: str) -> list[dict[str, Any]]:
    """The flow(s) of one ledger row: none for own-wallet moves and income; a token sent to another address
    whose fee is charged in USDC is two withdrawals (the token, and the fee)."""
    delta = row.get("delta")
    if not isinstance(delta, Mapping):
        return []
    kind = delta.get("type")
    fee = to_decimal(delta.get("fee"))
    if kind == "deposit":
        direction, code, amount = "deposit", "USDC", to_decimal(delta.get("usdc"))
    elif kind == "withdraw":  # `usdc` is what left the account; the bridge fee is taken from it
        direction, code, amount = "withdrawal", "USDC", to_decimal(delta.get("usdc")) - fee
    elif kind in TRANSFERS:
        sender, receiver = str(delta.get("user", "")).lower(), str(delta.get("destination", "")).lower()
        if sender == receiver or me not in (sender, receiver):
            return []  # between this address's own dexes, or not this address's money
        direction = "deposit" if receiver == me else "withdrawal"
        code = _code(exchange, delta.get("token", "USDC"))
        amount = to_decimal(delta.get("amount", delta.get("usdc")))
        if direction == "deposit":
            fee = ZERO  # the sender paid it
    else:
        return []  # own wallets (accountClassTransfer, vault*, cStakingTransfer) or income (rewards)
    key = _ledger_key(row)
    flow = {"type": direction, "currency": code, "amount": abs(amount), "fee": None, "status": "ok",
            "timestamp": int(row.get("time") or 0), "id": key, "txid": row.get("hash")}
    if not fee:
        return [flow]
    if code == "USDC":
        return [{**flow, "fee": {"cost": fee, "currency": code}}]
    # token transfers (spotTransfer, send) charge their fee in USDC
    return [flow, {**flow, "currency": "USDC", "amount": abs(fee), "id": f"{key}|fee"}]


async def hyperliquid_funding(exchange: Any, window: DayWindow, address: str) -> list[dict[str, Any]]:
    if window.start >= window.end:
        return []
    request = {"type": "userFunding", "user": address}
    rows = await _ranged(exchange, request, window, LEDGER_PAGE, _ledger_key)
    incomes: list[dict[str, Any]] = exchange.parse_incomes(rows)
    return incomes


async def hyperliquid_trades(exchange: Any, window: DayWindow, address: str) -> list[dict[str, Any]]:
    """Fills of the window, 2,000 a page; fee currencies mapped like spot balances (UBTC -> BTC)."""
    if window.start >= window.end:
        return []
    request = {"type": "userFillsByTime", "user": address, "aggregateByTime": False}
    rows = await _ranged(exchange, request, window, FILLS_PAGE, lambda row: f"{row.get('tid')}|{row.get('coin')}")
    trades: list[dict[str, Any]] = exchange.parse_trades(rows)
    for trade in trades:
        fee = trade.get("fee")
        if isinstance(fee, dict) and fee.get("currency"):
            trade["fee"] = {**fee, "currency": _code(exchange, fee["currency"])}
            trade["fees"] = [trade["fee"]]
    return trades

