"""Extreme dates are a 400, never a 500; every error response (500 and 413 included) carries the security
headers and a request id; after a 500 the connection is closed, and the error is logged once without
its traceback in the public log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.config import Settings
from app.main import create_app

USER = "user_2extremeDates01"
TOMORROW = datetime.now(UTC).date() + timedelta(days=1)


@pytest.mark.parametrize(("start", "end"), [
    (None, "0001-01-01"), ("0001-01-01", "0001-01-02"), ("9999-12-30", "9999-12-31"), (None, "9999-12-31"),
    ("1999-12-31", "2000-06-01"), (None, str(TOMORROW + timedelta(days=1))),
])
async def test_dates_outside_2000_to_tomorrow_are_a_400(
    app_client: httpx.AsyncClient, start: str | None, end: str
) -> None:
    def dates(first: str, last: str) -> dict[str, str]:
        return {k: v for k, v in ((first, start), (last, end)) if v is not None}

    for path in ("/api/v1/snapshots", "/api/v1/metrics/aggregated"):
        response = await app_client.get(path, params={"user_uid": USER, **dates("start_date", "end_date")})
        assert response.status_code == 400, (path, response.text)
        assert "between 2000-01-01 and" in response.json()["error"]["message"]
    performance = await app_client.get("/api/v1/metrics/performance",
                                       params={"user_uid": USER, **dates("start", "end")})
    assert performance.status_code == 400, performance.text
    report = await app_client.post("/api/v1/reports", json={
        "user_uid": USER, "base_currency": "USD", "include_risk_metrics": True, "include_drawdown": True,
        **dates("start_date", "end_date")})
    assert report.status_code == 400, report.text


async def test_the_bounds_themselves_are_accepted(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/api/v1/snapshots", params={
        "user_uid": USER, "start_date": "2000-01-01", "end_date": "2004-12-31"})
    assert response.status_code == 200
    response = await app_client.get("/api/v1/snapshots", params={"user_uid": USER, "end_date": str(TOMORROW)})
    assert response.status_code == 200


class Boom(RuntimeError):
    pass


@pytest.fixture
async def failing_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app with one extra route that fails like an unforeseen bug would."""
    app = create_app(settings)

    async def fail() -> None:
        raise Boom("unexpected state\nsecond line with details")

    app.add_api_route("/api/v1/test-failure", fail)
    async with LifespanManager(app, startup_timeout=60) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
            yield client


def _assert_hardened(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert response.headers["cache-control"] == "no-store"
    assert len(response.headers["x-request-id"]) == 16


async def test_a_500_has_the_error_format_security_headers_and_closes_the_connection(
    failing_client: httpx.AsyncClient,
) -> None:
    response = await failing_client.get("/api/v1/test-failure")
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "internal_error", "message": "internal error"}}
    _assert_hardened(response)
    assert response.headers["connection"] == "close"


async def test_an_unhandled_error_is_logged_once_without_its_traceback(failing_client: httpx.AsyncClient) -> None:
    await failing_client.get("/api/v1/test-failure")
    entries = (await failing_client.get("/api/v1/logs", params={"limit": 1000})).json()["entries"]
    errors = [e for e in entries if e["level"] == "error"]
    assert len(errors) == 1, errors
    assert errors[0]["fields"]["error_class"] == "Boom"
    assert errors[0]["fields"]["error"] == "unexpected state"
    published = str(entries)
    assert "Traceback" not in published and "second line" not in published and "test_error_responses" not in published


async def test_a_413_has_the_security_headers_and_a_request_id(app_client: httpx.AsyncClient) -> None:
    response = await app_client.post("/api/v1/reports/verify", content=b"{" + b" " * (5 * 1024 * 1024) + b"}",
                                     headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    _assert_hardened(response)
