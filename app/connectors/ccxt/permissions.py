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
    if style == "bitget":
        return from_bitget(await exchange.privateSpotGetV2SpotAccountInfo())
    if style == "kucoin":
        return from_kucoin(await exchange.privateGetUserApiKey())
    if style == "read_only":
        return {Permission.READ}  # a public wallet address can't trade or withdraw
    return {Permission.UNKNOWN}
