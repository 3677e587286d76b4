"""coinbase reports a key's permissions (GET /api/v3/brokerage/key_permissions): a key that can transfer
funds out is refused at connect, trading is recorded, a view-only key is stored as `read`, and an
answer without `can_transfer` is a 502 (issue 12 item 8c). Nothing is stored on a refusal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from app.models import ExchangeConnection, Snapshot
from tests.connectors.test_ccxt_coinbase import scenario as coinbase_full
from tests.fakes.ccxt_venues import Scenario, fake_venue
from tests.sync.conftest import running_app, sync_settings

PATH = "/api/v3/brokerage/key_permissions"


class Clock:
    now = datetime(2024, 5, 5, 14, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def _connect(settings: Any, sc: Scenario) -> tuple[httpx.Response, list[int]]:
    with fake_venue("coinbase", sc) as fake:
        async with running_app(sync_settings(settings, {"coinbase": fake.base_url}), Clock()) as app:
            response = await app.connect(exchange="coinbase",
                                         credentials={"api_key": sc.api_key, "api_secret": sc.api_secret})
            async with app.state.sessionmaker() as session:
                counts = [int((await session.exec(select(func.count()).select_from(model))).one())
                          for model in (ExchangeConnection, Snapshot)]
            listed = await app.client.get("/api/v1/connections", params={"user_uid": "user_synctest0001"})
            assert listed.status_code == 200
    return response, counts


@pytest.mark.parametrize(("fields", "permissions"), [
    ({}, ["read"]),
    ({"can_trade": True}, ["read", "trade"]),
])
async def test_a_key_that_cannot_transfer_is_stored_with_its_permissions(
    settings: Any, fields: dict[str, Any], permissions: list[str]
) -> None:
    sc = coinbase_full()
    sc.responses[PATH] = {**sc.responses[PATH], **fields}
    response, counts = await _connect(settings, sc)
    assert response.status_code == 201, response.text
    assert response.json()["connection"]["permissions"] == permissions
    assert response.json()["connection"]["can_trade"] is ("trade" in permissions)
    assert counts == [1, 1]


async def test_a_key_that_can_transfer_is_refused_and_nothing_is_stored(settings: Any) -> None:
    sc = coinbase_full()
    sc.responses[PATH] = {**sc.responses[PATH], "can_transfer": True}
    response, counts = await _connect(settings, sc)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "withdraw_permission" and "withdrawal permission" in error["message"]
    assert counts == [0, 0]


@pytest.mark.parametrize("body", [{"can_view": True, "can_trade": False}, {"can_transfer": "false"}, ["x"]])
async def test_an_answer_without_can_transfer_is_a_502(settings: Any, body: Any) -> None:
    sc = coinbase_full()
    sc.responses[PATH] = body
    response, counts = await _connect(settings, sc)
    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "venue_unavailable"
    assert counts == [0, 0]
