"""Fake gate (APIv4, classic account) for the ccxt connector: documented formats, signatures checked.

PROVENANCE of each format (values are the scenario's; field names and meanings from the sources named):
- signing: gate.com/docs/developers/apiv4 "Authentication": headers KEY, Timestamp (seconds), SIGN =
  hex HMAC-SHA512(secret, METHOD "\\n" /api/v4/path "\\n" query "\\n" hex SHA512(body) "\\n" Timestamp);
  refusals `{"label": "INVALID_KEY" | "INVALID_SIGNATURE" | "MISSING_REQUIRED_HEADER", "message": ...}`
  with 401 (labels as ccxt 4.5.64 `gate.exceptions` maps them). Timestamps more than 60 s off: REQUEST_EXPIRED.
- markets (`tests/fakes/data/ccxt/gate_markets.json`): GET /spot/currency_pairs, /margin/currency_pairs,
  /futures/{settle}/contracts, /delivery/usdt/contracts, field names of the apiv4 docs' examples (as
  quoted in ccxt's `parse_contract_market`); ZKB trades only against ETH (priced through ETH/USDT).
- tickers: GET /spot/tickers (`currency_pair`, `last`, `highest_bid`, `lowest_ask`, ...).
- balances: GET /spot/accounts [{currency, available, locked}], /margin/cross/accounts {balances:
  {coin: {available, freeze, borrowed, interest}}}, /margin/accounts [{currency_pair, base, quote}],
  /futures/{settle}/accounts and /delivery/usdt/accounts {total, unrealised_pnl, currency, history, ...},
  /options/accounts (gateapi-csharp docs FuturesAccount / MarginAccount / CrossMarginAccount models, ccxt's
  quoted examples). `total` is the balance without open positions' PnL (gate: total = position_margin +
  order_margin + available; ccxt's own example has unrealised_pnl 13.3 beside total 12.5).
- positions: GET /futures/{settle}/positions, /delivery/usdt/positions (docs Position model: contract,
  size, entry_price, mark_price, value, unrealised_pnl, leverage, ...).
- flows: GET /wallet/deposits, /wallet/withdrawals (docs DepositRecord / WithdrawalRecord: id, txid,
  timestamp in seconds, amount, fee, currency, status DONE/DEP_CREDITED/PEND/...; `from`/`to` in seconds,
  at most 30 days apart, `limit` default 100 (deposits at most 500), `offset`; newest first).
- funding: GET /futures/{settle}/account_book?type=fund (docs FuturesAccountBook: time, change, balance,
  type, text "BTC_USDT:<trade id>", contract, id; `limit` default 100, `offset`, `from`/`to`).
- trades: GET /spot/my_trades (id, create_time, create_time_ms, currency_pair, side, amount, price, fee,
  fee_currency; `account` spot|cross_margin|margin, `from`/`to`, `limit` at most 1000, `page`),
  /futures/{settle}/my_trades_timerange and /delivery/usdt/my_trades (trade_id, create_time, contract,
  size, price, fee, role).
- earn: GET /earn/uni/lends (docs UniLend: currency, current_amount, amount "Total Lending Amount",
  lent_amount, frozen_amount, ...; `page`, `limit` at most 100).
- key permissions: GET /account/main_keys (docs "Query All Main Account Key Information": a list of the
  main account's keys, `key` masked "c5dcfbf1f3a7*****", perms [{name, read_only}]); GET /account/detail
  (key.mode 1 classic) for plain ccxt, which asks it before reading balances.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request

from tests.fakes.ccxt_venues import Adapter, Body, Reply, Scenario, VenueRefusal, markets_file

PREFIX = "/api/v4"
_PUBLIC = ("/spot/currency_pairs", "/margin/currency_pairs", "/spot/tickers", "/futures/usdt/contracts",
           "/futures/btc/contracts", "/delivery/usdt/contracts", "/delivery/btc/contracts",
           "/futures/usdt/tickers", "/futures/btc/tickers", "/spot/currencies", "/options/underlyings")
MAX_SECONDS = 30 * 86_400
KEY_PERMS_READ_ONLY = [{"name": name, "read_only": True} for name in ("wallet", "spot", "futures", "delivery",
                                                                       "earn", "options", "account")]


def _bad(label: str, message: str) -> VenueRefusal:
    return VenueRefusal(400, {"label": label, "message": message})


class GateAdapter(Adapter):
    name = "gate"

    def public(self, path: str) -> bool:
        return path.removeprefix(PREFIX) in _PUBLIC

    def verify(self, scenario: Scenario, request: Request, path: str, query: str, body: bytes) -> Reply | None:
        key, sign, stamp = (request.headers.get(h) for h in ("KEY", "SIGN", "Timestamp"))
        if not key or not sign or not stamp:
            return 401, {"label": "MISSING_REQUIRED_HEADER", "message": "Missing required header: KEY"}
        if scenario.permissive:
            return None
        if key != scenario.api_key:
            return 401, {"label": "INVALID_KEY", "message": "Invalid key provided"}
        if not stamp.isdigit() or abs(int(stamp) - time.time()) > 60:
            return 401, {"label": "REQUEST_EXPIRED",
                         "message": "gap between request Timestamp and server time exceeds 60"}
        payload = "\n".join([request.method, path, query, hashlib.sha512(body).hexdigest(), stamp])
        expected = hmac.new(scenario.api_secret.encode(), payload.encode(), hashlib.sha512).hexdigest()
        if not hmac.compare_digest(expected, sign):
            return 401, {"label": "INVALID_SIGNATURE", "message": "Signature mismatch"}
        return None

    def builtin(self, scenario: Scenario, path: str, query: dict[str, str]) -> Body | None:
        short = path.removeprefix(PREFIX)
        if short in ("/spot/tickers",):
            return [_ticker(symbol, price) for symbol, price in scenario.prices.items()]
        if short in ("/futures/usdt/tickers", "/futures/btc/tickers"):
            return []
        data = markets_file("gate")
        if path in data:
            return data[path]
        if short in ("/delivery/btc/contracts", "/options/underlyings"):  # none listed in this replica
            return []
        return None

    def not_found(self, path: str) -> Reply:
        return 404, {"label": "NOT_FOUND", "message": f"fake gate: no route {path}"}


ADAPTER = GateAdapter


def _ticker(symbol: str, price: str) -> dict[str, Any]:
    return {"currency_pair": symbol.replace("/", "_"), "last": price, "lowest_ask": price, "highest_bid": price,
            "change_percentage": "0", "change_utc0": "0", "change_utc8": "0", "base_volume": "0",
            "quote_volume": "0", "high_24h": price, "low_24h": price, "etf_net_value": "", "etf_pre_net_value": "",
            "etf_pre_timestamp": 0, "etf_leverage": ""}


def _seconds(row: dict[str, Any], field: str) -> float:
    return float(row[field])


def history(rows: list[dict[str, Any]], time_field: str, *, max_limit: int, paging: str = "offset",
            match: tuple[str, ...] = (), max_span: int | None = MAX_SECONDS) -> Callable[[dict[str, str]], Body]:
    """gate list endpoints: `from`/`to` (seconds, inclusive), newest first, `limit` (default 100, at most
    `max_limit`, more refused), then `offset` (or 1-based `page`); rows filtered on the `match` query fields."""

    def answer(query: dict[str, str]) -> Body:
        limit = int(query.get("limit", 100))
        if not 1 <= limit <= max_limit:
            raise _bad("INVALID_PARAM_VALUE", f"invalid argument: limit must be 1..{max_limit}")
        start, end = int(query.get("from", 0)), int(query.get("to", 2**40))
        if max_span is not None and "from" in query and end - start > max_span:
            raise _bad("INVALID_PARAM_VALUE", "Record query time range cannot exceed 30 days")
        if start > end:
            raise _bad("INVALID_PARAM_VALUE", "from must be earlier than to")
        out = [r for r in rows if start <= _seconds(r, time_field) < end + 1
               and all(field not in query or str(r.get(field)) == query[field] for field in match)]
        out.sort(key=lambda r: _seconds(r, time_field), reverse=True)
        skip = (int(query.get("page", 1)) - 1) * limit if paging == "page" else int(query.get("offset", 0))
        return [{k: v for k, v in r.items() if k not in ("settle", "account", "kind")} for r in out[skip:skip + limit]]

    return answer


def scenario(
    spot: dict[str, str] | None = None,
    prices: dict[str, str] | None = None,
    *,
    cross_margin: dict[str, dict[str, str]] | None = None,
    isolated_margin: list[dict[str, Any]] | None = None,
    futures: dict[str, dict[str, str]] | None = None,
    delivery: dict[str, str] | None = None,
    options: dict[str, str] | None = None,
    positions: dict[str, list[dict[str, Any]]] | None = None,
    deposits: list[dict[str, Any]] | None = None,
    withdrawals: list[dict[str, Any]] | None = None,
    book: list[dict[str, Any]] | None = None,
    spot_trades: list[dict[str, Any]] | None = None,
    contract_trades: list[dict[str, Any]] | None = None,
    earn: dict[str, str] | None = None,
    key_perms: list[dict[str, Any]] | None = None,
    **credentials: Any,
) -> Scenario:
    """spot: currency -> available; cross_margin: currency -> {available, freeze, borrowed, interest};
    futures: settle ("usdt"/"btc") -> {total, unrealised_pnl}; delivery/options: {total, unrealised_pnl};
    positions: "usdt" | "btc" | "delivery" -> Position rows; book: account_book rows with a `settle` key;
    spot_trades: rows with an `account` key (spot | cross_margin | margin); contract_trades: rows with a
    `settle` key (usdt | btc | delivery); earn: currency -> Simple Earn `amount`."""
    api_key = credentials.setdefault("api_key", "gate-test-key-6f1c2a9d0b7e4f3a")
    credentials.setdefault("api_secret", "gate-test-secret-0001")

    def contract_account(currency: str, fields: dict[str, str]) -> dict[str, Any]:
        total = fields.get("total", "0")
        return {"total": total, "unrealised_pnl": fields.get("unrealised_pnl", "0"), "position_margin": "0",
                "order_margin": "0", "available": total, "point": "0", "currency": currency.upper(),
                "in_dual_mode": False, "enable_credit": False, "position_initial_margin": "0",
                "maintenance_margin": "0", "bonus": "0", "enable_evolved_classic": True,
                "cross_order_margin": "0", "cross_initial_margin": "0", "cross_maintenance_margin": "0",
                "cross_unrealised_pnl": "0", "cross_available": total, "cross_margin_balance": total,
                "isolated_position_margin": "0", "enable_new_dual_mode": False, "margin_mode": 0,
                "history": {"dnw": total, "pnl": "0", "fee": "0", "refr": "0", "fund": "0", "point_dnw": "0",
                            "point_fee": "0", "point_refr": "0", "bonus_dnw": "0", "bonus_offset": "0"}}

    def missing_account(kind: str) -> Callable[[dict[str, str]], Body]:
        def answer(query: dict[str, str]) -> Body:  # gate: the account exists once funds were moved in
            raise _bad("USER_NOT_FOUND", f"please transfer funds first to create {kind} account")
        return answer

    spots = [{"currency": c, "available": v, "locked": "0", "update_id": 1} for c, v in (spot or {}).items()]
    responses: dict[str, Any] = {
        f"{PREFIX}/account/detail": {"user_id": 10406147, "ip_whitelist": [], "currency_pairs": [],
                                     "key": {"mode": 1}, "tier": 0, "copy_trading_role": 0},
        f"{PREFIX}/account/main_keys": [
            {"state": 1, "mode": 1, "name": "other", "user_id": 10406147, "perms": [
                {"name": "wallet", "read_only": False}, {"name": "spot", "read_only": False}],
             "ip_whitelist": [], "currency_pairs": [], "key": "a0b1c2d3e4f5*****", "created_at": 1714867200,
             "update_at": 1714867200, "last_access": 1714867200},
            {"state": 1, "mode": 1, "name": "zka", "user_id": 10406147,
             "perms": key_perms if key_perms is not None else KEY_PERMS_READ_ONLY, "ip_whitelist": [],
             "currency_pairs": [], "key": api_key[:12] + "*****", "created_at": 1714867200,
             "update_at": 1714867200, "last_access": 1714953599}],
        f"{PREFIX}/spot/accounts": spots,
        f"{PREFIX}/margin/cross/accounts": {"user_id": 10406147, "locked": False, "balances": {
            c: {"available": "0", "freeze": "0", "borrowed": "0", "interest": "0", **fields}
            for c, fields in (cross_margin or {}).items()}, "total": "0", "borrowed": "0", "interest": "0",
            "risk": "9999.99", "total_initial_margin": "0", "total_margin_balance": "0",
            "total_maintenance_margin": "0", "total_initial_margin_rate": "0",
            "total_maintenance_margin_rate": "0", "total_available_margin": "0"}
        if cross_margin is not None else missing_account("cross margin"),
        f"{PREFIX}/margin/accounts": isolated_margin or [],
        f"{PREFIX}/delivery/usdt/accounts": contract_account("usdt", delivery) if delivery is not None
        else missing_account("delivery"),
        f"{PREFIX}/options/accounts": {**contract_account("usdt", options), "equity": "0", "init_margin": "0",
                                       "maint_margin": "0", "liq_triggered": False, "orders_limit": 10}
        if options is not None else missing_account("options"),
        f"{PREFIX}/wallet/deposits": history(deposits or [], "timestamp", max_limit=500),
        f"{PREFIX}/wallet/withdrawals": history(withdrawals or [], "timestamp", max_limit=500),
        f"{PREFIX}/earn/uni/lends": lambda q: [
            {"currency": c, "current_amount": v, "amount": v, "lent_amount": v, "frozen_amount": "0",
             "min_rate": "0.0001", "interest_status": "interest_dividend", "reinvest_left_amount": "0",
             "create_time": 1714867200000, "update_time": 1714867200000}
            for c, v in sorted((earn or {}).items())][(int(q.get("page", 1)) - 1) * int(q.get("limit", 100)):][
            :int(q.get("limit", 100))],
        f"{PREFIX}/spot/my_trades": history(spot_trades or [], "create_time", max_limit=1000, paging="page",
                                            match=("account",), max_span=None),
    }
    for settle in ("usdt", "btc"):
        fields = (futures or {}).get(settle)
        responses[f"{PREFIX}/futures/{settle}/accounts"] = (contract_account(settle, fields) if fields is not None
                                                           else missing_account("futures"))
        responses[f"{PREFIX}/futures/{settle}/positions"] = (positions or {}).get(settle, [])
        responses[f"{PREFIX}/futures/{settle}/account_book"] = history(
            [r for r in book or [] if r["settle"] == settle], "time", max_limit=1000, match=("type",),
            max_span=None)
        responses[f"{PREFIX}/futures/{settle}/my_trades_timerange"] = history(
            [r for r in contract_trades or [] if r["settle"] == settle], "create_time", max_limit=1000,
            max_span=None)
    responses[f"{PREFIX}/delivery/usdt/positions"] = (positions or {}).get("delivery", [])
    responses[f"{PREFIX}/delivery/usdt/my_trades"] = history(
        [r for r in contract_trades or [] if r["settle"] == "delivery"], "create_time", max_limit=1000,
        max_span=None)
    return Scenario(responses=responses, prices=prices or {}, **credentials)


def position(contract: str, size: int, entry: str, mark: str, pnl: str, value: str) -> dict[str, Any]:
    """A Position row (docs model) with the fields ccxt reads."""
    return {"user": 10406147, "contract": contract, "size": size, "leverage": "0", "risk_limit": "1000000",
            "leverage_max": "100", "maintenance_rate": "0.005", "value": value, "margin": "0",
            "entry_price": entry, "liq_price": "0", "mark_price": mark, "unrealised_pnl": pnl,
            "realised_pnl": "0", "pnl_pnl": "0", "pnl_fund": "0", "pnl_fee": "0", "history_pnl": "0",
            "last_close_pnl": "0", "realised_point": "0", "history_point": "0", "adl_ranking": 5,
            "pending_orders": 0, "close_order": None, "mode": "single", "cross_leverage_limit": "0",
            "update_time": 1714953599, "open_time": 1714867200, "update_id": 1}


PRICES = {"BTC/USDT": "50000", "ETH/USDT": "2500", "ETH/BTC": "0.05", "USDC/USDT": "0.9998", "GT/USDT": "20",
          "ZKB/ETH": "0.01"}
E2E = (lambda: scenario({"BTC": "0.5", "USDT": "1000"}, PRICES), "26000")
MALFORMED = (lambda: scenario({"BTC": "0.5"}, PRICES), f"{PREFIX}/spot/accounts")
