"""okx (unified trading account + funding account) through real ccxt against the local fake.

Prices: BTC/USDT 50,000; USDT/USD 1.0001 (okx lists a USD market, so USDT is valued at its ticker).
BTC = 50,000 x 1.0001 = 50,005 USD.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Any

import numpy as np
import pytest

from app.connectors.base import DayWindow, FlowMemory, Permission
from app.services.analytics import modified_dietz
from tests.connectors.checks import refused_without_secrets
from tests.fakes.ccxt_venues import (
    IN_WINDOW_MS,
    OUT_OF_WINDOW_MS,
    WINDOW,
    Scenario,
    fake_venue,
    okx_scenario,
    venue_connector,
)

PRICES = {"BTC/USDT": "50000", "USDT/USD": "1.0001"}


def _fill(inst_type: str, inst_id: str, px: str, sz: str, fee: str, fee_ccy: str, ts: int) -> dict[str, Any]:
    return {"instType": inst_type, "instId": inst_id, "tradeId": f"{inst_id}-{ts}", "ordId": "1", "clOrdId": "",
            "billId": str(ts * 1000 + len(inst_id)), "tag": "", "fillPx": px, "fillSz": sz, "side": "buy",
            "posSide": "net",
            "execType": "T", "feeCcy": fee_ccy, "fee": fee, "ts": str(ts), "fillTime": str(ts)}


def scenario(perm: str = "read_only") -> Scenario:
    deposit = {"ccy": "USDT", "chain": "USDT-TRC20", "amt": "100", "from": "", "to": "TXaddr", "txId": "0xdep",
               "ts": str(IN_WINDOW_MS), "state": "2", "depId": "11", "actualDepBlkConfirm": "20"}
    old = {**deposit, "depId": "10", "txId": "0xold", "ts": str(OUT_OF_WINDOW_MS), "amt": "999"}
    pending = {**deposit, "depId": "12", "txId": "0xpend", "state": "0", "amt": "777"}  # not credited yet
    withdrawal = {"ccy": "BTC", "chain": "BTC-Bitcoin", "amt": "0.01", "ts": str(IN_WINDOW_MS), "from": "",
                  "to": "bc1q", "txId": "0xwd", "fee": "0.0002", "feeCcy": "BTC", "state": "2", "wdId": "21"}
    return okx_scenario(
        {"BTC": "0.5", "USDT": "1000"}, PRICES,
        funding={"USDT": "200", "XYZ": "3"},
        fills=[_fill("SPOT", "BTC-USDT", "50000", "0.02", "-0.00002", "BTC", IN_WINDOW_MS),
               _fill("SWAP", "BTC-USDT-SWAP", "50000", "2", "-0.5", "USDT", IN_WINDOW_MS),
               _fill("SWAP", "BTC-USD-SWAP", "50000", "5", "-0.00001", "BTC", IN_WINDOW_MS),
               _fill("SWAP", "BTC-USDT-SWAP", "50000", "9", "-9", "USDT", OUT_OF_WINDOW_MS)],
        deposits=[deposit, old, pending], withdrawals=[withdrawal], perm=perm)


connector = partial(venue_connector, "okx")


async def test_okx_state() -> None:
    sc = scenario()
    with fake_venue("okx", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    # trading: 0.5 BTC x 50,005 = 25,002.5; 1,000 USDT x 1.0001 = 1,000.1
    # funding: 200 USDT x 1.0001 = 200.02; XYZ has no ticker -> unpriced
    assert state.total_equity == Decimal("26202.62")  # 25,002.5 + 1,000.1 + 200.02
    assert state.unpriced_assets == {"XYZ": "3"}
    # deposits: 100 USDT x 1.0001 (the 2024-05-04 one and the pending one are not counted)
    assert state.deposits == Decimal("100.01")
    # withdrawal: (0.01 + 0.0002 fee) BTC x 50,005 = 510.051
    assert state.withdrawals == Decimal("510.051")
    spot, swap = state.markets["spot"], state.markets["swap"]
    # spot: 0.02 BTC x 50,000 USDT x 1.0001 = 1,000.1; fee 0.00002 BTC x 50,005 = 1.0001
    assert (spot.trades, spot.volume, spot.fees) == (1, Decimal("1000.1"), Decimal("1.0001"))
    # linear: 2 contracts x ctVal 0.01 BTC x 50,000 = 1,000 USDT x 1.0001 = 1,000.1; fee 0.5 USDT = 0.50005
    # inverse: 5 contracts x ctVal 100 USD = 500; fee 0.00001 BTC x 50,005 = 0.50005
    assert swap.trades == 2
    assert swap.volume == Decimal("1500.1")
    assert swap.fees == Decimal("1.0001")


@pytest.mark.parametrize(("perm", "expected"), [
    ("read_only", {Permission.READ}),
    ("read_only,trade", {Permission.READ, Permission.TRADE}),
    ("read_only,trade,withdraw", {Permission.READ, Permission.TRADE, Permission.WITHDRAW}),
])
async def test_okx_permissions(perm: str, expected: set[Permission]) -> None:
    sc = scenario(perm)
    with fake_venue("okx", sc) as venue:
        assert await connector(venue.base_url, sc).permissions() == expected


async def test_okx_wrong_passphrase_is_auth_error() -> None:
    await refused_without_secrets("okx", scenario(), passphrase="not-the-passphrase")


def _bill(n: int, ts: int, change: str) -> dict[str, Any]:
    """GET /api/v5/account/bills-archive row, type 8 (funding fee), subType 173 expense / 174 income."""
    return {"bal": "1000", "balChg": change, "billId": str(9_000_000 - n), "ccy": "USDT", "execType": "",
            "fee": "0", "from": "", "instId": "BTC-USDT-SWAP", "instType": "SWAP", "mgnMode": "cross",
            "notes": "", "ordId": "", "pnl": "0", "posBal": "0", "posBalChg": "0",
            "subType": "173" if change.startswith("-") else "174", "sz": "1", "to": "", "ts": str(ts), "type": "8"}


async def test_simple_earn_and_onchain_earn_are_counted() -> None:
    """The okx profile read only the trading and funding accounts: 1,500 USDT in Simple Earn and an
    on-chain earn order were neither counted nor listed (issue 19, item 11)."""
    staking = [{"ordId": "2205", "state": "1", "ccy": "BTC", "protocol": "Compound", "protocolType": "defi",
                "term": "0", "apy": "0.03", "investData": [{"ccy": "BTC", "amt": "0.01"}],
                "earningData": [{"ccy": "BTC", "earningType": "0", "earnings": "0.0000001"}],
                "purchasedTime": str(OUT_OF_WINDOW_MS), "estSettlementTime": "", "cancelRedemptionDeadline": "",
                "tag": ""}]
    sc = okx_scenario({"USDT": "10"}, PRICES, savings={"USDT": "1500"}, staking=staking)
    with fake_venue("okx", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    # 10 USDT + 1,500 USDT (Simple Earn) at 1.0001 = 1,510.151; 0.01 BTC x 50,005 = 500.05
    assert state.markets["earn"].equity == Decimal("2000.2")
    assert state.total_equity == Decimal("2010.201")


async def test_history_longer_than_one_page_is_read_whole_within_okx_limits() -> None:
    """okx serves at most 100 rows per history request (the fake refuses more, as okx does) and ccxt asked
    1,000; its funding history ignored the window. 250 deposits (five sharing one millisecond across a
    page edge), 150 funding bills and 130 spot fills of one day are all counted (issue 19, item 12)."""
    deposits = [{"ccy": "USDT", "chain": "USDT-TRC20", "amt": "1", "from": "", "to": "T", "txId": f"0x{n}",
                 "ts": str(IN_WINDOW_MS - (97 if 97 <= n <= 101 else n) * 1000), "state": "2", "depId": str(1000 + n),
                 "actualDepBlkConfirm": "20"} for n in range(250)]
    credited = {**deposits[0], "depId": "5000", "txId": "0xcredited", "state": "1", "amt": "50"}
    bills = [_bill(n, IN_WINDOW_MS - n * 1000, "-0.1") for n in range(150)]
    fills = [_fill("SPOT", "BTC-USDT", "50000", "0.001", "0", "BTC", IN_WINDOW_MS - n * 1000) for n in range(130)]
    for n, fill in enumerate(fills):
        fill["billId"], fill["tradeId"] = str(7_000_000 - n), str(n)  # okx ids grow with time
    sc = okx_scenario({"USDT": "10"}, PRICES, deposits=[*deposits, credited], bills=bills, fills=fills)
    with fake_venue("okx", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    # 250 x 1 USDT + 50 USDT credited (state 1: already in the balance) = 300 x 1.0001
    assert state.deposits == Decimal("300.03")
    assert state.markets["swap"].funding == Decimal("-15.0015")  # 150 x -0.1 USDT x 1.0001
    assert state.markets["spot"].trades == 130
    assert venue.paths().count("/api/v5/asset/deposit-history") == 3
    assert venue.paths().count("/api/v5/account/bills-archive") == 2


def _fiat(order: str, ccy: str, amt: str, fee: str, state: str, created: int, updated: int) -> dict[str, Any]:
    """GET /api/v5/fiat/deposit-order-history (and withdrawal-order-history) row, okx docs-v5 format."""
    return {"cTime": str(created), "uTime": str(updated), "ordId": order, "paymentMethod": "SEPA",
            "paymentAcctId": "20", "amt": amt, "fee": fee, "ccy": ccy, "state": state, "clientId": ""}


async def test_a_euro_bank_deposit_is_a_flow_not_profit() -> None:
    """okx fiat orders were never read (README: "not read (okx fiat API)"), so a SEPA deposit was profit.
    Prices: USDT/USD 1, USDT/EUR 0.8 -> 1 EUR = 1.25 USD. Connect at 05-05 00:00 with 1,000 USDT; during
    05-05 the account earns 15 USDT, receives 800 EUR and sends 79 EUR (+1 EUR fee) to a bank."""
    three_days_before = IN_WINDOW_MS - 3 * 86_400_000
    deposits = [
        _fiat("d-sepa", "EUR", "600", "0", "completed", IN_WINDOW_MS, IN_WINDOW_MS),
        _fiat("d-slow", "EUR", "200", "0", "completed", three_days_before, IN_WINDOW_MS),  # created earlier
        _fiat("d-pending", "EUR", "5000", "0", "processing", IN_WINDOW_MS, IN_WINDOW_MS),
        _fiat("d-failed", "EUR", "7000", "0", "failed", IN_WINDOW_MS, IN_WINDOW_MS),
        _fiat("d-old", "EUR", "3000", "0", "completed", three_days_before, OUT_OF_WINDOW_MS),  # opening balance
    ]
    withdrawals = [_fiat("w-sepa", "EUR", "79", "1", "completed", IN_WINDOW_MS, IN_WINDOW_MS),
                   _fiat("w-canceled", "EUR", "900", "0", "canceled", IN_WINDOW_MS, IN_WINDOW_MS)]
    prices = {"USDT/USD": "1", "USDT/EUR": "0.8"}
    sc = okx_scenario({"USDT": "1000"}, prices, fiat_deposits=deposits, fiat_withdrawals=withdrawals)
    memory = FlowMemory(b"k" * 32)
    with fake_venue("okx", sc) as venue:
        connect = await connector(venue.base_url, sc, memory=memory).fetch_account_state(
            DayWindow(WINDOW.start, WINDOW.start))
        memory = FlowMemory(memory.key, frozenset(connect.counted_flows))
        after = okx_scenario({"USDT": "1015"}, funding={"EUR": "720"}).responses
        for path in ("/api/v5/account/balance", "/api/v5/asset/balances"):
            sc.responses[path] = after[path]
        day = await connector(venue.base_url, sc, memory=memory).fetch_account_state(WINDOW)
        assert venue.unknown == []
    assert connect.total_equity == Decimal("1000") and connect.deposits == 0
    assert day.total_equity == Decimal("1915")  # 1,015 USDT + 720 EUR x 1.25
    assert day.deposits == Decimal("1000")  # (600 + 200) EUR x 1.25; pending, failed and the old one not
    assert day.withdrawals == Decimal("100")  # (79 + 1 fee) EUR x 1.25
    returns = modified_dietz(np.array([1000.0, float(day.total_equity)]),
                             np.array([0.0, float(day.deposits - day.withdrawals)]))
    # (1,915 - 1,000 - 900) / (1,000 + 900/2) = 15 / 1,450; without the fiat flows it read +91.5 %
    assert returns.r[0] == pytest.approx(15 / 1450)
    # one request per direction per fetch (each under one page of 100)
    assert venue.paths().count("/api/v5/fiat/deposit-order-history") == 2
    assert venue.paths().count("/api/v5/fiat/withdrawal-order-history") == 2


async def test_fiat_history_longer_than_one_page_is_read_whole() -> None:
    """okx serves at most 100 fiat orders a request: 230 SEPA deposits of 1 EUR (three sharing the creation
    millisecond at a page edge) are three pages, all counted."""
    deposits = [_fiat(f"o{n:03d}", "EUR", "1", "0", "completed", IN_WINDOW_MS - (99 if 99 <= n <= 101 else n),
                      IN_WINDOW_MS) for n in range(230)]
    sc = okx_scenario({"USDT": "10"}, {"USDT/USD": "1", "USDT/EUR": "0.8"}, fiat_deposits=deposits)
    with fake_venue("okx", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert state.deposits == Decimal("287.5")  # 230 x 1.25
    assert venue.paths().count("/api/v5/fiat/deposit-order-history") == 3
