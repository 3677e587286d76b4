"""deribit reports a key's permissions as the scope `public/auth` grants: a key whose scope holds
wallet:read_write (withdrawals) is refused at connect and nothing is stored; trade:read_write is recorded
(issue 12 item 8)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func
from sqlmodel import select

from app.models import ExchangeConnection, Snapshot
from tests.fakes.ccxt_venues import Scenario, fake_venue
from tests.fakes.venues.deribit import PRICES, scenario
from tests.sync.conftest import running_app, sync_settings


class Clock:
    now = datetime(2024, 5, 5, 14, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def _connect(settings: Any, sc: Scenario) -> tuple[httpx.Response, list[int]]:
    with fake_venue("deribit", sc) as fake:
        async with running_app(sync_settings(settings, {"deribit": fake.base_url}), Clock()) as app:
            response = await app.connect(exchange="deribit",
                                         credentials={"api_key": sc.api_key, "api_secret": sc.api_secret})
            async with app.state.sessionmaker() as session:
                counts = [int((await session.exec(select(func.count()).select_from(model))).one())
                          for model in (ExchangeConnection, Snapshot)]
    return response, counts


async def test_a_key_that_can_withdraw_is_refused_and_nothing_is_stored(settings: Any) -> None:
    sc = scenario({"BTC": "0.5"}, PRICES, scope="account:read trade:read wallet:read_write mainaccount")
    response, counts = await _connect(settings, sc)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "withdraw_permission" and "withdrawal permission" in error["message"]
    assert counts == [0, 0]


async def test_a_trading_key_is_stored_with_trade(settings: Any) -> None:
    sc = scenario({"BTC": "0.5"}, PRICES, scope="account:read trade:read_write wallet:read mainaccount")
    response, counts = await _connect(settings, sc)
    assert response.status_code == 201, response.text
    assert response.json()["connection"]["permissions"] == ["read", "trade"]
    assert counts == [1, 1]
