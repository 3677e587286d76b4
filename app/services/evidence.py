"""This instance's evidence source, chosen once from configuration, and the AMD KDS fallback for hosts
that do not hand over the VCEK. Shared by the attestation service and the key handoff."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import httpx

from app.attestation.kds import KdsClient, KdsError
from app.attestation.providers import (
    PLATFORM_SIMULATED,
    AttestationError,
    Evidence,
    EvidenceProvider,
    HardwareGate,
    select_provider,
)
from app.attestation.report import parse_report
from app.config import Settings
from app.core.logging import get_logger
from app.errors import StartupRefused

log = get_logger("zka.attestation")

_PREFERRED = {"auto": None, "configfs-tsm": "configfs-tsm", "sev-guest": "sev-guest-ioctl",
              "snpguest": "snpguest", "simulated": "simulated"}


def _snpguest(configured: str) -> Path | None:
    """ZKA_SNPGUEST_PATH: a path, or a name looked up on PATH (the default, "snpguest")."""
    found = shutil.which(configured)
    return Path(found) if found else None


def build_evidence_provider(settings: Settings) -> EvidenceProvider:
    production = settings.server.is_production
    try:
        provider = select_provider(
            production=production, data_dir=settings.server.data_dir,
            preferred=_PREFERRED[settings.attestation.attestation_provider],
            snpguest_binary=_snpguest(settings.attestation.snpguest_path),
            gate=HardwareGate(settings.attestation.attestation_min_interval_s),
            simulated_root=settings.attestation.simulated_root_dir,
        )
    except AttestationError as exc:
        raise StartupRefused(f"attestation: {exc}") from exc
    if production and provider.name == "simulated":
        raise StartupRefused("production refuses simulated attestation")
    return provider


def kds_client(settings: Settings, client_factory: Callable[[], httpx.AsyncClient]) -> KdsClient:
    return KdsClient(client_factory, cache_dir=settings.server.data_dir / "kds-cache",
                     base_url=settings.attestation.kds_url)


async def missing_vcek(kds: KdsClient | None, evidence: Evidence) -> dict[str, bytes]:
    """Hosts that do not supply the VCEK: fetch it (and the chain) from AMD KDS, cached on disk."""
    if evidence.leaf_der is not None or evidence.platform == PLATFORM_SIMULATED or kds is None:
        return {}
    try:
        report = parse_report(evidence.report)
        vcek = await kds.vcek(report)
        ask, ark = await kds.cert_chain(report.product or "Milan")
    except (KdsError, ValueError, httpx.HTTPError) as exc:
        log.warning("VCEK not available from KDS", error_class=type(exc).__name__)
        return {}
    return {"VCEK": vcek, "ASK": ask, "ARK": ark}
