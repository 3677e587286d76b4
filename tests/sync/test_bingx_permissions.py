"""bingx reports a key's permissions (GET /openApi/v1/account/apiPermissions: 5 = withdraw): a key that
can withdraw is refused at connect and nothing is stored; a read-only key is stored as `read` and a trading
key with `trade`; an answer without the permission list is a 502 (issue 12 item 8)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.ccxt_venues import Scenario
from tests.fakes.venues.bingx import scenario
from tests.sync.conftest import connect_to_fake


def _bingx(codes: list[int]) -> Scenario:
    return scenario({"BTC": "0.5"}, {"BTC/USDT": "50000"}, permissions=codes)


@pytest.mark.parametrize(("codes", "stored"), [([2], ["read"]), ([1, 2, 3, 4], ["read", "trade"])])
async def test_a_key_that_cannot_withdraw_is_stored_with_its_permissions(
    settings: Any, codes: list[int], stored: list[str]
) -> None:
    response, counts = await connect_to_fake(settings, "bingx", _bingx(codes))
    assert response.status_code == 201, response.text
    assert response.json()["connection"]["permissions"] == stored
    assert counts == [1, 1]


async def test_a_key_that_can_withdraw_is_refused_and_nothing_is_stored(settings: Any) -> None:
    response, counts = await connect_to_fake(settings, "bingx", _bingx([1, 2, 3, 5]))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "withdraw_permission"
    assert counts == [0, 0]


async def test_an_answer_without_permissions_is_a_502(settings: Any) -> None:
    sc = _bingx([2])
    sc.responses["/openApi/v1/account/apiPermissions"] = {"code": 0, "msg": "", "data": {"apiKey": sc.api_key}}
    response, counts = await connect_to_fake(settings, "bingx", sc)
    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "venue_unavailable"
    assert counts == [0, 0]
