"""`snpguest` CLI evidence source (virtee/snpguest): last resort when the Python ioctl path is not
usable (e.g. an unusual kernel). Runs `snpguest report` and, best effort, `snpguest certificates`."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Final

from app.attestation.providers.base import (
    HARDWARE_GATE,
    PLATFORM_SEV_SNP,
    AttestationError,
    Evidence,
    HardwareGate,
    check_report_data,
)
from app.attestation.report import REPORT_SIZE

SEARCH_PATHS: Final = ("/usr/local/bin/snpguest", "/usr/bin/snpguest")
TIMEOUT_S: Final = 90.0  # the kernel itself retries a throttled request for up to 60 s
_CERT_FILES: Final = {"vcek": "VCEK", "vlek": "VLEK", "ask": "ASK", "asvk": "ASK", "ark": "ARK"}


def find_snpguest() -> Path | None:
    found = shutil.which("snpguest")
    if found:
        return Path(found)
    return next((Path(p) for p in SEARCH_PATHS if Path(p).is_file()), None)


class SnpguestProvider:
    name = "snpguest"

    def __init__(
        self, binary: Path | None = None, *, gate: HardwareGate = HARDWARE_GATE, vmpl: int = 0
    ) -> None:
        self.binary, self.gate, self.vmpl = binary or find_snpguest(), gate, vmpl

    def available(self) -> bool:
        return self.binary is not None and self.binary.is_file()

    async def get_evidence(self, report_data: bytes) -> Evidence:
        check_report_data(report_data)
        if self.binary is None:
            raise AttestationError("snpguest binary not found")
        with tempfile.TemporaryDirectory(prefix="zka-snpguest-") as tmp:
            work = Path(tmp)
            await asyncio.to_thread(_prepare, work, report_data)
            async with self.gate.slot():
                # snpguest defaults to --vmpl 1; strict verifiers (and ours) expect VMPL 0.
                await self._run("report", str(work / "report.bin"), str(work / "request.bin"),
                                "--vmpl", str(self.vmpl))
                certs = await self._certificates(work / "certs")
            report = await asyncio.to_thread((work / "report.bin").read_bytes)
        if len(report) != REPORT_SIZE:
            raise AttestationError(f"snpguest wrote a {len(report)}-byte report")
        return Evidence(PLATFORM_SEV_SNP, self.name, report, certs)

    async def _certificates(self, out: Path) -> dict[str, bytes]:
        try:
            await self._run("certificates", "der", str(out))
        except AttestationError:
            return {}  # upstream KVM hosts supply no certificates; the VCEK then comes from KDS
        return await asyncio.to_thread(_read_certs, out)

    async def _run(self, *args: str) -> None:
        assert self.binary is not None
        proc = await asyncio.create_subprocess_exec(
            str(self.binary), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        try:
            _, err = await asyncio.wait_for(proc.communicate(), TIMEOUT_S)
        except TimeoutError as exc:
            proc.kill()
            await proc.wait()
            raise AttestationError(f"snpguest {args[0]} timed out") from exc
        if proc.returncode != 0:
            msg = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise AttestationError(f"snpguest {args[0]} failed ({proc.returncode}): {msg[0][:200]}")


def _prepare(work: Path, report_data: bytes) -> None:
    (work / "request.bin").write_bytes(report_data)
    (work / "certs").mkdir()


def _read_certs(out: Path) -> dict[str, bytes]:
    return {
        _CERT_FILES[f.stem.lower()]: f.read_bytes()
        for f in sorted(out.iterdir())
        if f.stem.lower() in _CERT_FILES
    }
