"""Every faked ccxt venue: a deposit pending at one snapshot and completed one, three or ten days later counts
once, in the window of the first fetch that sees it completed (issue 19, item 13), through the connector
with the flow memory a sync carries between snapshots (app/services/flow_memory.py does the storing).

Connect at 2024-05-05 00:00 (the opening balance holds an older deposit: recorded, never counted); the
three deposits are dated 2024-05-05 12:00 and pending; they complete before the fetches of 05-07, 05-09
and 05-16 00:00.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from tests.fakes.ccxt_venues import (
    IN_WINDOW_MS,
    OUT_OF_WINDOW_MS,
    Scenario,
    binance_scenario,
    bybit_scenario,
    deposits_counted_daily,
    fixture,
    kraken_scenario,
    okx_scenario,
)


@dataclass
class Venue:
    build: Callable[[list[dict[str, Any]]], Scenario]
    deposit: Callable[[str, str, int], dict[str, Any]]  # (id, amount, ms) -> a pending deposit row
    complete: Callable[[dict[str, Any]], None]
    usdt: Decimal  # the venue's USD price of USDT


def _binance(n: str, amount: str, ms: int) -> dict[str, Any]:
    return {**fixture("binance", "fetchDeposits")[0], "id": n, "txId": f"tx{n}", "amount": amount,
            "coin": "USDT", "insertTime": str(ms), "status": 0}


def _okx(n: str, amount: str, ms: int) -> dict[str, Any]:
    return {"ccy": "USDT", "chain": "USDT-TRC20", "amt": amount, "from": "", "to": "T", "txId": f"tx{n}",
            "ts": str(ms), "state": "0", "depId": n, "actualDepBlkConfirm": "0"}


def _bybit(n: str, amount: str, ms: int) -> dict[str, Any]:
    return {"coin": "USDT", "chain": "TRX", "amount": amount, "txID": f"tx{n}", "status": 1, "toAddress": "T1",
            "tag": "", "depositFee": "", "successAt": str(ms), "confirmations": "1", "txIndex": "0",
            "blockHash": "", "batchReleaseLimit": "-1", "depositType": "0", "id": n}


def _kraken(n: str, amount: str, ms: int) -> dict[str, Any]:
    return {**fixture("kraken", "fetchDeposits")["result"][0], "refid": n, "txid": f"tx{n}", "amount": amount,
            "time": str(ms // 1000), "status": "Pending"}


VENUES = {
    "binance": Venue(lambda rows: binance_scenario({"spot": {"USDT": "10"}}, {"BTC/USDT": "50000"}, deposits=rows),
                     _binance, lambda row: row.update(status=1), Decimal(1)),
    "okx": Venue(lambda rows: okx_scenario({"USDT": "10"}, {"USDT/USD": "1.0001"}, deposits=rows),
                 _okx, lambda row: row.update(state="2"), Decimal("1.0001")),
    "bybit": Venue(lambda rows: bybit_scenario({"USDT": "10"}, {"BTC/USDT": "50000"}, deposits=rows),
                   _bybit, lambda row: row.update(status=3), Decimal(1)),
    "kraken": Venue(lambda rows: kraken_scenario({"USDT": "10"}, {"USDT/USD": "1.0001"}, deposits=rows),
                    _kraken, lambda row: row.update(status="Success"), Decimal("1.0001")),
}


@pytest.mark.parametrize("name", sorted(VENUES))
async def test_a_deposit_completed_one_three_and_ten_days_late_counts_once(name: str) -> None:
    """These four venues re-scan 30 days (LONG_FLOW_LOOKBACK): ten days late is inside it."""
    venue = VENUES[name]
    old = venue.deposit("1001", "700", OUT_OF_WINDOW_MS)  # completed before connecting: in the opening balance
    venue.complete(old)
    one_day, three_days = venue.deposit("1002", "10", IN_WINDOW_MS), venue.deposit("1003", "30", IN_WINDOW_MS)
    ten_days = venue.deposit("1004", "100", IN_WINDOW_MS)
    rows = [old, one_day, three_days, ten_days]
    sc = venue.build(rows)
    deposits = await deposits_counted_daily(name, sc, {2: lambda: venue.complete(one_day),
                                                       4: lambda: venue.complete(three_days),
                                                       11: lambda: venue.complete(ten_days)},  # on 05-15
                                            days=13)  # the connect fetch, then the runs of 05-06 ... 05-17 00:00
    assert deposits == [0, 0, 10 * venue.usdt, 0, 30 * venue.usdt, 0, 0, 0, 0, 0, 0, 100 * venue.usdt, 0]
