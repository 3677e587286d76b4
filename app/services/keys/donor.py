"""Donor side of the handoff: one-time nonces, the requester's evidence verified, the DEK sealed to its
attested ephemeral key, and the response bound to the donor's own fresh evidence.

Every attempt ends in exactly one `key_events` row (granted or refused with the failed check), added to
the caller's session: the request boundary commits it, refusals included.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.attestation.kds import KdsClient
from app.attestation.providers import AttestationError, EvidenceProvider
from app.attestation.report import AttestationReport, ReportError, parse_report
from app.config import Settings
from app.errors import StartupRefused
from app.services.keys import protocol
from app.services.keys.allowlist import AllowListError
from app.services.keys.enclave import EnclaveKeys
from app.services.keys.events import record
from app.services.keys.peer import HandoffContext, HandoffRefused

ACTION = "handoff_donor"
MAX_OUTSTANDING_NONCES = 64
_REQUEST_FIELDS = {"protocol", "nonce", "ephemeral_public_key", "requester_master_key_id", "evidence"}


class NonceBook:
    """Outstanding nonces of this process: each used at most once, within its lifetime. Bounded, so a
    flood of challenges evicts the oldest instead of growing memory. Per process: a requester talks to
    one donor instance (ZKA_KEY_PEERS names instances, not a load balancer)."""

    def __init__(self, ttl_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s, self._clock = ttl_s, clock
        self._issued: OrderedDict[bytes, float] = OrderedDict()

    def issue(self) -> bytes:
        nonce = secrets.token_bytes(protocol.NONCE_LEN)
        self._issued[nonce] = self._clock() + self.ttl_s
        while len(self._issued) > MAX_OUTSTANDING_NONCES:
            self._issued.popitem(last=False)
        return nonce

    def consume(self, nonce: bytes) -> None:
        """Raises HandoffRefused unless the nonce was issued here, is unused and unexpired; it is spent
        whatever happens next."""
        expires = self._issued.pop(nonce, None)
        if expires is None:
            raise HandoffRefused("nonce: unknown or already used (replay)")
        if self._clock() > expires:
            raise HandoffRefused("nonce: expired")


class HandoffDonor:
    def __init__(self, context: HandoffContext, keys: EnclaveKeys) -> None:
        self.context, self.keys = context, keys
        self.nonces = NonceBook(context.settings.keys.key_handoff_nonce_ttl_s)
        self._donor_chip: bytes | None = None

    async def check_ready(self) -> None:
        """At start: refuse to run a donor whose allow-list is empty or invalid."""
        try:
            allowlist = await self.context.allowlist()
        except AllowListError as exc:
            raise StartupRefused(f"key handoff donor: {exc}") from None
        if allowlist.empty:
            raise StartupRefused(
                "key handoff donor enabled with an empty allow-list: add measurements to the built-in or "
                "operator-signed list (ZKA_KEY_ALLOWLIST_FILE), or unset ZKA_KEY_HANDOFF_ENABLED"
            )

    def challenge(self) -> dict[str, Any]:
        return {"protocol": protocol.PROTOCOL, "nonce": self.nonces.issue().hex(),
                "expires_in_s": self.nonces.ttl_s, "donor_master_key_id": self.keys.master_key_id}

    async def handle(self, session: AsyncSession, body: Any, *, peer: str) -> tuple[bool, dict[str, Any]]:
        """(True, sealed response) or (False, refusal reason); both recorded in `key_events`."""
        requester_id: str | None = None
        peer_report: AttestationReport | None = None
        try:
            requester_id = _requester_id(body)
            response, peer_report = await self._grant(body)
        except HandoffRefused as exc:
            record(session, action=ACTION, outcome="refused", reason=exc.reason, peer=peer,
                   instance_master_key_id=self.keys.master_key_id, peer_master_key_id=requester_id,
                   peer_report=exc.peer_report or peer_report, dek_id=self.keys.dek.dek_id)
            return False, {"reason": exc.reason}
        record(session, action=ACTION, outcome="granted", reason="requester evidence verified; DEK sealed to it",
               peer=peer, instance_master_key_id=self.keys.master_key_id, peer_master_key_id=requester_id,
               peer_report=peer_report, dek_id=self.keys.dek.dek_id)
        return True, response

    async def _grant(self, body: Any) -> tuple[dict[str, Any], AttestationReport]:
        if not isinstance(body, dict) or set(body) != _REQUEST_FIELDS:
            raise HandoffRefused(f"request: must have exactly the fields {', '.join(sorted(_REQUEST_FIELDS))}")
        if body["protocol"] != protocol.PROTOCOL:
            raise HandoffRefused(f"request: protocol must be {protocol.PROTOCOL}")
        try:
            nonce = protocol.hex_field(body["nonce"], "nonce", protocol.NONCE_LEN)
            self.nonces.consume(nonce)
            requester_spki = protocol.unb64(body["ephemeral_public_key"], "ephemeral_public_key", max_len=512)
            protocol.load_p256_spki(requester_spki)
            evidence = protocol.evidence_from_json(body["evidence"])
        except protocol.ProtocolError as exc:
            raise HandoffRefused(f"request: {exc}") from None
        try:
            allowlist = await self.context.allowlist()
        except AllowListError as exc:
            raise HandoffRefused(f"allowlist: {exc}") from None
        if allowlist.empty:
            raise HandoffRefused("allowlist: empty; this instance gives the DEK to nobody")
        expected = protocol.request_report_data(requester_spki, nonce, body["requester_master_key_id"])
        report = await self.context.verify(evidence, expected_report_data=expected, allowlist=allowlist)
        return await self._seal(report, requester_spki, nonce), report

    async def _seal(self, requester: AttestationReport, requester_spki: bytes, nonce: bytes) -> dict[str, Any]:
        dek = self.keys.dek
        donor_chip = await self._chip_id()
        aad = protocol.aad(dek.dek_id, nonce, requester.chip_id, donor_chip)
        sealed = protocol.seal_dek(dek.key, requester_spki=requester_spki, nonce=nonce, aad_bytes=aad)
        binding = protocol.response_report_data(
            requester_spki=requester_spki, donor_spki=sealed.donor_spki, nonce=nonce, iv=sealed.iv,
            ciphertext=sealed.ciphertext, aad_bytes=aad, donor_master_key_id=self.keys.master_key_id)
        try:
            evidence = await self.context.provider.get_evidence(binding)
        except AttestationError as exc:
            raise HandoffRefused(f"donor evidence unavailable: {exc}") from None
        return {
            "protocol": protocol.PROTOCOL, "dek_id": dek.dek_id, "donor_master_key_id": self.keys.master_key_id,
            "ephemeral_public_key": protocol.b64(sealed.donor_spki), "iv": sealed.iv.hex(),
            "ciphertext": protocol.b64(sealed.ciphertext), "evidence": protocol.evidence_to_json(evidence),
        }


    async def _chip_id(self) -> bytes:
        # The AAD names the donor's chip before the binding evidence can be made (it covers the ciphertext):
        # the chip id is read once from a report of this instance and kept (a chip does not change).
        if self._donor_chip is None:
            try:
                probe = await self.context.provider.get_evidence(bytes(64))
                self._donor_chip = parse_report(probe.report).chip_id
            except (AttestationError, ReportError) as exc:
                raise HandoffRefused(f"donor evidence unavailable: {exc}") from None
        return self._donor_chip


def _requester_id(body: Any) -> str:
    value = body.get("requester_master_key_id") if isinstance(body, dict) else None
    if not isinstance(value, str) or len(value) != 16 or any(c not in "0123456789abcdef" for c in value):
        raise HandoffRefused("request: requester_master_key_id must be 16 lowercase hex characters")
    return value


async def build_donor(
    settings: Settings, provider: EvidenceProvider, keys: EnclaveKeys, kds: KdsClient | None
) -> HandoffDonor | None:
    """The donor, when ZKA_KEY_HANDOFF_ENABLED; it refuses to start with an empty or invalid allow-list."""
    if not settings.keys.key_handoff_enabled:
        return None
    donor = HandoffDonor(HandoffContext(settings, provider, kds), keys)
    await donor.check_ready()
    return donor
