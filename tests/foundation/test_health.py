from __future__ import annotations

import httpx


async def test_health_states_mode_and_every_weakness(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["mode"] == "development"
    assert "embedded SQLite database" in body["weaknesses"] or "development mode" in body["weaknesses"]
    assert "gateway authentication disabled" in body["weaknesses"]


async def test_health_is_served_under_the_api_prefix_too(app_client: httpx.AsyncClient) -> None:
    assert (await app_client.get("/api/v1/health")).status_code == 200


async def test_ready_reports_database_check(app_client: httpx.AsyncClient) -> None:
    body = (await app_client.get("/ready")).json()
    assert body["checks"]["database"]["ok"] is True


async def test_unknown_route_uses_the_error_format(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not Found"}}


async def test_validation_errors_use_the_error_format(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/api/v1/logs", params={"limit": 0})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "limit" in error["message"]


async def test_security_headers_are_set(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/health")
    assert response.headers["cache-control"] == "no-store"
    assert "max-age" in response.headers["strict-transport-security"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_the_app_uses_the_database_under_test(app_client: httpx.AsyncClient, database_url: str) -> None:
    expected = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    assert (await app_client.get("/ready")).json()["checks"]["database"]["dialect"] == expected


async def test_method_not_allowed_lists_every_method_of_the_path(app_client: httpx.AsyncClient) -> None:
    response = await app_client.put("/api/v1/attestation")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.json()["error"]["code"] == "method_not_allowed"


async def test_oversized_bodies_are_413_in_the_error_format(app_client: httpx.AsyncClient) -> None:
    big = {"nonce": "ab" * 16, "pad": "x" * 70_000}
    response = await app_client.post("/api/v1/attestation", json=big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"

    async def chunks():  # no Content-Length: the body is counted as it streams
        for _ in range(20):
            yield b"x" * 4096

    streamed = await app_client.post("/api/v1/attestation", content=chunks(),
                                     headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert streamed.json()["error"]["code"] == "payload_too_large"


async def test_a_literal_path_is_not_confused_with_a_template(app_client: httpx.AsyncClient) -> None:
    # /reports/verify would also match /reports/{report_id}; its Allow names only what it serves.
    response = await app_client.put("/api/v1/reports/verify")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
