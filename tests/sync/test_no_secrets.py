"""No credential, and no per-trade detail, in any response, log line or database row of the sync flows."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import text

from app.services.scheduler import run_daily_sync
from tests.fakes.ccxt_venues import FakeVenue
from tests.sync.conftest import API_KEY, API_SECRET, USER, SyncApp
from tests.sync.test_scheduler import RUN

WRONG_SECRET = "wrong-secret-that-must-not-leak-42"


async def test_secrets_appear_nowhere(sync_app: SyncApp, binance: FakeVenue, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    texts.append((await sync_app.connect(credentials={"api_key": API_KEY, "api_secret": WRONG_SECRET})).text)
    texts.append((await sync_app.connect()).text)
    texts.append((await sync_app.connect(label="again")).text)  # duplicate key: 409
    for path in ("/api/v1/connections", "/api/v1/snapshots", "/api/v1/sync/status", "/api/v1/metrics/aggregated"):
        texts.append((await sync_app.client.get(path, params={"user_uid": USER})).text)
    sync_app.clock.now = RUN
    await run_daily_sync(sync_app.runtime, now=RUN)
    binance.stop()  # a failing run logs too
    await run_daily_sync(sync_app.runtime, now=RUN.replace(day=7))
    texts += [json.dumps(e.to_json()) for e in sync_app.state.hub.recent(limit=1000)]
    texts += [r.getMessage() + json.dumps(getattr(r, "__dict__", {}), default=str) for r in caplog.records]
    async with sync_app.state.engine.connect() as conn:
        for table in ("exchange_connections", "snapshots", "sync_events", "users"):
            rows = (await conn.execute(text(f"SELECT * FROM {table}"))).all()
            texts.append(json.dumps([[str(v) for v in row] for row in rows]))
    blob = "\n".join(texts)
    for secret in (API_KEY, API_SECRET, WRONG_SECRET):
        assert secret not in blob
    assert "signature=" not in blob.lower()
