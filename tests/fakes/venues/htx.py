"""Fake htx (formerly Huobi): spot/margin host api.huobi.pro and contract host api.hbdm.vn on one loopback port.

PROVENANCE (formats; values are the scenario's):
- Signature v2 (huobiapi.github.io/docs/spot/v1/en "Authentication", the same for the contract host):
  Signature = base64(HMAC-SHA256(secret, METHOD \\n host \\n path \\n sorted url-encoded query)), the query
  holding AccessKeyId, SignatureMethod=HmacSHA256, SignatureVersion=2, Timestamp (and a GET's own
  parameters). The venue signs against the host it is served on; this fake serves both hosts, so it
  verifies with the host ccxt 4.5.64 signs for the path (spot paths api.huobi.pro, contract paths
  api.hbdm.vn). Refusals are the venue's own bodies as recorded in ccxt's error map: spot
  `{"status":"error","err-code":"api-signature-not-valid",...}`, contract
  `{"status":"error","err_code":403,"err_msg":"Incorrect Access key [Access key错误]",...}`.
- Markets `GET /v1/common/symbols`, `GET /linear-swap-api/v1/swap_contract_info`,
  `GET /swap-api/v1/swap_contract_info`, `GET /api/v1/contract_contract_info`; currencies
  `GET /v2/reference/currencies`; tickers `GET /market/tickers` (tests/fakes/data/ccxt/htx_markets.json;
  field names from the spot / coin-margined / USDT-margined docs as ccxt's parse_market reads them).
- Accounts `GET /v1/account/accounts`, balances `GET /v1/account/accounts/{id}/balance`,
  `GET /v1/cross-margin/accounts/balance`, `GET /v1/margin/accounts/balance`: rows
  `{currency, type, balance}` with the documented types trade, frozen, loan, interest (negative),
  lock, bank, loan-available, transfer-out-available (spot docs "Get Account Balance of a Specific
  Account", "Get the Balance of the Margin Loan Account").
- USDT-margined account `GET /v5/account/balance` and positions `GET /v5/trade/position/opens`, coin-margined
  `POST /api/v1/contract_account_info`, `/swap-api/v1/swap_account_info`, `.../contract_position_info`,
  `.../swap_position_info`: the response examples ccxt 4.5.64 quotes from htx's docs in htx.py
  (fetchBalance / fetchPositions), fields margin_balance, margin_position, margin_frozen,
  margin_available, profit_unreal.
- `GET /v1/query/deposit-withdraw` (spot docs "Search for Existed Withdraws and Deposits"): `type`
  deposit|withdraw mandatory, `size` 1..500 (more is refused), `direct` prev (oldest first, the default)
  or next (newest first), `from` the record id to start at; no time filter; rows id, type, sub-type,
  currency, chain, tx-hash, amount, address, fee, state, created-at, updated-at.
- `GET /v2/user/uid` and `GET /v2/user/api-key?uid=&accessKey=` (spot docs "Get UID", "Query API key
  information": `permission` "readOnly,trade,withdraw", comma-separated).
- `GET /v1/order/matchresults` (spot docs "Search Match Results"): start-time/end-time at most 48 hours
  apart, `size` at most 500, newest first.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request

from tests.fakes.ccxt_venues import (
    IN_WINDOW_MS,
    Adapter,
    Body,
    Reply,
    Scenario,
    VenueRefusal,
    markets_file,
)

SPOT_HOST, CONTRACT_HOST = "api.huobi.pro", "api.hbdm.vn"
_CONTRACT_PREFIXES = ("/linear-swap-api/", "/swap-api/", "/api/v1/contract", "/api/v3/contract", "/v5/",
                      "/linear-swap-ex/", "/swap-ex/", "/index/")
_PUBLIC = {"/v1/common/symbols", "/market/tickers", "/v2/reference/currencies",
           "/linear-swap-api/v1/swap_contract_info", "/swap-api/v1/swap_contract_info",
           "/api/v1/contract_contract_info"}
SPOT_ACCOUNT_ID = 1528640
TS = 1714953599000


def _ok(data: Any) -> dict[str, Any]:
    return {"status": "ok", "data": data, "ts": TS}


class HtxAdapter(Adapter):
    name = "htx"

    def public(self, path: str) -> bool:
        return path in _PUBLIC

    def verify(self, scenario: Scenario, request: Request, path: str, query: str, body: bytes) -> Reply | None:
        contract = path.startswith(_CONTRACT_PREFIXES)
        params = dict(parse_qsl(query, keep_blank_values=True))
        bad_key: Reply = (200, {"status": "error", "err_code": 403, "err_msg": "Incorrect Access key [Access key错误]",
                                "ts": TS} if contract else
                          {"status": "error", "err-code": "api-signature-not-valid",
                           "err-msg": "Signature not valid: Incorrect Access key [Access key错误]", "data": None})
        bad_sign: Reply = (200, {"status": "error", "err_code": 1003, "err_msg": "Signature verification failed",
                                 "ts": TS} if contract else
                           {"status": "error", "err-code": "api-signature-not-valid",
                            "err-msg": "Signature not valid: Verification failure [校验失败]", "data": None})
        key, signature = params.pop("AccessKeyId", None), params.pop("Signature", None)
        if not key or not signature:
            return bad_key
        if scenario.permissive:
            return None
        if key != scenario.api_key:
            return bad_key
        if params.get("SignatureMethod") != "HmacSHA256" or params.get("SignatureVersion") != "2" \
                or "Timestamp" not in params:
            return bad_sign
        signed = urlencode(sorted({**params, "AccessKeyId": key}.items()))
        payload = "\n".join((request.method, CONTRACT_HOST if contract else SPOT_HOST, path, signed))
        expected = base64.b64encode(hmac.new(scenario.api_secret.encode(), payload.encode(),
                                             hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected, signature):
            return bad_sign
        return None

    def builtin(self, scenario: Scenario, path: str, query: dict[str, str]) -> Body | None:
        data = markets_file("htx")
        tables = {"/v1/common/symbols": "spot", "/linear-swap-api/v1/swap_contract_info": "linear",
                  "/swap-api/v1/swap_contract_info": "inverse_swap", "/api/v1/contract_contract_info": "inverse_future"}
        if path in tables:
            return _ok(data[tables[path]])
        if path == "/v2/reference/currencies":
            return {"code": 200, "data": data["currencies"]}
        if path == "/market/tickers":
            return _ok([_ticker(symbol, price) for symbol, price in scenario.prices.items()])
        return None

    def not_found(self, path: str) -> Reply:
        return 404, {"status": "error", "err-code": "invalid-request", "err-msg": f"fake htx: no route {path}",
                     "data": None}


ADAPTER = HtxAdapter


def _ticker(symbol: str, price: str) -> dict[str, Any]:
    return {"symbol": symbol.replace("/", "").lower(), "open": price, "high": price, "low": price, "close": price,
            "amount": 1, "vol": 1, "count": 1, "bid": price, "bidSize": 1, "ask": price, "askSize": 1}


def _rows(balances: dict[str, str], *, kind: str = "trade") -> list[dict[str, Any]]:
    """One `trade` row per currency (or `kind`), each followed by a zero `frozen` row, as htx lists them."""
    out: list[dict[str, Any]] = []
    for currency, amount in balances.items():
        out += [{"currency": currency.lower(), "type": kind, "balance": amount, "seq-num": "1"},
                {"currency": currency.lower(), "type": "frozen", "balance": "0", "seq-num": "1"}]
    return out


def _records(rows: list[dict[str, Any]], kind: str) -> Any:
    """GET /v1/query/deposit-withdraw for one `type`: ordered by id, `from` inclusive, size 1..500."""

    def answer(query: dict[str, str]) -> Body:
        size = int(query.get("size", 100))
        if not 1 <= size <= 500:
            raise VenueRefusal(200, {"status": "error", "err-code": "invalid-parameter",
                                     "err-msg": "invalid size, valid range: [1,500]", "data": None})
        if query.get("type") not in ("deposit", "withdraw"):
            raise VenueRefusal(200, {"status": "error", "err-code": "invalid-parameter",
                                     "err-msg": "invalid type", "data": None})
        newest_first = query.get("direct", "prev") == "next"
        wanted = sorted((r for r in rows if r["type"] == query["type"]), key=lambda r: int(r["id"]),
                        reverse=newest_first)
        start = int(query.get("from") or 0)
        if start:
            wanted = [r for r in wanted if (int(r["id"]) <= start if newest_first else int(r["id"]) >= start)]
        return _ok(wanted[:size])

    del kind
    return answer


def _matchresults(rows: list[dict[str, Any]]) -> Any:
    def answer(query: dict[str, str]) -> Body:
        start, end = int(query.get("start-time", 0)), int(query.get("end-time", 2**62))
        if "start-time" in query and "end-time" in query and end - start > 48 * 3_600_000:
            raise VenueRefusal(200, {"status": "error", "err-code": "invalid_interval",
                                     "err-msg": "Start date is more than 48 hours before end date", "data": None})
        size = int(query.get("size", 100))
        if not 1 <= size <= 500:
            raise VenueRefusal(200, {"status": "error", "err-code": "invalid-parameter",
                                     "err-msg": "invalid size", "data": None})
        out = sorted((r for r in rows if start <= int(r["created-at"]) <= end), key=lambda r: -int(r["created-at"]))
        return _ok(out[:size])

    return answer


def scenario(
    spot: dict[str, str] | None = None,
    prices: dict[str, str] | None = None,
    *,
    spot_rows: list[dict[str, Any]] | None = None,
    cross_margin: list[dict[str, Any]] | None = None,
    isolated_margin: list[dict[str, Any]] | None = None,
    usdt_m: dict[str, str] | None = None,
    coin_m_futures: dict[str, str] | None = None,
    coin_m_swaps: dict[str, str] | None = None,
    linear_positions: list[dict[str, Any]] | None = None,
    future_positions: list[dict[str, Any]] | None = None,
    swap_positions: list[dict[str, Any]] | None = None,
    records: list[dict[str, Any]] | None = None,
    trades: list[dict[str, Any]] | None = None,
    permission: str = "readOnly",
    **credentials: Any,
) -> Scenario:
    """spot: currency -> `trade` balance (plus `spot_rows`, raw rows of any type); cross/isolated margin: raw
    rows; usdt_m: currency -> v5 `equity`; coin_m_*: coin -> `margin_balance`; records: deposit-withdraw rows."""
    api_key = credentials.setdefault("api_key", "a1b2c3d4-htxkey01-e5f6a7b8-9c0d1")
    flows = records or []

    def coin_m(balances: dict[str, str] | None, swap: bool) -> dict[str, Any]:
        return _ok([{"symbol": coin, "margin_balance": v, "margin_position": "0", "margin_frozen": "0",
                     "margin_available": v, "profit_real": "0", "profit_unreal": "0", "risk_rate": None,
                     "withdraw_available": v, "liquidation_price": None, "lever_rate": 5,
                     "adjust_factor": "0.025", "margin_static": v,
                     **({"contract_code": f"{coin}-USD", "transfer_profit_ratio": None} if swap else {"is_debit": 0})}
                    for coin, v in (balances or {}).items()])

    responses: dict[str, Any] = {
        "/v1/account/accounts": _ok([{"id": SPOT_ACCOUNT_ID, "type": "spot", "subtype": "", "state": "working"},
                                     {"id": 5202591, "type": "point", "subtype": "", "state": "working"}]),
        f"/v1/account/accounts/{SPOT_ACCOUNT_ID}/balance": _ok({
            "id": SPOT_ACCOUNT_ID, "type": "spot", "state": "working",
            "list": _rows(spot or {}) + (spot_rows or [])}),
        "/v1/cross-margin/accounts/balance": {"status": "ok", "code": 200, "data": {
            "id": 51015302, "type": "cross-margin", "state": "working", "risk-rate": "2",
            "acct-balance-sum": "0", "debt-balance-sum": "0", "list": cross_margin or []}},
        "/v1/margin/accounts/balance": _ok(isolated_margin or []),
        "/v5/account/balance": {"code": 200, "message": "Success", "ts": TS, "data": {
            "state": "normal", "equity": "", "initial_margin": "0", "maintenance_margin": "0",
            "profit_unreal": "0", "available_margin": "0", "voucher_value": "0", "created_time": TS,
            "updated_time": TS, "details": [
                {"currency": c, "equity": v, "available": v, "profit_unreal": "0", "initial_margin": "0",
                 "maintenance_margin": "0", "available_margin": v, "voucher": "0", "voucher_value": "0",
                 "withdraw_available": v, "created_time": TS, "updated_time": TS, "isolated_equity": "0",
                 "isolated_profit_unreal": "0"} for c, v in (usdt_m or {}).items()]}},
        "POST /api/v1/contract_account_info": coin_m(coin_m_futures, swap=False),
        "POST /swap-api/v1/swap_account_info": coin_m(coin_m_swaps, swap=True),
        "/v5/trade/position/opens": {"code": 200, "message": "Success", "data": linear_positions or [], "ts": TS},
        "POST /api/v1/contract_position_info": _ok(future_positions or []),
        "POST /swap-api/v1/swap_position_info": _ok(swap_positions or []),
        "/v1/query/deposit-withdraw": _records(flows, "both"),
        "/v1/order/matchresults": _matchresults(trades or []),
        "/v2/user/uid": {"code": 200, "data": 63628520},
        "/v2/user/api-key": lambda q: {"code": 200, "message": "success", "data": [
            {"accessKey": api_key, "status": "normal", "note": "zka", "permission": permission, "ipAddresses": "",
             "validDays": -1, "createTime": 1591348751000, "updateTime": 1591348751000}]
            if q.get("uid") == "63628520" and q.get("accessKey", api_key) == api_key else []},
    }
    return Scenario(responses=responses, prices=prices or {}, **credentials)


def record(n: int, kind: str, currency: str, amount: str, state: str, *, created: int = IN_WINDOW_MS,
           updated: int | None = None, fee: str = "0", sub_type: str = "NORMAL") -> dict[str, Any]:
    """One GET /v1/query/deposit-withdraw row (kind: deposit|withdraw)."""
    return {"id": n, "type": kind, "sub-type": sub_type, "currency": currency.lower(), "chain": "trc20usdt",
            "tx-hash": f"{n:064x}", "amount": amount, "from-addr-tag": "", "address-id": 0,
            "address": "TRFTd1FxepQE6CnpwzUEMEbFaLm5bJK67s", "address-tag": "", "fee": fee, "state": state,
            "created-at": created, "updated-at": updated if updated is not None else created}


E2E = (lambda: scenario({"BTC": "0.5", "USDT": "100"}, {"BTC/USDT": "50000"}), "25100")
MALFORMED = (lambda: scenario({"BTC": "0.5"}, {"BTC/USDT": "50000"}), f"/v1/account/accounts/{SPOT_ACCOUNT_ID}/balance")
