"""Strict formats: dates are YYYY-MM-DD only, venues and benchmarks from their lists, unknown fields refused."""

from __future__ import annotations

import httpx
import pytest

USER = "user_2strictInputs01"


@pytest.mark.parametrize("value", ["0", "1700000000", "2026-1-1", "01/02/2026", "2026-02-30", "tomorrow"])
async def test_dates_must_be_iso_days(app_client: httpx.AsyncClient, value: str) -> None:
    for path in ("/api/v1/snapshots", "/api/v1/metrics/aggregated"):
        response = await app_client.get(path, params={"user_uid": USER, "end_date": value})
        assert response.status_code == 400, (path, value, response.text)
    response = await app_client.get("/api/v1/metrics/performance", params={"user_uid": USER, "end": value})
    assert response.status_code == 400


async def test_unknown_venue_lists_the_supported_ones(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/api/v1/snapshots", params={"user_uid": USER, "exchange": "nasdaq"})
    assert response.status_code == 400
    assert "binance" in response.json()["error"]["message"] and "ibkr" in response.json()["error"]["message"]


async def test_unknown_fields_are_refused(app_client: httpx.AsyncClient) -> None:
    response = await app_client.post("/api/v1/reports", json={"user_uid": USER, "base_currency": "USD",
                                                               "include_risk_metrics": True, "include_drawdown": True,
                                                               "surprise": 1})
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "unknown fields are not accepted" in message and "surprise" not in message  # never echo client names


async def test_unknown_query_parameters_are_refused(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/api/v1/snapshots", params={"user_uid": USER, "start_dat": "2026-01-01"})
    assert response.status_code == 400
    assert response.json()["error"] == {"code": "unknown_parameter", "message": "unknown query parameter(s): start_dat"}
    secretish = await app_client.get("/api/v1/tls/fingerprint", params={"sk_live/abc+def==": "1"})
    assert secretish.status_code == 400 and "sk_live" not in secretish.text
    assert (await app_client.get("/api/v1/logs", params={"limit": 5})).status_code == 200


@pytest.mark.parametrize("value", ["20.0", "true", "1e3", "٣", "-1", "0"])
async def test_ids_are_whole_numbers(app_client: httpx.AsyncClient, value: str) -> None:
    response = await app_client.get("/api/v1/snapshots", params={"user_uid": USER, "connection_id": value})
    assert response.status_code == 400, (value, response.text)
    deleted = await app_client.delete(f"/api/v1/connections/{value}", params={"user_uid": USER})
    assert deleted.status_code in (400, 404, 405), (value, deleted.text)
    synced = await app_client.post("/api/v1/sync", json={"user_uid": USER, "connection_id": value})
    assert synced.status_code == 400


async def test_a_single_valued_parameter_given_twice_is_refused(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get(f"/api/v1/snapshots?user_uid={USER}&connection_id=1&connection_id=2")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "repeated_parameter"
    # list parameters may repeat
    both = f"measurement={'aa' * 48}&measurement={'bb' * 48}"
    verify = await app_client.post(f"/api/v1/reports/verify?{both}", json={})
    assert verify.status_code == 200 and verify.json()["failed"] == "format"  # reached the verifier


@pytest.mark.parametrize("flag", ["yes", "1", "on", "True", 1, None])
async def test_body_flags_are_strict_booleans(app_client: httpx.AsyncClient, flag: object) -> None:
    report = await app_client.post("/api/v1/reports", json={"user_uid": USER, "include_risk_metrics": flag})
    assert report.status_code == 400, report.text
    connect = await app_client.post("/api/v1/credentials/connect", json={
        "user_uid": USER, "exchange": "binance", "exclude_from_report": flag,
        "encrypted": {"ephemeralPublicKey": "x", "iv": "x", "ciphertext": "x", "tag": "x"}})
    assert connect.status_code == 400 and "exclude_from_report" in connect.json()["error"]["message"]


@pytest.mark.parametrize("flag", ["yes", "1", "on", "True"])
async def test_query_flags_are_true_or_false(app_client: httpx.AsyncClient, flag: str) -> None:
    listed = await app_client.get("/api/v1/connections", params={"user_uid": USER, "include_deleted": flag})
    assert listed.status_code == 400
    assert (await app_client.get("/api/v1/connections", params={"user_uid": USER, "include_deleted": "true"})
            ).status_code == 200
