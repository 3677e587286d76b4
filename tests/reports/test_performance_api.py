"""GET /metrics/performance: the caller's own data only, strict periods, exchange filter."""

from __future__ import annotations

import httpx
import pytest

from app.db import SessionMaker
from tests.factories import OTHER_USER, USER
from tests.reports.test_reports_api import DAYS, seed

URL = "/api/v1/metrics/performance"


async def test_metrics_are_user_scoped_and_leave_excluded_connections_out(
    client: httpx.AsyncClient, db: SessionMaker
) -> None:
    await seed(db)
    await seed(db, user=OTHER_USER, days=40)
    mine = (await client.get(URL, params={"user_uid": USER})).json()
    theirs = (await client.get(URL, params={"user_uid": OTHER_USER})).json()
    assert (mine["period_start"], mine["period_end"]) == ("2024-01-01", "2024-03-30")
    assert theirs["period_end"] == "2024-02-09"
    assert mine["flows"]["start_value"] == pytest.approx(10_000.0)  # kraken (excluded) is not counted
    assert len(mine["daily"]) == DAYS and mine["coverage"]["snapshots"] == 2 * DAYS - 10
    assert {"core", "risk", "drawdown", "monthly_returns"} <= mine.keys()


async def test_exchange_filter_and_benchmark(client: httpx.AsyncClient, db: SessionMaker) -> None:
    await seed(db)
    only = (await client.get(URL, params={"user_uid": USER, "exchange": "alpaca", "benchmark": "SPY"})).json()
    assert only["exchanges"] == [{"exchange": "alpaca", "is_paper": True, "accounts": 1}]
    assert only["period_start"] == "2024-01-11"
    assert only["benchmark"]["symbol"] == "SPY" and only["benchmark_status"]["available"] is True


@pytest.mark.parametrize(("params", "status", "code"), [
    ({"start": "2024-02-01", "end": "2024-01-01"}, 400, "invalid_period"),
    ({"start": "2024-01-01", "end": "2024-01-01"}, 400, "invalid_period"),
    ({"start": "2019-01-01", "end": "2024-01-02"}, 400, "invalid_period"),
    ({"start": "2024-13-01"}, None, None),
    ({"exchange": "nasdaq"}, 400, "validation_error"),
    ({"benchmark": "GOLD"}, 400, "validation_error"),
    ({"start": "2005-01-01", "end": "2005-02-01"}, 400, "insufficient_data"),
    ({"start": "2030-01-01", "end": "2030-02-01"}, 400, "validation_error"),  # after tomorrow
])
async def test_bad_queries_are_clear_4xx(
    client: httpx.AsyncClient, db: SessionMaker, params: dict[str, str], status: int | None, code: str | None
) -> None:
    await seed(db)
    response = await client.get(URL, params={"user_uid": USER, **params})
    assert 400 <= response.status_code < 500, response.text
    if status:
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)


async def test_requires_a_user(client: httpx.AsyncClient) -> None:
    assert (await client.get(URL)).status_code == 401


async def test_an_unknown_benchmark_is_told_the_choices(client: httpx.AsyncClient, db: SessionMaker) -> None:
    await seed(db)
    response = await client.get(URL, params={"user_uid": USER, "benchmark": "GOLD"})
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert all(symbol in message for symbol in ("SPY", "QQQ", "BTC-USD", "ETH-USD"))
