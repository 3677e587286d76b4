"""Sync tests: the real app with a movable clock, and a local fake binance that checks signatures."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import stamina
from asgi_lifespan import LifespanManager
from sqlalchemy import event, func
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.config import Settings
from app.connectors.base import Credentials
from app.db import unit_of_work
from app.main import create_app
from app.models import ExchangeConnection, Snapshot
from app.services.crypto import seal_credentials
from app.services.sync import SyncRuntime, sync_runtime
from app.state import AppState
from tests.factories import create_sealed_connection
from tests.fakes.brokers import FakeBrokers, running_fake_brokers
from tests.fakes.ccxt_venues import FakeVenue, Scenario, binance_scenario, fake_venue

USER = "user_synctest0001"
OTHER = "user_synctest0002"
API_KEY, API_SECRET = "sync-test-api-key-0001", "sync-test-api-secret-0001"
BALANCES = {"spot": {"BTC": "0.5", "USDT": "1000"}, "funding": {"USDC": "200"}}
PRICES = {"BTC/USDT": "50000", "USDC/USDT": "1"}
EQUITY = "26200.00000000"  # 0.5 x 50,000 + 1,000 + 200


def scenario() -> Scenario:
    return binance_scenario(BALANCES, PRICES, api_key=API_KEY, api_secret=API_SECRET)


_AUDIT_CHANGE = re.compile(r"^\s*(UPDATE|DELETE\s+FROM)\s+\"?sync_events\b", re.IGNORECASE)


@pytest.fixture(autouse=True)
def audit_rows_are_never_changed(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every statement any engine runs during a sync test: none may update or delete sync_events, except
    the two that test_audit_trail issues itself to show that the database refuses them."""
    seen: list[str] = []

    def watch(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if _AUDIT_CHANGE.match(statement):
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", watch)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", watch)
    expected = ["UPDATE sync_events SET outcome = 'success'", "DELETE FROM sync_events"]
    assert seen == (expected if request.node.name == "test_the_database_refuses_to_change_audit_rows" else [])


@pytest.fixture(autouse=True)
def no_backoff_sleeps() -> Iterator[None]:
    """stamina retries for real (3 attempts at most) but never waits."""
    with stamina.set_testing(True, attempts=3, cap=True):
        yield


@pytest.fixture
def binance() -> Iterator[FakeVenue]:
    with fake_venue("binance", scenario()) as venue:
        yield venue


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class SyncApp:
    client: httpx.AsyncClient
    state: AppState
    clock: Clock

    @property
    def runtime(self) -> SyncRuntime:
        return sync_runtime(self.state)

    def envelope(self, **credentials: Any) -> dict[str, str]:
        assert self.state.keys is not None
        creds = credentials or {"api_key": API_KEY, "api_secret": API_SECRET}
        return seal_credentials(self.state.keys.e2e.public_key_pem, creds)

    def connect_body(self, *, label: str = "main", user: str = USER, **extra: Any) -> dict[str, Any]:
        creds = extra.pop("credentials", None) or {}
        return {"user_uid": user, "exchange": extra.pop("exchange", "binance"), "label": label,
                "encrypted": self.envelope(**creds), **extra}

    async def connect(self, **kwargs: Any) -> httpx.Response:
        return await self.client.post("/api/v1/credentials/connect", json=self.connect_body(**kwargs))


def sync_settings(settings: Settings, venue_urls: dict[str, str], **limits: Any) -> Settings:
    settings.sync.venue_urls = venue_urls
    settings.limits.rate_limits_enabled = limits.pop("enabled", False)
    for name, value in limits.items():
        setattr(settings.limits, name, value)
    return settings


CONNECTED = datetime(2024, 5, 5, 14, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(CONNECTED)


@pytest.fixture
def brokers() -> Iterator[FakeBrokers]:
    """The fake broker server (Alpaca, IBKR Flex, TradeStation), fresh for each test."""
    with running_fake_brokers() as fake:
        yield fake


@pytest.fixture
async def broker_app(settings: Settings, brokers: FakeBrokers, clock: Clock) -> AsyncIterator[SyncApp]:
    """The real app reading every broker from the fake brokers, on the module's `clock`."""
    urls = dict.fromkeys(("alpaca", "ibkr", "tradestation"), brokers.base_url)
    async with running_app(sync_settings(settings, urls), clock) as started:
        yield started


@pytest.fixture
async def sync_app(settings: Settings, binance: FakeVenue, clock: Clock) -> AsyncIterator[SyncApp]:
    async with running_app(sync_settings(settings, {"binance": binance.base_url}), clock) as app:
        yield app


class running_app:  # noqa: N801 - used like a function
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self._settings, self._clock = settings, clock
        self._states: list[AppState] = []
        self._app = create_app(settings, on_state=self._states.append)
        self._manager = LifespanManager(self._app, startup_timeout=60)
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> SyncApp:
        await self._manager.__aenter__()
        state = self._states[0]
        state.clock = self._clock
        transport = httpx.ASGITransport(app=self._manager.app, client=("127.0.0.1", 50000))
        self._client = httpx.AsyncClient(transport=transport, base_url="https://testserver")
        return SyncApp(self._client, state, self._clock)

    async def __aexit__(self, *exc: object) -> None:
        assert self._client is not None
        await self._client.aclose()
        await self._manager.__aexit__(*exc)


async def connect_to_fake(settings: Settings, venue: str, sc: Scenario) -> tuple[httpx.Response, list[int]]:
    """One connect through the real app to a fake `venue` serving `sc`: the answer, and how many connections
    and snapshots are stored afterwards (listing the connections still works)."""
    credentials = {"api_key": sc.api_key, "api_secret": sc.api_secret}
    if sc.passphrase is not None:
        credentials["passphrase"] = sc.passphrase
    with fake_venue(venue, sc) as fake:
        async with running_app(sync_settings(settings, {venue: fake.base_url}), Clock(CONNECTED)) as app:
            response = await app.connect(exchange=venue, credentials=credentials)
            async with app.state.sessionmaker() as session:
                counts = [int((await session.exec(select(func.count()).select_from(model))).one())
                          for model in (ExchangeConnection, Snapshot)]
            listed = await app.client.get("/api/v1/connections", params={"user_uid": USER})
            assert listed.status_code == 200, listed.text
    return response, counts


async def add_connection(
    app: SyncApp, *, exchange: str = "binance", label: str = "main", user: str = USER,
    api_key: str = API_KEY, api_secret: str = API_SECRET, passphrase: str | None = None, **fields: Any,
) -> int:
    """A stored connection as the connect flow leaves it (encrypted under the app's DEK), without a snapshot."""
    assert app.state.keys is not None
    async with unit_of_work(app.state.sessionmaker) as session:
        conn = await create_sealed_connection(
            session, app.state.keys.dek, Credentials(api_key, api_secret, passphrase), user_uid=user,
            exchange=exchange, label=label, created_at=app.clock() - timedelta(days=2), **fields)
        assert conn.id is not None
        return conn.id
