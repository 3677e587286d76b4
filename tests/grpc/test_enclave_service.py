"""Every RPC of the original's `enclave.EnclaveService` against a running `zka serve` with gRPC on, over TLS
pinned to the attested certificate: the answers equal the REST endpoints' for the same user and data; bad
tokens, another user's user_uid, malformed fields and plaintext credentials are refused with the right
status code and store nothing."""

from __future__ import annotations

import base64
import json
import math
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import func
from sqlmodel import select

from app.db import SessionMaker
from app.models import ExchangeConnection, SignedReport, SyncEvent
from app.services.crypto import seal_credentials
from tests.factories import create_connection, create_series
from tests.grpc.conftest import ALICE, BOB, CAROL, SECRET, Client, Service, auth, channel, ms, token

TODAY = datetime.now(UTC).date()
START = TODAY - timedelta(days=400)
DAYS = 400  # the last day is yesterday: a year and more, so annualised figures are defined


def path(n: int, base: float, drift: float) -> list[float]:
    return [base * (1 + drift) ** i * (1 + 0.01 * math.sin(i)) for i in range(n)]


@pytest.fixture(scope="module")
async def seeded(service: Service) -> None:
    from app.db import create_engine, create_sessionmaker

    engine = create_engine(service.database_url)
    async with create_sessionmaker(engine)() as session:
        main = await create_connection(session, user_uid=ALICE, exchange="binance", label="main")
        await create_series(session, main, START, path(DAYS, 10_000, 0.001), flows={30: 1_000.0, 200: -500.0})
        paper = await create_connection(session, user_uid=ALICE, exchange="alpaca", label="paper", is_paper=True)
        await create_series(session, paper, TODAY - timedelta(days=200), path(200, 5_000, 0.0005))
        hidden = await create_connection(session, user_uid=ALICE, exchange="kraken", label="x",
                                         exclude_from_report=True)
        await create_series(session, hidden, START, path(DAYS, 99_999, -0.01))
        await session.commit()
    await engine.dispose()


@pytest.fixture
async def rest(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    context = ssl.create_default_context(cadata=service.cert_pem.decode())
    context.check_hostname = False  # pinned to the attested certificate itself
    async with httpx.AsyncClient(base_url=service.url, verify=context, timeout=30,
                                 headers={"Authorization": f"Bearer {token(ALICE)}"}) as client:
        yield client


async def count(db: SessionMaker, model: Any) -> int:
    async with db() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


def trailer(error_or_trailers: Any, name: str) -> str | None:
    pairs = error_or_trailers.trailing_metadata() if isinstance(error_or_trailers, grpc.aio.AioRpcError) \
        else error_or_trailers
    return next((v for k, v in pairs or () if k == name), None)


async def with_trailers(rpc: Any, request: Any, *, metadata: Any) -> tuple[Any, Any]:
    call = rpc(request, metadata=metadata, timeout=60)
    return await call, await call.trailing_metadata()


async def refused(rpc: Any, request: Any, *, metadata: Any = None) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await rpc(request, metadata=metadata, timeout=30)
    return info.value


# -- reading: the same figures as REST ---------------------------------------------------------------------


async def test_health_check_and_the_standard_health_service(service: Service, stub: Any, client_stubs: Client) -> None:
    pb = client_stubs.pb
    answer = await stub.HealthCheck(pb.HealthCheckRequest(), timeout=10)  # anonymous, as GET /health
    assert (answer.status, answer.enclave, answer.version) == (pb.HealthCheckResponse.HEALTHY, True, "0.1.0")
    assert 0 < answer.uptime < 3600
    async with channel(service) as ch:
        standard = await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(
            service="enclave.EnclaveService"), timeout=10)
    assert standard.status == health_pb2.HealthCheckResponse.SERVING


async def test_aggregated_metrics_equal_rest(seeded: None, stub: Any, client_stubs: Client,
                                             rest: httpx.AsyncClient) -> None:
    pb = client_stubs.pb
    for exchange in ("", "binance"):
        answer, call = await with_trailers(stub.GetAggregatedMetrics,
                                           pb.AggregatedMetricsRequest(user_uid=ALICE, exchange=exchange),
                                           metadata=auth(ALICE))
        body = (await rest.get("/api/v1/metrics/aggregated", params={"exchange": exchange} if exchange else {})).json()
        assert answer.total_equity == pytest.approx(float(body["total_equity"]))
        assert answer.total_balance == pytest.approx(float(body["cash"]))
        assert answer.total_unrealized_pnl == pytest.approx(float(body["unrealized_pnl"]))
        assert answer.total_fees == pytest.approx(float(body["fees"]))
        assert answer.total_trades == body["trades"]
        assert answer.last_sync == ms(date.fromisoformat(body["last_day"])) == ms(TODAY - timedelta(days=1))
        assert answer.total_realized_pnl == 0 and "total_realized_pnl" in json.loads(trailer(call, "zka-undefined"))
    everything = await stub.GetAggregatedMetrics(pb.AggregatedMetricsRequest(), metadata=auth(ALICE), timeout=30)
    binance = await stub.GetAggregatedMetrics(pb.AggregatedMetricsRequest(exchange="binance"), metadata=auth(ALICE),
                                              timeout=30)
    assert everything.total_equity > binance.total_equity > 0  # alpaca counted, kraken (excluded) not


async def test_snapshot_time_series_equal_rest_newest_first_in_milliseconds(
    seeded: None, stub: Any, client_stubs: Client, rest: httpx.AsyncClient
) -> None:
    pb = client_stubs.pb
    start, end = TODAY - timedelta(days=60), TODAY - timedelta(days=1)
    answer = await stub.GetSnapshotTimeSeries(pb.SnapshotTimeSeriesRequest(
        user_uid=ALICE, start_date=ms(start), end_date=ms(end)), metadata=auth(ALICE), timeout=30)
    body = (await rest.get("/api/v1/snapshots", params={"start_date": start.isoformat(),
                                                        "end_date": end.isoformat()})).json()
    got = [(s.exchange, s.timestamp, s.total_equity, s.realized_balance, s.deposits, s.withdrawals)
           for s in answer.snapshots]
    want = [(r["exchange"], ms(date.fromisoformat(r["day"])), float(r["total_equity"]), float(r["cash"]),
             float(r["deposits"]), float(r["withdrawals"])) for r in body["snapshots"]]
    assert len(got) == body["count"] == 3 * 60
    assert sorted(got) == sorted(want)
    stamps = [s.timestamp for s in answer.snapshots]
    assert stamps == sorted(stamps, reverse=True) and stamps[0] == ms(end)
    assert {s.user_uid for s in answer.snapshots} == {ALICE}
    only = await stub.GetSnapshotTimeSeries(pb.SnapshotTimeSeriesRequest(exchange="alpaca", start_date=ms(start)),
                                            metadata=auth(ALICE), timeout=30)
    assert {s.exchange for s in only.snapshots} == {"alpaca"} and len(only.snapshots) == 60


async def test_performance_metrics_are_zkas_figures_in_the_originals_fields(
    seeded: None, stub: Any, client_stubs: Client, rest: httpx.AsyncClient
) -> None:
    pb = client_stubs.pb
    answer, call = await with_trailers(stub.GetPerformanceMetrics, pb.PerformanceMetricsRequest(user_uid=ALICE),
                                       metadata=auth(ALICE))
    body = (await rest.get("/api/v1/metrics/performance")).json()
    core, trading, drawdown = body["core"], body["trading"], body["drawdown"]
    assert answer.success and answer.error == ""
    assert answer.sharpe_ratio == pytest.approx(core["sharpe"]) and core["sharpe"] is not None
    assert answer.sortino_ratio == pytest.approx(core["sortino"])
    assert answer.calmar_ratio == pytest.approx(core["calmar"])
    assert answer.volatility == pytest.approx(core["volatility"] * 100)  # percent, as the original
    assert answer.max_drawdown == pytest.approx(abs(core["max_drawdown"]) * 100)
    assert answer.max_drawdown_duration == drawdown["max_drawdown_duration_days"]
    assert answer.win_rate == pytest.approx(trading["win_rate"] * 100)
    assert answer.profit_factor == pytest.approx(trading["profit_factor"])
    assert answer.avg_loss == pytest.approx(abs(trading["avg_loss"]) * 100)
    assert answer.period_start == ms(date.fromisoformat(body["period_start"]))
    assert answer.period_end == ms(date.fromisoformat(body["period_end"]))
    assert answer.data_points == len(body["daily"])
    assert trailer(call, "zka-undefined") is None  # every figure defined over more than a year
    short = await with_trailers(stub.GetPerformanceMetrics, pb.PerformanceMetricsRequest(
        start_date=ms(TODAY - timedelta(days=30))), metadata=auth(ALICE))
    reasons = json.loads(trailer(short[1], "zka-undefined"))
    assert short[0].sharpe_ratio == 0 and "annualised" in reasons["sharpe_ratio"]
    nothing = await stub.GetPerformanceMetrics(pb.PerformanceMetricsRequest(), metadata=auth(CAROL), timeout=30)
    assert (nothing.success, nothing.sharpe_ratio) == (False, 0) and nothing.error


async def test_signed_report_is_the_rest_report_and_verifies(
    seeded: None, stub: Any, client_stubs: Client, rest: httpx.AsyncClient, db: SessionMaker
) -> None:
    pb = client_stubs.pb
    start, end = (TODAY - timedelta(days=390)).isoformat(), (TODAY - timedelta(days=2)).isoformat()
    answer = await stub.GenerateSignedReport(pb.ReportRequest(
        user_uid=ALICE, start_date=start, end_date=end, include_risk_metrics=True, include_drawdown=True,
        report_name="Gateway report"), metadata=auth(ALICE), timeout=60)
    assert answer.success and answer.report_id.startswith("rpt_")
    # The same request over REST returns the stored report: one document, two transports.
    again = await rest.post("/api/v1/reports", json={"start_date": start, "end_date": end,
                                                     "report_name": "Gateway report"})
    assert again.status_code == 200, again.text
    document = again.json()
    assert (document["report_id"], document["report_hash"], document["signature"], document["public_key"]) == (
        answer.report_id, answer.report_hash, answer.signature, answer.public_key)
    m = document["payload"]["metrics"]
    assert answer.total_return == pytest.approx(m["core"]["total_return"] * 100)
    assert answer.annualized_return == pytest.approx(m["core"]["cagr"] * 100)
    assert answer.sharpe_ratio == pytest.approx(m["core"]["sharpe"])
    assert answer.var_95 == pytest.approx(m["risk"]["var_95"] * 100)
    assert len(answer.daily_returns) == answer.data_points == len(m["daily"])
    assert [r.date for r in answer.monthly_returns] == [r["month"] for r in m["monthly_returns"]]
    assert len(answer.drawdown_periods) == len(m["drawdown"]["periods"])
    assert (answer.period_start, answer.period_end) == (start, end)
    assert list(answer.exchanges) == ["alpaca", "binance"]  # kraken is excluded from reports
    assert answer.report_name == "Gateway report" and answer.signature_algorithm == "ECDSA-P256-SHA256"
    assert answer.enclave_mode == "development"
    # The whole document, evidence included: GET /api/v1/reports/{report_id} (README), the same report.
    full = await rest.get(f"/api/v1/reports/{answer.report_id}")
    assert full.status_code == 200 and full.json()["report_hash"] == answer.report_hash
    report = full.json()["payload"]["attestation"]["report"]
    # attestation_id is the SEV-SNP REPORT_ID (bytes 0x140-0x160) of the signed boot attestation report.
    assert answer.attestation_id == base64.b64decode(report["raw"])[0x140:0x160].hex() == report["decoded"]["report_id"]
    assert len(answer.attestation_id) == 64 and answer.attestation_id != "0" * 64
    verdict = await rest.post("/api/v1/reports/verify", json=full.json(), params={"trust_simulated": "true"})
    assert verdict.json()["valid"] is True

    valid = await stub.VerifyReportSignature(pb.VerifySignatureRequest(
        report_hash=answer.report_hash, signature=answer.signature, public_key=answer.public_key), timeout=30)
    assert (valid.valid, valid.error) == (True, "")
    tampered = await stub.VerifyReportSignature(pb.VerifySignatureRequest(
        report_hash="0" * 64, signature=answer.signature, public_key=answer.public_key), timeout=30)
    assert tampered.valid is False and tampered.error
    bad_key = await stub.VerifyReportSignature(pb.VerifySignatureRequest(
        report_hash=answer.report_hash, signature=answer.signature, public_key="bm90IGEga2V5"), timeout=30)
    assert bad_key.valid is False and "public key" in bad_key.error
    assert await count(db, SignedReport) >= 1


# -- acting: zka's rules --------------------------------------------------------------------------------------


async def test_plaintext_credentials_are_refused_and_nothing_is_stored(
    stub: Any, client_stubs: Client, db: SessionMaker
) -> None:
    pb = client_stubs.pb
    before = await count(db, ExchangeConnection)
    for request in (
        pb.CreateUserConnectionRequest(user_uid=BOB, exchange="binance", label="main", api_key="k", api_secret="s"),
        pb.CreateUserConnectionRequest(user_uid=BOB, exchange="binance", api_key="zka-e2e:{}", api_secret="s"),
        pb.CreateUserConnectionRequest(user_uid=BOB, exchange="binance"),
    ):
        error = await refused(stub.CreateUserConnection, request, metadata=auth(BOB))
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "/api/v1/credentials/connect" in error.details() and "zka-e2e:" in error.details()
        assert "s" != error.details() and trailer(error, "zka-error-code") == "plaintext_credentials"
    # Refused before authentication too: a plaintext key never reaches any code that could keep it.
    anonymous = await refused(stub.CreateUserConnection, pb.CreateUserConnectionRequest(api_key="k", api_secret="s"))
    assert anonymous.code() == grpc.StatusCode.FAILED_PRECONDITION
    malformed = await refused(stub.CreateUserConnection, pb.CreateUserConnectionRequest(
        user_uid=BOB, exchange="demo", api_key='zka-e2e:{"iv": "00"}'), metadata=auth(BOB))
    assert malformed.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert await count(db, ExchangeConnection) == before


async def test_e2e_envelope_connects_and_manual_sync_follows_zkas_rules(
    service: Service, stub: Any, client_stubs: Client, db: SessionMaker
) -> None:
    pb = client_stubs.pb
    envelope = seal_credentials(service.doc["keys"]["e2e"]["public_key"],
                                {"api_key": "demo-key", "api_secret": "demo-secret"})
    answer = await stub.CreateUserConnection(pb.CreateUserConnectionRequest(
        user_uid=BOB, exchange="demo", label="gateway demo", api_key="zka-e2e:" + json.dumps(envelope)),
        metadata=auth(BOB), timeout=120)
    assert (answer.success, answer.user_uid, answer.error) == (True, BOB, "")
    async with db() as session:
        conn = (await session.exec(select(ExchangeConnection).where(ExchangeConnection.user_uid == BOB))).one()
    assert (conn.exchange, conn.label) == ("demo", "gateway demo") and conn.credentials is not None
    assert b"demo-secret" not in bytes(conn.credentials if isinstance(conn.credentials, bytes) else b"")

    # It has its first snapshot, so a manual sync is refused (zka's rule), audited, and nothing runs.
    events = await count(db, SyncEvent)
    sync = await stub.ProcessSyncJob(pb.SyncJobRequest(user_uid=BOB), metadata=auth(BOB), timeout=60)
    assert (sync.success, sync.exchange, sync.synced, sync.snapshots_generated) == (False, "demo", 0, 0)
    assert "first snapshot" in sync.error and "00:00 UTC" in sync.error
    async with db() as session:
        last = (await session.exec(select(SyncEvent).order_by(SyncEvent.id.desc()).limit(1))).one()  # type: ignore[union-attr]
    assert await count(db, SyncEvent) == events + 1 and (last.trigger, last.outcome) == ("manual", "refused")
    context = ssl.create_default_context(cadata=service.cert_pem.decode())
    context.check_hostname = False
    async with httpx.AsyncClient(base_url=service.url, verify=context,
                                 headers={"Authorization": f"Bearer {token(BOB)}"}) as bob:
        over_rest = await bob.post("/api/v1/sync", json={"connection_id": conn.id})
    assert over_rest.status_code == 409 and over_rest.json()["error"]["message"] == sync.error  # one rule

    # No connection at all: nothing to do, as the original answers.
    empty = await stub.ProcessSyncJob(pb.SyncJobRequest(user_uid=CAROL), metadata=auth(CAROL), timeout=30)
    assert (empty.success, empty.snapshots_generated, empty.user_uid) == (True, 0, CAROL)


# -- refusals: status codes, safe messages, nothing stored ----------------------------------------------------


def _requests(pb: Any, uid: str) -> list[tuple[str, Any]]:
    return [
        ("ProcessSyncJob", pb.SyncJobRequest(user_uid=uid)),
        ("GetAggregatedMetrics", pb.AggregatedMetricsRequest(user_uid=uid)),
        ("GetSnapshotTimeSeries", pb.SnapshotTimeSeriesRequest(user_uid=uid)),
        ("GetPerformanceMetrics", pb.PerformanceMetricsRequest(user_uid=uid)),
        ("GenerateSignedReport", pb.ReportRequest(user_uid=uid)),
    ]


@pytest.mark.parametrize(("metadata", "why"), [
    (None, "no token"),
    ([("authorization", "Bearer not-a-jwt")], "malformed"),
    (auth(ALICE, secret="another-secret-" + "q" * 32), "wrong key"),
    (auth(ALICE, audience="someone-else"), "wrong audience"),
    (auth(ALICE, lifetime=-60), "expired"),
    ([("authorization", f"Basic {token(ALICE)}")], "not a bearer token"),
])
async def test_bad_tokens_are_unauthenticated_on_every_user_rpc(
    seeded: None, stub: Any, client_stubs: Client, db: SessionMaker, metadata: Any, why: str
) -> None:
    reports = await count(db, SignedReport)
    for name, request in _requests(client_stubs.pb, ALICE):
        error = await refused(getattr(stub, name), request, metadata=metadata)
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED, (name, why, error.details())
        assert SECRET not in error.details() and "Traceback" not in error.details()
    assert await count(db, SignedReport) == reports


async def test_another_users_uid_is_permission_denied(seeded: None, stub: Any, client_stubs: Client,
                                                      db: SessionMaker) -> None:
    reports = await count(db, SignedReport)
    for name, request in _requests(client_stubs.pb, ALICE):
        error = await refused(getattr(stub, name), request, metadata=auth(BOB))
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED, name
        assert trailer(error, "zka-error-code") == "user_mismatch"
    assert await count(db, SignedReport) == reports


async def test_malformed_fields_are_invalid_argument_and_store_nothing(
    seeded: None, stub: Any, client_stubs: Client, db: SessionMaker
) -> None:
    pb = client_stubs.pb
    reports = await count(db, SignedReport)
    cases = [
        ("GetAggregatedMetrics", pb.AggregatedMetricsRequest(exchange="nasdaq")),
        ("GetSnapshotTimeSeries", pb.SnapshotTimeSeriesRequest(start_date=-5)),
        ("GetSnapshotTimeSeries", pb.SnapshotTimeSeriesRequest(start_date=ms(TODAY),
                                                                end_date=ms(TODAY - timedelta(1)))),
        ("GetSnapshotTimeSeries", pb.SnapshotTimeSeriesRequest(start_date=ms(date(2015, 1, 1)))),  # > 5 years
        ("GetPerformanceMetrics", pb.PerformanceMetricsRequest(end_date=2**62)),
        ("ProcessSyncJob", pb.SyncJobRequest(exchange="Binance")),
        ("GenerateSignedReport", pb.ReportRequest(start_date="2024-1-1")),
        ("GenerateSignedReport", pb.ReportRequest(base_currency="EUR")),
        ("GenerateSignedReport", pb.ReportRequest(benchmark="GOLD")),
        ("GenerateSignedReport", pb.ReportRequest(report_name="x" * 201)),
        ("GetAggregatedMetrics", pb.AggregatedMetricsRequest(user_uid="u" * 129)),
    ]
    for name, request in cases:
        error = await refused(getattr(stub, name), request, metadata=auth(ALICE))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (name, request, error.details())
        assert "Traceback" not in error.details() and "SELECT" not in error.details()
    for request in (pb.VerifySignatureRequest(report_hash="ab"), pb.VerifySignatureRequest(signature="x" * 600,
                    report_hash="a", public_key="b")):
        error = await refused(stub.VerifyReportSignature, request)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert await count(db, SignedReport) == reports
    huge = await refused(stub.GenerateSignedReport, pb.ReportRequest(report_name="x" * 70_000), metadata=auth(ALICE))
    assert huge.code() == grpc.StatusCode.RESOURCE_EXHAUSTED  # over ZKA_BODY_LIMIT_BYTES, as REST's 413
    assert await count(db, SignedReport) == reports
