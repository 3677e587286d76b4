"""deribit reports a key's permissions as the scope `public/auth` grants: a key whose scope holds
wallet:read_write (withdrawals) is refused at connect and nothing is stored; trade:read_write is recorded
(issue 12 item 8)."""

from __future__ import annotations

from typing import Any

from tests.fakes.venues.deribit import PRICES, scenario
from tests.sync.conftest import connect_to_fake


async def test_a_key_that_can_withdraw_is_refused_and_nothing_is_stored(settings: Any) -> None:
    sc = scenario({"BTC": "0.5"}, PRICES, scope="account:read trade:read wallet:read_write mainaccount")
    response, counts = await connect_to_fake(settings, "deribit", sc)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "withdraw_permission" and "withdrawal permission" in error["message"]
    assert counts == [0, 0]


async def test_a_trading_key_is_stored_with_trade(settings: Any) -> None:
    sc = scenario({"BTC": "0.5"}, PRICES, scope="account:read trade:read_write wallet:read mainaccount")
    response, counts = await connect_to_fake(settings, "deribit", sc)
    assert response.status_code == 201, response.text
    assert response.json()["connection"]["permissions"] == ["read", "trade"]
    assert counts == [1, 1]
