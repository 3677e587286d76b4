"""Checks every venue's connector tests make the same way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from app.connectors.base import AuthError, Permission
from tests.fakes.ccxt_venues import Scenario, fake_venue, venue_connector


async def refused_without_secrets(
    venue: str, sc: Scenario, *, call: Callable[[Any], Awaitable[Any]] = lambda c: c.check_credentials(),
    **wrong: str,
) -> None:
    """A wrong secret or passphrase (`wrong`) is the venue's AuthError, and its text names neither the wrong
    value nor the API key."""
    with fake_venue(venue, sc) as fake, pytest.raises(AuthError) as info:
        await call(venue_connector(venue, fake.base_url, sc, **wrong))
    for value in (*wrong.values(), sc.api_key):
        assert value not in str(info.value)


async def permissions_asked(venue: str, sc: Scenario) -> tuple[set[Permission], list[str]]:
    """The permissions the connector reports for the scenario's key, and the paths it asked the venue."""
    with fake_venue(venue, sc) as fake:
        permissions = await venue_connector(venue, fake.base_url, sc).permissions()
    return permissions, fake.paths()
