"""`zka credentials connect` against a real HTTPS server and a local fake binance: attestation first,
secrets prompted without echo, sealed to the attested key, sent over the pinned connection."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from app.cli.commands import cli
from app.config import Settings
from app.models import ExchangeConnection
from tests.fakes.ccxt_venues import FakeVenue, fake_venue
from tests.support.live_server import LiveServer, live_server
from tests.sync.conftest import API_KEY, API_SECRET, USER, scenario

runner = CliRunner()


@pytest.fixture
def binance() -> Iterator[FakeVenue]:
    with fake_venue("binance", scenario()) as venue:
        yield venue


@pytest.fixture
def server(settings: Settings, binance: FakeVenue) -> Iterator[LiveServer]:
    settings.sync.venue_urls = {"binance": binance.base_url}
    settings.limits.rate_limits_enabled = False
    with live_server(settings) as running:
        yield running


def _connect(server: LiveServer, *extra: str, secrets: str = f"{API_KEY}\n{API_SECRET}\n\n") -> object:
    args = ["credentials", "connect", server.url, "--exchange", "binance", "--label", "main", "--user-uid", USER,
            *extra]
    return runner.invoke(cli, args, input=secrets)


async def _stored(server: LiveServer) -> list[ExchangeConnection]:
    async with server.state.sessionmaker() as s:
        return list((await s.exec(select(ExchangeConnection))).all())


async def test_connects_after_verifying_the_enclave(server: LiveServer) -> None:
    result = _connect(server, "--trust-simulated")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    out = result.output  # type: ignore[attr-defined]
    assert "VERDICT: PASS" in out and "connected: binance 'main'" in out
    assert "initial snapshot: day" in out and "26200" in out
    assert "WARNING: development server" in out
    assert API_KEY not in out and API_SECRET not in out  # prompts do not echo
    [row] = await _stored(server)
    assert row.exchange == "binance" and row.credentials is not None


async def test_refuses_to_ask_for_secrets_when_attestation_fails(server: LiveServer) -> None:
    result = _connect(server)  # simulated evidence without --trust-simulated
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "no credentials were asked for or sent" in result.output  # type: ignore[attr-defined]
    assert "API key" not in result.output  # type: ignore[attr-defined]
    assert await _stored(server) == []


async def test_shows_the_servers_refusal(server: LiveServer) -> None:
    result = _connect(server, "--trust-simulated", secrets=f"{API_KEY}\nwrong-secret-000000\n\n")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "invalid_credentials" in result.output  # type: ignore[attr-defined]
    assert "wrong-secret-000000" not in result.output  # type: ignore[attr-defined]
