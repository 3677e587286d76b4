"""htx reports a key's permissions (GET /v2/user/uid, then GET /v2/user/api-key?uid=&accessKey=): a key that
can withdraw is refused at connect and nothing is stored; a read-only key is stored as `read` and a trading
key with `trade`; an answer that does not list this key is a 502 (issue 12 item 8)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.ccxt_venues import Scenario
from tests.fakes.venues.htx import scenario
from tests.sync.conftest import connect_to_fake


def _htx(permission: str) -> Scenario:
    return scenario({"BTC": "0.5"}, {"BTC/USDT": "50000"}, permission=permission)


@pytest.mark.parametrize(("permission", "stored"), [("readOnly", ["read"]), ("readOnly,trade", ["read", "trade"])])
async def test_a_key_that_cannot_withdraw_is_stored_with_its_permissions(
    settings: Any, permission: str, stored: list[str]
) -> None:
    response, counts = await connect_to_fake(settings, "htx", _htx(permission))
    assert response.status_code == 201, response.text
    assert response.json()["connection"]["permissions"] == stored
    assert counts == [1, 1]


async def test_a_key_that_can_withdraw_is_refused_and_nothing_is_stored(settings: Any) -> None:
    response, counts = await connect_to_fake(settings, "htx", _htx("readOnly,trade,withdraw"))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "withdraw_permission"
    assert counts == [0, 0]


async def test_an_answer_without_this_key_is_a_502(settings: Any) -> None:
    sc = _htx("readOnly")
    sc.responses["/v2/user/api-key"] = {"code": 200, "message": "success", "data": [
        {"accessKey": "another-key", "status": "normal", "permission": "readOnly"}]}
    response, counts = await connect_to_fake(settings, "htx", sc)
    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "venue_unavailable"
    assert counts == [0, 0]
