"""Issue 17 through HTTP: hand-picked extreme track records and a property test over random ones
(zeros, dust, huge jumps, negative equity, gaps, 1–3 days, unreported flows) stored as snapshots and
read back through GET /metrics/performance and POST /reports. No answer may be a 5xx, and no figure
may be NaN or infinite (the JSON is parsed with NaN/Infinity refused)."""

from __future__ import annotations

import itertools
import json
import math
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.db import SessionMaker
from app.services.report_signing import report_hash
from tests.factories import create_connection, create_snapshot

START = date(2024, 1, 1)
PERF = "/api/v1/metrics/performance"
_users = itertools.count(1)


def strict_json(response: httpx.Response) -> Any:
    def refuse(token: str) -> Any:
        raise AssertionError(f"{token} in a response")

    return json.loads(response.text, parse_constant=refuse)


def assert_all_finite(node: Any, path: str = "") -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            assert_all_finite(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            assert_all_finite(v, f"{path}[{i}]")
    elif isinstance(node, float):
        assert math.isfinite(node), path


Account = tuple[list[tuple[int, Decimal, Decimal, Decimal]], bool]  # [(day, equity, deposits, withdrawals)], flagged


async def store(db: SessionMaker, accounts: list[Account]) -> str:
    user = f"user_extreme{next(_users):06d}"
    async with db() as session:
        for n, (snaps, flows_unknown) in enumerate(accounts):
            conn = await create_connection(session, user_uid=user, exchange="tradestation" if flows_unknown
                                           else "binance", label=f"a{n}")
            for offset, equity, dep, wd in snaps:
                snap = await create_snapshot(session, conn, START + timedelta(days=offset), equity,
                                             deposits=dep, withdrawals=wd)
                snap.breakdown = {"flows_unavailable": True} if flows_unknown else {}
        await session.commit()
    return user


async def check(client: httpx.AsyncClient, user: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Both endpoints answer 2xx with finite figures, or a clear 4xx (e.g. a single day of data)."""
    perf = await client.get(PERF, params={"user_uid": user})
    assert perf.status_code in (200, 400), perf.text
    report = await client.post("/api/v1/reports", json={"user_uid": user})
    assert report.status_code in (200, 201, 400), report.text
    if perf.status_code == 400 or report.status_code == 400:
        assert perf.status_code == report.status_code == 400
        assert strict_json(perf)["error"]["code"] == "insufficient_data"
        return None, None
    metrics, signed = strict_json(perf), strict_json(report)
    assert_all_finite(metrics)
    assert_all_finite(signed)
    assert signed["report_hash"] == report_hash(signed["payload"])
    return metrics, signed


def series(*equity: float, flows: dict[int, float] | None = None, unknown: bool = False) -> Account:
    f = flows or {}
    return ([(i, Decimal(str(e)), Decimal(str(max(f.get(i, 0), 0))), Decimal(str(max(-f.get(i, 0), 0))))
             for i, e in enumerate(equity)], unknown)


@pytest.mark.parametrize("account", [
    series(1000, 7000, unknown=True),  # unreported money on an account: 7^365 once annualised
    series(0.5, 0.5, 0.5, 0.5, 2000, unknown=True),  # dust, then 2,000 the venue does not report
    series(1000, 500, -200, 100, 150, 160, flows={3: 300}),  # negative equity: a wipe-out
    series(*[v for _ in range(15) for v in (1e-8, 1e19)], flows={2 * k: -(1e19 - 1e-8) for k in range(1, 15)}),
])
async def test_extreme_records_answer_with_finite_figures(
    client: httpx.AsyncClient, db: SessionMaker, account: Account
) -> None:
    metrics, signed = await check(client, await store(db, [account]))
    assert metrics is not None and signed is not None
    assert signed["payload"]["metrics"]["core"] == metrics["core"]
    assert signed["payload"]["methodology"]["version"] == metrics["methodology"]["version"]


async def test_a_wipe_out_is_flagged_in_the_api_and_the_signed_report(
    client: httpx.AsyncClient, db: SessionMaker
) -> None:
    metrics, signed = await check(client, await store(db, [series(1000, 500, -200, 100, 150, 160, flows={3: 300})]))
    assert metrics is not None and signed is not None
    for source in (metrics, signed["payload"]["metrics"]):
        assert source["period"]["wipe_out_days"] == ["2024-01-03"]
        assert source["core"]["total_return"] == -1.0 and source["core"]["max_drawdown"] == -1.0


_money = st.one_of(
    st.just(Decimal(0)),
    st.decimals(Decimal("0.00000001"), Decimal("0.01"), places=8),  # dust
    st.decimals(Decimal("0.01"), Decimal(1_000_000), places=2),
    st.decimals(Decimal(1_000_000), Decimal("1e19"), places=0),  # huge jumps
)
_equity = st.one_of(_money, _money.map(lambda d: -d))  # negative: a margin deficit as reported
_flow = st.one_of(st.just(Decimal(0)), st.just(Decimal(0)), _money)


@st.composite
def accounts(draw: st.DrawFn) -> list[Account]:
    out = []
    for _ in range(draw(st.integers(1, 2))):
        days = draw(st.lists(st.integers(0, 40), min_size=1, max_size=30, unique=True))
        snaps = [(d, draw(_equity), draw(_flow), draw(_flow)) for d in sorted(days)]
        out.append((snaps, draw(st.booleans())))
    return out


@settings(max_examples=1000, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(record=accounts())
async def test_no_random_record_yields_a_5xx_nan_or_inf(
    client: httpx.AsyncClient, db: SessionMaker, record: list[Account]
) -> None:
    metrics, signed = await check(client, await store(db, record))
    if metrics is not None and signed is not None:
        assert signed["payload"]["metrics"]["core"] == metrics["core"]
        assert signed["payload"]["metrics"]["flows"] == metrics["flows"]
