"""Alpaca end to end: the real alpaca-py client (requests, in a worker thread) against the fake server."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.connectors import alpaca
from app.connectors.base import (
    AuthError,
    ConnectorOptions,
    Credentials,
    DayWindow,
    Permission,
    RateLimited,
    VenueUnavailable,
)
from app.connectors.registry import build_connector
from tests.fakes.brokers import ALPACA_LIVE_KEY, ALPACA_PAPER_KEY, ALPACA_SECRET, FakeBrokers

D = Decimal
FILL_DAY = DayWindow(datetime(2022, 3, 4, tzinfo=UTC), datetime(2022, 3, 5, tzinfo=UTC))
CASH_DAY = DayWindow(datetime(2022, 4, 19, tzinfo=UTC), datetime(2022, 4, 20, tzinfo=UTC))


def connector(brokers: FakeBrokers, key: str = ALPACA_PAPER_KEY, secret: str = ALPACA_SECRET,
              **options: object) -> alpaca.AlpacaConnector:
    built = build_connector("alpaca", Credentials(key, secret), ConnectorOptions(base_url=brokers.base_url,
                                                                                 **options))  # type: ignore[arg-type]
    assert isinstance(built, alpaca.AlpacaConnector)
    return built


async def test_account_positions_fills_and_fees_of_the_day(brokers: FakeBrokers) -> None:
    conn = connector(brokers)
    try:
        state = await conn.fetch_account_state(FILL_DAY)
    finally:
        await conn.close()
    # trading_v2_account.json: equity "103820.56", cash "-23140.2"
    assert state.total_equity == D("103820.56")
    assert state.cash == D("-23140.2")
    # trading_v2_positions.json: one us_equity position AAPL, market_value "600.0", unrealized_pl "100.0"
    assert state.unrealized_pnl == D("100.0")
    stocks = state.markets["stocks"]
    assert stocks.equity == D("600.0")
    # FILL activities with transaction_time on 2022-03-04 (qty x price):
    #   fills.json  AMZN 1.792161878 x 2907.15, AMZN 1 x 2907.15, GOOGL 0.058773239 x 2644.84,
    #               TSLA 1.998065556 x 837.45, TSLA 4 x 837.45
    #   page_one    GOOGL 9 x 2630.95
    expected_volume = (D("1.792161878") * D("2907.15") + D("1") * D("2907.15")
                       + D("0.058773239") * D("2644.84") + D("1.998065556") * D("837.45")
                       + D("4") * D("837.45") + D("9") * D("2630.95"))
    assert stocks.trades == 6
    assert stocks.volume == expected_volume
    # our FEE activity dated 2022-03-04 (data/brokers/alpaca_activities_extra.json): net_amount "-0.17"
    assert stocks.fees == D("0.17")
    # the CSD/CSW activities are dated 2022-04-19: not in this window
    assert state.deposits == 0 and state.withdrawals == 0
    assert set(state.markets) == {"stocks"}


async def test_deposits_and_withdrawals_come_from_csd_and_csw(brokers: FakeBrokers) -> None:
    conn = connector(brokers)
    try:
        state = await conn.fetch_account_state(CASH_DAY)
    finally:
        await conn.close()
    # CSD net_amounts dated 2022-04-19: page_one 33324.35, 29161.91, 45850.47;
    # page_two 43864.18, 32155.97, 20979.69, 22386.64
    assert state.deposits == (D("33324.35") + D("29161.91") + D("45850.47") + D("43864.18")
                              + D("32155.97") + D("20979.69") + D("22386.64"))
    # our CSW dated 2022-04-19: net_amount "-1500.25" -> a positive withdrawal
    assert state.withdrawals == D("1500.25")
    assert state.markets["stocks"].trades == 0  # FILLs are on 2022-03-04


async def test_activities_are_paged_with_page_token(brokers: FakeBrokers, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(alpaca, "PAGE_SIZE", 3)  # 8 activities on 2022-04-19 -> pages of 3, 3, 2
    conn = connector(brokers)
    try:
        state = await conn.fetch_account_state(CASH_DAY)
    finally:
        await conn.close()
    assert state.withdrawals == D("1500.25")
    assert state.deposits == D("227723.21")  # the seven CSD amounts above, summed
    calls = [path for _, path in brokers.state.requests if path == "/v2/account/activities"]
    assert len(calls) == 3


async def test_paper_is_decided_by_the_key_or_the_option(brokers: FakeBrokers) -> None:
    assert connector(brokers).is_paper is True  # PK... key
    live = connector(brokers, key=ALPACA_LIVE_KEY)
    assert live.is_paper is False
    await live.check_credentials()  # a live key works against the override host as well
    await live.close()
    assert connector(brokers, key=ALPACA_LIVE_KEY, is_paper=True).is_paper is True


async def test_permissions_are_read_and_trade(brokers: FakeBrokers) -> None:
    assert await connector(brokers).permissions() == {Permission.READ, Permission.TRADE}


async def test_wrong_secret_is_an_auth_error_without_secrets(brokers: FakeBrokers,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    conn = connector(brokers, secret="wrong-secret-value-123")
    with pytest.raises(AuthError) as info:
        await conn.check_credentials()
    await conn.close()
    text = str(info.value) + repr(info.value)
    assert "401" in text
    for secret in (ALPACA_PAPER_KEY, "wrong-secret-value-123", ALPACA_SECRET):
        assert secret not in text
        assert secret not in caplog.text
    assert info.value.__cause__ is None and info.value.__suppress_context__


async def test_rate_limit_fails_fast_as_rate_limited(brokers: FakeBrokers) -> None:
    brokers.state.alpaca_force_status = 429
    conn = connector(brokers)
    started = time.monotonic()
    with pytest.raises(RateLimited):
        await conn.check_credentials()
    await conn.close()
    assert time.monotonic() - started < 2  # alpaca-py's own 3 x 3 s sleep-and-retry is switched off


async def test_server_errors_and_unreachable_venue_are_unavailable(brokers: FakeBrokers) -> None:
    brokers.state.alpaca_force_status = 503
    conn = connector(brokers)
    with pytest.raises(VenueUnavailable):
        await conn.fetch_account_state(FILL_DAY)
    await conn.close()
    closed = alpaca.AlpacaConnector(Credentials(ALPACA_PAPER_KEY, ALPACA_SECRET),
                                    ConnectorOptions(base_url="http://127.0.0.1:9", timeout_s=2))
    with pytest.raises(VenueUnavailable) as info:
        await closed.check_credentials()
    assert ALPACA_SECRET not in str(info.value)
    await closed.close()


def test_symbol_classification() -> None:
    assert alpaca._market_for_symbol("BTC/USD") == "spot"
    assert alpaca._market_for_symbol("AAPL240119C00150000") == "options"
    assert alpaca._market_for_symbol("AAPL") == "stocks"


def nta(kind: str, day: str, amount: str, n: int, **extra: str) -> dict[str, str]:
    """A non-trade activity in Alpaca's documented NTA shape (id = date::uuid, date only)."""
    return {"id": f"{day.replace('-', '')}000000000::00000000-0000-4000-8000-{n:012d}",
            "account_id": "aba134b6-217d-4fd2-b460-e3c80bbfb9b4", "activity_type": kind, "date": day,
            "net_amount": amount, "description": "", "status": "executed", **extra}


MAY_6 = DayWindow(datetime(2024, 5, 6, tzinfo=UTC), datetime(2024, 5, 7, tzinfo=UTC))


async def test_journals_and_acats_transfers_are_flows_by_the_sign_of_net_amount(brokers: FakeBrokers) -> None:
    brokers.state.alpaca_activities = [
        nta("JNLC", "2024-05-06", "2000", 1),  # cash journaled in from another account
        nta("JNLC", "2024-05-06", "-300", 2),  # and out
        nta("ACATC", "2024-05-06", "5000", 3),  # ACATS cash in
        nta("JNLS", "2024-05-06", "0", 4, symbol="AAPL", qty="10"),  # 10 AAPL in, no amount stated
        nta("ACATS", "2024-05-06", "-250.00", 5, symbol="AAPL", qty="-2"),  # 2 AAPL out, valued by Alpaca
        {**nta("CSD", "2024-05-06", "1000", 6), "status": "canceled"},
        nta("DIV", "2024-05-06", "15", 7, symbol="AAPL"),  # income: not asked for, never a flow
        nta("JNLC", "2024-05-07", "700", 8),  # the next day: the next window's
    ]
    conn = connector(brokers)
    try:
        state = await conn.fetch_account_state(MAY_6)
    finally:
        await conn.close()
    # 2,000 + 5,000 + 10 AAPL x 120.0 (the position's current_price, trading_v2_positions.json)
    assert state.deposits == D("2000") + D("5000") + D("10") * D("120.0")
    assert state.withdrawals == D("300") + D("250.00")
    assert state.flows_known is True
    # one activities call, whole dates one day either side of the window; nothing else asked twice
    assert brokers.state.alpaca_activity_queries == [{
        "activity_types": "FILL,CSD,CSW,JNLC,ACATC,JNLS,ACATS,FEE,PTC", "after": "2024-05-05",
        "until": "2024-05-08", "direction": "asc", "page_size": "100"}]
    assert sorted(path for _, path in brokers.state.requests) == [
        "/v2/account", "/v2/account/activities", "/v2/positions"]


async def test_a_security_transfer_that_cannot_be_valued_makes_the_flows_unknown(brokers: FakeBrokers) -> None:
    brokers.state.alpaca_activities = [nta("JNLS", "2024-05-06", "0", 1, symbol="MSFT", qty="3")]
    conn = connector(brokers)
    try:
        state = await conn.fetch_account_state(MAY_6)
    finally:
        await conn.close()
    assert state.flows_known is False and state.deposits == 0
    assert state.breakdown()["flows_unavailable"] is True


async def test_a_deposit_dated_the_connect_day_is_counted_by_the_next_window(brokers: FakeBrokers) -> None:
    # Connected at 14:30 UTC on May 6 (10:30 New York): the deposit, dated May 6 (00:00 New York), came later.
    brokers.state.alpaca_activities = [nta("CSD", "2024-05-06", "1000", 1)]
    connected = datetime(2024, 5, 6, 14, 30, tzinfo=UTC)
    conn = connector(brokers)
    try:
        initial = await conn.fetch_account_state(DayWindow(connected, connected))
        assert brokers.state.alpaca_activity_queries == []  # an empty window asks for nothing
        state = await conn.fetch_account_state(DayWindow(connected, datetime(2024, 5, 7, tzinfo=UTC)))
    finally:
        await conn.close()
    assert initial.deposits == 0
    assert state.deposits == D("1000")


def position(symbol: str, asset_class: str, exchange: str, qty: str, price: str, market_value: str,
             cost_basis: str, unrealized: str) -> dict[str, str]:
    """A position in Alpaca's documented Position shape (GET /v2/positions), all numbers as strings."""
    side = "short" if qty.startswith("-") else "long"
    return {"asset_id": "00000000-0000-4000-8000-000000000001", "symbol": symbol, "exchange": exchange,
            "asset_class": asset_class, "asset_marginable": "true", "avg_entry_price": price, "qty": qty,
            "qty_available": qty, "side": side, "market_value": market_value, "cost_basis": cost_basis,
            "unrealized_pl": unrealized, "unrealized_plpc": "0", "unrealized_intraday_pl": "0",
            "unrealized_intraday_plpc": "0", "current_price": price, "lastday_price": price, "change_today": "0"}


POSITIONS = [
    position("AAPL", "us_equity", "NASDAQ", "10", "190", "1900", "1800", "100"),
    position("TSLA", "us_equity", "NASDAQ", "-5", "200", "-1000", "-1050", "50"),  # short: negative value
    position("AAPL240621C00200000", "us_option", "", "2", "3.20", "640", "700", "-60"),  # x100 included
    position("BTC/USD", "crypto", "CRYPTO", "0.01", "65000", "650", "630", "20"),
    position("BTC-PERP", "crypto_perp", "CRYPTO", "0.02", "65000", "1300", "1290", "10"),
]


async def test_every_product_is_valued_as_alpaca_py_parses_it(brokers: FakeBrokers) -> None:
    from alpaca.trading.client import TradingClient

    brokers.state.alpaca_positions = POSITIONS
    brokers.state.alpaca_account = {"equity": "30000.50", "cash": "27810.50"}
    # Plain alpaca-py, without zka, reads the fake's responses as the scenario states them.
    sdk = TradingClient(ALPACA_PAPER_KEY, ALPACA_SECRET, paper=True, url_override=brokers.base_url)
    parsed = sdk.get_all_positions()
    account = sdk.get_account()
    assert [(p.symbol, p.asset_class.value, p.market_value, p.unrealized_pl) for p in parsed] == [  # type: ignore[union-attr]
        ("AAPL", "us_equity", "1900", "100"), ("TSLA", "us_equity", "-1000", "50"),
        ("AAPL240621C00200000", "us_option", "640", "-60"), ("BTC/USD", "crypto", "650", "20"),
        ("BTC-PERP", "crypto_perp", "1300", "10")]
    assert (account.equity, account.cash) == ("30000.50", "27810.50")  # type: ignore[union-attr]
    conn = connector(brokers)
    try:
        state = await conn.fetch_account_state(MAY_6)
    finally:
        await conn.close()
    assert (state.total_equity, state.cash) == (D("30000.50"), D("27810.50"))
    assert state.unrealized_pnl == D("100") + D("50") - D("60") + D("20") + D("10")
    assert {name: m.equity for name, m in state.markets.items()} == {
        "stocks": D("1900") - D("1000"), "options": D("640"), "spot": D("650"), "swap": D("1300")}


async def test_connecting_reads_each_endpoint_once(brokers: FakeBrokers) -> None:
    connected = datetime(2024, 5, 6, 14, 30, tzinfo=UTC)
    conn = connector(brokers)
    try:  # what connecting does: check the key, permissions, the initial snapshot over [t, t)
        await conn.check_credentials()
        await conn.permissions()
        state = await conn.fetch_account_state(DayWindow(connected, connected))
    finally:
        await conn.close()
    assert state.total_equity == D("103820.56")
    assert sorted(path for _, path in brokers.state.requests) == ["/v2/account", "/v2/positions"]
