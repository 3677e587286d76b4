"""coinbase (v2 accounts incl. staked assets, v3 fills, v2 transactions) through real ccxt and the fake.

Window: 2024-11-03 UTC, the day of the fixture's two USDT transactions.
Prices: BTC/USD 50,000; ADA/USD 0.45; USDT/USD 1.0001 (coinbase has USD markets: USDT at its ticker).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import partial

import pytest

from app.connectors.base import AuthError, DayWindow, Permission
from tests.fakes.ccxt_venues import Scenario, coinbase_scenario, fake_venue, fixture, venue_connector

NOV3 = DayWindow(datetime(2024, 11, 3, tzinfo=UTC), datetime(2024, 11, 4, tzinfo=UTC))
PRICES = {"BTC/USD": "50000", "ADA/USD": "0.45", "USDT/USD": "1.0001"}
USDT_ACCOUNT = "952ea6fb-7422-5097-841f-23749355aca5"  # the account of the fixture's transactions
SECRET = "abcdef0123456789abcdef0123456789"  # legacy HMAC key form (not a CDP PEM / base64 key)


def scenario() -> Scenario:
    accounts = fixture("coinbase", "fetchBalance")["data"]  # MASK 0, "Staked ADA" 5.047160
    usdt = {**accounts[0], "id": USDT_ACCOUNT, "name": "USDT Wallet",
            "balance": {"amount": "50.000000", "currency": "USDT"}}
    fill = fixture("coinbase", "fetchMyTrades")["fills"][0]  # ADA-USDT sell 10 @ 0.392, commission 0.03136
    fill.update(trade_time="2024-11-03T10:19:47.504Z", sequence_timestamp="2024-11-03T10:19:47.507001Z")
    old = {**fill, "trade_id": "old", "entry_id": "old", "trade_time": "2024-11-02T10:00:00Z"}
    txs = fixture("coinbase", "fetchDepositsWithdrawals")["data"]  # -2.01 USDT send, +2.01 USDT receive
    return coinbase_scenario([*accounts, usdt], PRICES, fills=[fill, old], transactions={USDT_ACCOUNT: txs},
                             api_secret=SECRET)


connector = partial(venue_connector, "coinbase")


async def test_coinbase_state() -> None:
    sc = scenario()
    with fake_venue("coinbase", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(NOV3)
    assert venue.unknown == []
    # staked ADA 5.04716 x 0.45 = 2.271222; 50 USDT x 1.0001 = 50.005; MASK 0 is not listed
    assert state.total_equity == Decimal("52.276222")
    assert state.unpriced_assets == {}
    # +2.01 USDT received x 1.0001 = 2.010201
    assert state.deposits == Decimal("2.010201")
    # -2.01 USDT sent + 1.530199 USDT network fee = 3.540199 x 1.0001 = 3.5405530199
    assert state.withdrawals == Decimal("3.5405530199")
    spot = state.markets["spot"]
    # ADA-USDT fill of the day: 10 x 0.392 = 3.92 USDT x 1.0001 = 3.920392; fee 0.03136 USDT x 1.0001
    assert (spot.trades, spot.volume, spot.fees) == (1, Decimal("3.920392"), Decimal("0.031363136"))


async def test_coinbase_permissions_from_key_permissions_and_wrong_secret() -> None:
    sc = scenario()
    with fake_venue("coinbase", sc) as venue:
        assert await connector(venue.base_url, sc).permissions() == {Permission.READ}
        sc.responses["/api/v3/brokerage/key_permissions"] = {"can_view": True, "can_trade": True,
                                                             "can_transfer": True}
        assert await connector(venue.base_url, sc).permissions() == {Permission.READ, Permission.TRADE,
                                                                     Permission.WITHDRAW}
        with pytest.raises(AuthError) as info:
            await connector(venue.base_url, sc, secret="0123456789abcdefwrongwrongwrong0").check_credentials()
    assert "0123456789abcdefwrongwrongwrong0" not in str(info.value) and sc.api_key not in str(info.value)


def _at(minute: int, day: int = 3) -> str:
    return f"2024-11-{day:02d}T{minute // 60:02d}:{minute % 60:02d}:00Z"


async def test_transactions_longer_than_one_page_are_read_whole_and_trades_are_not_flows() -> None:
    """ccxt read one page (coinbase's default 25, newest first, no server-side time filter) and typed each
    row by its sign. On 2024-11-03 the USDT account has 60 receives of 1 USDT, 20 sends of 2 USDT (+1.530199
    network fee) and 50 advanced-trade fills of +0.5 USDT (not flows); older rows of 11-01 end the walk. The
    USD wallet has a 100 USD bank deposit (fiat_deposit), which was never read (USD was skipped)."""
    sent, received = fixture("coinbase", "fetchDepositsWithdrawals")["data"]
    rows = [{**received, "id": f"r{n}", "amount": {"amount": "1", "currency": "USDT"}, "created_at": _at(n)}
            for n in range(60)]
    rows += [{**sent, "id": f"s{n}", "amount": {"amount": "-2", "currency": "USDT"}, "created_at": _at(100 + n)}
             for n in range(20)]
    rows += [{**received, "id": f"f{n}", "type": "advanced_trade_fill", "network": None,
              "amount": {"amount": "0.5", "currency": "USDT"}, "created_at": _at(200 + n)} for n in range(50)]
    rows += [{**received, "id": f"old{n}", "amount": {"amount": "1000", "currency": "USDT"},
              "created_at": _at(n, day=1)} for n in range(150)]
    usd_id = "0c8d5a1e-0000-4c0a-b1a4-00000000f1a7"
    bank = {**received, "id": "bank-1", "type": "fiat_deposit", "network": None, "created_at": _at(30),
            "amount": {"amount": "100.00", "currency": "USD"}}
    accounts = fixture("coinbase", "fetchBalance")["data"]
    usdt = {**accounts[0], "id": USDT_ACCOUNT, "name": "USDT Wallet",
            "balance": {"amount": "50.000000", "currency": "USDT"}}
    usd = {**accounts[0], "id": usd_id, "name": "Cash (USD)", "type": "fiat",
           "balance": {"amount": "100.00", "currency": "USD"}, "currency": {**accounts[0]["currency"], "code": "USD"}}
    sc = coinbase_scenario([*accounts, usdt, usd], PRICES, transactions={USDT_ACCOUNT: rows, usd_id: [bank]},
                           api_secret=SECRET)
    with fake_venue("coinbase", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(NOV3)
    assert venue.unknown == []
    assert state.deposits == Decimal("160.006")  # 60 x 1 USDT x 1.0001 + 100 USD
    assert state.withdrawals == Decimal("70.611040398")  # 20 x (2 + 1.530199) = 70.60398 USDT x 1.0001
    paths = venue.paths()
    assert paths.count(f"/v2/accounts/{USDT_ACCOUNT}/transactions") == 2  # 100 + the page reaching 11-01
    assert paths.count(f"/v2/accounts/{usd_id}/transactions") == 1
