"""Evidence providers and their selection.

Order (SPEC §6): configfs-tsm, /dev/sev-guest ioctl, snpguest CLI; in development, when none of the
hardware sources exists, the simulated provider. Selection only looks for the interfaces; it never
issues a probe request, because every failed hardware request risks disabling attestation.
"""

from __future__ import annotations

from pathlib import Path

from app.attestation.providers.base import (
    HARDWARE_GATE,
    PLATFORM_SEV_SNP,
    PLATFORM_SIMULATED,
    AttestationError,
    AttestationFatal,
    AttestationUnavailable,
    Evidence,
    EvidenceProvider,
    HardwareGate,
)
from app.attestation.providers.configfs import DEFAULT_ROOT as CONFIGFS_ROOT
from app.attestation.providers.configfs import ConfigfsTsmProvider
from app.attestation.providers.sevguest import DEFAULT_DEVICE as SEV_GUEST_DEVICE
from app.attestation.providers.sevguest import SevGuestProvider
from app.attestation.providers.simulated import SimulatedProvider
from app.attestation.providers.snpguest import SnpguestProvider, find_snpguest

__all__ = [
    "HARDWARE_GATE", "PLATFORM_SEV_SNP", "PLATFORM_SIMULATED", "AttestationError", "AttestationFatal",
    "AttestationUnavailable", "ConfigfsTsmProvider", "Evidence", "EvidenceProvider", "HardwareGate",
    "SevGuestProvider", "SimulatedProvider", "SnpguestProvider", "select_provider",
]


def select_provider(
    *,
    production: bool,
    data_dir: Path,
    preferred: str | None = None,
    configfs_root: Path = CONFIGFS_ROOT,
    sev_guest_device: Path = SEV_GUEST_DEVICE,
    snpguest_binary: Path | None = None,
    gate: HardwareGate = HARDWARE_GATE,
    allow_simulated: bool | None = None,
    simulated_root: Path | None = None,
) -> EvidenceProvider:
    """First available source. `preferred` forces one by name ("configfs-tsm", "sev-guest-ioctl",
    "snpguest", "simulated"). Simulation is allowed only outside production (and not even then when
    `allow_simulated=False`). Raises AttestationUnavailable when nothing fits."""
    simulated_ok = not production and allow_simulated is not False
    hardware: list[ConfigfsTsmProvider | SevGuestProvider | SnpguestProvider] = [
        ConfigfsTsmProvider(configfs_root, gate=gate),
        SevGuestProvider(sev_guest_device, gate=gate),
        SnpguestProvider(snpguest_binary or find_snpguest(), gate=gate),
    ]
    if preferred == SimulatedProvider.name:
        if not simulated_ok:
            raise AttestationUnavailable("the simulated attestation provider is not allowed in production")
        return SimulatedProvider(data_dir, root_dir=simulated_root)
    for provider in hardware:
        if preferred in (None, provider.name) and provider.available():
            return provider
    if preferred is None and simulated_ok:
        return SimulatedProvider(data_dir, root_dir=simulated_root)
    wanted = preferred or "configfs-tsm, /dev/sev-guest or snpguest"
    raise AttestationUnavailable(f"no SEV-SNP evidence source available ({wanted})")
