"""What both sides of a handoff need: this instance's evidence source, the allow-list, and one function
that verifies the other side's evidence completely with the existing verifier."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from app.attestation.certs import der
from app.attestation.kds import KdsClient
from app.attestation.providers import PLATFORM_SIMULATED, Evidence, EvidenceProvider, SimulatedProvider
from app.attestation.report import AttestationReport
from app.attestation.result import VerificationResult
from app.attestation.verify import Policy, verify_attestation
from app.config import Settings
from app.services.evidence import missing_vcek
from app.services.keys.allowlist import AllowList, load_allowlist


class HandoffRefused(Exception):
    """A handoff was refused; `reason` names the failed check. Safe to show and to record."""

    def __init__(self, reason: str, *, peer_report: AttestationReport | None = None, unreachable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason[:500]
        self.peer_report = peer_report
        self.unreachable = unreachable  # the donor did not answer (not started yet?): worth another try


@dataclass
class HandoffContext:
    settings: Settings
    provider: EvidenceProvider
    kds: KdsClient | None = None

    @property
    def production(self) -> bool:
        return self.settings.server.is_production

    async def own_measurement(self) -> bytes | None:
        # Only the simulated provider knows its measurement without asking the hardware; `self` in the
        # development allow-list is meant for it.
        if isinstance(self.provider, SimulatedProvider):
            return await self.provider.measurement()
        return None

    async def allowlist(self) -> AllowList:
        """Read at every attempt: an operator can allow a new release by replacing the signed file,
        without restarting the donor. AllowListError when a configured source is invalid."""
        own = await self.own_measurement()
        return await asyncio.to_thread(load_allowlist, self.settings.keys, production=self.production,
                                       own_measurement=own)

    async def simulated_ark(self) -> bytes | None:
        """Development: the simulated root this instance's own chip chains to; never in production."""
        if self.production or not isinstance(self.provider, SimulatedProvider):
            return None
        return der((await self.provider.authority()).ark)

    async def verify(
        self, evidence: Evidence, *, expected_report_data: bytes, allowlist: AllowList
    ) -> AttestationReport:
        """The peer's evidence, completely: AMD chain to a pinned ARK, report signature, policy (no debug, no
        migration agent), VMPL 0, minimum TCB, MEASUREMENT on the allow-list, REPORT_DATA binding."""
        if evidence.platform == PLATFORM_SIMULATED and self.production:
            raise HandoffRefused("platform: simulated evidence is refused in production")
        extra = await missing_vcek(self.kds, evidence)
        certs = {**evidence.certs, **extra}
        leaf = certs.get("VCEK") or certs.get("VLEK")
        chain = [certs[k] for k in ("ASK", "ASVK", "ARK") if k in certs]
        simulated_ark = await self.simulated_ark()
        policy = Policy(allow_debug=False, allow_migrate_ma=False, max_vmpl=0,
                        min_tcb=dict(allowlist.min_tcb) or None, measurements=allowlist.measurements)
        result: VerificationResult = await asyncio.to_thread(
            verify_attestation, evidence.report, leaf=leaf, chain=chain, now=datetime.now(UTC), policy=policy,
            expected_report_data=expected_report_data, trust_simulated=simulated_ark is not None,
            simulated_ark=simulated_ark,
        )
        if not result.ok:
            failed = next(c for c in result.checks if not c.ok)
            raise HandoffRefused(f"{failed.name}: {failed.detail}", peer_report=result.report)
        assert result.report is not None
        return result.report
