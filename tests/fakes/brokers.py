"""Local fake Alpaca, IBKR Flex Web Service and TradeStation servers for tests and benchmarks.

One real HTTP server (Starlette under uvicorn, 127.0.0.1, ephemeral port, background thread) serves all
three venues; their paths do not collide, so every connector gets the same `base_url` override:

    with running_fake_brokers() as fake:            # or: base_url, stop = start_fake_brokers(state)
        options = ConnectorOptions(base_url=fake.base_url)
        fake.state.ibkr_pending_polls = 2           # scenario knobs, see FakeBrokerState

It replays the real fixture bodies in tests/data/fixtures (alpaca-py test JSON, IBKR Flex statements and
web-service envelopes, TradeStation OpenAPI examples) plus the few responses in tests/fakes/data/brokers/
(see its README). Authentication is checked the way the venues do it, so wrong credentials produce the
venue's auth errors: Alpaca `APCA-API-KEY-ID`/`APCA-API-SECRET-KEY`; IBKR token `t=` (+ `User-Agent: Java`);
TradeStation `Bearer` tokens issued by the fake's own /oauth/token.

For load tests (e.g. 1,000 connections), set `accept_any_credentials=True`: every key/token is valid and
IBKR serves `default_ibkr_statement` for any query id. `start_fake_brokers_subprocess()` (or
`python -m tests.fakes.brokers --accept-any`) runs the server in its own process so that its CPU and memory
stay out of the measurement.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.paths import FIXTURES as REPO_FIXTURES

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(os.environ.get("ZKA_FIXTURES_DIR", REPO_FIXTURES))
OWN_DATA = Path(__file__).resolve().parent / "data" / "brokers"
ALPACA_DIR = FIXTURES / "alpaca" / "alpaca-py-tests"
FLEX_DIR = FIXTURES / "ibkr" / "flex-statements"
FLEX_WS_DIR = FIXTURES / "ibkr" / "web-service"
TS_OPENAPI_DIR = FIXTURES / "tradestation" / "official-openapi-examples"
TS_SDK_DIR = FIXTURES / "tradestation" / "mxcoppell-tradestation-api-ts"

# Default credentials the fake accepts (tests import these).
ALPACA_PAPER_KEY = "PKTESTPAPER0000000001"
ALPACA_LIVE_KEY = "AKTESTLIVE00000000001"
ALPACA_SECRET = "alpaca-secret-0123456789abcdef0123456789"
IBKR_TOKEN = "ibkr-token-31415926535897932384"
IBKR_EXPIRED_TOKEN = "ibkr-token-expired-271828182845"
TS_CLIENT_ID = "ts-client-id-abc123"
TS_CLIENT_SECRET = "ts-client-secret-def456ghi789"
TS_REFRESH_TOKEN = "ts-refresh-token-0001-xyz"

# IBKR query ids -> statement files (any FlexQueryResponse works).
IBKR_QUERIES = {
    "daily": FLEX_DIR / "clifton-ib-flex_activity_daily_portfolio.xml",
    "backfill": FLEX_DIR / "clifton-ib-flex_activity_backfill.xml",
    "cash": FLEX_DIR / "clifton-ib-flex_activity_cash.xml",
    "options": FLEX_DIR / "clifton-ib-flex_activity_options.xml",
    "funds-bom": FLEX_DIR / "gabbersepp-ib-flex-reader_StatementOfFunds.xml",
    "coding": FLEX_DIR / "gabbersepp-ib-flex-reader_TestForCoding.xml",
    "minimal": FLEX_WS_DIR / "ibflex_getstatement_minimal_flexqueryresponse.xml",
}
FLEX_ERRORS: dict[str, str] = json.loads((FLEX_WS_DIR / "ibflex_error_codes.json").read_text())["errors"]


@dataclass
class FakeBrokerState:
    """Scenario knobs; tests mutate them between calls (plain attributes, read by the server thread)."""

    accept_any_credentials: bool = False
    alpaca_keys: dict[str, str] = field(default_factory=lambda: {
        ALPACA_PAPER_KEY: ALPACA_SECRET, ALPACA_LIVE_KEY: ALPACA_SECRET})
    alpaca_force_status: int | None = None  # e.g. 429 or 503 on every Alpaca call
    alpaca_account: dict[str, str] = field(default_factory=dict)  # fields replaced in GET /v2/account
    alpaca_positions: list[dict[str, Any]] | None = None  # GET /v2/positions instead of the fixture's
    alpaca_activities: list[dict[str, Any]] = field(default_factory=list)  # served beside the fixtures'
    ibkr_tokens: set[str] = field(default_factory=lambda: {IBKR_TOKEN})
    ibkr_expired_tokens: set[str] = field(default_factory=lambda: {IBKR_EXPIRED_TOKEN})
    # query id -> statement file, or the statement's bytes (tests/fakes/flex_statements.py renders them)
    ibkr_queries: dict[str, Path | bytes] = field(default_factory=lambda: dict(IBKR_QUERIES))
    default_ibkr_statement: Path = IBKR_QUERIES["daily"]
    ibkr_pending_polls: int = 0  # GetStatement answers Warn/1019 this many times per reference code
    ibkr_throttle: bool = False  # every SendRequest answers Fail/1018
    ibkr_prefix_bom: bool = False  # serve statements with a UTF-8 BOM in front
    ts_clients: dict[str, str] = field(default_factory=lambda: {TS_CLIENT_ID: TS_CLIENT_SECRET})
    ts_refresh_tokens: set[str] = field(default_factory=lambda: {TS_REFRESH_TOKEN})
    ts_rotate_refresh_token: bool = False  # token endpoint returns a new refresh token, voids the old
    ts_dataset: str = "openapi"  # "openapi" (TradeStation's own examples) or "sdk" (tradestation-api-ts)
    # Filled by the server:
    ts_access_tokens: set[str] = field(default_factory=set)
    ibkr_references: dict[str, list[Any]] = field(default_factory=dict)  # ref -> [token, file, polls]
    requests: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=10_000))
    alpaca_activity_queries: list[dict[str, str]] = field(default_factory=list)  # query string of each call

    def reset(self) -> None:
        fresh = FakeBrokerState()
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(fresh, name))


@functools.lru_cache(maxsize=64)
def _read(path: Path) -> bytes:
    """Fixture bytes, read once: load tests hit the same few files thousands of times."""
    return path.read_bytes()


def _json_file(path: Path) -> Any:
    return json.loads(_read(path))  # a fresh object per call: handlers filter it in place


# --------------------------------------------------------------------------------------------- Alpaca


def _alpaca_auth(request: Request, state: FakeBrokerState) -> Response | None:
    state.requests.append((request.method, request.url.path))
    key = request.headers.get("APCA-API-KEY-ID", "")
    secret = request.headers.get("APCA-API-SECRET-KEY", "")
    if state.alpaca_force_status == 429:
        return Response(_read(OWN_DATA / "alpaca_error_429.json"), 429, media_type="application/json")
    if state.alpaca_force_status:
        return JSONResponse({"code": 50010000, "message": "internal server error"}, state.alpaca_force_status)
    valid = (key and secret) if state.accept_any_credentials else state.alpaca_keys.get(key) == secret
    if not valid:
        return Response(_read(OWN_DATA / "alpaca_error_401.json"), 401, media_type="application/json")
    return None


def _alpaca_activities(state: FakeBrokerState) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for name in ("broker_v1_activities_fills.json", "broker_v1_activities_page_one.json",
                 "broker_v1_activities_page_two.json"):
        items.extend(_json_file(ALPACA_DIR / name))
    items.extend(_json_file(OWN_DATA / "alpaca_activities_extra.json"))
    return items + [dict(item) for item in state.alpaca_activities]


NEW_YORK = ZoneInfo("America/New_York")


def _instant(value: str) -> datetime:
    """Alpaca takes `after`/`until` as YYYY-MM-DD or RFC 3339; a bare date is that day's 00:00 New York."""
    if len(value) == 10:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), NEW_YORK)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _activity_in_range(item: dict[str, Any], after: str | None, until: str | None) -> bool:
    """Alpaca filters trade activities on transaction_time, and non-trade ones (dated by trading day only)
    as the instant 00:00 New York of that date: an `after` later that day leaves the day's deposit out."""
    when = _instant(item["transaction_time"] if "transaction_time" in item else item.get("date", "")[:10])
    return (not after or when > _instant(after)) and (not until or when < _instant(until))


async def alpaca_account(request: Request) -> Response:
    state: FakeBrokerState = request.app.state.fake
    denied = _alpaca_auth(request, state)
    if denied or not state.alpaca_account:
        return denied or Response(_read(ALPACA_DIR / "trading_v2_account.json"), media_type="application/json")
    return JSONResponse({**_json_file(ALPACA_DIR / "trading_v2_account.json"), **state.alpaca_account})


async def alpaca_positions(request: Request) -> Response:
    state: FakeBrokerState = request.app.state.fake
    denied = _alpaca_auth(request, state)
    if denied or state.alpaca_positions is None:
        return denied or Response(_read(ALPACA_DIR / "trading_v2_positions.json"), media_type="application/json")
    return JSONResponse(state.alpaca_positions)


async def alpaca_activities(request: Request) -> Response:
    state: FakeBrokerState = request.app.state.fake
    denied = _alpaca_auth(request, state)
    if denied:
        return denied
    q = request.query_params
    state.alpaca_activity_queries.append(dict(q))
    types = request.path_params.get("activity_type") or q.get("activity_types", "")
    wanted = {t.strip() for t in types.split(",") if t.strip()}
    items = [i for i in _alpaca_activities(state) if not wanted or i["activity_type"] in wanted]
    items = [i for i in items if _activity_in_range(i, q.get("after"), q.get("until"))]
    items.sort(key=lambda i: i["id"], reverse=q.get("direction", "desc") != "asc")
    token = q.get("page_token")
    if token:
        ids = [i["id"] for i in items]
        items = items[ids.index(token) + 1:] if token in ids else []
    size = min(int(q.get("page_size", "100")), 100)
    return JSONResponse(items[:size])


# ----------------------------------------------------------------------------------------------- IBKR


def _flex_envelope(code: str) -> bytes:
    """The real 1012 envelope with another code/message from IB's error table (same format)."""
    body = _read(FLEX_WS_DIR / "ibflex_sendrequest_fail_1012.xml").decode()
    return body.replace("1012", code).replace("Token has expired.", FLEX_ERRORS[code]).encode()


def _xml(body: bytes) -> Response:
    return Response(body, media_type="text/xml")


def _flex_precheck(request: Request) -> Response | None:
    if request.headers.get("user-agent") != "Java" or request.query_params.get("v") != "3":
        return Response(b"Forbidden", 403)  # IB's clients send User-Agent: Java; the fake insists
    return None


async def flex_send_request(request: Request) -> Response:
    state: FakeBrokerState = request.app.state.fake
    state.requests.append((request.method, request.url.path))
    rejected = _flex_precheck(request)
    if rejected:
        return rejected
    token, query = request.query_params.get("t", ""), request.query_params.get("q", "")
    if state.ibkr_throttle:
        return _xml(_flex_envelope("1018"))
    if token in state.ibkr_expired_tokens:
        return _xml(_read(FLEX_WS_DIR / "ibflex_sendrequest_fail_1012.xml"))
    if not (token in state.ibkr_tokens or state.accept_any_credentials and token):
        return _xml(_flex_envelope("1015"))
    statement = state.ibkr_queries.get(query)
    if statement is None and state.accept_any_credentials and query:
        statement = state.default_ibkr_statement
    if statement is None:
        return _xml(_flex_envelope("1014"))
    reference = str(10**9 + secrets.randbelow(9 * 10**9))
    state.ibkr_references[reference] = [token, statement, state.ibkr_pending_polls]
    body = _read(FLEX_WS_DIR / "ibflex_sendrequest_success.xml").decode()
    return _xml(body.replace("1234567890", reference).encode())  # Url stays IB's real GetStatement URL


async def flex_get_statement(request: Request) -> Response:
    state: FakeBrokerState = request.app.state.fake
    state.requests.append((request.method, request.url.path))
    rejected = _flex_precheck(request)
    if rejected:
        return rejected
    entry = state.ibkr_references.get(request.query_params.get("q", ""))
    if entry is None:
        return _xml(_flex_envelope("1017"))
    if entry[0] != request.query_params.get("t"):
        return _xml(_flex_envelope("1015"))
    if entry[2] > 0:
        entry[2] -= 1
        return _xml(_read(OWN_DATA / "ibkr_getstatement_warn_1019.xml"))
    body = entry[1] if isinstance(entry[1], bytes) else _read(entry[1])
    if state.ibkr_prefix_bom and not body.startswith(b"\xef\xbb\xbf"):
        body = b"\xef\xbb\xbf" + body
    return _xml(body)


# --------------------------------------------------------------------------------------- TradeStation


async def ts_token(request: Request) -> Response:
    state: FakeBrokerState = request.app.state.fake
    state.requests.append((request.method, request.url.path))
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return JSONResponse({"error": "invalid_request"}, 400)
    # parse_qsl rather than request.form(): python-multipart is not a dependency of this project
    form = dict(parse_qsl((await request.body()).decode()))
    client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    refresh = form.get("refresh_token", "")
    if form.get("grant_type") != "refresh_token":
        return JSONResponse({"error": "unsupported_grant_type"}, 400)
    if not state.accept_any_credentials and state.ts_clients.get(client_id) != secret:
        return JSONResponse({"error": "access_denied", "error_description": "Unauthorized"}, 401)
    if not (refresh in state.ts_refresh_tokens or state.accept_any_credentials and refresh):
        return Response(_read(OWN_DATA / "tradestation_token_error.json"), 403, media_type="application/json")
    body = _json_file(OWN_DATA / "tradestation_token.json")
    body["access_token"] = "ts-access-" + secrets.token_urlsafe(24)
    body.pop("id_token", None)
    state.ts_access_tokens.add(body["access_token"])
    if state.ts_rotate_refresh_token:
        body["refresh_token"] = "ts-refresh-rotated-" + secrets.token_urlsafe(12)
        state.ts_refresh_tokens.discard(refresh)
        state.ts_refresh_tokens.add(body["refresh_token"])
    return JSONResponse(body)


def _ts_auth(request: Request, state: FakeBrokerState) -> Response | None:
    state.requests.append((request.method, request.url.path))
    header = request.headers.get("authorization", "")
    token = header[7:] if header.startswith("Bearer ") else ""
    if token not in state.ts_access_tokens:
        return Response(_read(OWN_DATA / "tradestation_error_401.json"), 401, media_type="application/json")
    return None


TS_FILES = {
    "openapi": {"accounts": TS_OPENAPI_DIR / "GetAccounts_200.json",
                "balances": TS_OPENAPI_DIR / "GetBalances_200.json",
                "positions": TS_OPENAPI_DIR / "GetPositions_200.json",
                "historicalorders": TS_OPENAPI_DIR / "GetHistoricalOrders_200.json",
                "orders": TS_OPENAPI_DIR / "GetOrders_200.json"},
    "sdk": {"accounts": TS_SDK_DIR / "v3_brokerage_accounts.json",
            "balances": TS_SDK_DIR / "v3_brokerage_accounts_balances.json",
            "positions": TS_SDK_DIR / "v3_brokerage_accounts_positions_stock.json",
            "historicalorders": TS_SDK_DIR / "v3_brokerage_accounts_historicalorders.json",
            "orders": TS_SDK_DIR / "v3_brokerage_accounts_orders.json"},
}


async def ts_accounts(request: Request) -> Response:
    state: FakeBrokerState = request.app.state.fake
    return _ts_auth(request, state) or Response(_read(TS_FILES[state.ts_dataset]["accounts"]),
                                                media_type="application/json")


async def ts_account_resource(request: Request) -> Response:
    """balances / positions / orders / historicalorders for comma-separated ids, filtered like the API."""
    state: FakeBrokerState = request.app.state.fake
    denied = _ts_auth(request, state)
    if denied:
        return denied
    ids = set(request.path_params["ids"].split(","))
    resource = request.path_params["resource"]
    if resource not in TS_FILES[state.ts_dataset]:
        return JSONResponse({"Error": "NotFound", "Message": "Not found"}, 404)
    body = _json_file(TS_FILES[state.ts_dataset][resource])
    key = {"balances": "Balances", "positions": "Positions"}.get(resource, "Orders")
    if resource in ("orders", "historicalorders") and request.query_params.get("nextToken"):
        return JSONResponse({"Orders": [], "Errors": []})  # the fixtures hold one page each
    body[key] = [row for row in body.get(key, []) if row.get("AccountID") in ids]
    return JSONResponse(body)


# ------------------------------------------------------------------------------------------- server


def build_app(state: FakeBrokerState) -> Starlette:
    flex = "/AccountManagement/FlexWebService"
    app = Starlette(routes=[
        Route("/v2/account", alpaca_account),
        Route("/v2/positions", alpaca_positions),
        Route("/v2/account/activities", alpaca_activities),
        Route("/v2/account/activities/{activity_type}", alpaca_activities),
        Route(f"{flex}/SendRequest", flex_send_request),
        Route(f"{flex}/GetStatement", flex_get_statement),
        Route("/oauth/token", ts_token, methods=["POST"]),
        Route("/v3/brokerage/accounts", ts_accounts),
        Route("/v3/brokerage/accounts/{ids}/{resource}", ts_account_resource),
    ])
    app.state.fake = state
    return app


@dataclass
class FakeBrokers:
    base_url: str
    state: FakeBrokerState
    stop: Callable[[], None]


def start_fake_brokers(state: FakeBrokerState | None = None) -> tuple[str, Callable[[], None]]:
    """Start the server in a daemon thread; returns (base_url, stop). Pass `state` to steer scenarios."""
    server_state = state or FakeBrokerState()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(build_app(server_state), log_level="warning", access_log=False, lifespan="off",
                            backlog=4096, timeout_keep_alive=30)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True,
                              name=f"fake-brokers-{port}")
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("fake broker server did not start")
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

    return f"http://127.0.0.1:{port}", stop


@contextmanager
def running_fake_brokers(state: FakeBrokerState | None = None) -> Iterator[FakeBrokers]:
    server_state = state or FakeBrokerState()
    base_url, stop = start_fake_brokers(server_state)
    try:
        yield FakeBrokers(base_url, server_state, stop)
    finally:
        stop()



def start_fake_brokers_subprocess(*, accept_any_credentials: bool = True) -> tuple[str, Callable[[], None]]:
    """The same server in its own process, for benchmarks: its CPU and RSS stay out of the measured process."""
    args = [sys.executable, "-m", "tests.fakes.brokers"] + (["--accept-any"] if accept_any_credentials else [])
    proc = subprocess.Popen(args, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("http://"):
        proc.kill()
        raise RuntimeError("fake broker subprocess did not start")

    def stop() -> None:
        proc.terminate()
        proc.wait(timeout=10)

    return line, stop


def main() -> None:
    """`python -m tests.fakes.brokers [--accept-any]`: print the base URL, serve until terminated."""
    base_url, stop = start_fake_brokers(FakeBrokerState(accept_any_credentials="--accept-any" in sys.argv))
    print(base_url, flush=True)  # noqa: T201 - the parent reads the URL from stdout
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop()


if __name__ == "__main__":
    main()
