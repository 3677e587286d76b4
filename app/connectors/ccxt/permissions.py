"""API-key permissions where the venue reports them. Withdrawal permission is reported, the caller refuses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.connectors.base import MalformedResponse, Permission
from app.connectors.ccxt.deribit import client_signature
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


def from_deribit(body: Mapping[str, Any]) -> set[Permission]:
    """GET /api/v2/public/auth: result.scope, e.g. "account:read trade:read wallet:read_write mainaccount".
    A token asked without a scope gets the key's maximum scope (docs.deribit.com "Access Scope"); withdrawals
    need wallet:read_write, orders trade:read_write."""
    result = body.get("result") if isinstance(body, Mapping) else None
    if not isinstance(result, Mapping) or not isinstance(result.get("scope"), str):
        raise MalformedResponse("deribit: auth without scope")
    words = set(result["scope"].split())
    perms = {Permission.READ}
    if "trade:read_write" in words:
        perms.add(Permission.TRADE)
    if "wallet:read_write" in words:
        perms.add(Permission.WITHDRAW)
    return perms


def from_htx(body: Mapping[str, Any], access_key: str) -> set[Permission]:
    """GET /v2/user/api-key?uid=&accessKey=: data[].permission = "readOnly,trade,withdraw" (comma-separated)."""
    data = body.get("data")
    rows = [row for row in data if isinstance(row, Mapping)] if isinstance(data, list) else []
    row = next((row for row in rows if row.get("accessKey") == access_key), None)
    if row is None or not isinstance(row.get("permission"), str):
        raise MalformedResponse("htx: api-key answer without this key's permission")
    words = {word.strip() for word in row["permission"].split(",")}
    perms = {Permission.READ}
    if "trade" in words:
        perms.add(Permission.TRADE)
    if "withdraw" in words:
        perms.add(Permission.WITHDRAW)
    return perms


async def _htx_permissions(exchange: Any) -> set[Permission]:
    """htx lists a key's permissions per user id: the key's own uid first (GET /v2/user/uid)."""
    uid = await exchange.spotPrivateGetV2UserUid()
    if not isinstance(uid, Mapping) or not str(uid.get("data", "")).isdigit():
        raise MalformedResponse("htx: uid answer without a uid")
    body = await exchange.spotPrivateGetV2UserApiKey({"uid": uid["data"], "accessKey": exchange.apiKey})
    return from_htx(body, exchange.apiKey)


_BINGX_TRADE = {1, 3}  # 1 spot trading, 3 perpetual futures trading
_BINGX_WITHDRAW = 5


def from_bingx(body: Mapping[str, Any]) -> set[Permission]:
    """GET /openApi/v1/account/apiPermissions: data.permissions = [1 spot trading, 2 read, 3 perpetual futures
    trading, 4 universal transfer (between this account's own wallets), 5 withdraw, 7 sub-account transfer]."""
    data = body.get("data") if isinstance(body, Mapping) else None
    words = data.get("permissions") if isinstance(data, Mapping) else None
    if not isinstance(words, list):
        raise MalformedResponse("bingx: apiPermissions without permissions")
    codes = {int(word) for word in words if str(word).isdigit()}
    perms = {Permission.READ}
    if codes & _BINGX_TRADE:
        perms.add(Permission.TRADE)
    if _BINGX_WITHDRAW in codes:
        perms.add(Permission.WITHDRAW)
    return perms


# GET /api/v2/spot/account/info `authorities`: read-write codes (bitget api-doc spot/account/Get-Account-Info);
# "trade" is the word of the docs' example body (older keys)
_BITGET_TRADE = {"coow", "cpow", "stow", "smow", "ttow", "trade"}
_BITGET_WITHDRAW = {"wwow", "withdraw"}  # wwow: wallet withdrawal


def from_bitget(body: Mapping[str, Any]) -> set[Permission]:
    """GET /api/v2/spot/account/info: data.authorities = ["stor", "cpor", ..., "wwow"]."""
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, Mapping) or not isinstance(data.get("authorities"), list):
        raise MalformedResponse("bitget: account info without authorities")
    words = {str(word).strip().lower() for word in data["authorities"]}
    perms = {Permission.READ}
    if words & _BITGET_TRADE:
        perms.add(Permission.TRADE)
    if words & _BITGET_WITHDRAW:
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


# GET /api/v1/user/api-key `permission`: "General,Spot,Margin,Futures,..."; "Transfer" is kucoin's
# permission to move funds out (incl. withdrawal), "Withdrawal" its newer name
_KUCOIN_TRADE = {"spot", "margin", "futures", "trade", "options", "leveragedtoken"}
_KUCOIN_WITHDRAW = {"transfer", "withdrawal", "withdraw"}


def from_kucoin(body: Mapping[str, Any]) -> set[Permission]:
    """GET /api/v1/user/api-key: data.permission = "General,Spot"."""
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, Mapping) or not isinstance(data.get("permission"), str):
        raise MalformedResponse("kucoin: api-key info without permission")
    words = {word.strip().lower() for word in data["permission"].split(",")}
    perms = {Permission.READ}
    if words & _KUCOIN_TRADE:
        perms.add(Permission.TRADE)
    if words & _KUCOIN_WITHDRAW:
        perms.add(Permission.WITHDRAW)
    return perms


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
    if style == "deribit":
        return from_deribit(await exchange.publicGetAuth(client_signature(exchange.apiKey, exchange.secret)))
    if style == "htx":
        return await _htx_permissions(exchange)
    if style == "bingx":
        return from_bingx(await exchange.accountV1PrivateGetAccountApiPermissions())
    if style == "gate":
        return await _gate_permissions(exchange)
    if style == "bitget":
        return from_bitget(await exchange.privateSpotGetV2SpotAccountInfo())
    if style == "kucoin":
        return from_kucoin(await exchange.privateGetUserApiKey())
    if style == "read_only":
        return {Permission.READ}  # a public wallet address can't trade or withdraw
    return {Permission.UNKNOWN}
