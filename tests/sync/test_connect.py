"""POST /api/v1/credentials/connect as clients use it: E2E envelope in, live check, encrypted at rest,
initial snapshot; every refusal is a clear 4xx and leaves nothing behind."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from app.connectors.base import ConnectorOptions, Credentials
from app.models import ExchangeConnection, Snapshot, SyncEvent, User
from app.services.crypto import decrypt_credentials
from tests.fakes.ccxt_venues import FakeVenue
from tests.sync.conftest import API_KEY, API_SECRET, EQUITY, USER, SyncApp


async def _counts(app: SyncApp) -> tuple[int, int, int, int]:
    async with app.state.sessionmaker() as s:
        counts = [(await s.exec(select(func.count()).select_from(model))).one()
                  for model in (ExchangeConnection, Snapshot, SyncEvent, User)]
    return counts[0], counts[1], counts[2], counts[3]


async def test_connect_stores_encrypted_credentials_and_takes_the_initial_snapshot(sync_app: SyncApp) -> None:
    response = await sync_app.connect(exclude_from_report=True)
    assert response.status_code == 201, response.text
    body = response.json()
    conn = body["connection"]
    assert conn["exchange"] == "binance" and conn["label"] == "main" and conn["status"] == "active"
    assert conn["permissions"] == ["read"] and conn["can_trade"] is False and conn["exclude_from_report"] is True
    # Connected on 2024-05-05 14:30 UTC: the opening balance is the close of 2024-05-04.
    assert body["initial_snapshot"]["day"] == "2024-05-04"
    assert body["initial_snapshot"]["trigger"] == "initial"
    assert Decimal(body["initial_snapshot"]["total_equity"]) == Decimal(EQUITY)
    assert API_KEY not in response.text and API_SECRET not in response.text

    async with sync_app.state.sessionmaker() as s:
        row = (await s.exec(select(ExchangeConnection))).one()
        assert row.credentials is not None and row.credentials.startswith("v1.")
        assert API_KEY not in row.credentials and row.credentials_hash
        assert sync_app.state.keys is not None
        creds = decrypt_credentials(sync_app.state.keys.dek, row.id or 0, row.credentials)
        assert (creds.api_key, creds.api_secret) == (API_KEY, API_SECRET)
        snap = (await s.exec(select(Snapshot))).one()
        assert snap.day == date(2024, 5, 4) and snap.trigger == "initial"
        assert snap.deposits == 0 and snap.withdrawals == 0
        assert Decimal(snap.breakdown["spot"]["equity"]) == Decimal(EQUITY)
        event = (await s.exec(select(SyncEvent))).one()
        assert (event.trigger, event.outcome, event.scheduled_for) == ("initial", "success", date(2024, 5, 4))
        assert (await s.exec(select(User))).one().uid == USER


async def test_plaintext_credentials_are_refused_with_a_hint(sync_app: SyncApp) -> None:
    for body in (
        {"user_uid": USER, "exchange": "binance", "api_key": API_KEY, "api_secret": API_SECRET},
        {"user_uid": USER, "exchange": "binance", "label": "x", "encrypted": sync_app.envelope(), "api_key": "k"},
        {"user_uid": USER, "exchange": "binance"},
    ):
        response = await sync_app.client.post("/api/v1/credentials/connect", json=body)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "plaintext_credentials"
        assert "/api/v1/attestation" in error["message"]
        assert API_KEY not in response.text
    assert await _counts(sync_app) == (0, 0, 0, 0)


async def test_bad_input_is_a_clear_400_and_stores_nothing(sync_app: SyncApp) -> None:
    cases = {
        "validation_error  ": sync_app.connect_body(exchange="nasdaqx"),  # the schema enumerates venues
        "validation_error": sync_app.connect_body(label="bad/label"),
    }
    unknown = sync_app.connect_body()
    unknown["surprise"] = 1
    cases["validation_error "] = unknown
    bad_env = sync_app.connect_body()
    bad_env["encrypted"]["tag"] = "00" * 4
    cases["envelope_bad_tag"] = bad_env
    wrong_key = sync_app.connect_body()
    wrong_key["encrypted"]["ciphertext"] = "00" + wrong_key["encrypted"]["ciphertext"][2:]
    cases["envelope_decrypt_failed"] = wrong_key
    for code, body in cases.items():
        response = await sync_app.client.post("/api/v1/credentials/connect", json=body)
        assert response.status_code == 400, (code, response.text)
        assert response.json()["error"]["code"] == code.strip()
    response = await sync_app.client.post("/api/v1/credentials/connect", json=cases["validation_error  "])
    assert "binance" in response.json()["error"]["message"] and "ibkr" in response.json()["error"]["message"]
    assert await _counts(sync_app) == (0, 0, 0, 0)


async def test_wrong_credentials_are_refused_by_the_live_check(sync_app: SyncApp) -> None:
    response = await sync_app.connect(credentials={"api_key": API_KEY, "api_secret": "not-the-secret-000"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert "not-the-secret-000" not in response.text
    assert await _counts(sync_app) == (0, 0, 0, 0)


async def test_a_key_that_can_withdraw_is_refused_and_says_why(sync_app: SyncApp, binance: FakeVenue) -> None:
    restrictions = dict(binance.scenario.responses["/sapi/v1/account/apiRestrictions"])
    binance.scenario.responses["/sapi/v1/account/apiRestrictions"] = {**restrictions, "enableWithdrawals": True}
    response = await sync_app.connect()
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "withdraw_permission" and "withdrawal permission" in error["message"]
    assert await _counts(sync_app) == (0, 0, 0, 0)


async def test_trade_permission_is_recorded(sync_app: SyncApp, binance: FakeVenue) -> None:
    restrictions = dict(binance.scenario.responses["/sapi/v1/account/apiRestrictions"])
    binance.scenario.responses["/sapi/v1/account/apiRestrictions"] = {**restrictions,
                                                                      "enableSpotAndMarginTrading": True}
    response = await sync_app.connect()
    assert response.status_code == 201, response.text
    assert response.json()["connection"]["can_trade"] is True
    assert "trade" in response.json()["connection"]["permissions"]


async def test_duplicates_are_409(sync_app: SyncApp) -> None:
    assert (await sync_app.connect()).status_code == 201
    same_label = await sync_app.connect(credentials={"api_key": "other-key-00000001", "api_secret": "x" * 20})
    assert same_label.status_code == 409 and same_label.json()["error"]["code"] == "duplicate_connection"
    same_key = await sync_app.connect(label="second")
    assert same_key.status_code == 409 and same_key.json()["error"]["code"] == "duplicate_credentials"
    assert (await _counts(sync_app))[:2] == (1, 1)


async def test_venue_down_is_502_and_stores_nothing(sync_app: SyncApp, binance: FakeVenue) -> None:
    binance.stop()
    response = await sync_app.connect()
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "venue_unavailable"
    assert await _counts(sync_app) == (0, 0, 0, 0)


async def test_the_live_venue_check_holds_no_database_connection(sync_app: SyncApp) -> None:
    """A venue check can take seconds; a transaction open across it would hold a pooled connection the
    whole time, and a burst of connects would starve every other request of the pool."""
    pool = sync_app.state.engine.sync_engine.pool
    real_build = sync_app.state.connector_factory
    held_during_check: list[int] = []

    def build(venue: str, creds: Credentials, options: ConnectorOptions) -> Any:
        connector = real_build(venue, creds, options)
        real_check = connector.check_credentials

        async def check() -> None:
            held_during_check.append(pool.checkedout())  # type: ignore[attr-defined]
            await real_check()

        connector.check_credentials = check
        return connector

    sync_app.state.connector_factory = build
    assert (await sync_app.connect()).status_code == 201
    assert held_during_check == [0]
