"""htx reports a key's permissions (GET /v2/user/uid, then GET /v2/user/api-key?uid=&accessKey=): a key that
can withdraw is refused at connect and nothing is stored; a read-only key is stored as `read` and a trading
key with `trade`; an answer that does not list this key is a 502 (issue 12 item 8)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from app.models import ExchangeConnection, Snapshot
from tests.fakes.ccxt_venues import Scenario, fake_venue
from tests.fakes.venues.htx import scenario
from tests.sync.conftest import running_app, sync_settings


class Clock:
    now = datetime(2024, 5, 5, 14, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def _connect(settings: Any, sc: Scenario) -> tuple[httpx.Response, list[int]]:
    with fake_venue("htx", sc) as fake:
        async with running_app(sync_settings(settings, {"htx": fake.base_url}), Clock()) as app:
            response = await app.connect(exchange="htx",
                                         credentials={"api_key": sc.api_key, "api_secret": sc.api_secret})
            async with app.state.sessionmaker() as session:
                counts = [int((await session.exec(select(func.count()).select_from(model))).one())
                          for model in (ExchangeConnection, Snapshot)]
    return response, counts


def _htx(permission: str) -> Scenario:
    return scenario({"BTC": "0.5"}, {"BTC/USDT": "50000"}, permission=permission)


@pytest.mark.parametrize(("permission", "stored"), [("readOnly", ["read"]), ("readOnly,trade", ["read", "trade"])])
async def test_a_key_that_cannot_withdraw_is_stored_with_its_permissions(
    settings: Any, permission: str, stored: list[str]
) -> None:
    response, counts = await _connect(settings, _htx(permission))
    assert response.status_code == 201, response.text
    assert response.json()["connection"]["permissions"] == stored
    assert counts == [1, 1]


async def test_a_key_that_can_withdraw_is_refused_and_nothing_is_stored(settings: Any) -> None:
    response, counts = await _connect(settings, _htx("readOnly,trade,withdraw"))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "withdraw_permission"
    assert counts == [0, 0]


async def test_an_answer_without_this_key_is_a_502(settings: Any) -> None:
    sc = _htx("readOnly")
    sc.responses["/v2/user/api-key"] = {"code": 200, "message": "success", "data": [
        {"accessKey": "another-key", "status": "normal", "permission": "readOnly"}]}
    response, counts = await _connect(settings, sc)
    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "venue_unavailable"
    assert counts == [0, 0]
