"""Development evidence source: real report layout, signed by a local throwaway chain.

Always labelled platform "simulated"; it never verifies against the pinned AMD roots.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.attestation.certs import der
from app.attestation.measurement import code_measurement
from app.attestation.providers.base import PLATFORM_SIMULATED, Evidence, check_report_data
from app.attestation.simulation import SimulatedAuthority


class SimulatedProvider:
    name = "simulated"

    def __init__(self, data_dir: Path, *, code_root: Path | None = None, root_dir: Path | None = None) -> None:
        self.directory = data_dir / "attestation-simulated"
        # A shared root (ZKA_SIMULATED_ROOT_DIR) makes this instance one chip among several under one
        # simulated "AMD": each instance its own VCEK and chip id, all verifiable with the same ARK.
        self.root_dir = root_dir
        self._code_root = code_root
        self._authority: SimulatedAuthority | None = None
        self._measurement: bytes | None = None
        self._init_lock = asyncio.Lock()

    async def authority(self) -> SimulatedAuthority:
        """The chain (generated on first use, key generation runs in a thread)."""
        async with self._init_lock:
            if self._authority is None:
                if self.root_dir is None:
                    self._authority = await asyncio.to_thread(SimulatedAuthority.load_or_create, self.directory)
                else:
                    self._authority = await asyncio.to_thread(
                        SimulatedAuthority.load_or_issue, self.root_dir, self.directory)
                self._measurement = await asyncio.to_thread(code_measurement, self._code_root)
            return self._authority

    async def measurement(self) -> bytes:
        await self.authority()
        assert self._measurement is not None
        return self._measurement

    async def get_evidence(self, report_data: bytes) -> Evidence:
        check_report_data(report_data)
        authority = await self.authority()
        report = await asyncio.to_thread(authority.build_report, report_data, await self.measurement())
        certs = {"VCEK": der(authority.vcek), "ASK": der(authority.ask), "ARK": der(authority.ark)}
        return Evidence(PLATFORM_SIMULATED, self.name, report, certs)
