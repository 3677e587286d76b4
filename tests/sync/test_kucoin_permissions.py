"""KuCoin reports a key's permissions (GET /api/v1/user/api-key `permission`): a key with "Transfer" (moving
funds out, withdrawal included) is refused at connect and nothing is stored; a read-only key is stored as
`read`; an answer without `permission` is a 502 (issue 12 item 8)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from app.models import ExchangeConnection, Snapshot
from tests.fakes.ccxt_venues import Scenario, fake_venue
from tests.fakes.venues.kucoin import PRICES, READ_ONLY, scenario
from tests.sync.conftest import running_app, sync_settings

PATH = "/api/v1/user/api-key"


class Clock:
    now = datetime(2024, 5, 5, 14, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def _connect(settings: Any, sc: Scenario) -> tuple[httpx.Response, list[int]]:
    with fake_venue("kucoin", sc) as fake:
        async with running_app(sync_settings(settings, {"kucoin": fake.base_url}), Clock()) as app:
            response = await app.connect(exchange="kucoin", credentials={
                "api_key": sc.api_key, "api_secret": sc.api_secret, "passphrase": sc.passphrase})
            async with app.state.sessionmaker() as session:
                counts = [int((await session.exec(select(func.count()).select_from(model))).one())
                          for model in (ExchangeConnection, Snapshot)]
    return response, counts


async def test_a_read_only_key_is_stored_as_read(settings: Any) -> None:
    response, counts = await _connect(settings, scenario(prices=PRICES, trade_hf={"USDT": "10"}, permission=READ_ONLY))
    assert response.status_code == 201, response.text
    assert response.json()["connection"]["permissions"] == ["read"]
    assert counts == [1, 1]


async def test_a_key_that_can_withdraw_is_refused_and_nothing_is_stored(settings: Any) -> None:
    sc = scenario(prices=PRICES, trade_hf={"USDT": "10"}, permission="General,Transfer")
    response, counts = await _connect(settings, sc)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "withdraw_permission"
    assert counts == [0, 0]


@pytest.mark.parametrize("data", [{"apiKey": "k"}, {"permission": ["General"]}, None])
async def test_an_answer_without_permission_is_a_502(settings: Any, data: Any) -> None:
    sc = scenario(prices=PRICES, trade_hf={"USDT": "10"})
    sc.responses[PATH] = {"code": "200000", "data": data}
    response, counts = await _connect(settings, sc)
    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "venue_unavailable"
    assert counts == [0, 0]
