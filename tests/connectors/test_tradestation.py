"""TradeStation end to end: OAuth refresh + v3 brokerage calls over httpx against the fake server."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.connectors import tradestation
from app.connectors.base import (
    AuthError,
    ConnectorOptions,
    Credentials,
    DayWindow,
    Permission,
    VenueUnavailable,
)
from app.connectors.registry import build_connector
from tests.fakes.brokers import (
    TS_CLIENT_ID,
    TS_CLIENT_SECRET,
    TS_REFRESH_TOKEN,
    FakeBrokers,
)

D = Decimal
CREDS = Credentials(TS_CLIENT_ID, TS_CLIENT_SECRET, TS_REFRESH_TOKEN)
OPENAPI_FILL_DAY = DayWindow(datetime(2020, 11, 16, tzinfo=UTC), datetime(2020, 11, 17, tzinfo=UTC))
SDK_FILL_DAY = DayWindow(datetime(2024, 1, 19, tzinfo=UTC), datetime(2024, 1, 20, tzinfo=UTC))


def connector(brokers: FakeBrokers, creds: Credentials = CREDS) -> tradestation.TradeStationConnector:
    built = build_connector("tradestation", creds, ConnectorOptions(base_url=brokers.base_url))
    assert isinstance(built, tradestation.TradeStationConnector)
    return built


async def test_all_accounts_are_aggregated_from_the_official_examples(brokers: FakeBrokers) -> None:
    conn = connector(brokers)
    try:
        state = await conn.fetch_account_state(OPENAPI_FILL_DAY)
    finally:
        await conn.close()
    # GetBalances_200.json, accounts 123456789 (Cash), 123456782 (Margin), 123456781 (Futures); the
    # Errors entry is for 123456789C, which GetAccounts does not list, so it is not ours.
    assert state.total_equity == D("987654321539.0976") + D("39893233.6211") + D("123456184.320001")
    assert state.cash == D("987654319787") + D("39735538.661") + D("123456784.32")
    assert state.unrealized_pnl == D("-620.355") + D("23138.3992000534") + D("-599.999999")
    # GetPositions_200.json: MSFT STOCK MarketValue 2166.3 (ConversionRate 1)
    stocks = state.markets["stocks"]
    assert stocks.equity == D("2166.3")
    # Order 123456789 is FLL, closed 2020-11-16T16:53:37Z, one leg ExecQuantity 10, no ExecutionPrice ->
    # FilledPrice 216.68; CommissionFee 0 + UnbundledRouteFee 0. It is in both historicalorders and
    # today's orders: counted once.
    assert stocks.trades == 1
    assert stocks.volume == D("10") * D("216.68")
    assert stocks.fees == 0
    assert state.deposits == 0 and state.withdrawals == 0  # v3 has no cash-transfer history
    assert state.flows_known is False  # ... so those zeros are unknown, and the snapshot says so
    assert state.breakdown()["flows_unavailable"] is True
    assert conn.rotated_credentials is None


async def test_sdk_mocks_options_multiplier_and_account_filter(brokers: FakeBrokers) -> None:
    brokers.state.ts_dataset = "sdk"
    creds = Credentials(TS_CLIENT_ID, TS_CLIENT_SECRET, TS_REFRESH_TOKEN, {"account_ids": "123456,789012"})
    conn = connector(brokers, creds)
    try:
        state = await conn.fetch_account_state(SDK_FILL_DAY)
    finally:
        await conn.close()
    # v3_brokerage_accounts_balances.json: Equity 15000.00 + 75000.00, CashBalance 5000.00 + 25000.00
    assert state.total_equity == D("15000.00") + D("75000.00")
    assert state.cash == D("5000.00") + D("25000.00")
    # unrealized: 123456 BalanceDetail 500.00; 789012 has only CurrencyDetails RealTimeUnrealizedGains 2000.00
    assert state.unrealized_pnl == D("500.00") + D("2000.00")
    # positions_stock.json: MSFT STOCK 15205.00, MSFT call STOCKOPTION 278.00
    assert state.markets["stocks"].equity == D("15205.00")
    assert state.markets["options"].equity == D("278.00")
    # historicalorders: MSFT Buy 100 @ 150.25 (stock); call Buy 1 @ 2.50 x 100 (option contract)
    # orders.json: ORDER123 (OPN, nothing executed) and ORDER456 (FPR, still open) are not counted
    assert (state.markets["stocks"].trades, state.markets["stocks"].volume) == (1, D("100") * D("150.25"))
    assert (state.markets["options"].trades, state.markets["options"].volume) == (1, D("1") * D("2.50") * 100)


async def test_rotated_refresh_token_is_surfaced(brokers: FakeBrokers, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    brokers.state.ts_rotate_refresh_token = True
    conn = connector(brokers)
    try:
        await conn.fetch_account_state(OPENAPI_FILL_DAY)
    finally:
        await conn.close()
    rotated = conn.rotated_credentials
    assert rotated is not None and rotated.passphrase not in (None, TS_REFRESH_TOKEN)
    assert (rotated.api_key, rotated.api_secret) == (TS_CLIENT_ID, TS_CLIENT_SECRET)
    # the old refresh token is void now; the rotated one works
    stale = connector(brokers)
    with pytest.raises(AuthError, match="invalid_grant"):
        await stale.check_credentials()
    await stale.close()
    fresh = connector(brokers, rotated)
    await fresh.check_credentials()
    await fresh.close()
    # neither refresh token nor any issued access token shows up in a log line
    secrets = [TS_REFRESH_TOKEN, rotated.passphrase or "", TS_CLIENT_SECRET, *brokers.state.ts_access_tokens]
    assert caplog.text and not any(secret in caplog.text for secret in secrets)


async def test_rotation_keeps_a_refresh_token_stored_in_extra_there(brokers: FakeBrokers) -> None:
    brokers.state.ts_rotate_refresh_token = True
    conn = connector(brokers, Credentials(TS_CLIENT_ID, TS_CLIENT_SECRET, None, {"refresh_token": TS_REFRESH_TOKEN}))
    await conn.check_credentials()
    await conn.close()
    assert conn.rotated_credentials is not None
    assert conn.rotated_credentials.passphrase is None
    assert conn.rotated_credentials.extra["refresh_token"] != TS_REFRESH_TOKEN


async def test_permissions_follow_the_token_scopes(brokers: FakeBrokers) -> None:
    conn = connector(brokers)
    assert await conn.permissions() == {Permission.READ, Permission.TRADE}
    await conn.close()


async def test_bad_credentials_are_auth_errors_without_secrets(brokers: FakeBrokers,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    cases = [Credentials(TS_CLIENT_ID, TS_CLIENT_SECRET, "revoked-refresh-token-999"),
             Credentials(TS_CLIENT_ID, "wrong-client-secret-777", TS_REFRESH_TOKEN)]
    for creds in cases:
        conn = connector(brokers, creds)
        with pytest.raises(AuthError) as info:
            await conn.fetch_account_state(OPENAPI_FILL_DAY)
        await conn.close()
        text = str(info.value)
        for secret in (creds.api_secret, creds.passphrase or "", TS_REFRESH_TOKEN):
            assert secret not in text and secret not in caplog.text


async def test_a_forged_bearer_token_is_refused(brokers: FakeBrokers) -> None:
    conn = connector(brokers)
    await conn.check_credentials()
    brokers.state.ts_access_tokens.clear()  # the venue revoked every access token
    with pytest.raises(AuthError, match="401"):
        await conn.fetch_account_state(OPENAPI_FILL_DAY)
    await conn.close()


async def test_unreachable_sign_in_is_venue_unavailable() -> None:
    conn = tradestation.TradeStationConnector(CREDS, ConnectorOptions(base_url="http://127.0.0.1:9", timeout_s=2))
    with pytest.raises(VenueUnavailable) as info:
        await conn.check_credentials()
    await conn.close()
    assert TS_REFRESH_TOKEN not in str(info.value) and info.value.__cause__ is None


def test_missing_refresh_token_is_refused_up_front() -> None:
    with pytest.raises(AuthError, match="refresh token"):
        tradestation.TradeStationConnector(Credentials(TS_CLIENT_ID, TS_CLIENT_SECRET), ConnectorOptions())


async def test_each_endpoint_is_called_once_and_an_empty_window_asks_for_no_orders(brokers: FakeBrokers) -> None:
    connected = datetime(2020, 11, 16, 15, 0, tzinfo=UTC)
    conn = connector(brokers)
    try:  # what connecting does: check, permissions, the initial snapshot over the empty window [t, t)
        await conn.check_credentials()
        await conn.permissions()
        await conn.fetch_account_state(DayWindow(connected, connected))
    finally:
        await conn.close()
    accounts = "/v3/brokerage/accounts/123456781,123456782,123456789"  # sorted ids joined, as sent
    calls = sorted(path for _, path in brokers.state.requests)
    assert calls == sorted(["/oauth/token", "/v3/brokerage/accounts", f"{accounts}/balances",
                            f"{accounts}/positions"]), calls
    brokers.state.requests.clear()
    conn = connector(brokers)
    try:  # a scheduled run: the order lists too, two pages each (the official examples carry a NextToken;
        await conn.fetch_account_state(OPENAPI_FILL_DAY)  # the fake's second page is empty)
    finally:
        await conn.close()
    calls = sorted(path for _, path in brokers.state.requests)
    assert calls == sorted(["/oauth/token", "/v3/brokerage/accounts", f"{accounts}/balances", f"{accounts}/positions",
                            *[f"{accounts}/historicalorders"] * 2, *[f"{accounts}/orders"] * 2]), calls
