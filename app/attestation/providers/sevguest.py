"""/dev/sev-guest evidence source: ioctl SNP_GET_EXT_REPORT (report + host cert table), falling back
to SNP_GET_REPORT. Struct layouts from include/uapi/linux/sev-guest.h (reference §1.1)."""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import struct
from collections.abc import Callable
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
from app.attestation.report import REPORT_SIZE

DEFAULT_DEVICE: Final = Path("/dev/sev-guest")
SNP_GET_REPORT: Final = 0xC0205300
SNP_GET_EXT_REPORT: Final = 0xC0205302
PAGE: Final = 4096
CERTS_LEN: Final = 0x4000  # SEV_FW_BLOB_MAX_SIZE upstream
MAX_CERTS_LEN: Final = 0x10000  # refuse absurd sizes a malicious host might ask for
VMM_ERR_INVALID_LEN: Final = 1
RESP_SIZE: Final = 4000
REPORT_OFFSET: Final = 0x20

# (fd, request, wrapper struct buffer) -> return value, same contract as fcntl.ioctl(fd, req, buf, True)
IoctlFn = Callable[[int, int, bytearray], int]


class GuestRequest(ctypes.Structure):
    """struct snp_guest_request_ioctl (32 bytes)."""

    _fields_ = [
        ("msg_version", ctypes.c_uint8),
        ("_pad", ctypes.c_uint8 * 7),
        ("req_data", ctypes.c_uint64),
        ("resp_data", ctypes.c_uint64),
        ("fw_error", ctypes.c_uint32),
        ("vmm_error", ctypes.c_uint32),
    ]


class ReportReq(ctypes.Structure):
    """struct snp_report_req (96 bytes)."""

    _fields_ = [("user_data", ctypes.c_uint8 * 64), ("vmpl", ctypes.c_uint32), ("rsvd", ctypes.c_uint8 * 28)]


class ExtReportReq(ctypes.Structure):
    """struct snp_ext_report_req (112 bytes)."""

    _fields_ = [("data", ReportReq), ("certs_address", ctypes.c_uint64), ("certs_len", ctypes.c_uint32),
                ("_pad", ctypes.c_uint32)]


def _default_ioctl(fd: int, request: int, buf: bytearray) -> int:
    return fcntl.ioctl(fd, request, buf, True)


def _round_up(n: int) -> int:
    return (n + PAGE - 1) // PAGE * PAGE


class SevGuestProvider:
    name = "sev-guest-ioctl"

    def __init__(
        self,
        device: Path = DEFAULT_DEVICE,
        *,
        gate: HardwareGate = HARDWARE_GATE,
        ioctl: IoctlFn = _default_ioctl,
        vmpl: int = 0,
    ) -> None:
        self.device, self.gate, self._ioctl, self.vmpl = device, gate, ioctl, vmpl

    def available(self) -> bool:
        return self.device.exists()

    async def get_evidence(self, report_data: bytes) -> Evidence:
        return await gated_hardware_evidence(provider=self.name, gate=self.gate, request=self._request,
                                             report_data=report_data, table_source="host certificate table")

    def _request(self, report_data: bytes) -> tuple[bytes, bytes]:
        fd = os.open(self.device, os.O_RDWR)
        try:
            try:
                return self._ext_report(fd, report_data)
            except _ExtUnsupported:
                # The driver rejected the extended request before talking to the PSP (EINVAL /
                # EOPNOTSUPP), which is safe to follow with a plain request.
                return self._plain_report(fd, report_data), b""
        finally:
            os.close(fd)

    def _report_req(self, report_data: bytes) -> ReportReq:
        req = ReportReq()
        ctypes.memmove(req.user_data, report_data, 64)
        req.vmpl = self.vmpl
        return req

    def _ext_report(self, fd: int, report_data: bytes) -> tuple[bytes, bytes]:
        length = CERTS_LEN
        for _ in range(2):  # at most one resize: the host tells us the size it needs
            certs = ctypes.create_string_buffer(length)
            req = ExtReportReq(data=self._report_req(report_data), certs_address=ctypes.addressof(certs),
                               certs_len=length)
            resp = ctypes.create_string_buffer(RESP_SIZE)
            wrapper = self._call(fd, SNP_GET_EXT_REPORT, req, resp, resizable=True)
            if wrapper is None:
                length = _round_up(req.certs_len)
                if length > MAX_CERTS_LEN:
                    raise AttestationError(f"host certificate blob too large ({length} bytes)")
                continue
            return _report_from_response(resp.raw), certs.raw
        raise AttestationError("host kept changing the certificate blob size")

    def _plain_report(self, fd: int, report_data: bytes) -> bytes:
        req = self._report_req(report_data)
        resp = ctypes.create_string_buffer(RESP_SIZE)
        self._call(fd, SNP_GET_REPORT, req, resp, resizable=False)
        return _report_from_response(resp.raw)

    def _call(
        self,
        fd: int,
        request: int,
        req: ctypes.Structure,
        resp: ctypes.Array[ctypes.c_char],
        *,
        resizable: bool,
    ) -> GuestRequest | None:
        """Issue one ioctl. Returns None when the host asked for a bigger cert buffer."""
        # msg_version must be non-zero (1 for report requests); the kernel presets exitinfo2 itself.
        wrapper = GuestRequest(msg_version=1, req_data=ctypes.addressof(req),
                               resp_data=ctypes.addressof(resp))
        buf = bytearray(bytes(wrapper))
        try:
            self._ioctl(fd, request, buf)
        except OSError as exc:
            out = GuestRequest.from_buffer_copy(bytes(buf))
            if exc.errno == errno.ENOTTY:
                self.gate.disable(FATAL_MESSAGE)
                raise AttestationFatal(FATAL_MESSAGE) from exc
            if resizable and exc.errno == errno.EIO and out.vmm_error == VMM_ERR_INVALID_LEN:
                return None
            if resizable and exc.errno in (errno.EINVAL, errno.EOPNOTSUPP):
                raise _ExtUnsupported from exc
            raise AttestationError(
                f"sev-guest ioctl failed: {os.strerror(exc.errno or 0)} "
                f"(fw_error={out.fw_error:#x}, vmm_error={out.vmm_error:#x})"
            ) from exc
        return GuestRequest.from_buffer_copy(bytes(buf))


class _ExtUnsupported(Exception):
    pass


def _report_from_response(resp: bytes) -> bytes:
    """MSG_REPORT_RSP: u32 status, u32 report_size, 24 reserved bytes, then the report."""
    status, size = struct.unpack_from("<II", resp, 0)
    if status != 0:
        raise AttestationError(f"firmware rejected the report request (status {status:#x})")
    if size != REPORT_SIZE:
        raise AttestationError(f"firmware returned a {size}-byte report, expected {REPORT_SIZE}")
    return resp[REPORT_OFFSET : REPORT_OFFSET + REPORT_SIZE]
