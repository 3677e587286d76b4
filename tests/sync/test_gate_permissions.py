"""gate reports each main-account key's permissions (GET /account/main_keys): a key whose `wallet` group is
read-write can move funds out and is refused at connect with nothing stored; a read-only key is stored as
`read`, a trading key as `read` + `trade` (issue 12 item 8, gate)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.venues.gate import PRICES, scenario
from tests.sync.conftest import connect_to_fake


@pytest.mark.parametrize(("perms", "stored"), [
    (None, ["read"]),
    ([{"name": "spot", "read_only": False}, {"name": "wallet", "read_only": True}], ["read", "trade"]),
])
async def test_a_key_that_cannot_move_funds_is_stored_with_its_permissions(
    settings: Any, perms: list[dict[str, Any]] | None, stored: list[str]
) -> None:
    response, counts = await connect_to_fake(settings, "gate", scenario({"USDT": "100"}, PRICES, key_perms=perms))
    assert response.status_code == 201, response.text
    assert response.json()["connection"]["permissions"] == stored
    assert counts == [1, 1]


async def test_a_key_that_can_withdraw_is_refused_and_nothing_is_stored(settings: Any) -> None:
    sc = scenario({"USDT": "100"}, PRICES, key_perms=[{"name": "wallet", "read_only": False},
                                                      {"name": "spot", "read_only": True}])
    response, counts = await connect_to_fake(settings, "gate", sc)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "withdraw_permission" and "withdrawal permission" in error["message"]
    assert counts == [0, 0]
