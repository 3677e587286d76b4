"""The fake broker server (Alpaca, IBKR Flex, TradeStation), one per test module, reset for every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.brokers import FakeBrokers, running_fake_brokers


@pytest.fixture(scope="module")
def broker_server() -> Iterator[FakeBrokers]:
    with running_fake_brokers() as fake:
        yield fake


@pytest.fixture
def brokers(broker_server: FakeBrokers) -> FakeBrokers:
    broker_server.state.reset()
    return broker_server
