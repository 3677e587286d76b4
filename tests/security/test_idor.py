"""User A can neither read nor act on user B's connections, snapshots, syncs or reports.

Gateway auth is on (HS256): the user is the token's `sub`; naming another user_uid is 403; another
user's object is 404 (its existence is not revealed)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import jwt
import pytest
from sqlalchemy import select

from app.config import Settings
from app.db import create_engine, create_sessionmaker, unit_of_work
from app.models import ExchangeConnection, Snapshot
from tests.factories import create_connection, create_series
from tests.support.asgi import asgi_client

SECRET = "idor-secret-" + "y" * 32
ALICE, BOB = "user_2aliceAAAAAAAA", "user_2bobBBBBBBBBBB"
START = date(2026, 1, 1)


def _auth(uid: str) -> dict[str, str]:
    now = int(time.time())
    token = jwt.encode({"sub": uid, "aud": "zka", "iat": now, "exp": now + 600}, SECRET, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, int]]:
    settings.auth.jwt_secret = type(settings.auth).model_validate({"jwt_secret": SECRET}).jwt_secret
    settings.limits.rate_limits_enabled = False
    engine = create_engine(settings.database_url)
    async with unit_of_work(create_sessionmaker(engine)) as session:
        bob_conn = await create_connection(session, user_uid=BOB, exchange="binance", label="bob-main")
        await create_series(session, bob_conn, START, [1000 + 10 * i for i in range(40)])
        bob_id = bob_conn.id
    await engine.dispose()
    assert bob_id is not None
    async with asgi_client(settings, client_ip="198.51.100.9") as client:
        yield client, bob_id


async def _bob_rows(settings: Settings) -> tuple[int, int]:
    engine = create_engine(settings.database_url)
    async with create_sessionmaker(engine)() as session:
        active = (await session.exec(select(ExchangeConnection).where(ExchangeConnection.is_active))).all()  # type: ignore[call-overload]
        snaps = (await session.exec(select(Snapshot))).all()  # type: ignore[call-overload]
    await engine.dispose()
    return len(active), len(snaps)


async def test_alice_sees_none_of_bobs_data(api: tuple[httpx.AsyncClient, int]) -> None:
    client, bob_id = api
    window = {"start_date": str(START), "end_date": str(START + timedelta(days=60))}
    connections = await client.get("/api/v1/connections", headers=_auth(ALICE))
    assert connections.status_code == 200 and "bob-main" not in connections.text
    snapshots = await client.get("/api/v1/snapshots", params=window, headers=_auth(ALICE))
    assert snapshots.status_code == 200 and "bob-main" not in snapshots.text and "1390" not in snapshots.text
    by_id = await client.get("/api/v1/snapshots", params={**window, "connection_id": bob_id}, headers=_auth(ALICE))
    assert by_id.status_code in (200, 404) and "bob-main" not in by_id.text
    aggregated = await client.get("/api/v1/metrics/aggregated", params=window, headers=_auth(ALICE))
    assert aggregated.status_code == 200 and "1390" not in aggregated.text
    status = await client.get("/api/v1/sync/status", headers=_auth(ALICE))
    assert status.status_code == 200 and "bob-main" not in status.text
    performance = await client.get("/api/v1/metrics/performance", headers=_auth(ALICE),
                                   params={"start": str(START), "end": str(START + timedelta(days=39))})
    assert performance.status_code in (200, 404) and "bob-main" not in performance.text


async def test_bob_sees_his_own_data(api: tuple[httpx.AsyncClient, int]) -> None:
    client, _ = api
    connections = await client.get("/api/v1/connections", headers=_auth(BOB))
    assert "bob-main" in connections.text


async def test_alice_cannot_act_on_bobs_connection(api: tuple[httpx.AsyncClient, int], settings: Settings) -> None:
    client, bob_id = api
    before = await _bob_rows(settings)
    delete = await client.delete(f"/api/v1/connections/{bob_id}", headers=_auth(ALICE))
    assert delete.status_code == 404
    sync = await client.post("/api/v1/sync", json={"connection_id": bob_id}, headers=_auth(ALICE))
    assert sync.status_code == 404
    assert await _bob_rows(settings) == before


async def test_alices_report_never_contains_bobs_snapshots(api: tuple[httpx.AsyncClient, int]) -> None:
    client, _ = api
    response = await client.post("/api/v1/reports", headers=_auth(ALICE), json={
        "start_date": str(START), "end_date": str(START + timedelta(days=39)),
        "include_risk_metrics": True, "include_drawdown": True, "base_currency": "USD",
    })
    assert response.status_code == 404, response.text  # Alice has no snapshots


async def test_bobs_report_is_reachable_only_by_its_unguessable_id(api: tuple[httpx.AsyncClient, int]) -> None:
    client, _ = api
    created = await client.post("/api/v1/reports", headers=_auth(BOB), json={
        "start_date": str(START), "end_date": str(START + timedelta(days=39)),
        "include_risk_metrics": True, "include_drawdown": True, "base_currency": "USD",
    })
    assert created.status_code in (200, 201), created.text
    report_id = created.json()["report_id"]
    assert len(report_id.split("_")[-1]) >= 32  # 128 bits: a capability link for investors (SPEC §11)
    guessed = report_id[:-1] + ("0" if report_id[-1] != "0" else "1")
    assert (await client.get(f"/api/v1/reports/{guessed}", headers=_auth(ALICE))).status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/api/v1/connections", {"params": {"user_uid": BOB}}),
        ("GET", "/api/v1/snapshots",
         {"params": {"user_uid": BOB, "start_date": "2026-01-01", "end_date": "2026-02-01"}}),
        ("GET", "/api/v1/sync/status", {"params": {"user_uid": BOB}}),
        ("POST", "/api/v1/sync", {"json": {"user_uid": BOB, "connection_id": 1}}),
        ("POST", "/api/v1/reports", {"json": {"user_uid": BOB, "base_currency": "USD", "include_risk_metrics": True,
                                              "include_drawdown": True}}),
    ],
)
async def test_naming_another_user_is_forbidden(
    api: tuple[httpx.AsyncClient, int], method: str, path: str, kwargs: dict[str, object]
) -> None:
    client, _ = api
    response = await client.request(method, path, headers=_auth(ALICE), **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "user_mismatch"


@pytest.mark.parametrize("path", ["/api/v1/connections", "/api/v1/sync/status", "/api/v1/snapshots"])
async def test_no_token_is_401(api: tuple[httpx.AsyncClient, int], path: str) -> None:
    client, _ = api
    response = await client.get(path, params={"user_uid": ALICE})
    assert response.status_code == 401


@pytest.mark.parametrize("content_type", [None, "application/vnd.api+json", "application/json; charset=utf-8"])
async def test_another_user_in_a_body_is_refused_whatever_the_content_type(
    api: tuple[httpx.AsyncClient, int], content_type: str | None
) -> None:
    client, _ = api
    headers = {**_auth(ALICE), **({"Content-Type": content_type} if content_type else {})}
    body = b'{"user_uid": "%s", "connection_id": 1}' % BOB.encode()
    request = client.build_request("POST", "/api/v1/sync", content=body, headers=headers)
    if content_type is None:
        request.headers.pop("content-type", None)
    response = await client.send(request)
    assert response.status_code == 403, response.text
