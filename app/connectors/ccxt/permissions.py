"""API-key permissions where the venue reports them. Withdrawal permission is reported, the caller refuses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.connectors.base import MalformedResponse, Permission
from app.connectors.ccxt.profiles import PermissionStyle

_BYBIT_TRADE_GROUPS = ("ContractTrade", "Spot", "Options", "Derivatives", "CopyTrading", "BlockTrade")


def from_binance(body: Mapping[str, Any]) -> set[Permission]:
    """GET /sapi/v1/account/apiRestrictions: enableReading, enableSpotAndMarginTrading, enableWithdrawals."""
    if "enableWithdrawals" not in body:
        raise MalformedResponse("binance: apiRestrictions without enableWithdrawals")
    perms = {Permission.READ} if body.get("enableReading", True) else set()
    trading = ("enableSpotAndMarginTrading", "enableFutures", "enableMargin", "enableVanillaOptions",
               "enablePortfolioMarginTrading")
    if any(body.get(flag) is True for flag in trading):
        perms.add(Permission.TRADE)
    if body.get("enableWithdrawals") is True:
        perms.add(Permission.WITHDRAW)
    return perms


def from_okx(body: Mapping[str, Any]) -> set[Permission]:
    """GET /api/v5/account/config: data[0].perm = 'read_only,trade,withdraw'."""
    data = body.get("data")
    if not isinstance(data, list) or not data or not isinstance(data[0], dict) or "perm" not in data[0]:
        raise MalformedResponse("okx: account config without perm")
    words = {word.strip() for word in str(data[0]["perm"]).split(",")}
    perms = {Permission.READ}
    if "trade" in words:
        perms.add(Permission.TRADE)
    if "withdraw" in words:
        perms.add(Permission.WITHDRAW)
    return perms


def from_bybit(body: Mapping[str, Any]) -> set[Permission]:
    """GET /v5/user/query-api: result.readOnly (0/1), result.permissions {group: [names]}."""
    result = body.get("result")
    if not isinstance(result, dict) or not isinstance(result.get("permissions"), dict):
        raise MalformedResponse("bybit: query-api without permissions")
    groups: Mapping[str, Any] = result["permissions"]
    perms = {Permission.READ}
    read_only = str(result.get("readOnly", "1")) == "1"
    if not read_only and any(groups.get(group) for group in _BYBIT_TRADE_GROUPS):
        perms.add(Permission.TRADE)
    if "Withdraw" in (groups.get("Wallet") or []):
        perms.add(Permission.WITHDRAW)
    return perms


_KRAKEN_TRADE = ("modify-trades", "cancel-close-trades")


def from_kraken(body: Mapping[str, Any]) -> set[Permission]:
    """POST /0/private/GetApiKeyInfo: result.permissions = ["query-funds", "withdraw-funds", "modify-trades", ...]."""
    result = body.get("result")
    if not isinstance(result, dict) or not isinstance(result.get("permissions"), list):
        raise MalformedResponse("kraken: GetApiKeyInfo without permissions")
    words = {str(word) for word in result["permissions"]}
    perms = {Permission.READ}
    if words & set(_KRAKEN_TRADE):
        perms.add(Permission.TRADE)
    if "withdraw-funds" in words:
        perms.add(Permission.WITHDRAW)
    return perms


def from_coinbase(body: Mapping[str, Any]) -> set[Permission]:
    """GET /api/v3/brokerage/key_permissions: can_view, can_trade, can_transfer (booleans); transfer is
    coinbase's word for sending funds on or off the platform."""
    if not isinstance(body, Mapping) or not isinstance(body.get("can_transfer"), bool):
        raise MalformedResponse("coinbase: key_permissions without can_transfer")
    perms = {Permission.READ} if body.get("can_view", True) is not False else set()
    if body.get("can_trade") is True:
        perms.add(Permission.TRADE)
    if body["can_transfer"]:
        perms.add(Permission.WITHDRAW)
    return perms


# gate key permission groups that place or change orders (GET /account/main_keys `perms[].name`)
_GATE_TRADE = ("spot", "margin", "futures", "delivery", "options", "unified", "copy", "pilot", "alpha", "crossx")


def from_gate(body: Any, api_key: str) -> set[Permission]:
    """GET /account/main_keys: the main account's keys, each `key` masked to its first characters
    ("c5dcfbf1f3a7*****") with `perms` [{name, read_only}]; the SDKs' model is one such object (the
    calling key's). Ours is the entry whose visible prefix starts our key (several: all of them count).
    gate has no separate withdrawal flag: `wallet` read-write is the group that moves funds (transfers,
    withdrawals), so it is read as withdraw-capable. Not found: unknown."""
    entries = [body] if isinstance(body, Mapping) else body
    if not isinstance(entries, list) or not all(isinstance(entry, Mapping) for entry in entries):
        raise MalformedResponse("gate: main_keys is not a list of keys")
    if not isinstance(body, Mapping):
        entries = [entry for entry in entries if _gate_key_matches(entry.get("key"), api_key)]
    if not entries:
        return {Permission.UNKNOWN}
    writable: set[str] = set()
    for entry in entries:
        perms = entry.get("perms")
        if not isinstance(perms, list):
            raise MalformedResponse("gate: main_keys entry without perms")
        writable |= {str(p.get("name")) for p in perms if isinstance(p, Mapping) and p.get("read_only") is False}
    result = {Permission.READ}
    if writable & set(_GATE_TRADE):
        result.add(Permission.TRADE)
    if "wallet" in writable:
        result.add(Permission.WITHDRAW)
    return result


def _gate_key_matches(masked: object, api_key: str) -> bool:
    prefix = str(masked or "").split("*", 1)[0]
    return len(prefix) >= 8 and api_key.startswith(prefix)


async def _gate_permissions(exchange: Any) -> set[Permission]:
    """A key without gate's `account` read permission is refused main_keys (403 FORBIDDEN): it cannot show
    its own permissions, so they stay unknown (listed in coverage) rather than blocking the connection."""
    try:
        body = await exchange.privateAccountGetMainKeys()
    except Exception as exc:
        if type(exc).__name__ == "PermissionDenied":
            return {Permission.UNKNOWN}
        raise
    return from_gate(body, exchange.apiKey)


async def fetch_permissions(exchange: Any, style: PermissionStyle) -> set[Permission]:
    if style == "binance":
        return from_binance(await exchange.sapiGetAccountApiRestrictions())
    if style == "okx":
        return from_okx(await exchange.privateGetAccountConfig())
    if style == "bybit":
        return from_bybit(await exchange.privateGetV5UserQueryApi())
    if style == "kraken":
        return from_kraken(await exchange.privatePostGetApiKeyInfo())
    if style == "coinbase":
        return from_coinbase(await exchange.v3PrivateGetBrokerageKeyPermissions())
    if style == "gate":
        return await _gate_permissions(exchange)
    if style == "read_only":
        return {Permission.READ}  # a public wallet address can't trade or withdraw
    return {Permission.UNKNOWN}
