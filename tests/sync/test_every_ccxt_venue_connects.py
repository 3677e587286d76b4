"""Every ccxt venue with a fake of its documented formats connects end to end, as a client does it:
attestation, E2E-encrypted credentials, live check (permissions read from the venue where it reports
them), initial snapshot, then the next scheduled snapshot (issue 19: "a venue that cannot be connected is
not supported")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import col, select

from app.connectors.ccxt.profiles import PROFILES
from app.models import Snapshot
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
from tests.sync.conftest import running_app, sync_settings

CONNECTED = datetime(2024, 5, 5, 14, 30, tzinfo=UTC)
RUN = datetime(2024, 5, 6, 0, 0, 5, tzinfo=UTC)

# venue -> (scenario, equity in USD the snapshot must show)
VENUES: dict[str, tuple[Callable[[], Scenario], str]] = {
    "binanceusdm": (lambda: binance_scenario({"usdm": {"USDT": "1000"}}, {"BTC/USDT": "50000"}), "1000"),
    "binancecoinm": (lambda: binance_scenario({"coinm": {"BTC": "0.01"}}, {"BTC/USDT": "50000"}), "500"),
    "okx": (lambda: okx_scenario({"BTC": "0.5"}, {"BTC/USDT": "50000", "USDT/USD": "1.0001"},
                                 savings={"USDT": "100"}), "25102.51"),  # 0.5 x 50,005 + 100 x 1.0001
    "bybit": (lambda: bybit_scenario({"BTC": "0.5", "USDT": "1000"}, {"BTC/USDT": "50000"}), "26000"),
    "kraken": (lambda: kraken_scenario({"XXBT": "0.5", "ZUSD": "100"}, {"BTC/USD": "50000"}), "25100"),
    "coinbase": (coinbase_full, "52.276222"),  # tests/connectors/test_ccxt_coinbase.py's account
    **table("E2E"),  # tests/fakes/venues/<venue>.py
}


class Clock:
    now = CONNECTED

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.parametrize("venue", sorted(VENUES))
async def test_connect_and_the_next_scheduled_snapshot(venue: str, settings: Any) -> None:
    build, equity = VENUES[venue]
    sc = build()
    clock = Clock()
    with fake_venue(venue, sc) as fake:
        async with running_app(sync_settings(settings, {venue: fake.base_url}), clock) as app:
            attestation = await app.client.get("/api/v1/attestation")
            assert attestation.status_code == 200 and attestation.json()["keys"]["e2e"]["public_key"]
            creds = {"api_key": sc.api_key, "api_secret": sc.api_secret}
            if sc.passphrase:
                creds["passphrase"] = sc.passphrase
            response = await app.connect(exchange=venue, credentials=creds)
            assert response.status_code == 201, response.text
            # a venue that cannot report a key's permissions stores them as unknown (README "Permissions")
            expected = ["unknown"] if PROFILES[venue].permissions == "unknown" else ["read"]
            assert response.json()["connection"]["permissions"] == expected
            clock.now = RUN
            assert (await run_daily_sync(app.runtime, now=RUN)).outcomes == {"success": 1}
            async with app.state.sessionmaker() as session:
                rows = list((await session.exec(select(Snapshot).order_by(col(Snapshot.day)))).all())
        assert fake.unknown == []
    assert [(row.day, row.trigger) for row in rows] == [(date(2024, 5, 4), "initial"), (date(2024, 5, 5), "scheduled")]
    assert [row.total_equity for row in rows] == [Decimal(equity)] * 2
    assert all(row.deposits == 0 and row.withdrawals == 0 for row in rows[:1])
