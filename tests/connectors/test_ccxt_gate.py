"""gate (APIv4, classic account) through real ccxt against the local fake (tests/fakes/venues/gate.py).

Prices: BTC/USDT 50,000; ETH/USDT 2,500; ETH/BTC 0.05; USDC/USDT 0.9998; GT/USDT 20; ZKB/ETH 0.01 (ZKB
trades only against ETH: 0.01 x 2,500 = 25 USD). gate lists no USD market, so USDT is worth 1.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pytest

from app.connectors.base import DayWindow, Permission
from tests.connectors.checks import refused_without_secrets
from tests.connectors.test_ccxt_smoke import plain
from tests.fakes.ccxt_venues import (
    IN_WINDOW_MS,
    OUT_OF_WINDOW_MS,
    WINDOW,
    Scenario,
    VenueRefusal,
    deposits_counted_daily,
    fake_venue,
    venue_connector,
)
from tests.fakes.venues.gate import PREFIX, PRICES, position, scenario

IN_S = IN_WINDOW_MS // 1000  # 2024-05-05 12:00 UTC
OUT_S = OUT_OF_WINDOW_MS // 1000  # 2024-05-04 12:00 UTC


def deposit(n: str, currency: str, amount: str, status: str, ts: int) -> dict[str, Any]:
    return {"id": n, "txid": f"0xdep{n}", "timestamp": str(ts), "amount": amount, "currency": currency,
            "address": "0x0ab8", "memo": "", "status": status, "chain": "ETH"}


def withdrawal(n: str, currency: str, amount: str, fee: str, status: str, ts: int) -> dict[str, Any]:
    return {"id": n, "txid": f"0xwd{n}", "block_number": "41575382", "withdraw_order_id": "", "timestamp": str(ts),
            "amount": amount, "fee": fee, "currency": currency, "address": "0x1Hkx", "fail_reason": "",
            "timestamp2": str(ts + 600), "memo": "", "status": status, "chain": "ETH"}


def fund(settle: str, n: int, change: str, ts: int, contract: str) -> dict[str, Any]:
    return {"settle": settle, "time": f"{ts}.123456", "change": change, "balance": "1000", "type": "fund",
            "text": f"{contract}:{3914424 + n}", "contract": contract, "trade_id": "", "id": str(9000 + n)}


def spot_trade(n: str, account: str, pair: str, side: str, amount: str, price: str, fee: str, fee_ccy: str,
               ts: int) -> dict[str, Any]:
    return {"account": account, "id": n, "create_time": str(ts), "create_time_ms": f"{ts}000.000",
            "currency_pair": pair, "market_type": "", "side": side, "role": "taker", "amount": amount,
            "price": price, "order_id": f"o{n}", "fee": fee, "fee_currency": fee_ccy, "point_fee": "0",
            "gt_fee": "0", "amend_text": "-", "sequence_id": n, "text": "web", "deal": ""}


def contract_trade(n: str, settle: str, contract: str, size: int, price: str, fee: str, ts: int) -> dict[str, Any]:
    return {"settle": settle, "trade_id": n, "id": n, "create_time": f"{ts}.25", "contract": contract,
            "order_id": f"o{n}", "size": size, "close_size": 0, "price": price, "role": "taker", "text": "web",
            "fee": fee, "point_fee": "0"}


def full(**overrides: Any) -> Scenario:
    """Every product gate has on a classic account, with money and activity on each."""
    args: dict[str, Any] = {
        "cross_margin": {"USDT": {"available": "500"},
                         "BTC": {"available": "0.1", "borrowed": "0.02", "interest": "0.0001"}},
        "isolated_margin": [{"currency_pair": "ETH_USDT", "account_type": "margin", "leverage": "10", "locked": False,
                             "risk": "10", "mmr": "0.1",
                             "base": {"currency": "ETH", "available": "1", "locked": "0", "borrowed": "0",
                                      "interest": "0"},
                             "quote": {"currency": "USDT", "available": "100", "locked": "0", "borrowed": "50",
                                       "interest": "0.5"}}],
        "futures": {"usdt": {"total": "2000", "unrealised_pnl": "-150"},
                    "btc": {"total": "0.1", "unrealised_pnl": "0.002"}},
        "delivery": {"total": "300", "unrealised_pnl": "20"},
        "options": {"total": "100", "unrealised_pnl": "-10"},
        "positions": {"usdt": [position("BTC_USDT", 200, "50750", "50000", "-150", "1000")],
                      "btc": [position("BTC_USD", 5000, "48000", "50000", "0.002", "0.1")],
                      "delivery": [position("BTC_USDT_20240628", 40, "45500", "50500", "20", "202")]},
        "deposits": [deposit("d1", "USDT", "100", "DONE", IN_S),
                     deposit("210496", "BTC", "0.01", "DEP_CREDITED", IN_S + 60),  # in the balance already
                     deposit("d3", "USDT", "777", "PEND", IN_S),
                     deposit("d4", "USDT", "999", "DONE", OUT_S)],
        "withdrawals": [withdrawal("w1", "USDT", "50", "1", "DONE", IN_S),
                        withdrawal("w2", "ETH", "0.2", "0.002", "DONE", IN_S + 5),
                        withdrawal("w3", "USDT", "40", "1", "CANCEL", IN_S)],
        "book": [fund("usdt", 1, "-0.5", IN_S, "BTC_USDT"), fund("usdt", 2, "0.2", IN_S + 3600, "ETH_USDT"),
                 fund("usdt", 3, "-9", OUT_S, "BTC_USDT"), fund("btc", 4, "0.00001", IN_S, "BTC_USD")],
        "spot_trades": [spot_trade("1", "spot", "BTC_USDT", "buy", "0.01", "50000", "0.00002", "BTC", IN_S),
                        spot_trade("2", "spot", "BTC_USDT", "buy", "1", "50000", "50", "USDT", OUT_S),
                        spot_trade("3", "cross_margin", "ETH_USDT", "sell", "0.1", "2500", "0.25", "USDT", IN_S),
                        spot_trade("4", "margin", "BTC_USDT", "buy", "0.001", "50000", "0.05", "USDT", IN_S)],
        "contract_trades": [contract_trade("11", "usdt", "BTC_USDT", 10, "50000", "0.025", IN_S),
                            contract_trade("12", "btc", "BTC_USD", -100, "50000", "0.000001", IN_S),
                            contract_trade("13", "delivery", "BTC_USDT_20240628", 2, "50500", "0.005", IN_S)],
        "earn": {"USDT": "1500", "GT": "50"},
    }
    args.update(overrides)
    return scenario({"BTC": "0.5", "USDT": "1000", "ZKB": "10"}, PRICES, **args)


connector = partial(venue_connector, "gate")


EXPECTED_CALLS = {  # once each per snapshot: nothing duplicated, nothing missing
    "/spot/accounts": 1, "/margin/cross/accounts": 1, "/margin/accounts": 1, "/futures/usdt/accounts": 1,
    "/futures/btc/accounts": 1, "/delivery/usdt/accounts": 1, "/options/accounts": 1, "/earn/uni/lends": 1,
    "/futures/usdt/positions": 1, "/futures/btc/positions": 1, "/delivery/usdt/positions": 1,
    "/wallet/deposits": 1, "/wallet/withdrawals": 1, "/futures/usdt/account_book": 1,
    "/futures/btc/account_book": 1, "/spot/my_trades": 3, "/futures/usdt/my_trades_timerange": 1,
    "/futures/btc/my_trades_timerange": 1, "/delivery/usdt/my_trades": 1, "/spot/tickers": 1,
    "/spot/currency_pairs": 1, "/margin/currency_pairs": 1, "/futures/usdt/contracts": 1,
    "/futures/btc/contracts": 1, "/delivery/usdt/contracts": 1,
}


async def test_gate_state_field_by_field() -> None:
    sc = full()
    with fake_venue("gate", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert venue.unknown == []
    assert Counter(p.removeprefix(PREFIX) for p in venue.paths()) == EXPECTED_CALLS
    markets = state.markets
    # spot: 0.5 BTC x 50,000 + 1,000 USDT + 10 ZKB x (0.01 ETH x 2,500) = 25,000 + 1,000 + 250
    assert markets["spot"].equity == Decimal("26250")
    # cross margin: 500 USDT + (0.1 - 0.02 borrowed - 0.0001 interest) BTC x 50,000 = 500 + 3,995
    # isolated ETH_USDT: 1 ETH x 2,500 + (100 - 50 - 0.5) USDT = 2,549.5
    assert markets["margin"].equity == Decimal("7044.5")
    # perpetuals: usdt total 2,000 + unrealised -150; btc (0.1 + 0.002) x 50,000 = 5,100
    assert markets["swap"].equity == Decimal("6950")
    assert markets["futures"].equity == Decimal("320")  # delivery: 300 + 20
    assert markets["options"].equity == Decimal("90")  # 100 - 10
    assert markets["earn"].equity == Decimal("2500")  # Simple Earn: 1,500 USDT + 50 GT x 20
    assert state.total_equity == Decimal("43154.5")
    assert state.unpriced_assets == {}
    # USDT wherever it is: 1,000 + 500 + 49.5 + 1,850 + 320 + 90 + 1,500
    assert state.cash == Decimal("5309.5")
    # positions: -150 USDT + 0.002 BTC x 50,000 + 20 USDT (options PnL is in the options equity only)
    assert state.unrealized_pnl == Decimal("-30")
    # deposits: 100 USDT (DONE) + 0.01 BTC (DEP_CREDITED: credited) = 600; PEND and the 05-04 one not
    assert state.deposits == Decimal("600")
    # withdrawals: 50 USDT (fee 1 inside) + 0.2 ETH x 2,500 (fee inside) = 550; CANCEL not
    assert state.withdrawals == Decimal("550")
    # spot: 0.01 x 50,000 = 500; fee 0.00002 BTC = 1
    assert (markets["spot"].trades, markets["spot"].volume, markets["spot"].fees) == (1, Decimal("500"), Decimal("1"))
    # margin: cross 0.1 x 2,500 = 250 (fee 0.25), isolated 0.001 x 50,000 = 50 (fee 0.05)
    assert (markets["margin"].trades, markets["margin"].volume, markets["margin"].fees) == (
        2, Decimal("300"), Decimal("0.30"))
    # perpetuals: 10 x 0.0001 BTC x 50,000 = 50 (fee 0.025); 100 inverse contracts of 1 USD (fee 0.000001 BTC)
    assert (markets["swap"].trades, markets["swap"].volume, markets["swap"].fees) == (
        2, Decimal("150"), Decimal("0.075"))
    # delivery: 2 x 0.0001 x 50,500 = 10.1 (fee 0.005)
    assert (markets["futures"].trades, markets["futures"].volume, markets["futures"].fees) == (
        1, Decimal("10.1"), Decimal("0.005"))
    # funding: -0.5 + 0.2 USDT + 0.00001 BTC x 50,000 (the 05-04 one not)
    assert markets["swap"].funding == Decimal("0.2")


async def test_gate_as_plain_ccxt_reads_it() -> None:
    """plain ccxt 4.5.64 against the fake: balances and positions are the scenario's; its flow and funding
    readings differ from gate's documented meaning, which is why zka reads those endpoints itself."""
    sc = full()
    with fake_venue("gate", sc) as venue:
        ex = plain("gate", venue.base_url, sc)
        try:
            spot = await ex.fetch_balance({"type": "spot"})
            usdt = await ex.fetch_balance({"type": "swap", "settle": "usdt"})
            cross = await ex.fetch_balance({"type": "spot", "marginMode": "cross"})
            positions = await ex.fetch_positions(None, {"type": "swap", "settle": "btc"})
            deposits = await ex.fetch_deposits(None, OUT_OF_WINDOW_MS - 1000, None, {"until": IN_WINDOW_MS + 3_600_000})
            withdrawals = await ex.fetch_withdrawals(None, OUT_OF_WINDOW_MS - 1000, None,
                                                     {"until": IN_WINDOW_MS + 3_600_000})
            funding = await ex.fetch_funding_history(None, OUT_OF_WINDOW_MS - 1000, None, {"type": "swap"})
            margin_type_refused = None
            try:
                await ex.fetch_balance({"type": "margin", "marginMode": "cross"})  # zka's old gate profile
            except Exception as exc:  # noqa: BLE001 - ccxt: NotSupported
                margin_type_refused = type(exc).__name__
        finally:
            await ex.close()
    assert (spot["total"]["BTC"], spot["total"]["USDT"], spot["total"]["ZKB"]) == (0.5, 1000, 10)
    # ccxt's total of a futures account leaves the open positions' PnL out: 2,000, not 1,850
    assert usdt["total"]["USDT"] == 2000 and usdt["info"][0]["unrealised_pnl"] == "-150"
    assert (cross["total"]["BTC"], cross["debt"]["BTC"]) == (0.1, 0.02)  # interest owed not in ccxt's debt
    assert [(p["symbol"], p["unrealizedPnl"]) for p in positions] == [("BTC/USD:BTC", 0.002)]
    by_id = {t["id"]: (t["type"], t["amount"], t["status"]) for t in deposits}
    assert by_id["d1"] == ("deposit", 100, "ok")
    # a credited deposit keeps gate's status (not "ok"), and an id without the "d" prefix has no type
    assert by_id["210496"] == ("2", 0.01, "DEP_CREDITED")
    assert {t["id"]: (t["amount"], t["fee"]["cost"], t["status"]) for t in withdrawals}["w1"] == (49, 1, "ok")
    # funding rows are named by `text` ("BTC_USDT:3914425"): no market, so no currency to value them in
    assert funding and all(row["code"] is None for row in funding)
    assert margin_type_refused == "NotSupported"


@pytest.mark.parametrize(("perms", "expected"), [
    (None, {Permission.READ}),
    ([{"name": "spot", "read_only": False}, {"name": "wallet", "read_only": True}],
     {Permission.READ, Permission.TRADE}),
    ([{"name": "wallet", "read_only": False}], {Permission.READ, Permission.WITHDRAW}),
])
async def test_gate_permissions_of_our_key(perms: list[dict[str, Any]] | None, expected: set[Permission]) -> None:
    sc = scenario({"USDT": "1"}, PRICES, key_perms=perms)  # the other key listed can withdraw: not ours
    with fake_venue("gate", sc) as venue:
        assert await connector(venue.base_url, sc).permissions() == expected


async def test_gate_permissions_unknown_when_the_key_cannot_read_them() -> None:
    sc = scenario({"USDT": "1"}, PRICES)
    with fake_venue("gate", sc) as venue:

        def forbidden(query: dict[str, str]) -> Any:
            raise VenueRefusal(403, {"label": "FORBIDDEN",
                                     "message": "Request API key does not have account permission"})

        sc.responses[f"{PREFIX}/account/main_keys"] = forbidden
        assert await connector(venue.base_url, sc).permissions() == {Permission.UNKNOWN}
        sc.responses[f"{PREFIX}/account/main_keys"] = []  # our key is not among the main account's keys
        assert await connector(venue.base_url, sc).permissions() == {Permission.UNKNOWN}


async def test_gate_wrong_secret_is_auth_error() -> None:
    await refused_without_secrets("gate", scenario({"USDT": "1"}, PRICES), secret="wrong-secret-zzzzzz")


async def test_a_deposit_completed_one_and_three_days_late_counts_once() -> None:
    """issue 19 item 13 on gate: pending (PEND) at one snapshot, DONE one and three days later."""
    old = deposit("1001", "USDT", "700", "DONE", OUT_S)
    one_day, three_days = deposit("1002", "USDT", "10", "PEND", IN_S), deposit("1003", "USDT", "30", "PEND", IN_S)
    sc = scenario({"USDT": "10"}, PRICES, deposits=[old, one_day, three_days])
    deposits = await deposits_counted_daily("gate", sc, {
        2: lambda: one_day.update(status="DONE"),
        4: lambda: three_days.update(status="DEP_CREDITED"),  # credited counts; DONE later must not count again
        5: lambda: three_days.update(status="DONE")})
    assert deposits == [0, 0, 10, 0, 30, 0]


async def test_a_window_with_more_rows_than_a_page_is_read_whole() -> None:
    """gate serves 100 rows unless asked for more and at most 30 days per request: 250 deposits, 130
    withdrawals and 150 funding fees of one day, and a 40-day catch-up window, are all counted."""
    deposits = [deposit(f"d{n}", "USDT", "1", "DONE", IN_S - n) for n in range(250)]
    withdrawals = [withdrawal(f"w{n}", "USDT", "2", "0", "DONE", IN_S - n) for n in range(130)]
    book = [fund("usdt", n, "-0.1", IN_S - n, "BTC_USDT") for n in range(150)]
    sc = scenario({"USDT": "10"}, PRICES, deposits=deposits, withdrawals=withdrawals, book=book)
    with fake_venue("gate", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
        assert venue.unknown == []
        assert (state.deposits, state.withdrawals) == (Decimal("250"), Decimal("260"))
        assert state.markets["swap"].funding == Decimal("-15")
        paths = [p.removeprefix(PREFIX) for p in venue.paths()]
        assert (paths.count("/wallet/deposits"), paths.count("/wallet/withdrawals")) == (3, 2)
        assert paths.count("/futures/usdt/account_book") == 2
        # 40 days after a gap: two 30-day pieces, each refused by gate if longer
        long = DayWindow(WINDOW.end - timedelta(days=40), WINDOW.end)
        venue.requests.clear()
        state = await connector(venue.base_url, sc).fetch_account_state(long)
        assert state.deposits == Decimal("250")
        assert [p.removeprefix(PREFIX) for p in venue.paths()].count("/wallet/deposits") == 4  # 3 + 1


async def test_more_trades_than_one_page_are_read_whole_without_rereading() -> None:
    """gate pages fills by `page` (spot) or `offset` (contracts), at most 1,000 a request, with `to` in whole
    seconds; ccxt's paginator re-read the last second until its call budget ran out. 1,050 spot fills and
    1,050 perpetual fills of one day: two requests each, every fill counted once."""
    spot = [spot_trade(str(n), "spot", "BTC_USDT", "buy", "0.001", "50000", "0", "USDT", IN_S - n) for n in range(1050)]
    swap = [contract_trade(str(n), "usdt", "BTC_USDT", 1, "50000", "0", IN_S - n) for n in range(1050)]
    sc = scenario({"USDT": "10"}, PRICES, spot_trades=spot, contract_trades=swap)
    with fake_venue("gate", sc) as venue:
        state = await connector(venue.base_url, sc).fetch_account_state(WINDOW)
    assert (state.markets["spot"].trades, state.markets["spot"].volume) == (1050, Decimal("52500"))
    assert (state.markets["swap"].trades, state.markets["swap"].volume) == (1050, Decimal("5250"))
    paths = Counter(p.removeprefix(PREFIX) for p in venue.paths())
    assert paths["/spot/my_trades"] == 2 + 1 + 1  # spot: two pages; cross and isolated margin: one each
    assert paths["/futures/usdt/my_trades_timerange"] == 2
