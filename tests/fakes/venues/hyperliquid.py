"""Fake hyperliquid: `POST /info` with a JSON body `{"type": ..., "user": ..., ...}` (public reads of an address).

PROVENANCE (formats; values are the Scenario's):
- hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/info-endpoint (and its perpetuals / spot
  pages): `metaAndAssetCtxs` ([{universe, marginTables}, [asset contexts]]), `spotMetaAndAssetCtxs`
  ([{universe: [{tokens, name, index, isCanonical}], tokens: [{name, szDecimals, weiDecimals, index,
  tokenId, ...}]}, [contexts by universe index]]), `clearinghouseState` (assetPositions[].position,
  marginSummary, crossMarginSummary, withdrawable, time), `spotClearinghouseState` (balances[]: coin,
  token, hold, total, entryNtl), `userFillsByTime` (at most 2,000 fills, oldest first),
  `userFunding` and `userNonFundingLedgerUpdates` ({time, hash, delta: {type, ...}}; ranged reads answer at
  most 500 rows, "use the last returned timestamp as the next startTime"), `userVaultEquities`
  ([{vaultAddress, equity, lockedUntilTimestamp}]), `delegatorSummary` ({delegated, undelegated,
  totalPendingWithdrawal, nPendingWithdrawals}), `userAbstraction` (a bare JSON string: "disabled",
  "unifiedAccount", "portfolioMargin", "default", "dexAbstraction");
- ledger delta kinds and fields (deposit, withdraw, internalTransfer, subAccountTransfer, spotTransfer,
  send, accountClassTransfer, vaultDeposit, cStakingTransfer, rewardsClaim): the same docs and the
  typed response schemas of the @nktkas/hyperliquid SDK (userNonFundingLedgerUpdates);
- what ccxt 4.5.64 sends and reads: .venv/.../ccxt/async_support/hyperliquid.py.
An address must be 0x + 40 hex digits; a body of an unmodelled type answers 404 here (hyperliquid: 422
"Failed to deserialize the JSON body"), so `fake.unknown` lists it. Every request's type is logged in
`scenario.responses["_log"]` (all share one path).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from starlette.requests import Request

from tests.fakes.ccxt_venues import Adapter, Body, Reply, Scenario

ADDRESS = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
FIELDS = {
    "metaAndAssetCtxs": {"dex"}, "spotMetaAndAssetCtxs": set(),
    "clearinghouseState": {"user", "dex"}, "spotClearinghouseState": {"user", "dex"},
    "userAbstraction": {"user"}, "userVaultEquities": {"user"}, "delegatorSummary": {"user"},
    "userFillsByTime": {"user", "startTime", "endTime", "aggregateByTime"},
    "userFunding": {"user", "startTime", "endTime"}, "userNonFundingLedgerUpdates": {"user", "startTime", "endTime"},
}
RANGED = {"userFillsByTime": 2000, "userFunding": 500, "userNonFundingLedgerUpdates": 500}

PERPS = [("BTC", 5, "50000"), ("ETH", 4, "2500"), ("HYPE", 2, "20")]
TOKENS = ["USDC", "PURR", "HYPE", "UBTC", "USDT0", "JEFF"]
# (name, [base token, quote token]); JEFF trades only against HYPE
SPOT = [("PURR/USDC", [1, 0]), ("@1", [2, 0]), ("@2", [3, 0]), ("@3", [4, 0]), ("@4", [5, 2])]
SPOT_PRICES = {"PURR/USDC": "0.2", "@1": "20", "@2": "50000", "@3": "1", "@4": "0.5"}


class HyperliquidAdapter(Adapter):
    name = "hyperliquid"

    def public(self, path: str) -> bool:
        return path != "/info"  # every /info read is answered in verify (one path, many types)

    def verify(self, scenario: Scenario, request: Request, path: str, query: str, body: bytes) -> Reply | None:
        try:
            data = json.loads(body or b"null")
        except ValueError:
            return 422, "Failed to deserialize the JSON body into the target type"
        kind = data.get("type") if isinstance(data, dict) else None
        scenario.responses.setdefault("_log", []).append(kind)
        if kind not in FIELDS:
            return 404, {"fake": "no info type", "type": kind}
        if not set(data) - {"type"} <= FIELDS[kind] or ("user" in FIELDS[kind] and not _ADDRESS.match(
                str(data.get("user", "")))):
            return 422, "Failed to deserialize the JSON body into the target type"
        if kind == "metaAndAssetCtxs":
            return 200, _perp_meta()
        if kind == "spotMetaAndAssetCtxs":
            return 200, _spot_meta(scenario.prices)
        answer = scenario.responses.get(f"info:{kind}")
        if answer is None:
            return 404, {"fake": "no answer", "type": kind}
        if callable(answer):
            answer = answer(data)
        return 200, answer


ADAPTER = HyperliquidAdapter


def _perp_meta() -> list[Any]:
    universe = [{"name": n, "szDecimals": d, "maxLeverage": 50, "marginTableId": 50} for n, d, _ in PERPS]
    ctxs = [{"funding": "0.0000125", "openInterest": "1000", "prevDayPx": p, "dayNtlVlm": "1000000",
             "premium": "0.0001", "oraclePx": p, "markPx": p, "midPx": p, "impactPxs": [p, p], "dayBaseVlm": "100"}
            for _, _, p in PERPS]
    return [{"universe": universe, "marginTables": [[50, {"description": "", "marginTiers": [
        {"lowerBound": "0.0", "maxLeverage": 50}]}]], "collateralToken": 0}, ctxs]


def _spot_meta(prices: dict[str, str]) -> list[Any]:
    tokens = [{"name": n, "szDecimals": 2, "weiDecimals": 8, "index": i, "tokenId": "0x" + f"{i:032x}",
               "isCanonical": i < 2, "evmContract": None, "fullName": None, "deployerTradingFeeShare": "0.0"}
              for i, n in enumerate(TOKENS)]
    universe = [{"tokens": t, "name": n, "index": i, "isCanonical": n == "PURR/USDC"} for i, (n, t) in enumerate(SPOT)]
    ctxs = []
    for name, _ in SPOT:
        price = prices.get(name, SPOT_PRICES[name])
        ctxs.append({"prevDayPx": price, "dayNtlVlm": "1000", "markPx": price, "midPx": price,
                     "circulatingSupply": "1000000", "coin": name, "totalSupply": "1000000", "dayBaseVlm": "10"})
    return [{"universe": universe, "tokens": tokens}, ctxs]


def ranged(rows: list[dict[str, Any]], page: int) -> Callable[[dict[str, Any]], Body]:
    """Rows with startTime <= time <= endTime, oldest first, at most `page` of them."""

    def answer(request: dict[str, Any]) -> Body:
        start, end = int(request["startTime"]), int(request.get("endTime") or 2**62)
        return sorted((r for r in rows if start <= r["time"] <= end), key=lambda r: r["time"])[:page]

    return answer


def perp_position(coin: str, szi: str, upl: str) -> dict[str, Any]:
    return {"type": "oneWay", "position": {
        "coin": coin, "szi": szi, "leverage": {"type": "cross", "value": 10}, "entryPx": "100",
        "positionValue": "1000", "unrealizedPnl": upl, "returnOnEquity": "0.1", "liquidationPx": None,
        "marginUsed": "100", "maxLeverage": 50, "cumFunding": {"allTime": "0", "sinceOpen": "0", "sinceChange": "0"}}}


def scenario(spot: dict[str, str] | None = None, account_value: str = "0", *,
             positions: list[dict[str, Any]] | None = None, mode: str = "disabled",
             vaults: list[str] | None = None, staking: tuple[str, str, str] = ("0", "0", "0"),
             ledger: list[dict[str, Any]] | None = None, funding: list[dict[str, Any]] | None = None,
             fills: list[dict[str, Any]] | None = None, prices: dict[str, str] | None = None) -> Scenario:
    """spot: token name (USDC, HYPE, UBTC, ...) -> `total`; account_value: perp marginSummary.accountValue;
    vaults: equities in USDC; staking: (delegated, undelegated, totalPendingWithdrawal) HYPE;
    prices: spot universe name -> midPx (defaults SPOT_PRICES)."""
    summary = {"accountValue": account_value, "totalNtlPos": "0", "totalRawUsd": account_value,
               "totalMarginUsed": "0"}
    responses: dict[str, Any] = {
        "info:spotClearinghouseState": {"balances": [
            {"coin": c, "token": TOKENS.index(c), "hold": "0.0", "total": v, "entryNtl": "0.0"}
            for c, v in (spot or {}).items()]},
        "info:clearinghouseState": {"assetPositions": positions or [], "marginSummary": summary,
                                    "crossMarginSummary": summary, "crossMaintenanceMarginUsed": "0",
                                    "withdrawable": account_value, "time": 1714953599000},
        "info:userAbstraction": mode,
        "info:userVaultEquities": [{"vaultAddress": "0x" + f"{i:040x}", "equity": v, "lockedUntilTimestamp": 0}
                                   for i, v in enumerate(vaults or [])],
        "info:delegatorSummary": {"delegated": staking[0], "undelegated": staking[1],
                                  "totalPendingWithdrawal": staking[2], "nPendingWithdrawals": 0},
        "info:userNonFundingLedgerUpdates": ranged(ledger or [], 500),
        "info:userFunding": ranged(funding or [], 500),
        "info:userFillsByTime": ranged(fills or [], 2000),
    }
    return Scenario(api_key=ADDRESS, api_secret="unused-for-a-wallet-address", responses=responses,
                    prices=prices or {})


E2E = (lambda: scenario({"USDC": "100", "HYPE": "50"}, "900"), "2000")  # 100 + 50 x 20 + 900
MALFORMED = (lambda: scenario({"USDC": "100"}, "900"), "info:spotClearinghouseState")
