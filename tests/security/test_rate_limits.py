"""Rate limits: per user after authentication, per client address before it (the address from a trusted proxy
only), shared by replicas on PostgreSQL; headers on every limited response, 429 with Retry-After."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator

import httpx
import jwt
import pytest
from pydantic import SecretStr

from app.config import Settings
from app.main import create_app
from tests.support.asgi import asgi_client
from tests.support.live_server import live_server


@pytest.fixture
async def limited(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    settings.limits.rate_limit_attestation = "3/minute"
    settings.limits.rate_limit_verify = "2/minute"
    async with asgi_client(settings, client_ip="203.0.113.20") as client:
        yield client


async def test_fresh_attestation_is_limited_per_ip_with_headers(limited: httpx.AsyncClient) -> None:
    body = {"nonce": "ab" * 16}
    responses = [await limited.post("/api/v1/attestation", json=body) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["x-ratelimit-remaining"] for r in responses[:3]] == ["2", "1", "0"]
    assert responses[0].headers["x-ratelimit-limit"] == "3"
    refused = responses[3]
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"]["code"] == "rate_limited"
    assert "3 per minute" in refused.json()["error"]["message"]


async def test_limits_are_per_endpoint(limited: httpx.AsyncClient) -> None:
    for _ in range(3):
        await limited.post("/api/v1/attestation", json={"nonce": "ab" * 16})
    verify = await limited.post("/api/v1/reports/verify", json={})
    assert verify.status_code != 429 and verify.headers["x-ratelimit-limit"] == "2"


async def test_the_cached_attestation_is_not_limited(limited: httpx.AsyncClient) -> None:
    statuses = {(await limited.get("/api/v1/attestation")).status_code for _ in range(10)}
    assert statuses == {200}


def test_a_malformed_limit_fails_at_start(settings: Settings) -> None:
    settings.limits.rate_limit_reports = "lots"
    with pytest.raises(ValueError):
        create_app(settings)


# --- per user after authentication, per address before it, shared by replicas -----------------------

SECRET = "s" * 48
ALICE, BOB = "user_2aliceAAAAAAAA", "user_2bobBBBBBBBBBB"
# Well-formed (it passes validation), so it reaches the route and spends the user's budget; it then
# fails to decrypt (400), which is still an attempt.
CONNECT = {"exchange": "binance",
           "encrypted": {"ephemeralPublicKey": "x", "iv": "x", "ciphertext": "x", "tag": "x"}}


def _bearer(user: str) -> dict[str, str]:
    now = int(time.time())
    token = jwt.encode({"sub": user, "aud": "zka", "iat": now, "exp": now + 300}, SECRET, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def gateway_settings(settings: Settings) -> Settings:
    settings.auth.jwt_secret = SecretStr(SECRET)
    return settings


async def _connect(client: httpx.AsyncClient, user: str | None, body: object = CONNECT) -> httpx.Response:
    return await client.post("/api/v1/credentials/connect", json=body, headers=_bearer(user) if user else {})


async def test_anonymous_and_invalid_requests_never_spend_a_users_budget(gateway_settings: Settings) -> None:
    async with asgi_client(gateway_settings, client_ip="203.0.113.30") as gateway:
        for _ in range(10):  # the probe: five anonymous `{}` locked everyone out for 15 minutes
            assert (await _connect(gateway, None, {})).status_code in (400, 401)
            assert (await _connect(gateway, None)).status_code == 401
        for _ in range(10):  # authenticated, but invalid
            assert (await _connect(gateway, ALICE, {**CONNECT, "exchange": "nope"})).status_code == 400
        first = await _connect(gateway, ALICE)
        assert first.status_code != 429
        assert (first.headers["x-ratelimit-limit"], first.headers["x-ratelimit-remaining"]) == ("5", "4")


async def test_connect_is_limited_per_user_not_per_gateway(gateway_settings: Settings) -> None:
    async with asgi_client(gateway_settings, client_ip="203.0.113.31") as gateway:
        alice = [(await _connect(gateway, ALICE)).status_code for _ in range(6)]
        assert alice[:5] == [400] * 5 and alice[5] == 429
        refused = await _connect(gateway, ALICE)
        assert "5 per 15 minutes per user" in refused.json()["error"]["message"]
        assert int(refused.headers["retry-after"]) >= 1
        assert (await _connect(gateway, BOB)).status_code == 400  # Bob, behind the same gateway


async def test_a_flood_from_one_address_is_limited_before_authentication(gateway_settings: Settings) -> None:
    gateway_settings.limits.rate_limit_per_address = "4/minute"
    async with asgi_client(gateway_settings, client_ip="203.0.113.32") as flood:
        statuses = [(await _connect(flood, None, {})).status_code for _ in range(5)]
        assert statuses[:4] != [429] * 4 and statuses[4] == 429
        assert "per client address" in (await _connect(flood, ALICE)).json()["error"]["message"]
    async with asgi_client(gateway_settings, client_ip="203.0.113.33") as other:
        assert (await _connect(other, ALICE)).status_code == 400


@pytest.mark.parametrize(("trusted", "third_status"), [(["127.0.0.1"], 200), ([], 429)])
def test_the_client_address_comes_from_a_trusted_proxy_only(
    settings: Settings, trusted: list[str], third_status: int
) -> None:
    settings.server.trusted_proxies = trusted
    settings.limits.rate_limit_attestation = "2/minute"
    with live_server(settings) as server, httpx.Client(verify=False, timeout=10) as client:
        def fresh(forwarded_for: str) -> int:
            return client.post(f"{server.url}/api/v1/attestation", json={"nonce": "ab" * 16},
                               headers={"X-Forwarded-For": forwarded_for}).status_code

        assert [fresh("198.51.100.1"), fresh("198.51.100.1")] == [200, 200]
        assert fresh("198.51.100.1") == 429
        # Another client behind the trusted gateway has its own budget; from an untrusted peer the
        # header is ignored and the peer's budget is spent.
        assert fresh("198.51.100.2") == third_status


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="replicas share counters on PostgreSQL")
async def test_two_replicas_on_one_postgresql_share_a_users_budget(gateway_settings: Settings) -> None:
    async with asgi_client(gateway_settings, client_ip="203.0.113.34") as one, \
            asgi_client(gateway_settings, client_ip="203.0.113.35") as two:
        statuses = [(await _connect(replica, ALICE)).status_code for replica in (one, two) * 3]
        assert statuses == [400] * 5 + [429]
        assert (await _connect(one, ALICE)).status_code == 429
        assert (await _connect(two, BOB)).status_code == 400


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="replicas share counters on PostgreSQL")
async def test_concurrent_hits_from_two_replicas_never_exceed_the_limit(gateway_settings: Settings) -> None:
    gateway_settings.limits.rate_limit_credentials = "7/minute"
    async with asgi_client(gateway_settings) as one, asgi_client(gateway_settings) as two:
        responses = await asyncio.gather(*(_connect(replica, ALICE) for replica in (one, two) * 10))
        assert sorted(r.status_code for r in responses) == [400] * 7 + [429] * 13
