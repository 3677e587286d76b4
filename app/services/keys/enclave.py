"""The enclave's key material, loaded once at start: master key → DEK, sealed E2E and signing keys."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.attestation.providers import EvidenceProvider
from app.config import Settings
from app.db import SessionMaker, unit_of_work
from app.services.crypto import (
    PURPOSE_E2E,
    PURPOSE_REPORT_SIGNING,
    Dek,
    E2EKey,
    KeyUnavailable,
    SnpKeyConfig,
    load_or_create_sealed_key,
    master_key_id,
    open_or_create_dek,
    select_provider,
)
from app.services.crypto.errors import NoWrappingHere


@dataclass
class EnclaveKeys:
    source: str  # file | env | snp-derived
    master_key_id: str
    dek: Dek = field(repr=False)
    e2e: E2EKey = field(repr=False)
    signing_key: ec.EllipticCurvePrivateKey = field(repr=False)
    loaded_at: float = field(default_factory=time.time)
    # The master key stays in memory: `zka keys` operations and new wrappings need it.
    _master_key: bytes = field(default=b"", repr=False)

    @property
    def master_key(self) -> bytes:
        return self._master_key

    @property
    def signing_spki_der(self) -> bytes:
        return self.signing_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def signing_public_key_b64(self) -> str:
        return base64.b64encode(self.signing_spki_der).decode()

    def readiness(self) -> dict[str, Any]:
        return {"ok": True, "source": self.source, "master_key_id": self.master_key_id, "dek_id": self.dek.dek_id}


async def _handoff_at_start(
    settings: Settings, sessionmaker: SessionMaker, evidence: EvidenceProvider, master: bytes, source: str
) -> Dek:
    import httpx

    from app.services.evidence import kds_client
    from app.services.keys.peer import HandoffContext
    from app.services.keys.requester import Requester, obtain_from_peers

    peers = settings.keys.peer_urls
    # AMD KDS for a donor VCEK its host did not hand over (verified TLS: this is AMD, not a peer).
    async with httpx.AsyncClient(timeout=20.0, follow_redirects=False) as http:
        context = HandoffContext(settings, evidence, kds_client(settings, lambda: http))
        dek = await obtain_from_peers(Requester(context, sessionmaker, master, source), peers)
    if dek is None:
        raise KeyUnavailable(
            f"no wrapping of the active DEK opens with master key {master_key_id(master)}, and no donor in "
            f"ZKA_KEY_PEERS ({', '.join(peers)}) handed it over; the reasons are in key_events and the log"
        )
    return dek


def master_key_provider(settings: Settings) -> Any:
    keys = settings.keys
    return select_provider(
        keys.master_key_source,
        production=settings.server.is_production,
        data_dir=settings.server.data_dir,
        master_key_hex=keys.master_key.get_secret_value() if keys.master_key else None,
        snp=SnpKeyConfig(tcb_version=keys.snp_tcb_version) if keys.snp_tcb_version is not None else None,
        snp_device=keys.snp_guest_device,
    )


async def load_enclave_keys(
    settings: Settings, sessionmaker: SessionMaker, evidence: EvidenceProvider | None = None
) -> EnclaveKeys:
    """Open (or, on a fresh database, create) the DEK and the sealed keys under the master key. With no
    wrapping for this master key, obtain the DEK by attested handoff from ZKA_KEY_PEERS, if any."""
    provider = master_key_provider(settings)
    master = await provider.load()
    try:
        async with unit_of_work(sessionmaker) as session:
            dek = await open_or_create_dek(session, master, wrapping=provider.source)
    except NoWrappingHere:
        if not settings.keys.peer_urls or evidence is None:
            raise
        dek = await _handoff_at_start(settings, sessionmaker, evidence, master, provider.source)
    async with unit_of_work(sessionmaker) as session:
        e2e_private = await load_or_create_sealed_key(session, master, purpose=PURPOSE_E2E)
        signing = await load_or_create_sealed_key(session, master, purpose=PURPOSE_REPORT_SIGNING)
    return EnclaveKeys(
        source=provider.source, master_key_id=master_key_id(master), dek=dek, e2e=E2EKey(e2e_private),
        signing_key=signing, _master_key=master,
    )
