"""Fake deribit (API v2 over HTTP: JSON-RPC bodies on GET /api/v2/{public|private}/<method>).

PROVENANCE (formats; values are the Scenario's):
- envelope `{"jsonrpc": "2.0", "result": ..., "usIn", "usOut", "usDiff", "testnet"}` and errors
  `{"jsonrpc": "2.0", "error": {"code", "message"}}`: docs.deribit.com "JSON-RPC" and "Error codes"
  (13004 invalid_credentials, 13009 unauthorized, -32602 Invalid params);
- request signing `Authorization: deri-hmac-sha256 id=<client id>,ts=<ms>,sig=<hex>,nonce=<nonce>`,
  sig = hex HMAC-SHA256(secret, ts \\n nonce \\n METHOD \\n URI \\n body \\n): docs.deribit.com
  "Authentication" (HMAC signature); `public/auth` grant_type client_signature, sig = hex
  HMAC-SHA256(secret, timestamp \\n nonce \\n data), answering access_token/expires_in/refresh_token/scope/
  token_type: docs.deribit.com "public/auth" and "Access Scope" (a token asked without a scope gets the
  key's maximum scope: account/trade/wallet/block_trade read or read_write, plus mainaccount);
- `public/get_currencies`, `public/get_instruments` (tests/fakes/data/ccxt/deribit_markets.json) and
  `public/get_book_summary_by_currency` rows: docs.deribit.com market data reference and ccxt 4.5.64
  deribit.fetch_markets / parse_ticker docstrings. Which books a `currency` selects is not stated for spot
  pairs; this fake lists a spot pair under its base and its quote currency, futures under their base;
- `private/get_account_summaries` (`result.summaries[]`: currency, equity, balance, margin_balance,
  available_funds, maintenance_margin, options_value, futures_session_upl, ...), `private/get_positions`
  (floating_profit_loss, total_profit_loss, size, kind, ...), `private/get_deposits` (address, amount,
  currency, received_timestamp, state, transaction_id, updated_timestamp), `private/get_withdrawals`
  (id, address, amount, fee, created_timestamp, confirmed_timestamp, state, transaction_id,
  updated_timestamp), `private/get_transfers` (id, amount, currency, direction income|payment,
  other_side, state, type user|subaccount, created_timestamp, updated_timestamp): `{"count", "data"}`,
  newest first, `count` default 10 and at most 1,000, `offset`; `private/get_user_trades_by_currency_and_time`
  (currency, start_timestamp, end_timestamp, count <= 1,000, sorting, `{"trades", "has_more"}`):
  docs.deribit.com account/wallet/trading reference and ccxt 4.5.64 deribit.py docstrings.
Private methods accept only their documented parameters (`PARAMS`): deribit refuses others (-32602).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from tests.fakes.ccxt_venues import Adapter, Body, Reply, Scenario, VenueRefusal, markets_file

PREFIX = "/api/v2/"
DEFAULT_SCOPE = "account:read block_trade:read trade:read wallet:read mainaccount"
PAGED = {"currency", "count", "offset"}
PARAMS = {
    "get_account_summaries": {"subaccount_id", "extended"},
    "get_positions": {"currency", "kind", "subaccount_id"},
    "get_deposits": PAGED,
    "get_withdrawals": PAGED,
    "get_transfers": PAGED,
    "get_user_trades_by_currency_and_time": {"currency", "kind", "start_timestamp", "end_timestamp", "count",
                                             "sorting", "historical", "subaccount_id"},
}


def envelope(result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "result": result, "usIn": 1714953599000000, "usOut": 1714953599000100,
            "usDiff": 100, "testnet": False}


def error(code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "error": {"code": code, "message": message}, "usIn": 1714953599000000,
            "usOut": 1714953599000100, "usDiff": 100, "testnet": False}


def _sign(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


class DeribitAdapter(Adapter):
    name = "deribit"

    def public(self, path: str) -> bool:
        # public/auth is public on deribit; it is checked here (verify) because it checks a signature
        return path.startswith(PREFIX + "public/") and path != PREFIX + "public/auth"

    def verify(self, scenario: Scenario, request: Request, path: str, query: str, body: bytes) -> Reply | None:
        if path == PREFIX + "public/auth":
            return self._check_auth(scenario, dict(parse_qsl(query)))
        header = request.headers.get("Authorization", "")
        scheme, _, fields = header.partition(" ")
        parts = dict(item.split("=", 1) for item in fields.split(",") if "=" in item)
        if scheme != "deri-hmac-sha256" or not {"id", "ts", "sig", "nonce"} <= set(parts):
            return 400, error(13009, "unauthorized")
        if not scenario.permissive:
            if parts["id"] != scenario.api_key:
                return 400, error(13004, "invalid_credentials")
            uri = path + (f"?{query}" if query else "")
            text = f"{parts['ts']}\n{parts['nonce']}\n{request.method}\n{uri}\n{body.decode()}\n"
            if not hmac.compare_digest(_sign(scenario.api_secret, text), parts["sig"]):
                return 400, error(13009, "unauthorized")
        allowed = PARAMS.get(path.removeprefix(PREFIX + "private/"))
        sent = {key for key, _ in parse_qsl(query)}
        if allowed is not None and not sent <= allowed:
            return 400, error(-32602, "Invalid params")
        return None

    def builtin(self, scenario: Scenario, path: str, query: dict[str, str]) -> Body | None:
        method = path.removeprefix(PREFIX + "public/")
        data = markets_file("deribit")
        if method in ("get_currencies", "get_instruments"):
            return envelope(data[method])
        if method == "get_book_summary_by_currency":
            return envelope(_book(data["get_instruments"], scenario.prices, query))
        if method == "auth":
            return self._auth(scenario, query)
        return None

    @staticmethod
    def _check_auth(scenario: Scenario, query: dict[str, str]) -> Reply | None:
        if query.get("grant_type") != "client_signature":
            return 400, error(-32602, "Invalid params")
        text = f"{query.get('timestamp')}\n{query.get('nonce')}\n{query.get('data', '')}"
        if scenario.permissive:
            return None
        if query.get("client_id") != scenario.api_key or not hmac.compare_digest(
                _sign(scenario.api_secret, text), query.get("signature", "")):
            return 400, error(13004, "invalid_credentials")
        return None

    @staticmethod
    def _auth(scenario: Scenario, query: dict[str, str]) -> Body:
        scope = str(scenario.responses.get("scope", DEFAULT_SCOPE))
        return envelope({"access_token": "1714953599000.1abc.token", "expires_in": 900,
                         "refresh_token": "1714953599000.1abc.refresh", "scope": scope, "token_type": "bearer",
                         "enabled_features": []})

    def not_found(self, path: str) -> Reply:
        return 400, error(-32601, "Method not found")


ADAPTER = DeribitAdapter


def _book(instruments: list[dict[str, Any]], prices: dict[str, str], query: dict[str, str]) -> list[dict[str, Any]]:
    """Book summaries of the instruments priced in the Scenario (prices keyed by instrument name)."""
    currency, kind = query.get("currency"), query.get("kind")
    rows = []
    for row in instruments:
        name = row["instrument_name"]
        if name not in prices or (kind and row["kind"] != kind):
            continue
        members = {row["base_currency"], row["counter_currency"]} if row["kind"] == "spot" else {row["base_currency"]}
        if currency not in members:
            continue
        price = float(prices[name])
        rows.append({"instrument_name": name, "base_currency": row["base_currency"],
                     "quote_currency": row["counter_currency"], "volume": 10.0, "volume_usd": 1000.0,
                     "open_interest": 0, "price_change": 0.0, "mark_price": price, "mid_price": price,
                     "bid_price": price, "ask_price": price, "last": price, "high": price, "low": price,
                     "estimated_delivery_price": price, "creation_timestamp": 1714953599000})
    return rows


def _time(row: dict[str, Any]) -> int:
    return int(row.get("updated_timestamp") or row.get("received_timestamp") or row.get("created_timestamp") or 0)


def history(rows: list[dict[str, Any]]) -> Callable[[dict[str, str]], Body]:
    """get_deposits / get_withdrawals / get_transfers: one currency (mandatory), newest first, `count`
    (default 10, at most 1,000) rows from `offset`."""

    def answer(query: dict[str, str]) -> Body:
        if "currency" not in query:
            raise VenueRefusal(400, error(-32602, "Invalid params"))
        count, offset = int(query.get("count", 10)), int(query.get("offset", 0))
        if not 1 <= count <= 1000:
            raise VenueRefusal(400, error(-32602, "Invalid params"))
        mine = sorted((r for r in rows if r["currency"] == query["currency"]), key=_time, reverse=True)
        return envelope({"count": len(mine), "data": mine[offset:offset + count]})

    return answer


def user_trades(rows: list[dict[str, Any]]) -> Callable[[dict[str, str]], Body]:
    """get_user_trades_by_currency_and_time: rows carry `_currency` (the currency deribit files the
    instrument under; removed from the answer); start/end inclusive, `count` default 10, at most 1,000."""

    def answer(query: dict[str, str]) -> Body:
        count = int(query.get("count", 10))
        if not 1 <= count <= 1000 or "currency" not in query:
            raise VenueRefusal(400, error(-32602, "Invalid params"))
        start, end = int(query.get("start_timestamp", 0)), int(query.get("end_timestamp", 2**62))
        mine = sorted((r for r in rows if r["_currency"] == query["currency"] and start <= r["timestamp"] <= end),
                      key=lambda r: r["timestamp"], reverse=query.get("sorting") != "asc")
        page = [{k: v for k, v in r.items() if k != "_currency"} for r in mine[:count]]
        return envelope({"trades": page, "has_more": len(mine) > count})

    return answer


def summary(currency: str, equity: str) -> dict[str, Any]:
    return {"currency": currency, "equity": float(equity), "balance": float(equity), "margin_balance": float(equity),
            "available_funds": float(equity), "available_withdrawal_funds": float(equity), "initial_margin": 0,
            "maintenance_margin": 0, "projected_initial_margin": 0, "projected_maintenance_margin": 0,
            "options_value": 0, "options_pl": 0, "options_session_upl": 0, "options_session_rpl": 0,
            "futures_pl": 0, "futures_session_upl": 0, "futures_session_rpl": 0, "session_upl": 0,
            "session_rpl": 0, "total_pl": 0, "delta_total": 0, "fee_balance": 0, "spot_reserve": 0,
            "portfolio_margining_enabled": False, "cross_collateral_enabled": False, "margin_model": "segregated_sm",
            "limits": {"non_matching_engine": {"rate": 20, "burst": 100}}}


def position(instrument: str, kind: str, floating: str, size: str) -> dict[str, Any]:
    return {"instrument_name": instrument, "kind": kind, "direction": "buy" if float(size) > 0 else "sell",
            "size": float(size), "size_currency": float(size), "average_price": 50000.0, "mark_price": 50000.0,
            "index_price": 50000.0, "settlement_price": 50000.0, "floating_profit_loss": float(floating),
            "total_profit_loss": float(floating), "realized_profit_loss": 0.0, "realized_funding": 0.0,
            "initial_margin": 0.001, "maintenance_margin": 0.0005, "open_orders_margin": 0.0, "leverage": 10,
            "delta": 0.1, "estimated_liquidation_price": None, "interest_value": 0.0}


def scenario(summaries: dict[str, str] | None = None, prices: dict[str, str] | None = None, *,
             positions: list[dict[str, Any]] | None = None, deposits: list[dict[str, Any]] | None = None,
             withdrawals: list[dict[str, Any]] | None = None, transfers: list[dict[str, Any]] | None = None,
             trades: list[dict[str, Any]] | None = None, scope: str = DEFAULT_SCOPE, **credentials: Any) -> Scenario:
    """summaries: currency -> `equity` (balance + futures session PnL + options value) of its summary.
    prices: instrument name (BTC-PERPETUAL, ETH_USDC, ...) -> last price of its book."""
    responses: dict[str, Any] = {
        PREFIX + "private/get_account_summaries": envelope({
            "id": 7700001, "email": "zka@example.com", "username": "zka", "system_name": "zka", "type": "main",
            "creation_timestamp": 1600000000000, "referrer_id": None, "login_enabled": False,
            "security_keys_enabled": False, "mmp_enabled": False, "interuser_transfers_enabled": False,
            "self_trading_reject_mode": "cancel_maker", "self_trading_extended_to_subaccounts": False,
            "summaries": [summary(c, v) for c, v in (summaries or {}).items()]}),
        PREFIX + "private/get_positions": envelope(positions or []),
        PREFIX + "private/get_deposits": history(deposits or []),
        PREFIX + "private/get_withdrawals": history(withdrawals or []),
        PREFIX + "private/get_transfers": history(transfers or []),
        PREFIX + "private/get_user_trades_by_currency_and_time": user_trades(trades or []),
        "scope": scope,  # not a path: the scope public/auth grants (read by the adapter)
    }
    return Scenario(responses=responses, prices=prices or {}, **credentials)


PRICES = {"BTC-PERPETUAL": "50000", "ETH-PERPETUAL": "2500", "BTC_USDC": "50000", "ETH_USDC": "2500",
          "USDT_USDC": "0.9995", "EURR_USDC": "1.08", "STETH_ETH": "0.998"}
E2E = (lambda: scenario({"BTC": "0.5", "USDC": "100"}, PRICES), "25100")
MALFORMED = (lambda: scenario({"BTC": "0.5"}, PRICES), PREFIX + "private/get_account_summaries")
