"""kraken (spot + staking + margin positions) through real ccxt against the local fake.

Prices: BTC/USD 50,000; USDT/USD 1.0001; ADA/USDT 0.5; DOT/USD 7. kraken has USD markets, so USDT is
valued at its ticker, never assumed to be 1.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from app.connectors.base import AuthError, DayWindow, Permission
from tests.fakes.ccxt_venues import (
    IN_WINDOW_MS,
    OUT_OF_WINDOW_MS,
    WINDOW,
    Scenario,
    fake_venue,
    fixture,
    kraken_scenario,
    venue_connector,
)

PRICES = {"BTC/USD": "50000", "USDT/USD": "1.0001", "ADA/USDT": "0.5", "DOT/USD": "7"}


def _trade(txid: str, ms: int) -> tuple[str, dict[str, Any]]:
    return txid, {"ordertxid": f"O{txid}", "postxid": "P1", "pair": "XXBTZUSD", "time": ms / 1000, "type": "buy",
                  "ordertype": "limit", "price": "50000.0", "cost": "5000.0", "fee": "13.0", "vol": "0.1",
                  "margin": "0.0", "misc": "", "trade_id": 1, "maker": False}


def scenario() -> Scenario:
    deposits = fixture("kraken", "fetchDeposits")["result"]  # 9 USDT, 2024-05-05 15:39:21, Success
    deposits.append({**deposits[0], "refid": "old", "txid": "old", "time": str(OUT_OF_WINDOW_MS // 1000),
                     "amount": "999"})
    withdrawals = fixture("kraken", "fetchWithdrawals")["result"]  # 10 USDT + 3 fee, 2024-05-05, Success
    positions = fixture("kraken", "fetchPositions")["result"]  # ADAUSDT short, net -0.01022 USDT
    return kraken_scenario(
        {"XXBT": "0.5", "ZUSD": "100", "USDT": "10", "DOT.S": "3", "FOO": "4"}, PRICES,
        trades=dict([_trade("T1", IN_WINDOW_MS), _trade("T0", OUT_OF_WINDOW_MS)]),
        positions=positions, deposits=deposits, withdrawals=withdrawals)


connector = partial(venue_connector, "kraken")


async def test_kraken_state() -> None:
    sc = scenario()
    with fake_venue("kraken", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    # spot: 0.5 BTC x 50,000 = 25,000; 100 USD; 10 USDT x 1.0001 = 10.001; 3 DOT.S (staked) x 7 = 21
    assert state.markets["spot"].equity == Decimal("25131.001")
    # margin position PnL is not in BalanceEx: -0.01022 USDT x 1.0001 = -0.010221022
    assert state.unrealized_pnl == Decimal("-0.010221022")
    assert state.total_equity == Decimal("25130.990778978")  # 25,131.001 - 0.010221022
    assert state.unpriced_assets == {"FOO": "4"}
    assert state.deposits == Decimal("9.0009")  # 9 USDT x 1.0001; the 999 of 2024-05-04 is outside
    assert state.withdrawals == Decimal("13.0013")  # (10 + 3 fee) USDT x 1.0001
    spot = state.markets["spot"]
    # one fill in the window: 0.1 BTC x 50,000 USD = 5,000; fee 13 USD
    assert (spot.trades, spot.volume, spot.fees) == (1, Decimal("5000"), Decimal("13"))


async def test_kraken_permissions_from_get_api_key_info_and_bad_secret() -> None:
    """kraken reports a key's permissions (GetApiKeyInfo); a key that can withdraw was accepted and trading
    recorded as unknown (issue 19, item 8)."""
    sc = scenario()
    with fake_venue("kraken", sc) as venue:
        assert await connector(venue.base_url, sc).permissions() == {Permission.READ}
        sc.responses["POST /0/private/GetApiKeyInfo"]["result"]["permissions"] += ["modify-trades", "withdraw-funds"]
        perms = await connector(venue.base_url, sc).permissions()
        assert perms == {Permission.READ, Permission.TRADE, Permission.WITHDRAW}
        wrong = "d3JvbmctYnV0LXZhbGlkLWJhc2U2NA=="
        try:
            await connector(venue.base_url, sc, secret=wrong).check_credentials()
        except AuthError as exc:
            assert wrong not in str(exc) and sc.api_key not in str(exc)
        else:
            raise AssertionError("wrong secret accepted")


async def test_assets_priced_through_euro_and_staked_ether_as_ether() -> None:
    """DOT trades only against EUR here, and EUR/USD is known: DOT and staked DOT.S are priced through EUR.
    ETH2.S (staked ether) is ether. Both were unpriced and left out of equity (issue 19, item 7)."""
    prices = {"BTC/USD": "50000", "USDT/USD": "1.0001", "EUR/USD": "1.08", "DOT/EUR": "6.5", "ETH/USD": "3000"}
    sc = kraken_scenario({"ZUSD": "100", "DOT": "10", "DOT.S": "3", "ETH2.S": "1", "ZEUR": "50", "FOO": "4"},
                         prices)
    with fake_venue("kraken", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    # 100 USD + 13 DOT x 6.5 EUR x 1.08 (91.26) + 1 ETH2.S x 3,000 + 50 EUR x 1.08 (54)
    assert state.total_equity == Decimal("3245.26")
    assert state.unpriced_assets == {"FOO": "4"}  # no route at all: still listed


async def test_parallel_private_calls_never_reuse_or_reorder_a_nonce() -> None:
    """With the rate limiter off (loopback), parallel private calls were signed in the same millisecond and
    kraken refuses a nonce not above the key's last: EAPI:Invalid nonce (issue 19, item 9). Two clients of
    one key, each fetching a long window (several parallel history calls), all succeed against a fake
    that refuses repeated or late nonces as kraken does."""
    import asyncio  # noqa: PLC0415

    sc = scenario()
    window = DayWindow(WINDOW.start - timedelta(days=20), WINDOW.end)
    with fake_venue("kraken", sc) as venue:
        states = await asyncio.gather(*(connector(venue.base_url, sc).fetch_account_state(window) for _ in range(2)))
    assert [s.deposits for s in states] == [Decimal("1008.1008")] * 2  # (9 + 999) USDT x 1.0001
    bodies = [path for path in venue.paths() if path.startswith("/0/private/")]
    assert len(bodies) >= 10


async def test_kraken_is_sent_only_documented_parameters() -> None:
    """BalanceEx takes no `type`, and OpenPositions' docalcs is the string "true" (ccxt's default), not a
    Python boolean rendered "True" (issue 19, item 10). The fake refuses anything else, as kraken does."""
    sc = scenario()
    with fake_venue("kraken", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert state.unrealized_pnl == Decimal("-0.010221022")
    assert venue.paths().count("/0/private/BalanceEx") == 1
    assert venue.paths().count("/0/private/OpenPositions") == 1


async def test_deposit_and_withdrawal_history_longer_than_one_page_is_read_whole() -> None:
    """Without `cursor` kraken answers at most 25 deposits (or withdrawals) of a range and drops the rest,
    and ccxt asked that way: 60 SEPA deposits of 10 EUR and 30 withdrawals of 1 USDT (+0.1 fee) in one day
    are now all counted, kraken's cursor followed to the last page. EUR: EUR/USD 1.08."""
    base = fixture("kraken", "fetchDeposits")["result"][0]
    deposits = [{**base, "method": "SEPA", "asset": "ZEUR", "refid": f"D{n}", "txid": f"sepa{n}", "amount": "10",
                 "fee": "0", "time": str(IN_WINDOW_MS // 1000 - n * 60)} for n in range(60)]
    withdrawal = fixture("kraken", "fetchWithdrawals")["result"][0]
    withdrawals = [{**withdrawal, "refid": f"W{n}", "txid": f"w{n}", "amount": "1", "fee": "0.1",
                    "time": str(IN_WINDOW_MS // 1000 - n)} for n in range(30)]
    sc = kraken_scenario({"USDT": "10"}, {**PRICES, "EUR/USD": "1.08"}, deposits=deposits, withdrawals=withdrawals)
    with fake_venue("kraken", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    assert state.deposits == Decimal("648")  # 60 x 10 EUR x 1.08
    assert state.withdrawals == Decimal("33.0033")  # 30 x 1.1 USDT x 1.0001
    assert venue.paths().count("/0/private/DepositStatus") == 3  # 25 + 25 + 10
    assert venue.paths().count("/0/private/WithdrawStatus") == 2  # 25 + 5
