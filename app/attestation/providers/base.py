"""Evidence, the provider protocol, errors, and the process-wide gate for hardware requests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Final, Protocol, runtime_checkable

from app.attestation.certtable import CertTableError, parse_cert_table

REPORT_DATA_SIZE: Final = 64
PLATFORM_SEV_SNP: Final = "sev-snp"
PLATFORM_SIMULATED: Final = "simulated"
DEFAULT_MIN_INTERVAL_S: Final = 2.0  # go-sev-guest's default self-throttle
FATAL_MESSAGE: Final = (
    "the kernel disabled the guest's VMPCK (ENOTTY): SEV-SNP attestation disabled until reboot"
)


class AttestationError(RuntimeError):
    """Evidence could not be obtained this time."""


class AttestationUnavailable(AttestationError):
    """No usable evidence source on this machine."""


class AttestationFatal(AttestationError):
    """The guest can no longer attest (VMPCK wiped by the kernel) until it is rebooted."""


@dataclass(frozen=True)
class Evidence:
    platform: str  # "sev-snp" or "simulated"
    provider: str  # which source produced it
    report: bytes  # raw 1184-byte ATTESTATION_REPORT
    # Certificates from the host (cert table / auxblob / snpguest files) by name: VCEK, VLEK, ASK, ARK…
    certs: dict[str, bytes] = field(default_factory=dict)

    @property
    def leaf_der(self) -> bytes | None:
        return self.certs.get("VCEK") or self.certs.get("VLEK")

    @property
    def chain_ders(self) -> list[bytes]:
        return [self.certs[k] for k in ("ASK", "ARK") if k in self.certs]


@runtime_checkable
class EvidenceProvider(Protocol):
    name: str

    async def get_evidence(self, report_data: bytes) -> Evidence: ...


def check_report_data(report_data: bytes) -> None:
    # sev_guest rejects anything but exactly 64 bytes; catch it before it reaches the kernel.
    if len(report_data) != REPORT_DATA_SIZE:
        raise ValueError(f"report_data must be exactly {REPORT_DATA_SIZE} bytes, got {len(report_data)}")


class HardwareGate:
    """Serialises hardware attestation requests and spaces them out.

    A failed guest request makes the kernel wipe the VMPCK (attestation dead until reboot), and the
    host throttles bursts; so one request at a time, at least `min_interval` seconds apart, and once a
    fatal error was seen every later call fails fast without touching the device again.
    """

    def __init__(
        self,
        min_interval: float = DEFAULT_MIN_INTERVAL_S,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.min_interval = min_interval
        self._clock, self._sleep = clock, sleep
        self._lock = asyncio.Lock()
        self._last: float | None = None
        self.disabled_reason: str | None = None

    def disable(self, reason: str) -> None:
        self.disabled_reason = reason

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._lock:
            if self.disabled_reason:
                raise AttestationFatal(self.disabled_reason)
            if self._last is not None:
                wait = self._last + self.min_interval - self._clock()
                if wait > 0:
                    await self._sleep(wait)
            try:
                yield
            finally:
                self._last = self._clock()


# The one gate the hardware providers share by default: the kernel's guest-request channel is a
# per-VM resource, so all callers in this process must queue behind the same lock.
HARDWARE_GATE: Final = HardwareGate()


async def gated_hardware_evidence(
    *, provider: str, gate: HardwareGate, request: Callable[[bytes], tuple[bytes, bytes]], report_data: bytes,
    table_source: str,
) -> Evidence:
    """What every kernel interface does the same: one gated request in a worker thread, then the host's
    certificate table (VCEK, ASK, ARK) parsed. `request` returns (raw report, certificate table)."""
    check_report_data(report_data)
    async with gate.slot():
        report, table = await asyncio.to_thread(request, report_data)
    try:
        certs = parse_cert_table(table)
    except CertTableError as exc:
        raise AttestationError(f"{table_source}: {exc}") from exc
    return Evidence(PLATFORM_SEV_SNP, provider, report, certs)
