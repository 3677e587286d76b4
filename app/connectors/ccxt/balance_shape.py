"""Does a balance response look like the venue's balance at all?

ccxt parses a balance leniently: a 200 answer with unrelated JSON (a proxy's page, a maintenance notice,
another endpoint's body) becomes an empty balance, which we would store as an all-zero account. So
each wallet names where its venue's documented response keeps the balances (`Wallet.shape`), and a
response without a list or object there is a malformed answer (connect fails with 502), never an
empty account. An empty list at that place is a real empty account.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.connectors.base import MalformedResponse
from app.connectors.ccxt.profiles import Wallet


def check_balance_shape(venue: str, wallet: Wallet, info: Any) -> None:
    """Raise MalformedResponse unless the raw response holds a list or object at `wallet.shape`."""
    if wallet.shape is None:
        return
    node = info
    for step in wallet.shape:
        node = _child(node, step)
    where = ".".join(str(step) for step in wallet.shape) or "the top level"
    if not isinstance(node, list | Mapping):
        raise MalformedResponse(f"{venue}: the {wallet.name} balance response has no balances at {where}")
    if wallet.row_key is not None:
        rows = node if isinstance(node, list) else list(node.values())
        if not all(isinstance(row, Mapping) and wallet.row_key in row for row in rows):
            raise MalformedResponse(f"{venue}: the {wallet.name} balance rows at {where} lack {wallet.row_key}")


def _child(node: Any, step: str | int) -> Any:
    if isinstance(step, int):
        return node[step] if isinstance(node, list) and -len(node) <= step < len(node) else None
    return node.get(step) if isinstance(node, Mapping) else None
