"""bitget reports a key's permissions (GET /api/v2/spot/account/info `authorities`): a key with wallet
withdrawal ("wwow") is refused at connect and nothing is stored; a read-only key is stored as `read`;
an answer without `authorities` is a 502 (issue 12 item 8)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.venues.bitget import PRICES, READ_ONLY, scenario
from tests.sync.conftest import connect_to_fake

PATH = "/api/v2/spot/account/info"


async def test_a_read_only_key_is_stored_as_read(settings: Any) -> None:
    sc = scenario({"USDT": "10"}, PRICES, authorities=READ_ONLY)
    response, counts = await connect_to_fake(settings, "bitget", sc)
    assert response.status_code == 201, response.text
    assert response.json()["connection"]["permissions"] == ["read"]
    assert counts == [1, 1]


async def test_a_key_that_can_withdraw_is_refused_and_nothing_is_stored(settings: Any) -> None:
    sc = scenario({"USDT": "10"}, PRICES, authorities=[*READ_ONLY, "wwow"])
    response, counts = await connect_to_fake(settings, "bitget", sc)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "withdraw_permission"
    assert counts == [0, 0]


@pytest.mark.parametrize("data", [{"userId": "1"}, {"authorities": "readonly"}, None])
async def test_an_answer_without_authorities_is_a_502(settings: Any, data: Any) -> None:
    sc = scenario({"USDT": "10"}, PRICES)
    sc.responses[PATH] = {"code": "00000", "msg": "success", "requestTime": 1, "data": data}
    response, counts = await connect_to_fake(settings, "bitget", sc)
    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "venue_unavailable"
    assert counts == [0, 0]
