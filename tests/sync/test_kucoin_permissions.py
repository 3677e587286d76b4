"""KuCoin reports a key's permissions (GET /api/v1/user/api-key `permission`): a key with "Transfer" (moving
funds out, withdrawal included) is refused at connect and nothing is stored; a read-only key is stored as
`read`; an answer without `permission` is a 502 (issue 12 item 8)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.venues.kucoin import PRICES, READ_ONLY, scenario
from tests.sync.conftest import connect_to_fake

PATH = "/api/v1/user/api-key"


async def test_a_read_only_key_is_stored_as_read(settings: Any) -> None:
    sc = scenario(prices=PRICES, trade_hf={"USDT": "10"}, permission=READ_ONLY)
    response, counts = await connect_to_fake(settings, "kucoin", sc)
    assert response.status_code == 201, response.text
    assert response.json()["connection"]["permissions"] == ["read"]
    assert counts == [1, 1]


async def test_a_key_that_can_withdraw_is_refused_and_nothing_is_stored(settings: Any) -> None:
    sc = scenario(prices=PRICES, trade_hf={"USDT": "10"}, permission="General,Transfer")
    response, counts = await connect_to_fake(settings, "kucoin", sc)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "withdraw_permission"
    assert counts == [0, 0]


@pytest.mark.parametrize("data", [{"apiKey": "k"}, {"permission": ["General"]}, None])
async def test_an_answer_without_permission_is_a_502(settings: Any, data: Any) -> None:
    sc = scenario(prices=PRICES, trade_hf={"USDT": "10"})
    sc.responses[PATH] = {"code": "200000", "data": data}
    response, counts = await connect_to_fake(settings, "kucoin", sc)
    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "venue_unavailable"
    assert counts == [0, 0]
