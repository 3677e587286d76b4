"""A venue answering 200 with JSON that is not its balance format is a failure, never an empty account
(issue 12 item 8): connect answers 502 `venue_unavailable` and stores nothing; a scheduled snapshot
fails (and is recorded as failed) instead of writing an all-zero day. A truly empty account still
connects with equity 0."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from app.models import ExchangeConnection, Snapshot, SyncEvent
from app.services.scheduler import run_daily_sync
from tests.connectors.test_ccxt_coinbase import scenario as coinbase_full
from tests.fakes.ccxt_venues import (
    Scenario,
    binance_scenario,
    bybit_scenario,
    fake_venue,
    kraken_scenario,
    okx_scenario,
)
from tests.fakes.venues import table
from tests.sync.conftest import SyncApp, running_app, sync_settings

CONNECTED = datetime(2024, 5, 5, 14, 30, tzinfo=UTC)
RUN = datetime(2024, 5, 6, 0, 0, 5, tzinfo=UTC)

# venue -> (scenario with money in it, the path its first wallet's balance is read from)
VENUES: dict[str, tuple[Callable[[], Scenario], str]] = {
    "binance": (lambda: binance_scenario({"spot": {"BTC": "0.5"}}, {"BTC/USDT": "50000"}), "/api/v3/account"),
    "okx": (lambda: okx_scenario({"BTC": "0.5"}, {"BTC/USDT": "50000"}), "/api/v5/account/balance"),
    "bybit": (lambda: bybit_scenario({"BTC": "0.5"}, {"BTC/USDT": "50000"}), "/v5/account/wallet-balance"),
    "kraken": (lambda: kraken_scenario({"XXBT": "0.5"}, {"BTC/USD": "50000"}), "POST /0/private/BalanceEx"),
    "coinbase": (coinbase_full, "/v2/accounts"),
    **table("MALFORMED"),  # tests/fakes/venues/<venue>.py
}
# 200 answers that are JSON but not a balance: a bare object, a list, and the venue's own success
# envelope around unrelated data (what a wrong endpoint or a misrouted proxy returns)
UNRELATED: dict[str, Any] = {
    "object": {"status": "ok", "message": "welcome"},
    "list": [{"status": "ok"}],
    "envelope": {"code": "0", "msg": "", "retCode": 0, "retMsg": "OK", "error": [], "data": [{"uid": "1"}],
                 "result": [{"uid": "1"}]},
}


class Clock:
    now = CONNECTED

    def __call__(self) -> datetime:
        return self.now


def _credentials(sc: Scenario) -> dict[str, str]:
    creds = {"api_key": sc.api_key, "api_secret": sc.api_secret}
    if sc.passphrase:
        creds["passphrase"] = sc.passphrase
    return creds


async def _count(app: SyncApp, model: Any) -> int:
    async with app.state.sessionmaker() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


@pytest.mark.parametrize("body", sorted(UNRELATED))
@pytest.mark.parametrize("venue", sorted(VENUES))
async def test_unrelated_json_is_a_502_and_stores_nothing(venue: str, body: str, settings: Any) -> None:
    build, path = VENUES[venue]
    sc = build()
    sc.responses[path] = UNRELATED[body]
    with fake_venue(venue, sc) as fake:
        async with running_app(sync_settings(settings, {venue: fake.base_url}), Clock()) as app:
            response = await app.connect(exchange=venue, credentials=_credentials(sc))
            assert response.status_code == 502, response.text
            error = response.json()["error"]
            assert error["code"] == "venue_unavailable"
            assert sc.api_secret not in response.text
            assert [await _count(app, model) for model in (ExchangeConnection, Snapshot)] == [0, 0]


async def test_a_scheduled_snapshot_of_unrelated_json_fails_instead_of_storing_zero(settings: Any) -> None:
    build, path = VENUES["binance"]
    sc = build()
    clock = Clock()
    with fake_venue("binance", sc) as fake:
        async with running_app(sync_settings(settings, {"binance": fake.base_url}), clock) as app:
            assert (await app.connect(credentials=_credentials(sc))).status_code == 201
            sc.responses[path] = UNRELATED["object"]
            clock.now = RUN
            outcomes = (await run_daily_sync(app.runtime, now=RUN)).outcomes
            assert "success" not in outcomes, outcomes
            async with app.state.sessionmaker() as session:
                rows = (await session.exec(select(Snapshot))).all()
                events = (await session.exec(select(SyncEvent).where(SyncEvent.trigger == "scheduled"))).all()
            assert [row.trigger for row in rows] == ["initial"]  # no all-zero day written
            assert events and all(event.outcome != "success" for event in events)


@pytest.mark.parametrize("venue", ["binance", "kraken"])
async def test_a_really_empty_account_still_connects_with_zero(venue: str, settings: Any) -> None:
    if venue == "binance":
        sc = binance_scenario({}, {"BTC/USDT": "50000"})
    else:
        sc = kraken_scenario({}, {"BTC/USD": "50000"})
    with fake_venue(venue, sc) as fake:
        async with running_app(sync_settings(settings, {venue: fake.base_url}), Clock()) as app:
            response = await app.connect(exchange=venue, credentials=_credentials(sc))
            assert response.status_code == 201, response.text
            assert Decimal(response.json()["initial_snapshot"]["total_equity"]) == 0
