"""bybit (unified trading account + funding account) through real ccxt against the local fake.

Prices: BTC/USDT 50,000; LTC/USDT 80; USDC/USDT 0.9999. bybit lists no USD market: USDT is 1.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Any

from app.connectors.base import Permission
from tests.connectors.checks import refused_without_secrets
from tests.fakes.ccxt_venues import (
    IN_WINDOW_MS,
    OUT_OF_WINDOW_MS,
    WINDOW,
    Scenario,
    bybit_scenario,
    fake_venue,
    fixture,
    venue_connector,
)

PRICES = {"BTC/USDT": "50000", "LTC/USDT": "80", "USDC/USDT": "0.9999"}


def _executions() -> list[dict[str, Any]]:
    spot = fixture("bybit", "fetchMyTrades", 0)["result"]["list"][0]  # BTCUSDT buy 0.000336 @ 29,708.7
    spot.update(category="spot", execTime=str(IN_WINDOW_MS))
    old = {**spot, "execId": "old", "execTime": str(OUT_OF_WINDOW_MS)}
    funding = fixture("bybit", "fetchFundingHistory")["result"]["list"]  # LTCUSDT funding rows
    funding = [{**row, "category": "linear", "execTime": str(IN_WINDOW_MS + i)} for i, row in enumerate(funding)]
    linear = {**funding[0], "execType": "Trade", "execId": "lin-1", "execPrice": "80", "execQty": "2",
              "execValue": "160", "execFee": "0.096", "feeRate": "0.0006", "category": "linear"}
    return [spot, old, linear, *funding]


def scenario(**overrides: Any) -> Scenario:
    deposit = {"coin": "USDT", "chain": "TRX", "amount": "100", "txID": "0xdep", "status": 3, "toAddress": "T1",
               "tag": "", "depositFee": "", "successAt": str(IN_WINDOW_MS), "confirmations": "20",
               "txIndex": "0", "blockHash": "", "batchReleaseLimit": "-1", "depositType": "0", "id": "d1"}
    withdrawal = {"coin": "USDT", "chain": "TRX", "amount": "50", "txID": "0xwd", "status": "success",
                  "toAddress": "T2", "tag": "", "withdrawFee": "1", "createTime": str(IN_WINDOW_MS),
                  "updateTime": str(IN_WINDOW_MS), "withdrawId": "w1", "withdrawType": 0}
    # off-chain withdrawal to another bybit account: capital leaves this account, so it is a flow
    off_chain = {**withdrawal, "txID": "", "withdrawId": "w2", "amount": "500", "withdrawFee": "0", "withdrawType": 1}
    return bybit_scenario({"BTC": "0.5", "USDT": "1000", "LTC": "-0.5"}, PRICES, funding={"USDC": "100"},
                          executions=_executions(), deposits=[deposit], withdrawals=[withdrawal, off_chain],
                          **overrides)


connector = partial(venue_connector, "bybit")


async def test_bybit_state() -> None:
    sc = scenario()
    with fake_venue("bybit", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    # unified `equity`: 0.5 BTC x 50,000 = 25,000; 1,000 USDT; -0.5 LTC (borrowed) x 80 = -40
    # funding wallet: 100 USDC x 0.9999 = 99.99
    assert state.total_equity == Decimal("26059.99")  # 25,000 + 1,000 - 40 + 99.99
    assert state.deposits == Decimal("100")  # 100 USDT
    assert state.withdrawals == Decimal("551")  # 50 + 1 fee on-chain + 500 off-chain to another account
    spot, swap = state.markets["spot"], state.markets["swap"]
    # spot: 0.000336 BTC x 29,708.7 = 9.9821232 USDT; fee 0.000000336 BTC x 50,000 = 0.0168
    assert (spot.trades, spot.volume, spot.fees) == (1, Decimal("9.9821232"), Decimal("0.0168"))
    # linear LTCUSDT: 2 x contractSize 1 x 80 = 160; fee 0.096 USDT
    assert (swap.trades, swap.volume, swap.fees) == (1, Decimal("160"), Decimal("0.096"))
    # funding rows (fixture): execFee -0.00708126 (received) and 0.0007797 (paid), USDT
    assert swap.funding == Decimal("0.00708126") - Decimal("0.0007797")


async def test_bybit_permissions_withdraw_and_trade() -> None:
    sc = scenario(read_only=0, api_permissions={"ContractTrade": ["Order", "Position"], "Spot": ["SpotTrade"],
                                                "Wallet": ["AccountTransfer", "Withdraw"], "Options": []})
    with fake_venue("bybit", sc) as venue:
        perms = await connector(venue.base_url, sc).permissions()
    assert perms == {Permission.READ, Permission.TRADE, Permission.WITHDRAW}


async def test_bybit_read_only_key() -> None:
    sc = scenario()
    with fake_venue("bybit", sc) as venue:
        assert await connector(venue.base_url, sc).permissions() == {Permission.READ}


async def test_bybit_wrong_secret() -> None:
    await refused_without_secrets("bybit", scenario(), secret="wrong-secret-zzzzzz",
                                  call=lambda c: c.fetch_account_state(WINDOW))


async def test_earn_positions_are_counted_and_a_key_without_earn_permission_still_syncs() -> None:
    """bybit Earn (Flexible Saving, On-chain) is a wallet of its own: 300 USDT + 0.01 BTC staked were
    neither counted nor listed. A key without the Earn permission (bybit: 10005) still syncs without it."""
    sc = bybit_scenario({"USDT": "10"}, PRICES, earn={"FlexibleSaving": {"USDT": "300"}, "OnChain": {"BTC": "0.01"}})
    with fake_venue("bybit", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
        assert state.markets["earn"].equity == Decimal("800")  # 300 + 0.01 x 50,000
        assert state.total_equity == Decimal("810")
        sc.responses["/v5/earn/position"] = {"retCode": 10005, "retMsg": "Permission denied.", "result": {},
                                             "retExtInfo": {}, "time": 1714953599000}
        without = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert without.total_equity == Decimal("10") and "earn" not in without.markets
