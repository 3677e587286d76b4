"""`enclave.EnclaveService`: each RPC authenticates like REST, calls the same service as its REST route
and answers in the original's message shape (app/grpc/messages.py). No rule lives here."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from sqlalchemy import text

from app.core.rate_limit import RateLimiter
from app.db import unit_of_work
from app.errors import AppError, BadRequest, Conflict, ServiceUnavailable
from app.grpc import messages
from app.grpc.calls import (
    Ctx,
    caller,
    day_of_ms,
    exchange_or_none,
    iso_day,
    peer_address,
    rpc,
    set_undefined,
)
from app.grpc.generated import enclave_pb2 as pb
from app.grpc.generated import enclave_pb2_grpc
from app.routers.reports import _evidence, _signer  # one signer and evidence cache for both transports
from app.services import snapshots
from app.services.benchmark_cache import benchmark_cache_for
from app.services.connections import connect
from app.services.manual_sync import manual_sync, sync_status
from app.services.performance import performance_metrics
from app.services.report_signing import verify_signature
from app.services.reports import ReportSpec, create_report
from app.services.sync import sync_context, sync_runtime
from app.state import AppState

VERSION = "0.1.0"  # the app's version (app.main)
E2E_PREFIX = "zka-e2e:"
NOT_ENOUGH_DATA = ("no_snapshots", "insufficient_data")  # the original answers these with success=false
PLAINTEXT_REFUSED = (
    "plaintext credentials are refused: zka never lets the gateway see API keys. Encrypt {\"api_key\", "
    "\"api_secret\", \"passphrase\"?} to the attested e2eEncryption.publicKey (GET /api/v1/attestation; ECIES: "
    "P-256 ECDH, HKDF-SHA256, AES-256-GCM) and send `zka-e2e:` + the envelope JSON {ephemeralPublicKey, iv, "
    "ciphertext, tag} in api_key, with api_secret and passphrase empty; or use POST /api/v1/credentials/connect"
)


class EnclaveServicer(enclave_pb2_grpc.EnclaveServiceServicer):
    def __init__(self, state: AppState, limiter: RateLimiter) -> None:
        self.state = state
        self.limiter = limiter

    # -- reading -----------------------------------------------------------------------------------

    @rpc
    async def HealthCheck(self, request: pb.HealthCheckRequest, context: Ctx) -> pb.HealthCheckResponse:  # noqa: ARG002
        """Anonymous, as GET /health; UNHEALTHY when the database does not answer."""
        try:
            async with self.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            status = pb.HealthCheckResponse.HEALTHY
        except Exception:  # reported, not raised (the original's behaviour)
            status = pb.HealthCheckResponse.UNHEALTHY
        return pb.HealthCheckResponse(status=status, enclave=True, version=VERSION,
                                      uptime=max(0.0, time.time() - self.state.started_at))

    @rpc
    async def GetAggregatedMetrics(
        self, request: pb.AggregatedMetricsRequest, context: Ctx
    ) -> pb.AggregatedMetricsResponse:
        """GET /api/v1/metrics/aggregated over its default period (the last 365 days)."""
        user = caller(self.state, context, request.user_uid)
        exchange = exchange_or_none(request.exchange)
        period = snapshots.Period.parse(None, None, today=self.state.clock().date())
        async with unit_of_work(self.state.sessionmaker) as session:
            totals = await snapshots.aggregated_metrics(session, user_uid=user.user_uid, period=period,
                                                        exchange=exchange)
        response, undefined = messages.aggregated(totals)
        set_undefined(context, undefined)
        return response

    @rpc
    async def GetSnapshotTimeSeries(
        self, request: pb.SnapshotTimeSeriesRequest, context: Ctx
    ) -> pb.SnapshotTimeSeriesResponse:
        """GET /api/v1/snapshots, newest first as in the original; timestamps in epoch milliseconds."""
        user = caller(self.state, context, request.user_uid)
        exchange = exchange_or_none(request.exchange)
        period = snapshots.Period.parse(day_of_ms(request.start_date, "start_date"),
                                        day_of_ms(request.end_date, "end_date"), today=self.state.clock().date())
        async with unit_of_work(self.state.sessionmaker) as session:
            rows = await snapshots.list_snapshots(session, user_uid=user.user_uid, period=period, exchange=exchange)
        response, undefined = messages.time_series(rows)
        set_undefined(context, undefined)
        return response

    @rpc
    async def GetPerformanceMetrics(
        self, request: pb.PerformanceMetricsRequest, context: Ctx
    ) -> pb.PerformanceMetricsResponse:
        """GET /api/v1/metrics/performance; too little data is success=false as in the original."""
        user = caller(self.state, context, request.user_uid)
        exchange = exchange_or_none(request.exchange)
        start, end = day_of_ms(request.start_date, "start_date"), day_of_ms(request.end_date, "end_date")
        try:
            async with unit_of_work(self.state.sessionmaker) as session:
                figures = await performance_metrics(session, user_uid=user.user_uid, start=start, end=end,
                                                    exchange=exchange, benchmark=None,
                                                    benchmarks=benchmark_cache_for(self.state))
        except AppError as exc:
            if exc.code not in NOT_ENOUGH_DATA:
                raise
            return pb.PerformanceMetricsResponse(success=False, error=exc.message)
        response, undefined = messages.performance(figures)
        set_undefined(context, undefined)
        return response

    # -- acting --------------------------------------------------------------------------------------

    @rpc
    async def ProcessSyncJob(self, request: pb.SyncJobRequest, context: Ctx) -> pb.SyncJobResponse:
        """POST /api/v1/sync for each of the user's connections (of `exchange`, if given): a manual sync
        takes a connection's first snapshot only, never twice in 23 h. All are checked first; a refused one
        answers success=false with zka's reason and nothing is run (the original's guard)."""
        user = caller(self.state, context, request.user_uid)
        exchange = exchange_or_none(request.exchange)
        async with unit_of_work(self.state.sessionmaker) as session:
            status = await sync_status(session, user_uid=user.user_uid, now=self.state.clock())
        mine = [c for c in status if exchange is None or c["exchange"] == exchange]
        # A refused connection goes first, alone: manual_sync refuses it again under its lock and audits the
        # refusal, and nothing else runs (the original's guard: all or nothing).
        refused = [c for c in mine if not c["manual_sync_allowed"]]
        runtime = sync_runtime(self.state)
        done = []
        for conn in refused[:1] or mine:
            try:
                done.append(await manual_sync(runtime, user_uid=user.user_uid, connection_id=conn["connection_id"]))
            except AppError as exc:  # refused, or the venue failed: the original answers in the response
                return pb.SyncJobResponse(success=False, user_uid=user.user_uid, exchange=conn["exchange"],
                                          snapshots_generated=sum(1 + d.backfilled for d in done), error=exc.message)
        return messages.sync_job(user.user_uid, request.exchange, done)

    @rpc
    async def CreateUserConnection(
        self, request: pb.CreateUserConnectionRequest, context: Ctx
    ) -> pb.CreateUserConnectionResponse:
        """POST /api/v1/credentials/connect. Plaintext keys are refused (FAILED_PRECONDITION) before anything
        else; only zka's E2E envelope, sealed to the attested key, is accepted (in api_key, see PLAINTEXT_REFUSED)."""
        envelope = _envelope_of(request)
        if envelope is None:  # FAILED_PRECONDITION (a Conflict), before auth: nothing is read or stored
            raise Conflict(PLAINTEXT_REFUSED, code="plaintext_credentials")
        await self.limiter.hit("per_address", "client address", peer_address(context))
        user = caller(self.state, context, request.user_uid)
        exchange = exchange_or_none(request.exchange)
        if exchange is None:
            raise BadRequest("exchange is required", code="validation_error")
        label = messages.label_of(request.label, exchange)
        await self.limiter.hit("credentials", "user", user.user_uid)
        if self.state.keys is None:
            raise ServiceUnavailable("keys are not loaded", code="keys_unavailable")
        async with unit_of_work(self.state.sessionmaker) as session:
            await connect(session, sync_context(self.state), e2e=self.state.keys.e2e, user_uid=user.user_uid,
                          exchange=exchange, label=label, envelope=envelope, exclude_from_report=False)
        return pb.CreateUserConnectionResponse(success=True, user_uid=user.user_uid)

    @rpc
    async def GenerateSignedReport(self, request: pb.ReportRequest, context: Ctx) -> pb.SignedReportResponse:
        """POST /api/v1/reports: the same signed document (the same request returns the stored one); its
        figures flattened into the original's fields. The whole document, evidence included, is at
        GET /api/v1/reports/{report_id}."""
        await self.limiter.hit("per_address", "client address", peer_address(context))
        user = caller(self.state, context, request.user_uid)
        spec = ReportSpec(
            start_date=iso_day(request.start_date, "start_date"), end_date=iso_day(request.end_date, "end_date"),
            benchmark=messages.benchmark_of(request.benchmark), include_risk_metrics=request.include_risk_metrics,
            include_drawdown=request.include_drawdown, base_currency=request.base_currency or "USD",
            report_name=messages.text_field(request.report_name, "report_name", 200),
        )
        await self.limiter.hit("reports", "user", user.user_uid)
        try:
            async with unit_of_work(self.state.sessionmaker) as session:
                row, _ = await create_report(session, user_uid=user.user_uid, spec=spec, signer=_signer(self.state),
                                             benchmarks=benchmark_cache_for(self.state),
                                             evidence=_evidence(self.state))
        except AppError as exc:
            if exc.code not in NOT_ENOUGH_DATA:
                raise
            return pb.SignedReportResponse(success=False, error=exc.message)
        response, undefined = messages.signed_report(row, user_uid=user.user_uid, version=VERSION,
                                                     mode=self.state.settings.server.env)
        set_undefined(context, undefined)
        return response

    @rpc
    async def VerifyReportSignature(
        self, request: pb.VerifySignatureRequest, context: Ctx
    ) -> pb.VerifySignatureResponse:
        """Anonymous, as POST /api/v1/reports/verify (per-address limit): ECDSA P-256 over the hash's ASCII."""
        if not (request.report_hash and request.signature and request.public_key):
            raise BadRequest("report_hash, signature, and public_key are all required", code="validation_error")
        if len(request.report_hash) > 128 or len(request.signature) > 512 or len(request.public_key) > 1024:
            raise BadRequest("report_hash, signature or public_key is too long", code="validation_error")
        await self.limiter.hit("verify", "client address", peer_address(context))
        try:
            valid = await asyncio.to_thread(verify_signature, request.public_key, request.report_hash,
                                            request.signature)
        except ValueError as exc:  # the key is not base64 SPKI DER of a P-256 key
            return pb.VerifySignatureResponse(valid=False, error=str(exc))
        return pb.VerifySignatureResponse(valid=valid, error="" if valid else "signature does not match")


def _envelope_of(request: pb.CreateUserConnectionRequest) -> dict[str, Any] | None:
    """The E2E envelope in api_key (`zka-e2e:{...}`), with no plaintext field beside it; else None."""
    if request.api_secret or request.passphrase or not request.api_key.startswith(E2E_PREFIX):
        return None
    try:
        envelope = json.loads(request.api_key[len(E2E_PREFIX):])
    except ValueError:
        raise BadRequest("api_key: `zka-e2e:` must be followed by the envelope as JSON", code="invalid_envelope") \
            from None
    return messages.envelope(envelope)
