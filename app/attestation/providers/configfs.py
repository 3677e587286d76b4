"""configfs-tsm evidence source (Linux ≥ 6.7).

Layout: /sys/kernel/config/tsm/report/<dir>/{provider,generation,inblob,outblob,auxblob}.
"""

from __future__ import annotations

import errno
import os
import uuid
from pathlib import Path
from typing import Final

from app.attestation.providers.base import (
    FATAL_MESSAGE,
    HARDWARE_GATE,
    AttestationError,
    AttestationFatal,
    Evidence,
    HardwareGate,
    gated_hardware_evidence,
)

DEFAULT_ROOT: Final = Path("/sys/kernel/config/tsm/report")


class ConfigfsOps:
    """File operations on the configfs tree (a seam so tests can play the kernel on a tmp dir)."""

    def mkdir(self, path: Path) -> None:
        os.mkdir(path)

    def rmdir(self, path: Path) -> None:
        os.rmdir(path)

    def read(self, path: Path) -> bytes:
        return path.read_bytes()

    def write(self, path: Path, data: bytes) -> None:
        # One write(2) call: configfs binary attributes take the whole blob from a single write.
        fd = os.open(path, os.O_WRONLY)
        try:
            if os.write(fd, data) != len(data):
                raise AttestationError(f"short write to {path.name}")
        finally:
            os.close(fd)


class ConfigfsTsmProvider:
    name = "configfs-tsm"

    def __init__(
        self,
        root: Path = DEFAULT_ROOT,
        *,
        gate: HardwareGate = HARDWARE_GATE,
        ops: ConfigfsOps | None = None,
        privlevel: int | None = None,
    ) -> None:
        self.root, self.gate, self.ops, self.privlevel = root, gate, ops or ConfigfsOps(), privlevel

    def available(self) -> bool:
        return self.root.is_dir()

    async def get_evidence(self, report_data: bytes) -> Evidence:
        return await gated_hardware_evidence(provider=self.name, gate=self.gate, request=self._request,
                                             report_data=report_data, table_source="configfs auxblob")

    def _request(self, report_data: bytes) -> tuple[bytes, bytes]:
        # A fresh directory per request: nobody else can be writing to it, and generation proves it.
        entry = self.root / f"zka-{uuid.uuid4().hex}"
        try:
            self.ops.mkdir(entry)
        except OSError as exc:
            raise AttestationError(f"cannot create {entry}: {exc}") from exc
        try:
            return self._exchange(entry, report_data)
        finally:
            try:
                self.ops.rmdir(entry)
            except OSError:
                pass  # a leftover empty entry is harmless; the report is what matters

    def _exchange(self, entry: Path, report_data: bytes) -> tuple[bytes, bytes]:
        provider = self.ops.read(entry / "provider").decode().strip()
        if provider != "sev_guest":
            raise AttestationError(f"configfs-tsm provider is {provider!r}, not sev_guest")
        if self.privlevel is not None:
            self.ops.write(entry / "privlevel", str(self.privlevel).encode())
        try:
            self.ops.write(entry / "inblob", report_data)
        except OSError as exc:
            raise AttestationError(f"writing inblob failed: {exc}") from exc
        generation = self._generation(entry)
        try:
            report = self.ops.read(entry / "outblob")
        except OSError as exc:
            if exc.errno == errno.ENOTTY:
                self.gate.disable(FATAL_MESSAGE)
                raise AttestationFatal(FATAL_MESSAGE) from exc
            raise AttestationError(f"reading outblob failed: {exc}") from exc
        aux = self.ops.read(entry / "auxblob") if (entry / "auxblob").exists() else b""
        if self._generation(entry) != generation:
            raise AttestationError("configfs-tsm entry was modified concurrently; report discarded")
        return report, aux

    def _generation(self, entry: Path) -> int:
        return int(self.ops.read(entry / "generation").decode().strip())
