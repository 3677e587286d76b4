"""Process-wide resources, built once by the lifespan and closed in reverse order."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import AuthSettings, Settings, ensure_data_dir
from app.connectors.registry import build_connector
from app.core.logging import configure_logging, get_logger
from app.core.metrics import Metrics
from app.core.outbound import OutboundHttp
from app.core.redaction import Redactor
from app.db import SessionMaker, check_reachable, create_engine, create_sessionmaker
from app.errors import StartupRefused
from app.migrate import current_revision, head_revision, upgrade
from app.models import utcnow
from app.services.attestation import AttestationService, build_attestation
from app.services.auth import TokenVerifier
from app.services.crypto.errors import KeyUnavailable
from app.services.crypto.tls_identity import TlsIdentity, generate_tls_identity
from app.services.evidence import build_evidence_provider, kds_client
from app.services.keys import EnclaveKeys, load_enclave_keys
from app.services.keys.donor import HandoffDonor, build_donor
from app.services.logs import LogHub

log = get_logger("zka.startup")


@dataclass
class AppState:
    settings: Settings
    hub: LogHub
    redactor: Redactor
    engine: AsyncEngine
    sessionmaker: SessionMaker
    started_at: float = field(default_factory=time.time)
    tls: TlsIdentity = field(default_factory=generate_tls_identity)
    keys: EnclaveKeys | None = None
    verifier: TokenVerifier = field(default_factory=lambda: TokenVerifier(AuthSettings()))
    attestation: AttestationService | None = None
    key_donor: HandoffDonor | None = None  # POST /api/v1/keys/handoff, when ZKA_KEY_HANDOFF_ENABLED
    metrics: Metrics = field(default_factory=Metrics)
    http: OutboundHttp = field(default_factory=OutboundHttp)  # calls the enclave makes itself (KDS, benchmarks)
    hardening: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    # Sync: process-wide connector cache (ccxt markets per venue per day), the daily scheduler, the clock
    # (tests move it; the scheduler's job also takes an explicit `now`).
    connector_cache: dict[str, object] = field(default_factory=dict)
    # How connectors are built (app.connectors.registry.build_connector); the benchmark swaps in a stub.
    connector_factory: Callable[..., Any] = build_connector
    scheduler: Any = None  # app.services.scheduler.SyncScheduler once started by the lifespan
    clock: Callable[[], datetime] = utcnow

    async def aclose(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.stop()
        self.hub.close()
        await self.http.aclose()
        await self.engine.dispose()


async def _ensure_schema(settings: Settings, engine: AsyncEngine) -> None:
    """Development migrates on start; production only checks (migrations run via `zka migrate`)."""
    current, head = await current_revision(engine), head_revision()
    if current == head:
        return
    if settings.server.is_production:
        raise StartupRefused(f"database schema is at {current or 'nothing'}, expected {head}: run `zka migrate`")
    await asyncio.to_thread(upgrade, settings.database_url)


def build_logging(settings: Settings) -> tuple[LogHub, Redactor]:
    hub = LogHub(
        ring_size=settings.limits.log_ring_size,
        queue_size=settings.limits.log_stream_queue_size,
        max_clients=settings.limits.log_stream_max_clients,
    )
    # A per-process key: user references correlate lines within one run, never across runs.
    redactor = Redactor(production=settings.server.is_production, hash_key=secrets.token_bytes(32))
    configure_logging(hub=hub, redactor=redactor, json_output=settings.server.is_production)
    return hub, redactor


async def build_state(
    settings: Settings, *, tls: TlsIdentity | None = None, hardening: dict[str, Any] | None = None
) -> AppState:
    settings.check_production()
    verifier = TokenVerifier(settings.auth)  # an unsupported gateway key refuses the start here, in one line
    hub, redactor = build_logging(settings)
    hub.attach(asyncio.get_running_loop())
    for weakness in settings.development_weaknesses():
        log.warning("weaker than production", weakness=weakness)
    if settings.uses_sqlite:
        ensure_data_dir(settings.server.data_dir)  # the database lives there
    engine = create_engine(settings.database_url, echo=settings.db.db_echo)
    http = OutboundHttp()
    tls = tls or generate_tls_identity(settings.server.tls_hostnames)
    try:
        await check_reachable(engine)
        ensure_data_dir(settings.server.data_dir)
        await _ensure_schema(settings, engine)
        sessionmaker = create_sessionmaker(engine)
        evidence = build_evidence_provider(settings)
        keys = await load_enclave_keys(settings, sessionmaker, evidence)
        log.info("keys loaded", key_source=keys.source, master_key_id=keys.master_key_id, dek_id=keys.dek.dek_id)
        kds = kds_client(settings, http.client)
        attestation = await build_attestation(settings, tls=tls, keys=keys, http=http, provider=evidence, kds=kds)
        donor = await build_donor(settings, evidence, keys, kds)
    except Exception as exc:
        if isinstance(exc, StartupRefused | KeyUnavailable):
            log.error("refusing to start", reason=str(exc))
        await http.aclose()
        await engine.dispose()
        raise
    return AppState(
        settings=settings, hub=hub, redactor=redactor, engine=engine, sessionmaker=sessionmaker,
        tls=tls, hardening=hardening or {}, keys=keys, verifier=verifier,
        attestation=attestation, http=http, key_donor=donor,
    )
