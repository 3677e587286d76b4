"""htx (spot, cross and isolated margin, USDT-margined, coin-margined futures and swaps) through real ccxt
against the local fake (tests/fakes/venues/htx.py), and what plain ccxt 4.5.64 reads from the same fake.

Prices: BTC/USDT 50,000; ETH/USDT 3,000; ELF/BTC 0.00001 (ELF trades only against BTC: 0.5 USDT).
htx lists no USD market, so USDT (its numeraire) is 1.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from functools import partial
from typing import Any

import pytest

from app.connectors.base import Permission
from app.connectors.ccxt.htx import FLOW_PAGE
from tests.connectors.checks import permissions_asked, refused_without_secrets
from tests.connectors.test_ccxt_smoke import plain
from tests.fakes.ccxt_venues import (
    IN_WINDOW_MS,
    OUT_OF_WINDOW_MS,
    WINDOW,
    Scenario,
    deposits_counted_daily,
    fake_venue,
    venue_connector,
)
from tests.fakes.venues.htx import SPOT_ACCOUNT_ID, record, scenario

PRICES = {"BTC/USDT": "50000", "ETH/USDT": "3000", "ELF/BTC": "0.00001"}
DAY_MS = 86_400_000


def _cross_margin() -> list[dict[str, Any]]:
    return [{"currency": "eth", "type": "trade", "balance": "2"},
            {"currency": "eth", "type": "frozen", "balance": "0"},
            {"currency": "usdt", "type": "trade", "balance": "600"},
            {"currency": "usdt", "type": "frozen", "balance": "0"},
            {"currency": "usdt", "type": "loan", "balance": "-500"},
            {"currency": "usdt", "type": "interest", "balance": "-1"},
            {"currency": "usdt", "type": "loan-available", "balance": "200"},
            {"currency": "usdt", "type": "transfer-out-available", "balance": "-1"}]


def _isolated_margin() -> list[dict[str, Any]]:
    rows = [{"currency": "btc", "type": "trade", "balance": "0.1"},
            {"currency": "btc", "type": "frozen", "balance": "0"},
            {"currency": "btc", "type": "loan-available", "balance": "3"},
            {"currency": "usdt", "type": "trade", "balance": "2000"},
            {"currency": "usdt", "type": "loan", "balance": "-1000"},
            {"currency": "usdt", "type": "interest", "balance": "-2"}]
    return [{"id": 18264, "type": "margin", "state": "working", "symbol": "btcusdt", "fl-price": "0",
             "fl-type": "safe", "risk-rate": "4.75", "list": rows}]


def _linear_position(upl: str) -> dict[str, Any]:
    return {"contract_code": "BTC-USDT", "position_side": "long", "direction": "buy", "margin_mode": "cross",
            "open_avg_price": "52000", "volume": "10", "available": "10", "lever_rate": 20, "adl_risk_percent": 3,
            "liquidation_price": "1", "margin": "26", "initial_margin": "26", "maintenance_margin": "2",
            "profit_unreal": upl, "profit_rate": "-0.7", "margin_rate": "0.01", "mark_price": "50000",
            "last_price": "50000", "margin_currency": "USDT", "contract_type": "swap",
            "created_time": str(OUT_OF_WINDOW_MS), "updated_time": str(IN_WINDOW_MS)}


def _inverse_position(code: str, upl: str, direction: str) -> dict[str, Any]:
    return {"symbol": "BTC", "contract_code": code, "volume": "1", "available": "1", "frozen": "0",
            "cost_open": "48000", "cost_hold": "48000", "profit_unreal": upl, "profit_rate": "0.01",
            "lever_rate": "2", "position_margin": "0.001", "direction": direction, "profit": upl,
            "last_price": "50000", **({"contract_type": "quarter"} if code != "BTC-USD" else {})}


def _trade(n: int, ms: int) -> dict[str, Any]:
    return {"symbol": "btcusdt", "fee-currency": "btc", "filled-fees": "0.00001", "source": "spot-api", "id": n,
            "type": "buy-limit", "order-id": 8000 + n, "filled-points": "0", "fee-deduct-currency": "",
            "filled-amount": "0.01", "price": "50000", "created-at": ms, "match-id": 9000 + n, "role": "taker",
            "trade-id": 7000 + n, "fee-deduct-state": "done"}


def full(permission: str = "readOnly") -> Scenario:
    records = [
        record(101, "deposit", "usdt", "100", "safe"),
        # created the day before, credited inside the window: the window whose balance shows it
        record(102, "deposit", "usdt", "40", "confirmed", created=OUT_OF_WINDOW_MS, updated=IN_WINDOW_MS),
        record(103, "deposit", "usdt", "999", "safe", created=OUT_OF_WINDOW_MS),  # before the window
        record(104, "deposit", "usdt", "777", "confirming"),  # not credited yet
        record(201, "withdraw", "usdt", "50", "confirmed", fee="1"),
        record(202, "withdraw", "usdt", "300", "canceled"),
    ]
    sc = scenario(
        {"BTC": "0.5", "USDT": "1000", "ELF": "100", "FOO": "7"}, PRICES,
        spot_rows=[{"currency": "usdt", "type": "lock", "balance": "10", "seq-num": "2"}],
        cross_margin=_cross_margin(), isolated_margin=_isolated_margin(),
        usdt_m={"USDT": "1000"}, coin_m_futures={"BTC": "0.02"}, coin_m_swaps={"BTC": "0.01"},
        linear_positions=[_linear_position("-20")],
        future_positions=[_inverse_position("BTC240628", "0.0004", "buy")],
        swap_positions=[_inverse_position("BTC-USD", "-0.0002", "sell")],
        records=records, trades=[_trade(1, IN_WINDOW_MS), _trade(2, OUT_OF_WINDOW_MS)], permission=permission)
    # 0.005 BTC of the futures wallet's 0.02 is margin held by the open position: not available, not frozen
    sc.responses["POST /api/v1/contract_account_info"]["data"][0].update(margin_position="0.005",
                                                                          margin_available="0.015")
    return sc


connector = partial(venue_connector, "htx")


async def test_htx_state_every_wallet_position_flow_and_trade() -> None:
    sc = full()
    with fake_venue("htx", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    m = state.markets
    # spot: 0.5 BTC = 25,000; 1,000 USDT + 10 USDT `lock`; 100 ELF x 0.00001 BTC x 50,000 = 50 (through BTC)
    assert m["spot"].equity == Decimal("26060")
    # cross: 2 ETH = 6,000; USDT 600 - 500 loan - 1 interest = 99. isolated (BTC/USDT): 0.1 BTC = 5,000;
    # USDT 2,000 - 1,000 loan - 2 interest = 998. Loan-available / transfer-out-available are limits, not money.
    assert m["margin"].equity == Decimal("12097")
    # swap: USDT-margined `equity` 1,000 (incl. its -20 unrealized) + coin-margined swaps 0.01 BTC = 500
    assert m["swap"].equity == Decimal("1500")
    assert m["futures"].equity == Decimal("1000")  # coin-margined futures margin_balance 0.02 BTC
    assert state.total_equity == Decimal("40657")
    assert state.unpriced_assets == {"FOO": "7"}
    # USDT: spot 1,010 + cross 99 + isolated 998 + USDT-margined 1,000
    assert state.cash == Decimal("3107")
    # linear -20 USDT; quarterly +0.0004 BTC = +20; inverse swap -0.0002 BTC = -10
    assert state.unrealized_pnl == Decimal("-10")
    assert state.deposits == Decimal("140")  # 100 + 40 credited in the window; 999 before, 777 not credited
    assert state.withdrawals == Decimal("51")  # 50 + 1 fee; the cancelled 300 never left
    # one fill in the window: 0.01 BTC x 50,000 = 500; fee 0.00001 BTC = 0.5
    assert (m["spot"].trades, m["spot"].volume, m["spot"].fees) == (1, Decimal("500"), Decimal("0.5"))
    calls = Counter(venue.requests)
    assert calls[("GET", "/v1/query/deposit-withdraw")] == 2  # deposits, withdrawals: one page each
    assert {call: n for call, n in calls.items() if n > 1} == {("GET", "/v1/query/deposit-withdraw"): 2}
    assert set(calls) == {
        ("GET", "/v1/common/symbols"), ("GET", "/linear-swap-api/v1/swap_contract_info"),
        ("GET", "/swap-api/v1/swap_contract_info"), ("GET", "/api/v1/contract_contract_info"),
        ("GET", "/market/tickers"), ("GET", "/v1/account/accounts"),
        ("GET", f"/v1/account/accounts/{SPOT_ACCOUNT_ID}/balance"), ("GET", "/v1/cross-margin/accounts/balance"),
        ("GET", "/v1/margin/accounts/balance"), ("GET", "/v5/account/balance"),
        ("POST", "/api/v1/contract_account_info"), ("POST", "/swap-api/v1/swap_account_info"),
        ("GET", "/v5/trade/position/opens"), ("POST", "/api/v1/contract_position_info"),
        ("POST", "/swap-api/v1/swap_position_info"), ("GET", "/v1/query/deposit-withdraw"),
        ("GET", "/v1/order/matchresults")}


@pytest.mark.parametrize(("permission", "expected"), [
    ("readOnly", {Permission.READ}),
    ("readOnly,trade", {Permission.READ, Permission.TRADE}),
    ("readOnly,trade,withdraw", {Permission.READ, Permission.TRADE, Permission.WITHDRAW}),
])
async def test_htx_permissions_from_the_keys_own_record(permission: str, expected: set[Permission]) -> None:
    assert await permissions_asked("htx", full(permission)) == (expected, ["/v2/user/uid", "/v2/user/api-key"])


async def test_htx_wrong_secret_is_an_auth_error_without_secrets() -> None:
    await refused_without_secrets("htx", full(), secret="not-the-secret-0001")


async def test_more_flows_than_one_page_are_read_whole() -> None:
    """htx's history has no time filter and pages of at most 500 (the fake refuses more); ccxt reads one
    page of 100. 1,234 deposits of one day and 3 withdrawals are all counted; so are 1,300 spot fills
    (match results: at most 500 a page and 48 hours a request)."""
    deposits = [record(20_000 - n, "deposit", "usdt", "1", "safe", created=IN_WINDOW_MS - n * 1000)
                for n in range(1234)]
    older = [record(5_000 - n, "deposit", "usdt", "1000", "safe", created=OUT_OF_WINDOW_MS - n * DAY_MS)
             for n in range(600)]  # before the window: paging stops a week before it
    withdrawals = [record(90_000 + n, "withdraw", "usdt", "2", "confirmed", fee="0.5") for n in range(3)]
    fills = [_trade(n, IN_WINDOW_MS - n * 1000) for n in range(1, 1301)]
    sc = scenario({"USDT": "10"}, PRICES, records=deposits + older + withdrawals, trades=fills)
    with fake_venue("htx", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    assert state.markets["spot"].trades == 1300
    assert venue.paths().count("/v1/order/matchresults") == 4  # ccxt's paginator, pages of at most 500
    assert state.deposits == Decimal("1234")
    assert state.withdrawals == Decimal("7.5")
    # deposits: pages of 500 from the newest id (each next page starts at the last one's oldest id), until
    # a page reaches a week before the window: 3 pages; withdrawals: 1
    assert venue.paths().count("/v1/query/deposit-withdraw") == 3 + 1
    assert FLOW_PAGE == 500


async def test_a_deposit_completed_one_and_three_days_late_counts_once() -> None:
    """Both deposits are made on 05-05 12:00 and pending; one is credited on 05-06, the other on 05-08.
    Each counts once, in the first fetch that sees it credited (issue 19 item 13)."""
    old = record(1001, "deposit", "usdt", "700", "safe", created=OUT_OF_WINDOW_MS)  # in the opening balance
    one_day, three_days = (record(n, "deposit", "usdt", amount, "confirming") for n, amount in ((1002, "10"),
                                                                                                (1003, "30")))
    sc = scenario({"USDT": "10"}, PRICES, records=[old, one_day, three_days])
    deposits = await deposits_counted_daily("htx", sc, {
        2: lambda: one_day.update({"state": "safe", "updated-at": IN_WINDOW_MS + DAY_MS}),
        4: lambda: three_days.update({"state": "safe", "updated-at": IN_WINDOW_MS + 3 * DAY_MS})})
    assert deposits == [0, 0, 10, 0, 30, 0]


async def test_plain_ccxt_reads_the_fake_and_where_it_misreads_htx() -> None:
    """What ccxt 4.5.64 parses from the fake with no zka code in between: the scenario's numbers where it
    reads htx right, and pinned where it does not (why zka reads those rows itself)."""
    sc = full()
    with fake_venue("htx", sc) as venue:
        ex = plain("htx", venue.base_url, sc)
        ex.options["fetchMarkets"] = {"types": {"spot": True, "linear": True, "inverse": True}}
        ex.has["fetchCurrencies"] = True  # ccxt names a flow's network from the public chain list
        try:
            spot = await ex.fetch_balance({"type": "spot"})
            cross = await ex.fetch_balance({"type": "margin", "marginMode": "cross"})
            linear = await ex.fetch_balance({"type": "swap", "subType": "linear"})
            asked_inverse = await ex.fetch_balance({"type": "future", "subType": "inverse"})
            inverse = await ex.fetch_balance({"type": "future", "defaultSubType": "inverse"})
            positions = await ex.fetch_positions(None, {"subType": "linear"})
            quarterly = await ex.fetch_positions(None, {"type": "future", "subType": "inverse"})
            deposits = await ex.fetch_deposits()
            withdrawals = await ex.fetch_withdrawals()
        finally:
            await ex.close()
    assert (spot["total"]["BTC"], spot["total"]["ELF"]) == (0.5, 100)
    assert spot["total"]["USDT"] == 1000  # the `lock` row of 10 is not read by ccxt
    assert cross["total"]["USDT"] == 600  # the 500 loan and 1 interest are not subtracted by ccxt
    assert linear["total"]["USDT"] == 1000
    # {"subType": "inverse"} is overridden by ccxt's defaultSubType option: the USDT-margined account again
    assert asked_inverse["total"] == {"USDT": 1000}
    # coin-margined: ccxt's total is margin_available + margin_frozen, without the position's margin (0.005)
    assert inverse["total"]["BTC"] == 0.015
    assert [(p["symbol"], p["unrealizedPnl"]) for p in positions] == [("BTC/USDT:USDT", -20)]
    assert [(p["symbol"], p["unrealizedPnl"]) for p in quarterly] == [("BTC/USD:BTC-240628", 0.0004)]
    # ccxt dates a flow by its creation: deposit 102, credited inside the window, is dated the day before
    assert sorted((t["id"], t["amount"], t["status"], t["timestamp"]) for t in deposits) == [
        ("101", 100, "ok", IN_WINDOW_MS), ("102", 40, "ok", OUT_OF_WINDOW_MS), ("103", 999, "ok", OUT_OF_WINDOW_MS),
        ("104", 777, "pending", IN_WINDOW_MS)]
    assert sorted((t["type"], t["amount"], t["fee"]["cost"], t["status"]) for t in withdrawals) == [
        ("withdrawal", 50, 1, "ok"), ("withdrawal", 300, 0, "canceled")]
    # ccxt asks one page of 100 and no time range: the rest of a busy history is never read
    assert [path for _, path in venue.requests].count("/v1/query/deposit-withdraw") == 2
