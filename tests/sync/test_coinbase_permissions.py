"""coinbase reports a key's permissions (GET /api/v3/brokerage/key_permissions): a key that can transfer
funds out is refused at connect, trading is recorded, a view-only key is stored as `read`, and an
answer without `can_transfer` is a 502 (issue 12 item 8c). Nothing is stored on a refusal."""

from __future__ import annotations

from typing import Any

import pytest

from tests.connectors.test_ccxt_coinbase import scenario as coinbase_full
from tests.sync.conftest import connect_to_fake

PATH = "/api/v3/brokerage/key_permissions"


@pytest.mark.parametrize(("fields", "permissions"), [
    ({}, ["read"]),
    ({"can_trade": True}, ["read", "trade"]),
])
async def test_a_key_that_cannot_transfer_is_stored_with_its_permissions(
    settings: Any, fields: dict[str, Any], permissions: list[str]
) -> None:
    sc = coinbase_full()
    sc.responses[PATH] = {**sc.responses[PATH], **fields}
    response, counts = await connect_to_fake(settings, "coinbase", sc)
    assert response.status_code == 201, response.text
    assert response.json()["connection"]["permissions"] == permissions
    assert response.json()["connection"]["can_trade"] is ("trade" in permissions)
    assert counts == [1, 1]


async def test_a_key_that_can_transfer_is_refused_and_nothing_is_stored(settings: Any) -> None:
    sc = coinbase_full()
    sc.responses[PATH] = {**sc.responses[PATH], "can_transfer": True}
    response, counts = await connect_to_fake(settings, "coinbase", sc)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "withdraw_permission" and "withdrawal permission" in error["message"]
    assert counts == [0, 0]


@pytest.mark.parametrize("body", [{"can_view": True, "can_trade": False}, {"can_transfer": "false"}, ["x"]])
async def test_an_answer_without_can_transfer_is_a_502(settings: Any, body: Any) -> None:
    sc = coinbase_full()
    sc.responses[PATH] = body
    response, counts = await connect_to_fake(settings, "coinbase", sc)
    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "venue_unavailable"
    assert counts == [0, 0]
